"""The shape of the package (../shared/DESIGN.md): imports point one way, no cycles, no private names across
packages, and ``automl predict`` loads only what a saved model needs. Read from the source with ``ast``,
lazy imports inside functions included."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "automl"
# lowest first: a module may import its own layer and the layers below, never one above
LAYERS = [
    {"automl.version", "automl._env", "automl.errors", "automl.config"},
    {"automl.data", "automl.models", "automl.results", "automl.threads", "automl.predictor", "automl.recipes",
     "automl.compare", "automl.progress"},
    {"automl.search", "automl.ensembles", "automl.report"},
    {"automl.fit"},
    {"automl.api", "automl.batch", "automl.sklearn"},
    {"automl.cli", "automl.__main__", "automl"},
]
FRONT_DOORS = {"automl.api", "automl.cli"}  # nothing imports these but the package's surface and the CLI
MAY_IMPORT_FRONT_DOORS = {"automl", "automl.cli", "automl.__main__", "automl.sklearn"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _imports(name: str) -> list[tuple[str, list[str]]]:
    """(imported module, names) for every ``automl`` import in module ``name``."""
    found = []
    for node in ast.walk(ast.parse(MODULES[name].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.split(".")[0] == "automl"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "automl":
            for alias in node.names:  # "from automl import threads" imports the module automl.threads
                sub = f"{node.module}.{alias.name}"
                found.append((sub, []) if sub in MODULES else (node.module, [alias.name]))
    return found


def _group(module: str) -> str:
    for layer in LAYERS:
        for group in layer:
            if module == group or module.startswith(group + "."):
                best = group
                if group != "automl":
                    return group
    return best


def _layer(module: str) -> int:
    group = _group(module)
    return next(i for i, layer in enumerate(LAYERS) if group in layer)


def test_every_module_has_a_layer():
    assert all(_group(m) for m in MODULES)
    assert {m for m in MODULES if _group(m) == "automl"} == {"automl"}, "a top-level module is missing from LAYERS"


def test_imports_point_down_and_never_at_a_front_door():
    wrong = []
    for name in MODULES:
        for target, _ in _imports(name):
            if _layer(target) > _layer(name):
                wrong.append(f"{name} -> {target}")
            if _group(target) in FRONT_DOORS and _group(name) not in MAY_IMPORT_FRONT_DOORS | {_group(target)}:
                wrong.append(f"{name} -> {target} (a front door)")
    assert not wrong, wrong


def test_no_private_name_is_imported_from_another_package():
    wrong = [f"{name} imports {n} from {target}" for name in MODULES for target, names in _imports(name)
             for n in names if n.startswith("_") and not n.endswith("__") and _group(target) != _group(name)]
    assert not wrong, wrong


def test_no_import_cycles():
    graph = {name: {t for t, _ in _imports(name) if t in MODULES and t != name} for name in MODULES}
    graph["automl"] = set()  # the package's lazy surface (__getattr__) is not an import of its modules' users
    for name in MODULES:
        graph[name].discard("automl")
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    assert not cycles, cycles


def test_predicting_imports_no_search_report_optuna_or_tensorflow(tmp_path):
    code = ("import sys; from automl.api import AutoML; import automl.predictor, automl.results; "
            "heavy = [m for m in ('optuna', 'tensorflow', 'keras', 'jinja2', 'matplotlib', 'automl.fit', "
            "'automl.search.tuner', 'automl.search.evaluate', 'automl.report') if m in sys.modules]; "
            "assert not heavy, heavy")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
