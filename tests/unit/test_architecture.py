"""Layering, packaging and the two-command contract."""

import ast
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "fangkong_lib"

# ARCHITECTURE.md: ledgers/config ← store ← ingest/domain ← actions ← views/outputs ← ui ← notebooks.
# Nothing imports upward; packages are the layers.
LAYER = {
    "config": 0, "ledgers": 0, "policy": 0,
    "store": 1,
    "ingest": 2, "domain": 2,
    "dataset": 3,
    "actions": 4, "demo": 4,
    "views": 5,
    "outputs": 6,
    "ui": 7,
    "cli": 8, "__init__": 8,
}


def _layer_of(module: str) -> int:
    head = module.split(".")[0]
    assert head in LAYER, f"module {module} has no layer: add it to LAYER"
    return LAYER[head]


def _imports(path: Path):
    rel = path.relative_to(PKG).with_suffix("")
    parts = list(rel.parts)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            base = parts[: len(parts) - node.level]
            if node.module:
                yield node.lineno, ".".join(base + [node.module])
                continue
            for alias in node.names:  # from . import store / from . import __version__
                candidate = PKG.joinpath(*base, alias.name)
                is_module = candidate.with_suffix(".py").exists() or candidate.is_dir()
                yield node.lineno, ".".join(base + [alias.name if is_module else "__init__"])
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("fangkong_lib."):
            yield node.lineno, node.module.removeprefix("fangkong_lib.")


def test_nothing_imports_upward():
    bad = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).with_suffix("")
        own = _layer_of(".".join(rel.parts))
        for lineno, target in _imports(path):
            if _layer_of(target) > own:
                bad.append(f"{rel}:{lineno} imports {target}")
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_notebooks_are_thin_and_committed_without_outputs():
    import nbformat

    for nb_path in (ROOT / "notebooks").glob("*.ipynb"):
        nb = nbformat.read(nb_path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert len(code) <= 2, nb_path.name
        assert all(not c.outputs for c in code), f"{nb_path.name} has outputs"
        assert sum(len(c.source.splitlines()) for c in code) <= 12, f"{nb_path.name} is not thin"


def _requirement_names(reqs):
    return {re.split(r"[<>=!\[ ;]", r, maxsplit=1)[0].lower().replace("_", "-") for r in reqs}


def test_environment_yml_agrees_with_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _requirement_names(project["dependencies"] + project["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            listed |= _requirement_names(dep["pip"])
        elif not dep.startswith("python"):
            listed |= _requirement_names([dep])
    listed.discard("pip")
    assert wanted == listed - {"pip"}, f"only in pyproject: {wanted - listed}; only in environment.yml: {listed - wanted}"


def test_every_dependency_is_pinned():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _requirement_names(project["dependencies"] + project["optional-dependencies"]["test"])
    pins = {line.split("==")[0].lower().replace("_", "-")
            for line in (ROOT / "constraints.txt").read_text().splitlines() if "==" in line}
    assert wanted <= pins, f"not pinned in constraints.txt: {wanted - pins}"


def test_readme_gives_the_two_commands_and_ci_runs_the_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make serve" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
