"""Output folders of the CLI (`fulfil run --out`, `fulfil sweep --out`)."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

__all__ = ["unwritable"]


def unwritable(folder: str | Path, *, create: bool = True) -> str | None:
    """Why files cannot be written in ``folder``, or None when they can.

    Checked before a long run, so that a bad ``--out`` fails at once, not after the run.

    Args:
        folder: The output folder.
        create: Create ``folder`` when missing (a run); False only checks that it could be
            created (``fulfil sweep --plan``, which writes nothing).
    """
    path = Path(folder)
    if not create and not path.is_dir():
        existing = next((p for p in (path, *path.parents) if p.exists()), None)
        if existing is None:
            return None
        if not existing.is_dir():
            code = errno.EEXIST if existing == path else errno.ENOTDIR
            return f"cannot write there ({os.strerror(code)})"
        if not os.access(existing, os.W_OK | os.X_OK):
            return f"cannot write there ({os.strerror(errno.EACCES)})"
        return None
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        return f"cannot write there ({exc.strerror or exc})"
    return None
