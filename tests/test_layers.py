"""One direction of dependency, `app.py -> ui/ -> sim/ -> engine/`: importing every module
of a layer must not pull in the layers above it (nor, for the engine, the simulation's
and the page's libraries)."""

from __future__ import annotations

import json
import subprocess
import sys

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
}


@pytest.mark.parametrize(("package", "forbidden"), LAYERS.items())
def test_a_layer_imports_nothing_above_it(package: str, forbidden: tuple[str, ...]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(package=package, forbidden=forbidden)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert f"{package}.routing" in report["modules"] or f"{package}.model" in report["modules"]
    assert len(report["modules"]) > 20  # every module was imported, not the package alone
    assert report["loaded"] == [], f"{package} imported {report['loaded']}"
