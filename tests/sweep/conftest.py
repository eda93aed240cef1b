"""Fixtures of the sweep tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from sweep_helpers import PINNED_CODE, write_sweep


@pytest.fixture(autouse=True)
def pinned_code_version(monkeypatch: pytest.MonkeyPatch) -> str:
    """Pin the code version (and keep a stray DASK_SCHEDULER_ADDRESS out)."""
    monkeypatch.setenv("FULFIL_CODE_VERSION", PINNED_CODE)
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    return PINNED_CODE


@pytest.fixture
def sweep_file(tmp_path: Path) -> Path:
    """A valid small sweep file: 4 cases x 2 policies x 2 replications = 16 runs."""
    return write_sweep(tmp_path)
