"""The link the page was opened with: each URL value checked as its widget takes it, and
one warning for the values the page could not use."""

from __future__ import annotations

import contextlib
import math
from typing import Any

import streamlit as st


def _shown(value: Any) -> str:
    """A value as a link spells it, for a message: ``true``, ``15``, ``8, 20``."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_shown(x) for x in value) or "none"
    return str(value)


def _drop_param(key: str) -> None:
    """Take ``key`` out of the URL. A key bound to a widget drawn on the last run cannot be
    taken out by hand; Streamlit drops it itself when this run ends without the widget."""
    from streamlit.errors import StreamlitAPIException

    with contextlib.suppress(StreamlitAPIException):
        st.query_params.pop(key, None)


class LinkCheck:
    """The values of the link the page was opened with, checked as their widgets take them.

    Streamlit drops a URL value its widget cannot show and shows the widget's default
    without a word, so the planner would take the page for the shared view. Each value is
    checked once per session, on the first page run that draws its widget (a lever of an
    uploaded scenario once the file is there); what was ignored is said in one warning in
    ``slot``, e.g. ``days=1000 is above the maximum 366; using 28``.
    """

    def __init__(self, slot: Any) -> None:
        if "link_values" not in st.session_state:  # the first page run: what the link said
            st.session_state["link_values"] = {
                k: st.query_params.get_all(k) for k in st.query_params
            }
        self.left: dict[str, list[str]] = st.session_state["link_values"]  # not checked yet
        self.slot = slot
        self.notes: list[str] = []

    def _take(self, key: str) -> list[str] | None:
        """The link's values of ``key`` (None: the link has none); each is checked once."""
        return self.left.pop(key, None)

    def note(self, text: str) -> None:
        """Add one ignored value to the warning."""
        self.notes.append(text)
        lines = "\n".join(f"- {note}" for note in self.notes)
        self.slot.warning(f"Some values in the link could not be used:\n{lines}")

    def number(self, key: str, lo: float, hi: float, shown: Any, whole: bool = False) -> None:
        """Check a number box's link value against its range ``[lo, hi]``."""
        raw = ",".join(self._take(key) or []) or None
        if raw is None:
            return
        try:
            number = float(raw)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            why = "is not a number"
        elif number < lo:
            why = f"is below the minimum {_shown(lo)}"
        elif number > hi:
            why = f"is above the maximum {_shown(hi)}"
        elif whole and not number.is_integer():
            why = "is not a whole number"
        else:
            return
        self.note(f"`{key}={raw}` {why}; using {_shown(shown)}")

    def pair(self, key: str, lo: float, hi: float, shown: Any) -> None:
        """Check a range slider's two link values against ``[lo, hi]``."""
        values = self._take(key)
        if values is None:
            return
        try:
            numbers = [float(x) for x in values]
        except ValueError:
            numbers = [math.nan]
        if len(numbers) != 2 or not all(math.isfinite(x) for x in numbers):
            why = "is not two numbers (from, to)"
        elif min(numbers) < lo:
            why = f"is below the minimum {_shown(lo)}"
        elif max(numbers) > hi:
            why = f"is above the maximum {_shown(hi)}"
        else:
            return
        self.note(f"`{key}={','.join(values)}` {why}; using {_shown(shown)}")

    def flag(self, key: str, shown: bool) -> None:
        """Check a toggle's link value: ``true`` or ``false``."""
        raw = ",".join(self._take(key) or []) or None
        if raw is not None and raw.strip().lower() not in ("true", "false"):
            self.note(f"`{key}={raw}` is not true or false; using {_shown(shown)}")

    def choice(self, key: str, options: list[str], shown: Any, what: str) -> None:
        """Check a select box's link value: one of ``options`` (``what`` they are)."""
        raw = ",".join(self._take(key) or []) or None
        if raw is not None and raw not in options:
            self.note(f"`{key}={raw}` is not {what}; using {_shown(shown)}")

    def choices(self, key: str, options: list[str], shown: Any, what: str) -> None:
        """Check a multiselect's link values: each one of ``options``."""
        # an empty value is how the page writes no choice at all: nothing to check
        unknown = [x for x in self._take(key) or [] if x and x not in options]
        if unknown:
            names = ", ".join(f"`{key}={x}`" for x in unknown)
            verb = "is" if len(unknown) == 1 else "are"
            self.note(f"{names} {verb} not {what}; using {_shown(shown)}")

    def unused(self, key: str, why: str) -> None:
        """A link value of a setting this page does not show now: left out of the URL."""
        raw = self._take(key)
        _drop_param(key)
        if raw is not None:
            self.note(f"`{key}={','.join(raw)}` is left out: {why}")

    def finish(self) -> None:
        """Once every setting is drawn: the link's keys none of them read (a mistyped name,
        say) are left out of the URL."""
        for key in list(self.left):
            self.unused(key, "the page has no such setting")
