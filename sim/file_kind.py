"""Which of the project's YAML formats a file is written in: a scenario, a policy rules file
or a sweep file, guessed from its top-level keys.

Used only to explain an error: a file given where another format was expected (a sweep file
to ``fulfil run``, a scenario to ``fulfil sweep``) gets a hint naming the command that
takes it, instead of the first field the expected format lacks.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

__all__ = ["Kind", "data_kind", "file_kind"]

Kind = Literal["scenario", "rules", "sweep"]


def file_kind(file: str | Path) -> Kind | None:
    """The format `file` is written in (`data_kind` of its YAML), or None when it is no
    readable YAML mapping or its keys say nothing."""
    import yaml

    try:
        doc = yaml.safe_load(Path(file).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError, yaml.YAMLError):
        return None
    return data_kind(doc)


def data_kind(doc: Any) -> Kind | None:
    """The format a parsed YAML document is written in, or None when it is no mapping or
    its keys say nothing.

    A key only one format has decides: a scenario's sections, a sweep's ``scenario``,
    ``grid`` or ``replications``, a rules file's ``filters`` or ``sort``; keys only a
    scenario has next to keys only a sweep has say nothing (the file's own error does).
    Keys a slip in a scenario could make (a sweep's ``days``, ``overrides``, ``details``,
    ``max_retries``) say nothing. Keys two formats share decide next: ``seed`` (a
    scenario's or a sweep's) makes a scenario, as before sweeps were known; ``policies``
    makes a rules file when it lists mappings (a rules file's policies; a sweep's are
    names). Otherwise a misspelt key goes with its closest known key (``filtres``: a rules
    file); a key closer to one of a scenario's ``routing`` section (``policy``) makes a
    scenario. ``name`` and ``description``, which all formats have, say nothing.
    """
    from engine.routing.rules import RULES_FILE_KEYS
    from sim.scenario.schema import Scenario
    from sim.scenario.sections import Routing
    from sim.sweep.spec import SweepSpec

    if not isinstance(doc, Mapping):
        return None
    both = {"name", "description"}
    keys = {k for k in doc if isinstance(k, str)} - both
    scenario = set(Scenario.model_fields) - both
    rules = RULES_FILE_KEYS - both
    sweep = {"scenario", "grid", "replications"} & set(SweepSpec.model_fields)
    listed = doc.get("policies")
    if "policies" in doc and not (
        isinstance(listed, list) and any(isinstance(p, Mapping) for p in listed)
    ):
        rules = rules - {"policies"}  # a list of names (a sweep's, or a slip): says nothing
    keys -= set(SweepSpec.model_fields) - sweep - scenario - rules  # weak: say nothing
    own_scenario, own_sweep = keys & (scenario - {"seed"}), keys & sweep
    if own_scenario and own_sweep:
        return None  # keys of both: a mistake in one of them, which its own error names
    if own_scenario:
        return "scenario"
    if own_sweep:
        return "sweep"
    if keys & scenario:
        return "scenario"
    if keys & rules:
        return "rules"
    known = [*rules, *scenario, *Routing.model_fields, *sweep]  # a key matches itself
    closest = {(difflib.get_close_matches(k, known, n=1) or [k])[0] for k in keys}
    if closest & rules:
        return "rules"
    if closest & sweep:
        return "sweep"
    if closest & (scenario | set(Routing.model_fields)):
        return "scenario"
    return None
