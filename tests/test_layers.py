"""The layers hold: import-linter's contract (pyproject.toml) and no import inside a function
between the project's own modules (such an import only hides a cycle from the linter)."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "core",
    "accounts",
    "notifications",
    "training",
    "registry",
    "overview",
    "disclosure",
    "portal",
)


def test_import_linter_contract_is_kept():
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _nested_project_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if node.name == "ready" and path.name == "apps.py":
            continue  # AppConfig.ready: models can be imported only from there
        for inner in ast.walk(node):
            if isinstance(inner, ast.ImportFrom) and inner.level == 0 and inner.module:
                names = [inner.module]
            elif isinstance(inner, ast.ImportFrom) and inner.level > 0:
                names = ["."]
            elif isinstance(inner, ast.Import):
                names = [alias.name for alias in inner.names]
            else:
                continue
            for name in names:
                if name == "." or name.split(".")[0] in PACKAGES:
                    found.append(f"{path.relative_to(ROOT)}:{inner.lineno} {name}")
    return found


def test_no_function_level_imports_between_project_modules():
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            offenders += _nested_project_imports(path)
    assert offenders == []
