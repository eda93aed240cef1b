"""One direction of dependency, `app.py -> ui/ -> sim/ -> engine/`: importing every module
of a layer must not pull in the layers above it (nor, for the engine, the simulation's
and the page's libraries)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import importlib, json, pkgutil, sys
import {package} as root
names = ["{package}"] + [m.name for m in pkgutil.walk_packages(root.__path__, "{package}.")]
for name in names:
    importlib.import_module(name)
forbidden = {forbidden!r}
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set(forbidden))
print(json.dumps({{"modules": names, "loaded": loaded}}))
"""

LAYERS = {
    "engine": ("simpy", "pandas", "streamlit", "plotly", "sim", "ui", "app"),
    "sim": ("streamlit", "ui", "app"),
    "ui": ("app",),
}
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("package", "forbidden"), LAYERS.items())
def test_a_layer_imports_nothing_above_it(package: str, forbidden: tuple[str, ...]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(package=package, forbidden=forbidden)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,  # ui/ is not installed: it is imported from the repository root
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    modules = list((ROOT / package).rglob("*.py"))
    assert len(report["modules"]) == len(modules) > 5  # every module, not the package alone
    assert report["loaded"] == [], f"{package} imported {report['loaded']}"


@pytest.mark.parametrize(("package", "forbidden"), LAYERS.items())
def test_no_module_of_a_layer_imports_above_it_even_inside_a_function(
    package: str, forbidden: tuple[str, ...]
) -> None:
    """Imports made only when a function runs (lazy imports) are read from the source."""
    root = ROOT / package
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found += [f"{path.name}: {n}" for n in names if n.split(".")[0] in forbidden]
    assert len(list(root.rglob("*.py"))) > 5
    assert found == []
