"""The architecture's rules, checked: core never imports streamlit; the server side never imports torch."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_core_never_imports_streamlit():
    offenders = []
    for path in (ROOT / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "streamlit"]
    assert offenders == []


def test_server_side_modules_do_not_import_torch():
    """Torch in the server makes every frame's GC pass cost ~195 ms (DESIGN.md); workers own it."""
    code = (
        "import sys, core.config, core.data, core.jobs, core.figures, core.landscape, core.environment\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
