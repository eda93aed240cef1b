"""The README's Python examples run as written (executable docs), and so do the test
examples in docs/policy_regression.md; the notebooks are what scripts/make_notebooks.py
writes."""

import importlib.util
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
POLICY_REGRESSION_DOC = ROOT / "docs" / "policy_regression.md"
MAKE_NOTEBOOKS = ROOT / "scripts" / "make_notebooks.py"
NOTEBOOKS = ROOT / "notebooks"


def python_blocks(path: Path = README) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_readme_has_examples():
    assert python_blocks(), "README.md should show at least one Python example"


def test_readme_examples_run():
    namespace: dict = {}
    for block in python_blocks():
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own docs


@pytest.mark.slow
def test_policy_regression_doc_examples_pass():
    """Every ``test_*`` in docs/policy_regression.md passes on the real model (copied as is)."""
    from sim.testing import PolicyRegression

    namespace: dict = {}
    for block in python_blocks(POLICY_REGRESSION_DOC):
        exec(compile(block, str(POLICY_REGRESSION_DOC), "exec"), namespace)  # noqa: S102
    tests = {name: fn for name, fn in namespace.items() if name.startswith("test_")}
    assert len(tests) >= 3, "docs/policy_regression.md should show its example tests"
    for fn in tests.values():
        if "policy_regression" in fn.__code__.co_varnames[: fn.__code__.co_argcount]:
            fn(PolicyRegression())  # the pytest fixture's value
        else:
            fn()


def _make_notebooks():
    spec = importlib.util.spec_from_file_location("make_notebooks", MAKE_NOTEBOOKS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_notebooks_are_what_make_notebooks_writes():
    script = _make_notebooks()
    for name, cells in (
        ("01_quickstart.ipynb", script.QUICKSTART),
        ("02_policy_regression.ipynb", script.REGRESSION),
        ("03_sweep_frontier.ipynb", script.SWEEP),
    ):
        committed = nbformat.read(NOTEBOOKS / name, as_version=4)
        assert nbformat.writes(script.build(cells)) == nbformat.writes(committed), name


def test_make_notebooks_help_prints_usage_and_writes_nothing():
    before = {p: p.stat().st_mtime_ns for p in NOTEBOOKS.glob("*.ipynb")}
    proc = subprocess.run(
        [sys.executable, str(MAKE_NOTEBOOKS), "--help"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: make_notebooks.py")
    assert "wrote" not in proc.stdout
    assert {p: p.stat().st_mtime_ns for p in NOTEBOOKS.glob("*.ipynb")} == before


@pytest.mark.slow
def test_sweep_notebook_removes_its_temporary_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(NOTEBOOKS)  # as nbmake runs it
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    notebook = nbformat.read(NOTEBOOKS / "03_sweep_frontier.ipynb", as_version=4)
    assert "two\nreplications" in notebook.cells[2].source
    namespace: dict = {}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            exec(compile(cell.source, "03_sweep_frontier.ipynb", "exec"), namespace)  # noqa: S102
    assert namespace["sweep"].spec.replications == 2
    assert not any(tmp_path.iterdir())
