"""The architecture's rules, checked: core never imports streamlit, the server side never imports torch, core's
modules form no import cycle and stay small, and pages only lay out."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_MODULE_LINES = 450  # "no module over ~400 lines": one page of reading


def imported(path: Path, top_level_only: bool = False) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names = []
    for node in nodes:
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return names


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_core_never_imports_streamlit():
    offenders = [f"{p.name}: {n}" for p in (ROOT / "core").rglob("*.py") for n in imported(p) if n.split(".")[0] == "streamlit"]
    assert offenders == []


def test_server_side_modules_do_not_import_torch():
    """Torch in the server makes every frame's GC pass cost ~195 ms (DESIGN.md); workers own it."""
    code = (
        "import sys, core.data, core.training, core.runs, core.classroom, core.fit, core.env, core.plotting\n"
        "import core.training.figures, core.training.export, core.classroom.figures, core.classroom.animation\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_core_modules_import_no_cycle():
    """At module level (imports inside functions are deliberate and lazy), core's modules form a DAG."""
    modules = {module_name(p): p for p in (ROOT / "core").rglob("*.py")}
    graph = {m: {n for n in imported(p, top_level_only=True) if n in modules and n != m} for m, p in modules.items()}
    state: dict[str, int] = {}

    def visit(m: str, trail: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph[m]):
            if state.get(n) == 1 and not (m.startswith(n + ".") or n == "core"):  # a package's own __init__ is not a cycle
                raise AssertionError(" → ".join([*trail, m, n]))
            if n not in state:
                visit(n, [*trail, m])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])


def test_core_modules_stay_small():
    big = {module_name(p): n for p in (ROOT / "core").rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert big == {}


def test_pages_only_lay_out():
    """Pages import neither numpy nor torch: their maths lives in core, where it has unit tests."""
    offenders = [f"{p.name}: {n}" for p in (ROOT / "pages").glob("*.py") for n in imported(p) if n.split(".")[0] in ("numpy", "torch")]
    assert offenders == []
