"""The package's shape, enforced: small modules and functions, no import cycles, no private
names across modules, and the layers in the order the README's layout table gives."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "colorization"
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60

# package -> packages it must never import (at any depth, module level or inside functions)
FORBIDDEN = {
    "colorization.lab": ("colorization.",),  # the paper's reference: numpy and scikit-image only
    "colorization.fast": (
        "colorization.data",
        "colorization.training",
        "colorization.evaluation",
        "colorization.reporting",
        "colorization.repro",
        "colorization.cli",
        "colorization.app",
        "colorization.export",
    ),
    "colorization.io": (
        "colorization.data",
        "colorization.training",
        "colorization.evaluation",
        "colorization.reporting",
        "colorization.repro",
        "colorization.cli",
        "colorization.app",
        "colorization.export",
    ),
    "colorization.metrics": (
        "colorization.training",
        "colorization.evaluation",
        "colorization.data",
        "colorization.reporting",
        "colorization.repro",
        "colorization.cli",
        "colorization.export",
    ),
    # colour hints (data, Levin et al.): below the paper's path, which may import them; never Keras
    "colorization.hints": (
        "colorization.colorize",
        "colorization.model",
        "colorization.training",
        "colorization.evaluation",
        "colorization.data",
        "colorization.reporting",
        "colorization.repro",
        "colorization.cli",
        "colorization.app",
        "colorization.export",
    ),
    "colorization.data": (
        "colorization.training",
        "colorization.evaluation",
        "colorization.reporting",
        "colorization.repro",
        "colorization.cli",
        "colorization.app",
        "colorization.export",
    ),
    "colorization.training": (
        "colorization.evaluation",
        "colorization.repro",
        "colorization.cli",
        "colorization.app",
        "colorization.export",
    ),
    "colorization.training.step": ("colorization.data",),  # Lab in the step comes from fast.lab_ops
    "colorization.evaluation": (
        "colorization.training",
        "colorization.repro",
        "colorization.cli",
        "colorization.app",
        "colorization.export",
    ),
    "colorization.reporting": (
        "colorization.training",
        "colorization.repro",
        "colorization.cli",
        "colorization.app",
        "colorization.export",
    ),
    # exported networks: built on the paper's path, io, data (calibration images) and weights; used by the CLI
    "colorization.export": (
        "colorization.training",
        "colorization.evaluation",
        "colorization.reporting",
        "colorization.repro",
        "colorization.cli",
        "colorization.app",
    ),
    # the zero-install page's builder: exports a network and packs the page; no training, evaluation or pipeline
    "colorization.web": ("colorization.training", "colorization.evaluation", "colorization.repro"),
    # video: the network path, io, metrics and the stabilizers; nothing of training, evaluation or the front ends
    "colorization.video": (
        "colorization.training",
        "colorization.evaluation",
        "colorization.reporting",
        "colorization.repro",
        "colorization.cli",
        "colorization.app",
    ),
    # runs exported files without TensorFlow (tests/test_export.py checks sys.modules too)
    "colorization.export.runtime": ("colorization.model", "colorization.data", "keras", "tensorflow", "tf2onnx"),
    "colorization.export.openvino_runtime": ("colorization.model", "colorization.data", "keras", "tensorflow"),
    "colorization.export.litert_runtime": ("colorization.model", "colorization.data", "keras", "tensorflow"),
}


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path, ast.parse(path.read_text(encoding="utf-8"))


def imports(tree, top_level_only=False):
    """(imported module, imported names) for each import statement."""
    nodes = tree.body if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


MODULES = list(modules())


def test_the_checks_see_the_package():
    names = {name for name, _, _ in MODULES}
    assert {"colorization.lab", "colorization.training.trainer", "colorization.fast.lab_ops"} <= names


@pytest.mark.parametrize("name,path,tree", MODULES, ids=[m[0] for m in MODULES])
def test_module_and_functions_are_small(name, path, tree):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path}: {lines} lines (limit {MAX_MODULE_LINES})"
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            assert length <= MAX_FUNCTION_LINES, f"{path}:{node.lineno} {node.name}() has {length} lines"


@pytest.mark.parametrize("name,path,tree", MODULES, ids=[m[0] for m in MODULES])
def test_no_private_names_across_modules(name, path, tree):
    for module, names in imports(tree):
        if not module.startswith("colorization"):
            continue
        assert not any(part.startswith("_") for part in module.split(".")), f"{path}: imports private module {module}"
        private = [n for n in names if n.startswith("_") and n != "__version__"]
        assert not private, f"{path}: imports private {private} from {module}"


@pytest.mark.parametrize("name,path,tree", MODULES, ids=[m[0] for m in MODULES])
def test_layers(name, path, tree):
    rules = [(owner, banned) for owner, banned in FORBIDDEN.items() if name == owner or name.startswith(owner + ".")]
    for module, _ in imports(tree):
        for owner, banned in rules:
            for prefix in banned:
                assert not (module == prefix.rstrip(".") or module.startswith(prefix)) or module.startswith(owner), (
                    f"{path}: {name} imports {module}, which the layer {owner} must not use"
                )


def test_no_import_cycles_at_module_level():
    graph = {}
    names = {name for name, _, _ in MODULES}
    for name, _, tree in MODULES:
        targets = set()
        for module, imported in imports(tree, top_level_only=True):
            if module in names:
                targets.add(module)
            targets.update(f"{module}.{n}" for n in imported if f"{module}.{n}" in names)
        graph[name] = targets - {name}

    def parents(name):  # importing a.b.c runs a/__init__ and a/b/__init__ first
        parts = name.split(".")
        return {".".join(parts[:i]) for i in range(1, len(parts))} & names

    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node] - parents(node)):
            if state.get(target) == "open":
                cycle = stack[stack.index(target) :] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
