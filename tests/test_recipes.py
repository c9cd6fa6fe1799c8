"""Recipes: the shipped ones load, every bad key or value is named with the valid choices, precedence holds."""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest
from click.testing import CliRunner

from automl import recipes
from automl.api import AutoML
from automl.cli import EXIT_BAD_INPUT, main
from automl.config import make_config
from automl.errors import ConfigError


def write(tmp_path, text: str, name: str = "r.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_every_shipped_recipe_loads_and_the_required_ones_are_there():
    shipped = recipes.shipped()
    assert {"quick", "balanced", "best", "nn-vs-ensembles", "nightly"} <= set(shipped)
    for name in shipped:
        recipe = recipes.load(name)
        assert recipe.description
    quick = recipes.load("quick").config(target="y")
    assert quick.time_limit == 60 and "keras_mlp" not in quick.models and "linear" not in quick.models
    assert recipes.load("nn-vs-ensembles").config(target="y").schedule == "sides"
    best = recipes.load("best").config(target="y")
    assert best.folds > 5 and best.time_limit > 120 and not best.models  # every family
    nightly = recipes.load("nightly")
    assert nightly.batch is not None and nightly.batch.alert_threshold is not None
    assert nightly.config().target == "species"


def test_precedence_explicit_over_recipe_over_preset(tmp_path):
    path = write(tmp_path, 'preset = "quick"\n[fit]\nfolds = 4\nseed = 3\n')
    config = recipes.load(path).config(target="y", seed=9)
    assert config.seed == 9  # explicit beats the recipe
    assert config.folds == 4  # the recipe beats its preset (quick has 3)
    assert config.time_limit == 60  # the preset's value where the recipe is silent
    assert config.repeats is None  # the built-in default where all are silent
    assert config.recipe == "r"


@pytest.mark.parametrize("text, phrases", [
    ('tim_limit = 5\n', ["unknown key 'tim_limit' in top level", "'batch'", "'fit'"]),
    ('[fit]\ntime_limt = 5\n', ["unknown key 'time_limt' in [fit]", "'time_limit'", "'trials'"]),
    ('[fit]\ntime_limit = "fast"\n', ["[fit] time_limit must be a number, got 'fast'"]),
    ('[fit]\nfolds = 2.5\n', ["[fit] folds must be a whole number"]),
    ('[fit]\nmetric = "auc"\n', ["Unknown metric 'auc'", "'roc_auc'"]),
    ('[fit]\nmodels = ["lightgbm", "deep_forest"]\n', ["Unknown model 'deep_forest'", "'keras_mlp'"]),
    ('[preprocess]\nscaler = "zscore"\n', ["Unknown scaler 'zscore'", "'standard'"]),
    ('[batch]\noutput_root = "x"\n', ["[batch] needs input"]),
    ('[batch]\ninput = "a.csv"\nkeep = 3\n', ["unknown key 'keep' in [batch]", "'keep_runs'"]),
    ('[batch]\ninput = "a.csv"\nkeep_runs = 0\n', ["keep_runs must be at least 1"]),
    ('preset = "fastest"\n', ["Unknown recipe 'fastest'", "'quick'"]),
    ('[fit\ntime_limit = 5\n', ["is not valid TOML", "line 1"]),
])
def test_bad_recipes_name_the_problem_and_the_choices(tmp_path, text, phrases):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        recipes.load(path)
    for phrase in phrases:
        assert phrase in str(info.value)
    assert str(path) in str(info.value) or "Unknown recipe" in str(info.value)


def test_yaml_recipes_are_validated_the_same_way(tmp_path):
    path = write(tmp_path, "fit:\n  time_limit: 30\n  models: lightgbm\n", "r.yaml")
    assert recipes.load(path).config(target="y").models == ("lightgbm",)
    bad = write(tmp_path, "fit:\n  foldz: 3\n", "bad.yml")
    with pytest.raises(ConfigError, match="unknown key 'foldz' in \\[fit\\]"):
        recipes.load(bad)


def test_unknown_recipe_and_missing_file():
    with pytest.raises(ConfigError, match=r"Unknown recipe 'nope'.*'balanced'"):
        recipes.load("nope")
    with pytest.raises(ConfigError, match="does not exist"):
        recipes.load("missing/recipe.toml")


def test_cli_lists_recipes_and_refuses_a_bad_one(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["recipes"])
    assert result.exit_code == 0
    for name in ("quick", "balanced", "best", "nn-vs-ensembles", "nightly"):
        assert name in result.output
    bad = write(tmp_path, "[fit]\nseeds = 1\n")
    data = write(tmp_path, "a,y\n1,0\n2,1\n", "d.csv")
    result = runner.invoke(main, ["fit", str(data), "--target", "y", "--recipe", str(bad)])
    assert result.exit_code == EXIT_BAD_INPUT and "unknown key 'seeds'" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(main, ["run", "quick"])
    assert result.exit_code == EXIT_BAD_INPUT and "has no [batch] section" in result.output


@pytest.mark.parametrize(("options", "message"), [
    ({"time_limit": "60"}, "time_limit must be a number, got '60' (str)"),
    ({"trials": 1.5}, "trials must be a whole number, got 1.5"),
    ({"seed": "x"}, "seed must be a whole number, got 'x'"),
    ({"folds": True}, "folds must be a whole number, got True"),
    ({"models": [1, 2]}, "models must be a list of names"),
    ({"families": 3}, "families must be model keys"),
    ({"families": "lightgbm", "models": 5}, "models must be a list of names"),
])
def test_api_options_of_the_wrong_type_are_named(options, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        AutoML(target="y", **options)


def test_a_lone_name_is_a_list_of_one_and_model_keys_may_be_comma_separated():
    config = make_config("y", models="linear, lightgbm", categorical="island, north", trials=np.int64(2))
    assert config.models == ("linear", "lightgbm") and config.categorical == ("island, north",)
    assert config.trials == 2 and type(config.trials) is int
    assert make_config("y", time_limit=30).time_limit == 30.0


def test_the_api_takes_families_as_the_cli_does():
    """``families=`` is ``--families``: names include, a leading '-' excludes, and both add to ``models`` /
    ``exclude_models`` (a notebook user copying ``--families keras_mlp`` got "Unknown option(s) 'families'")."""
    assert AutoML(target="y", families="keras_mlp").config.models == ("keras_mlp",)
    config = AutoML(target="y", families=["-catboost", "-keras_mlp"], exclude_models="xgboost").config
    assert config.exclude_models == ("catboost", "keras_mlp", "xgboost") and config.models == ()
    assert AutoML(target="y", families="lightgbm", models=["linear"]).config.models == ("lightgbm", "linear")
    assert AutoML(target="y", families="xgboost", models={"linear"}).config.models == ("xgboost", "linear")
    recipe = AutoML(target="y", recipe="quick", families="-catboost").config
    assert recipe.exclude_models == ("catboost",)
    assert recipe.time_limit == recipes.load("quick").config(target="y").time_limit


def test_a_recipe_takes_families_and_comma_separated_models_and_names_a_bad_preset(tmp_path):
    """``families`` in [fit] is ``--families`` (it was an unknown key), ``models = "lightgbm, linear"`` is two
    keys as on the command line (YAML "Unknown model 'lightgbm, linear'"), and an unknown preset names the file
    and the key."""
    toml = write(tmp_path, '[fit]\nfamilies = ["-catboost", "linear"]\nexclude_models = "xgboost"\n')
    config = recipes.load(toml).config(target="y")
    assert config.models == ("linear",) and config.exclude_models == ("catboost", "xgboost")
    yaml = write(tmp_path, "fit:\n  models: lightgbm, linear\n", "r.yaml")
    assert recipes.load(yaml).config(target="y").models == ("lightgbm", "linear")
    with pytest.raises(ConfigError, match=r"r\.toml: \[fit\] families must be model keys"):
        recipes.load(write(tmp_path, "[fit]\nfamilies = 3\n"))
    with pytest.raises(ConfigError, match=r"r\.toml: preset = 'quik': Unknown recipe 'quik'"):
        recipes.load(write(tmp_path, 'preset = "quik"\n'))


def test_trials_and_a_time_limit_given_together_warn_that_the_limit_is_ignored(caplog):
    with caplog.at_level(logging.WARNING, logger="automl"):
        config = AutoML(target="y", trials=1, time_limit=10).config
    assert config.trials == 1 and "the time limit is ignored" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="automl"):
        AutoML(target="y", recipe="quick", trials=1)  # the recipe's time limit gives way without a word
    assert "ignored" not in caplog.text
