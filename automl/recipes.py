"""Recipes: named sets of fit options (and, for batch runs, where the data comes from and where runs go) as
TOML or YAML files.

Precedence, lowest first: the built-in preset (the defaults of :class:`automl.config.FitConfig`, which is the
``balanced`` recipe), a recipe's ``preset`` (another shipped recipe it starts from), the recipe itself, then
explicit arguments (CLI options or ``AutoML(...)`` keywords).

A recipe file::

    description = "What it is for"
    preset = "quick"              # optional: start from this shipped recipe

    [fit]                         # any FitConfig option, and families as --families
    time_limit = 60
    models = ["lightgbm", "xgboost"]  # or "lightgbm, xgboost"; families = ["-catboost"] leaves one out

    [preprocess]                  # any PreprocessConfig option
    outlier_factor = 3.0

    [batch]                       # only for `automl run`
    input = "incoming/*.csv"      # a path or glob; a glob takes the newest matching file
    output_root = "reports"       # runs go to <output_root>/<recipe name>/<timestamp>/
    keep_runs = 7                 # complete runs kept (oldest removed first)
    alert_threshold = 0.02        # exit 5 when the CV score drops more than this against the previous run

Every key is checked: a misspelt one is named, with the valid keys listed. Paths in ``[batch]`` are relative
to the current folder, like the CLI's.
"""

from __future__ import annotations

import dataclasses
import logging
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automl.config import FitConfig, PreprocessConfig, add_families, model_names
from automl.errors import ConfigError, choices

SHIPPED_DIR = Path(__file__).resolve().parent / "_recipes"  # the repository's recipes/ folder, also in the wheel
SUFFIXES = (".toml", ".yaml", ".yml")
TOP_KEYS = ("description", "preset", "fit", "preprocess", "batch")
NOT_IN_RECIPES = ("preprocess", "recipe", "overwrite")  # FitConfig fields a recipe may not set
MAX_PRESET_DEPTH = 5


@dataclass(frozen=True)
class BatchSpec:
    """The ``[batch]`` section of a recipe: what ``automl run`` reads and where it writes."""

    input: str
    output_root: Path = Path("reports")
    keep_runs: int = 10
    alert_threshold: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "output_root", Path(self.output_root))
        if self.keep_runs < 1:
            raise ConfigError(f"keep_runs must be at least 1, got {self.keep_runs}.")
        if self.alert_threshold is not None and self.alert_threshold < 0:
            raise ConfigError(f"alert_threshold must be >= 0 (a drop in the metric), got {self.alert_threshold}.")


@dataclass(frozen=True)
class Recipe:
    """A loaded, validated recipe."""

    name: str
    path: Path
    description: str = ""
    fit: dict[str, Any] = field(default_factory=dict)
    preprocess: dict[str, Any] = field(default_factory=dict)
    batch: BatchSpec | None = None

    def config(self, **explicit: Any) -> FitConfig:
        """The :class:`FitConfig` of this recipe with ``explicit`` options on top (``None`` values ignored)."""
        from automl.config import make_config

        merged = {**self.fit, **self.preprocess, **{k: v for k, v in explicit.items() if v is not None}}
        if "target" not in merged:
            raise ConfigError(f"No target column: give --target, or set target in the [fit] section of {self.path}.")
        target = merged.pop("target")
        return make_config(target, recipe=self.name, **merged)


def resolve(target: str | None = None, recipe: str | Path | None = None, **options: Any) -> FitConfig:
    """The one way a fit's options become a :class:`FitConfig` (CLI, API and batch runs alike): explicit
    ``options`` (``None`` values ignored) win over the ``recipe`` (a name or file), which wins over the defaults.

    Raises
    ------
    ConfigError
        Without a target (neither ``target`` nor the recipe's), or for an unknown option or recipe.

    ``families`` (as the CLI's ``--families``: ``"lightgbm,keras_mlp"``, ``"-catboost"`` or a list) adds to
    ``models`` and ``exclude_models``.
    """
    from automl.config import make_config

    options = add_families(options, options.pop("families", None))
    if options.get("trials") is not None and options.get("time_limit") is not None:
        logging.getLogger(__name__).warning(
            "A number of trials (%s) and a time limit (%s s) were both given: with a number of trials there is no "
            "time limit, so the time limit is ignored.", options["trials"], options["time_limit"])
    if recipe is not None:
        return load(recipe).config(target=target, **options)
    if target is None:
        raise ConfigError("A target column is required: --target NAME, AutoML(target='name'), or a recipe that "
                          "sets it.")
    return make_config(target, **{k: v for k, v in options.items() if v is not None})


def shipped() -> dict[str, Path]:
    """The recipes that come with automl, by name."""
    if not SHIPPED_DIR.is_dir():
        return {}
    return {p.stem: p for p in sorted(SHIPPED_DIR.iterdir()) if p.suffix in SUFFIXES}


def load(name_or_path: str | Path) -> Recipe:
    """Load a recipe by file path or by the name of a shipped recipe (see :func:`shipped`)."""
    return _load(name_or_path, depth=0)


def _load(name_or_path: str | Path, depth: int) -> Recipe:
    path = _locate(name_or_path)
    data = _read(path)
    _check_keys(data, TOP_KEYS, path, "top level")
    base = Recipe(name=path.stem, path=path)
    if "preset" in data:
        if depth >= MAX_PRESET_DEPTH:
            raise ConfigError(f"{path}: presets nest more than {MAX_PRESET_DEPTH} deep (a cycle?).")
        preset = _expect(data["preset"], str, path, "preset")
        try:
            base = _load(preset, depth + 1)
        except ConfigError as e:
            raise ConfigError(f"{path}: preset = {preset!r}: {e}") from e
    fit = _section(data, "fit", path, FitConfig)
    prep = _section(data, "preprocess", path, PreprocessConfig)
    batch = _batch(data["batch"], path) if "batch" in data else base.batch
    description = _expect(data.get("description", base.description), str, path, "description")
    recipe = Recipe(name=path.stem, path=path, description=description, fit={**base.fit, **fit},
                    preprocess={**base.preprocess, **prep}, batch=batch)
    try:  # validate the values now, not at the end of a nightly job
        recipe.config(target=recipe.fit.get("target", "target"))
        from automl.models import registry

        for key in (*recipe.fit.get("models", ()), *recipe.fit.get("exclude_models", ())):
            registry.get(key)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from e
    return recipe


def _locate(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    if path.is_file():
        return path
    found = shipped()
    if str(name_or_path) in found:
        return found[str(name_or_path)]
    if path.suffix in SUFFIXES or "/" in str(name_or_path):
        raise ConfigError(f"Recipe file {path} does not exist.")
    raise ConfigError(f"Unknown recipe {str(name_or_path)!r}; give a recipe file, or one of the shipped recipes: "
                      f"{choices(found)}.")


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"Cannot read recipe {path}: {e}.") from e
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as e:  # tomllib.TOMLDecodeError, yaml.YAMLError: the message has the line and column
        raise ConfigError(f"Recipe {path} is not valid {path.suffix.lstrip('.').upper()}: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"Recipe {path} must be a table of keys (description, preset, fit, preprocess, batch).")
    return data


def _check_keys(data: dict[str, Any], valid: typing.Iterable[str], path: Path, where: str) -> None:
    valid = tuple(valid)
    for key in data:
        if key not in valid:
            raise ConfigError(f"{path}: unknown key {key!r} in {where}; valid keys: {choices(valid)}.")


def _section(data: dict[str, Any], name: str, path: Path, cls: type) -> dict[str, Any]:
    section = data.get(name, {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [{name}] must be a table of options.")
    hints = typing.get_type_hints(cls)
    valid = [f.name for f in dataclasses.fields(cls) if f.name not in NOT_IN_RECIPES]
    section = dict(section)
    families = section.pop("families", None) if cls is FitConfig else None  # as --families and families=
    _check_keys(section, valid + (["families"] if cls is FitConfig else []), path, f"[{name}]")
    for key in ("models", "exclude_models"):  # comma-separated, as on the command line
        if cls is FitConfig and isinstance(section.get(key), str):
            section[key] = list(model_names(section[key]))
    out = {key: _coerce(value, hints[key], path, f"[{name}] {key}") for key, value in section.items()}
    try:
        return add_families(out, families)
    except ConfigError as e:
        raise ConfigError(f"{path}: [{name}] {e}") from e


def _batch(section: Any, path: Path) -> BatchSpec:
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [batch] must be a table of options.")
    hints = typing.get_type_hints(BatchSpec)
    _check_keys(section, hints, path, "[batch]")
    if "input" not in section:
        raise ConfigError(f"{path}: [batch] needs input (a data file or a glob such as 'incoming/*.csv').")
    values = {key: _coerce(value, hints[key], path, f"[batch] {key}") for key, value in section.items()}
    try:
        return BatchSpec(**values)
    except ConfigError as e:
        raise ConfigError(f"{path}: [batch]: {e}") from e


def _coerce(value: Any, hint: Any, path: Path, key: str) -> Any:
    """Check ``value`` against a field's type hint (int, float, str, bool, Path, tuple[str, ...], optional)."""
    args = typing.get_args(hint)
    if type(None) in args:
        if value is None:
            return None
        hint = next(a for a in args if a is not type(None))
    if typing.get_origin(hint) is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{path}: {key} must be a list of names, got {value!r}.")
        return tuple(value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is Path and isinstance(value, str):
        return Path(value)
    return _expect(value, hint, path, key)


def _expect(value: Any, kind: type, path: Path, key: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{path}: {key} must be {_a(kind)}, got {value!r}.")
    return value


def _a(kind: type) -> str:
    return {int: "a whole number", float: "a number", str: "text", bool: "true or false"}.get(kind, kind.__name__)
