"""Output folders of the CLI (`fulfil run --out`, `fulfil sweep --out`)."""

from __future__ import annotations

import tempfile
from pathlib import Path

__all__ = ["unwritable"]


def unwritable(folder: str | Path) -> str | None:
    """Why files cannot be written in ``folder`` (created if missing), or None when they can.

    Checked before a long run, so that a bad ``--out`` fails at once, not after the run.
    """
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        return f"cannot write there ({exc.strerror or exc})"
    return None
