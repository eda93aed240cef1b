"""The engine is pure: importing any engine module must not pull in sim or UI libraries."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ("simpy", "pandas", "streamlit", "plotly", "sim")

PROBE = """
import importlib, json, pkgutil, sys
import engine
names = ["engine"] + [m.name for m in pkgutil.walk_packages(engine.__path__, "engine.")]
for name in names:
    importlib.import_module(name)
forbidden = {forbidden!r}
loaded = sorted(m for m in sys.modules if m.split(".")[0] in forbidden)
print(json.dumps({{"modules": names, "loaded": loaded}}))
"""


def test_engine_imports_no_sim_or_ui_libraries():
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(forbidden=FORBIDDEN)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "engine.network" in report["modules"]
    assert report["loaded"] == [], f"engine imported {report['loaded']}"
