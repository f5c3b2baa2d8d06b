"""Layering, packaging and the two-command contract."""

import ast
import re
import tomllib
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "fangkong_lib"

# ARCHITECTURE.md: ledgers/config ← store ← ingest/domain ← actions ← views/outputs ← ui ← notebooks.
# Nothing imports upward; packages are the layers.
LAYER = {
    "config": 0, "ledgers": 0, "policy": 0,
    "store": 1, "migrations": 1,
    "ingest": 2, "domain": 2,
    "dataset": 3,
    "actions": 4, "demo": 4,
    "views": 5,
    "outputs": 6,
    "ui": 7,
    "cli": 8, "__init__": 8,
}


@lru_cache(maxsize=None)
def _parse(path: Path) -> ast.Module:
    """The syntax tree of a source file (parsed once for all the tests here)."""
    return ast.parse(path.read_text(encoding="utf-8"))


def _layer_of(module: str) -> int:
    head = module.split(".")[0]
    assert head in LAYER, f"module {module} has no layer: add it to LAYER"
    return LAYER[head]


def _imports(path: Path):
    rel = path.relative_to(PKG).with_suffix("")
    parts = list(rel.parts)
    tree = _parse(path)
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


# -- Import graph: cycles and what UI models may import ---------------------------------


def _module_of(path: Path, root: Path) -> str:
    """Dotted name of ``path`` inside the package at ``root`` ("" for its __init__)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(root: Path, parts: list[str]) -> bool:
    target = root.joinpath(*parts) if parts else root
    return bool(parts) and (target.with_suffix(".py").is_file() or (target / "__init__.py").is_file())


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements of a module, those deferred into functions included
    (a deferred import only hides a circle, it does not remove it), except
    under ``if TYPE_CHECKING:``, which never run."""
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node):
            todo.extend(node.orelse)
        else:
            todo.extend(ast.iter_child_nodes(node))


def import_graph(root: Path, *, package: str = "fangkong_lib"):
    """(graph, external): for each module of the package at ``root``, the set
    of its modules it imports, and the set of top-level outside packages."""
    graph: dict[str, set[str]] = {}
    external: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        name = _module_of(path, root)
        own = list(path.relative_to(root).with_suffix("").parts)
        inside, outside = graph.setdefault(name, set()), external.setdefault(name, set())
        for node in _import_nodes(_parse(path)):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    head, _, rest = alias.name.partition(".")
                    if head == package:
                        inside.add(rest)
                    else:
                        outside.add(head)
                continue
            if node.level:
                base = own[: len(own) - node.level] + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == package:
                base = node.module.split(".")[1:]
            else:
                outside.add((node.module or "").split(".")[0])
                continue
            for alias in node.names:  # from .pkg import submodule, or a name of pkg
                inside.add(".".join(base + [alias.name]) if _is_module(root, base + [alias.name]) else ".".join(base))
        inside.discard(name)
    return graph, external


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other in a circle (Tarjan's strongly
    connected components with more than one module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def widget_imports(graph, external, modules) -> dict[str, list[str]]:
    """For each of ``modules`` that imports ipywidgets directly or through its
    imports inside the package: the chain of modules that leads there."""
    found = {}
    for start in modules:
        seen, todo = {start: [start]}, [start]
        while todo:
            node = todo.pop(0)
            if "ipywidgets" in external.get(node, ()):
                found[start] = seen[node]
                break
            for nxt in sorted(graph.get(node, ())):
                if nxt in graph and nxt not in seen:
                    seen[nxt] = seen[node] + [nxt]
                    todo.append(nxt)
    return found


def _write_package(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_a_cycle_inside_a_package_is_found(tmp_path):
    root = _write_package(tmp_path / "fangkong_lib", {
        "__init__.py": "",
        "domain/__init__.py": "",
        # today's shape: one side imports at the top, the other defers it into a function
        "domain/alerts.py": "from .overview import active_controls\n",
        "domain/overview.py": "def summarize():\n    from . import alerts\n",
        "domain/plans.py": "from .daily import y\n",
        "domain/daily.py": "from fangkong_lib.domain.geo import x\n",
        "domain/geo.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .plans import later\n",
    })
    graph, _ = import_graph(root)
    # plans → daily → geo is closed only under TYPE_CHECKING, which never runs
    assert graph["domain.daily"] == {"domain.geo"} and graph["domain.geo"] == set()
    assert import_cycles(graph) == [["domain.alerts", "domain.overview"]]


def test_no_import_cycles_inside_the_package():
    graph, _ = import_graph(PKG)
    cycles = import_cycles(graph)
    assert not cycles, "modules importing each other (at the top or inside a function):\n" + "\n".join(
        " ↔ ".join(group) for group in cycles)


def test_a_ui_model_reaching_ipywidgets_is_found(tmp_path):
    root = _write_package(tmp_path / "fangkong_lib", {
        "__init__.py": "",
        "ui/__init__.py": "",
        "ui/common.py": "import ipywidgets as w\n",
        "ui/models/__init__.py": "",
        "ui/models/clean.py": "import traitlets\nfrom ...views import html\n",
        "ui/models/leaky.py": "import traitlets\ndef build():\n    from ..common import w\n",
        "views/__init__.py": "",
        "views/html.py": "",
    })
    graph, external = import_graph(root)
    assert widget_imports(graph, external, ["ui.models.clean", "ui.models.leaky"]) == {
        "ui.models.leaky": ["ui.models.leaky", "ui.common"]}


def test_ui_models_never_import_ipywidgets():
    models = PKG / "ui" / "models"
    if not models.is_dir():
        pytest.skip("no fangkong_lib/ui/models/ package yet")
    graph, external = import_graph(PKG)
    names = [_module_of(p, PKG) for p in models.rglob("*.py")]
    leaks = widget_imports(graph, external, names)
    assert not leaks, "UI models that reach ipywidgets:\n" + "\n".join(
        " → ".join(chain) + " → ipywidgets" for chain in leaks.values())


# -- Public surface ---------------------------------------------------------------------


def _declared_all(init: Path) -> list[str] | None:
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            return list(ast.literal_eval(node.value))
    return None


def test_at_most_nine_modules_at_the_top():
    top = sorted(p.stem for p in PKG.glob("*.py") if p.name != "__init__.py")
    assert len(top) <= 9, f"{len(top)} modules at the top of fangkong_lib/: {top}; move some into a package"


def test_every_package_declares_its_public_names():
    missing = [str(init.parent.relative_to(ROOT)) for init in sorted(PKG.rglob("__init__.py"))
               if _declared_all(init) is None]
    assert not missing, f"packages whose __init__ has no __all__: {missing}"


def test_analyst_notebook_imports_only_public_names():
    import nbformat

    public = set()
    for init in PKG.rglob("__init__.py"):
        public |= set(_declared_all(init) or ())
    nb = nbformat.read(ROOT / "notebooks" / "analysis" / "overview_by_hand.ipynb", as_version=4)
    imported = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "fangkong_lib":
                imported += [(node.module, alias.name) for alias in node.names]
            elif isinstance(node, ast.Import):
                imported += [(alias.name, alias.name.split(".")[-1]) for alias in node.names
                             if alias.name.startswith("fangkong_lib.")]
    assert imported, "the analyst notebook no longer imports fangkong_lib: is this test still reading it?"
    private = [f"{module}: {name}" for module, name in imported if name not in public]
    assert not private, f"names the analyst notebook imports that no package's __all__ declares: {private}"


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


def test_domain_public_names_load_from_their_modules():
    import fangkong_lib.domain as domain

    assert sorted(domain._HOME) == domain.__all__
    for name in domain.__all__:
        assert callable(getattr(domain, name)), name
