"""docs/tables.md documents every column of every result table and every event kind.

A small run's tables are compared with the doc: a column added to a table (or an event kind
added to the model) without a row in docs/tables.md fails here, and so does a documented
column the table no longer has.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.returns import ReturnAction
from sim import load_scenario, run
from sim.records import (
    EVENT_COLUMNS,
    LINE_COLUMNS,
    ORDER_COLUMNS,
    ORDER_STATUSES,
    PACKAGE_STATUSES,
    SHIPMENT_COLUMNS,
)

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "tables.md"
TABLES = ("orders", "lines", "shipments", "events", "inventory", "utilisation")
IDENTITY = ("scenario", "policy", "replication", "seed")
CONSTANTS = {
    "orders": ORDER_COLUMNS,
    "lines": LINE_COLUMNS,
    "shipments": SHIPMENT_COLUMNS,
    "events": EVENT_COLUMNS,
}
ROW = re.compile(r"^\| `([^`]+)` \| ([^|]+?) \|", re.MULTILINE)
#: Event kinds the model builds at run time rather than writing them out at the call.
DYNAMIC_KINDS = {
    'f"return_{action.value}"': {f"return_{a.value}" for a in ReturnAction},
    "kind": {"outage_start", "outage_end"},  # sim/model/disruptions.py
}


def sections(text: str) -> dict[str, str]:
    """Heading text -> the text up to the next heading of any level."""
    parts = re.split(r"^(#{2,3} .+)$", text, flags=re.MULTILINE)
    return {parts[i].lstrip("#").strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def documented(section: str) -> dict[str, str]:
    """First column of each table row of `section` -> its second column."""
    return dict(ROW.findall(section))


@pytest.fixture(scope="module")
def doc() -> dict[str, str]:
    return sections(DOC.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def result():
    """A 2-day default run with one store outage (so the outage events occur too)."""
    outage = [{"location": "STORE-03", "start_day": 0, "days": 1}]
    scn = load_scenario("default", overrides={"disruptions.outages": outage})
    return run(scn, "closest", 42, days=2)


@pytest.mark.parametrize("name", TABLES)
def test_every_column_has_a_row_under_its_table(doc, result, name: str) -> None:
    table = getattr(result, name)
    rows = documented(doc[f"`{name}`"])
    missing = [c for c in table.columns if c not in rows]
    assert not missing, f"docs/tables.md, table `{name}`: no row for column(s) {missing}"
    stale = [c for c in rows if c not in table.columns]
    assert not stale, f"docs/tables.md, table `{name}`: rows for absent column(s) {stale}"
    assert list(rows) == list(table.columns), f"`{name}`: rows not in the table's order"


@pytest.mark.parametrize("name", TABLES)
def test_documented_types_are_the_column_types(doc, result, name: str) -> None:
    table = getattr(result, name)
    rows = documented(doc[f"`{name}`"])
    wrong = {c: (rows[c], str(t)) for c, t in table.dtypes.items() if rows.get(c) != str(t)}
    assert not wrong, f"`{name}`: documented type vs actual: {wrong}"


@pytest.mark.parametrize("name", list(CONSTANTS))
def test_column_constants_list_every_column_in_order(result, name: str) -> None:
    table = getattr(result, name)
    assert list(table.columns) == [*IDENTITY, *CONSTANTS[name]]


def test_every_event_kind_that_occurs_is_documented(doc, result) -> None:
    kinds = documented(doc["Event kinds"])
    occurred = set(result.events["kind"].astype(str))
    assert {"reject", "outage_start", "stockout"} <= occurred  # the run exercises them
    missing = sorted(occurred - set(kinds))
    assert not missing, f"docs/tables.md, Event kinds: no row for {missing}"


def test_every_event_kind_the_model_records_is_documented(doc) -> None:
    """Also the kinds a 2-day run does not produce: every kind at a `.event(` call in sim/."""
    call = re.compile(r"\.event\(\s*[^,()]+(?:\([^()]*\))?\s*,\s*(f?\"[^\"]*\"|\w+)")
    kinds: set[str] = set()
    for path in sorted((ROOT / "sim").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        args = call.findall(text)
        assert len(args) == text.count(".event("), f"{path}: an event call the test cannot read"
        for arg in args:
            if arg in DYNAMIC_KINDS:
                kinds |= DYNAMIC_KINDS[arg]
            else:
                assert arg.startswith('"'), f"{path}: event kind {arg}: add it to DYNAMIC_KINDS"
                kinds.add(arg.strip('"'))
    assert len(kinds) >= 20
    missing = sorted(kinds - set(documented(doc["Event kinds"])))
    assert not missing, f"docs/tables.md, Event kinds: no row for {missing}"


def test_every_status_is_documented(doc) -> None:
    for heading, statuses in (
        ("Order status", ORDER_STATUSES),
        ("Package status", PACKAGE_STATUSES),
    ):
        text = doc[heading]
        missing = [s for s in statuses if f"`{s}`" not in text]
        assert not missing, f"docs/tables.md, {heading}: {missing} not described"
