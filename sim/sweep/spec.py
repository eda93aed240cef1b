"""Sweep files: a base scenario, overrides on a grid and/or as a list, policies, replications.

A sweep file is YAML::

    name: sfs_limit_x_bopis
    scenario: ../default.yaml          # path (relative to this file) or a scenario name
    grid:                              # dotted path -> values; every combination is a case
      network.store_defaults.daily_order_limit: [20, 60, 200]
    overrides:                         # override sets, each crossed with the grid
      - {demand.channels.web.methods.bopis: 0.05, demand.channels.web.methods.ship: 0.92}
      - label: bopis 30%               # optional label used instead of paths and values
        set: {demand.channels.web.methods.bopis: 0.30, demand.channels.web.methods.ship: 0.67}
    policies: [closest, min_split]
    replications: 3
    seed: 42                           # default: the scenario's seed
    days: null                         # optional run length passed to `run`. [days]
    max_retries: 2                     # retries of a failing run, per invocation
    details: [orders, shipments]       # per-run tables written next to the results

Every case (grid point x override set) is applied to the base scenario and validated by
the scenario schema *before* anything runs, so an unknown path or a bad value stops the
sweep with one line ``SWEEP_FILE: FIELD: reason``.
"""

from __future__ import annotations

import difflib
import itertools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
)

from sim.scenario.base import WholeNumber
from sim.scenario.loader import ScenarioError, parse_yaml
from sim.scenario.schema import MAX_HORIZON_DAYS, MAX_REPLICATIONS, MAX_SEED
from sim.sweep.labels import labeller

__all__ = ["DETAIL_TABLES", "Case", "OverrideSet", "Sweep", "SweepError", "SweepSpec", "load_sweep"]

DETAIL_TABLES = ("orders", "lines", "shipments", "events", "inventory", "utilisation")
DetailTable = Literal["orders", "lines", "shipments", "events", "inventory", "utilisation"]
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)*$")

#: ``loader(source, overrides) -> Scenario`` (the scenario loader, injectable for tests).
Loader = Callable[[Any, Mapping[str, Any] | None], Any]


class SweepError(Exception):
    """A sweep file is invalid; ``str()`` is one line ``FILE: FIELD: reason``.

    Attributes:
        file: The sweep file (or ``<dict>``).
        field: Dotted path of the offending field in the sweep file; may be empty.
        reason: What is wrong, in plain words.
    """

    def __init__(self, file: str, field: str, reason: str) -> None:
        self.file = str(file)
        self.field = field
        self.reason = " ".join(str(reason).split())
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [self.file, self.field, self.reason] if self.field else [self.file, self.reason]
        return ": ".join(parts)


def _check_path(path: str) -> str:
    if not _PATH.match(path):
        raise ValueError(f"{path!r} is not a dotted path like 'inventory.safety_stock_days'")
    return path


_EMPTY_SET = "the set is empty; give at least one dotted path and its value"


def _check_paths(paths: dict[str, Any]) -> dict[str, Any]:
    if not paths:
        raise ValueError(_EMPTY_SET)
    for path in paths:
        _check_path(path)
    return paths


#: Dotted scenario path -> value: an override set's settings.
Paths = Annotated[dict[str, Any], AfterValidator(_check_paths)]


class OverrideSet(BaseModel):
    """An override set, e.g. ``{label: bopis 15%, set: {...}}``.

    Attributes:
        label: Short name used in case labels instead of the paths and values; left out,
            the case is labelled by its paths and values, as a plain mapping is.
        set: Dotted scenario path -> value.
    """

    model_config = ConfigDict(extra="forbid")

    label: str | None = None
    set: Paths

    @field_validator("label", mode="before")
    @classmethod
    def _label(cls, label: Any) -> str:
        if isinstance(label, str) and label.strip():
            return label
        if label is not None and not isinstance(label, str):
            raise ValueError(f"the label must be text, got {json.dumps(label, default=str)}")
        raise ValueError(
            "the label is empty; leave it out to label the set by its paths and values"
        )

    @field_validator("set", mode="before")
    @classmethod
    def _mapping(cls, paths: Any) -> Any:
        if not isinstance(paths, Mapping):
            raise ValueError("expected a mapping of dotted path -> value")
        return paths


_SET, _PATHS = "<set>", "<paths>"
"""Tags of the two ways to write an override set; pydantic puts them in error paths."""


def _set_or_paths(one: Any) -> str:
    """A mapping with a ``label`` or ``set`` key is an `OverrideSet`, so that a typo in one
    is named as such rather than read as a scenario path; any other is dotted paths."""
    if isinstance(one, OverrideSet) or (isinstance(one, Mapping) and {"label", "set"} & set(one)):
        return _SET
    return _PATHS


#: An override set: an `OverrideSet`, or a plain mapping of dotted path -> value.
OverrideItem = Annotated[
    Annotated[OverrideSet, Tag(_SET)] | Annotated[Paths, Tag(_PATHS)],
    Discriminator(_set_or_paths),
]


class SweepSpec(BaseModel):
    """The content of a sweep file (see the module docstring for an example).

    Attributes:
        name: Sweep name, stored with every result row.
        scenario: Base scenario: a path relative to the sweep file, or a scenario name.
        grid: Dotted scenario path -> list of values; the cases are all combinations.
        overrides: Override sets, each crossed with the grid: a mapping of dotted path ->
            value, or an `OverrideSet` (``set:`` with an optional ``label:``).
        policies: Routing policy names.
        replications: Replications per case and policy (common random numbers). [runs]
        seed: Base seed; default the base scenario's seed.
        days: Run length handed to `run` (None = the scenario's horizon). [days]
        max_retries: Extra attempts for a failing run in one invocation. [attempts]
        details: Per-run tables written as Parquet next to the summary row.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    scenario: str = Field(min_length=1)
    grid: dict[str, list[Any]] = {}
    overrides: list[OverrideItem] = []
    policies: list[str] = Field(min_length=1)
    # WholeNumber: `replications: true` is a mistake, not 1.
    replications: WholeNumber = Field(default=1, ge=1, le=MAX_REPLICATIONS)
    seed: WholeNumber | None = Field(default=None, ge=0, le=MAX_SEED)
    days: WholeNumber | None = Field(default=None, gt=0, le=MAX_HORIZON_DAYS)
    max_retries: WholeNumber = Field(default=2, ge=0)
    details: list[DetailTable] = ["orders", "shipments"]

    @field_validator("grid")
    @classmethod
    def _grid(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for path, values in grid.items():
            _check_path(path)
            if not values:
                raise ValueError(f"{path}: needs at least one value")
        return grid

    def override_sets(self) -> list[tuple[str | None, dict[str, Any]]]:
        """``(label or None, path -> value)`` for each override set."""
        return [
            (one.label, one.set) if isinstance(one, OverrideSet) else (None, one)
            for one in self.overrides
        ]

    @field_validator("policies")
    @classmethod
    def _unique_policies(cls, policies: list[str]) -> list[str]:
        if len(set(policies)) != len(policies):
            raise ValueError("policies are listed twice")
        return policies


@dataclass(frozen=True)
class Case:
    """One point of the sweep: the overrides applied to the base scenario.

    Attributes:
        index: Position in the sweep (0-based), stable for a given file.
        overrides: Dotted path -> value, grid values first, then the override set.
        scenario: The validated scenario as JSON-compatible data (`Scenario.resolved`).
        label: Short human label, e.g. ``daily_order_limit=20, web.methods.bopis=0.05``.
    """

    index: int
    overrides: dict[str, Any]
    scenario: dict[str, Any]
    label: str


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: its spec, where it came from, and its cases.

    Attributes:
        spec: The parsed sweep file.
        file: The sweep file path, or ``<dict>``.
        cases: Every case, validated against the scenario schema.
        seed: The base seed actually used.
    """

    spec: SweepSpec
    file: str
    cases: list[Case]
    seed: int


def _spec_error(exc: ValidationError, file: str) -> SweepError:
    errors = exc.errors()
    first = errors[0]
    unknown = [e for e in errors if e["type"] == "extra_forbidden" and len(e["loc"]) == 1]
    if first["type"] == "missing" and unknown:  # a misspelt key explains the missing one
        first = unknown[0]
    if first["loc"][0] == "overrides":  # a misspelt key explains the set's other errors
        misspelt = (e for e in errors if e["type"] == "extra_forbidden")
        first = next((e for e in misspelt if e["loc"][:3] == first["loc"][:3]), first)
    # Grid keys are dotted themselves; keep them whole and quote-free in the path.
    loc = [str(p) for p in first["loc"] if p not in (_SET, _PATHS)]
    field = ".".join(loc)
    if first["type"] == "extra_forbidden":
        model = OverrideSet if loc[0] == "overrides" else SweepSpec
        if model is OverrideSet:  # named on the set: the key is no scenario path
            field = ".".join(loc[:-1])
        close = difflib.get_close_matches(loc[-1], list(model.model_fields), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        reason = f"unknown key {loc[-1]!r}{hint} (allowed: {', '.join(model.model_fields)})"
    elif first["type"] == "missing":
        reason = "required field is missing"
    else:
        reason = str(first["msg"]).removeprefix("Value error, ")
    return SweepError(file, field, reason)


def _check_labels(spec: SweepSpec, file: str) -> None:
    """Each override set's label names one setting (results are grouped by label)."""
    first: dict[str, int] = {}
    for i, (name, _) in enumerate(spec.override_sets()):
        if name is None:
            continue
        if name in first:
            raise SweepError(
                file,
                f"overrides.{i}.label",
                f"{name!r} is also the label of overrides.{first[name]}; give each set its "
                "own label (results are grouped by it)",
            )
        first[name] = i


def _read(source: str | Path | Mapping[str, Any]) -> tuple[dict[str, Any], str, Path]:
    if isinstance(source, Mapping):
        return dict(source), "<dict>", Path.cwd()
    path = Path(source)
    if not path.is_file():
        raise SweepError(str(path), "", "not a file" if path.exists() else "file not found")
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"), str(path))
    except ScenarioError as exc:
        raise SweepError(str(path), "", exc.reason) from None
    return data, str(path), path.parent


def _scenario_source(name: str, base_dir: Path) -> str:
    """A path relative to the sweep file wins over a scenario name."""
    candidate = base_dir / name
    return str(candidate) if candidate.is_file() else name


def _where(
    overrides: Mapping[str, Any], grid: Mapping[str, Any], set_field: str, field: str
) -> str:
    """The sweep-file field that a scenario error on ``field`` points back to: the override
    at or above ``field``, else one below it (a rule over a whole section, e.g. shares that
    must sum to 1, fails on the section an override changed a part of)."""
    for path in overrides:
        if field == path or field.startswith(path + "."):
            return f"grid.{path}" if path in grid else f"{set_field}.{path}"
    for path in overrides:
        if path.startswith(field + "."):
            return f"grid.{path}" if path in grid else f"{set_field}.{path}"
    return set_field or "scenario"


def _default_loader() -> Loader:
    from sim.scenario import load_scenario

    return load_scenario


def _scenario_error_type() -> type[Exception]:
    try:
        from sim.scenario import ScenarioError
    except ImportError:  # pragma: no cover - the scenario package is part of sim
        return ValueError
    return ScenarioError


def load_sweep(source: str | Path | Mapping[str, Any], *, loader: Loader | None = None) -> Sweep:
    """Read, validate and expand a sweep file into cases.

    Args:
        source: Path to a sweep YAML file, or its content as a dict.
        loader: ``loader(scenario_source, overrides) -> Scenario``; default
            `sim.scenario.load_scenario`.

    Returns:
        The validated `Sweep`.

    Raises:
        SweepError: anything invalid, as one line naming the sweep file, field and reason;
            nothing has run yet.
    """
    data, file, base_dir = _read(source)
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise _spec_error(exc, file) from None
    load = loader or _default_loader()
    scenario_error = _scenario_error_type()
    _check_result_columns(spec, file)
    _check_labels(spec, file)
    for path in spec.grid:
        for i, (name, one) in enumerate(spec.override_sets()):
            if path in one:
                where = f"overrides.{i}.set.{path}" if name else f"overrides.{i}.{path}"
                raise SweepError(file, where, "also set in grid")
    source_name = _scenario_source(spec.scenario, base_dir)
    try:
        base = load(source_name, None)
    except scenario_error as exc:
        raise SweepError(file, "scenario", str(exc)) from None
    spec = spec.model_copy(update={"policies": _policies(spec, file, base_dir)})
    cases = _build_cases(
        spec, file, lambda overrides: load(source_name, overrides) if overrides else base
    )
    seed = spec.seed if spec.seed is not None else int(getattr(base, "seed", 0))
    return Sweep(spec=spec, file=file, cases=cases, seed=seed)


def _check_result_columns(spec: SweepSpec, file: str) -> None:
    """Refuse override paths named like an id column of the results (each path becomes a
    column of the result rows, so ``seed`` would overwrite the run's seed).

    Raises:
        SweepError: naming the grid or override-set field.
    """
    from sim.sweep.rows import ID_COLUMNS

    reserved = {*ID_COLUMNS, "overrides"}
    fields = [f"grid.{path}" for path in spec.grid if path in reserved]
    for i, (name, one) in enumerate(spec.override_sets()):
        prefix = f"overrides.{i}.set" if name else f"overrides.{i}"
        fields += [f"{prefix}.{path}" for path in one if path in reserved]
    if fields:
        path = fields[0].rsplit(".", 1)[-1]
        hints = {
            "seed": "vary seeds with the sweep's `replications` (and its base `seed`)",
            "days": "set the run length with the sweep's `days`",
        }
        hint = hints.get(path, "the sweep sets it")
        raise SweepError(
            file,
            fields[0],
            f"{path!r} is an id column of the results and cannot be overridden; {hint}",
        )


def _build_cases(spec: SweepSpec, file: str, load: Callable[[dict[str, Any]], Any]) -> list[Case]:
    """Apply every grid point x override set to the base scenario and validate it.

    Raises:
        SweepError: a case is invalid, or two cases give the same scenario.
    """
    scenario_error = _scenario_error_type()
    grid_points = [
        dict(zip(spec.grid, values, strict=True))
        for values in itertools.product(*spec.grid.values())
    ]
    sets: list[tuple[str, str | None, dict[str, Any]]] = [
        (f"overrides.{i}.set" if name else f"overrides.{i}", name, one)
        for i, (name, one) in enumerate(spec.override_sets())
    ] or [("", None, {})]
    label = labeller(spec.grid, grid_points, sets)
    cases: list[Case] = []
    seen: dict[str, tuple[dict[str, Any], str, dict[str, Any]]] = {}
    for point in grid_points:
        for set_field, name, one in sets:
            overrides = {**point, **one}
            try:
                scenario = load(overrides)
            except scenario_error as exc:
                field = getattr(exc, "field", "")
                where = _where(overrides, spec.grid, set_field, field)
                reason = getattr(exc, "reason", str(exc))
                if field and not where.endswith(field):
                    reason = f"{field}: {reason}"
                case = label(point, name, one)
                raise SweepError(file, where, f"{reason} (case {case})") from None
            resolved = scenario.resolved()
            fingerprint = json.dumps(resolved, sort_keys=True, default=str)
            if fingerprint in seen:
                raise _same_scenario(file, seen[fingerprint], (point, set_field, overrides))
            seen[fingerprint] = (point, set_field, overrides)
            cases.append(Case(len(cases), overrides, resolved, label(point, name, one)))
    return cases


def _same_scenario(
    file: str,
    earlier: tuple[dict[str, Any], str, dict[str, Any]],
    later: tuple[dict[str, Any], str, dict[str, Any]],
) -> SweepError:
    """The error for two cases that give the same scenario; each case is ``(grid point,
    override-set field, all its overrides)``. Names the later override set when the grid
    point is the same, else the grid."""
    point, set_field, overrides = earlier
    later_point, later_set, later_overrides = later
    if point == later_point and set_field != later_set:
        where = f" at grid point {_settings(point)}" if point else ""
        return SweepError(
            file,
            later_set.removesuffix(".set"),
            f"gives the same scenario as {set_field.removesuffix('.set')}{where}; "
            "remove one of them",
        )
    if set_field == later_set:  # the grid points alone make the difference
        field, later_overrides, overrides = "grid", later_point, point
    else:
        field = later_set.removesuffix(".set") or "grid"
    return SweepError(
        file,
        field,
        f"case {_settings(later_overrides)} gives the same scenario as case "
        f"{_settings(overrides)}; remove one of them",
    )


def _settings(overrides: Mapping[str, Any]) -> str:
    """Every path and value, e.g. ``inventory.safety_stock_days=1`` (labels may leave out
    the paths two cases share)."""
    return ", ".join(f"{p}={json.dumps(v, default=str)}" for p, v in overrides.items()) or "base"


def _policies(spec: SweepSpec, file: str, base_dir: Path) -> list[str]:
    """Policy names checked against the registry; rules files ``FILE[:NAME]`` loaded (as
    `sim.run` will) with ``FILE`` resolved from the sweep file's folder to an absolute
    path; Python ``module:NAME`` policies imported (`sim.policy_modules`).

    Raises:
        SweepError: an unknown name, a rules file that is missing or invalid (or holds
            several policies and no ``:NAME`` picks one), or a module that does not import
            or registers no such policy.
    """
    from engine.routing.rules import policy_file_spec, policy_spec_from
    from sim.policy_modules import policy_problem

    out = []
    for i, policy in enumerate(spec.policies):
        resolved = policy_spec_from(policy, base_dir)  # FILE from the sweep file's folder
        rules = policy_file_spec(resolved)
        path = None if rules is None else Path(rules[0])
        problem = policy_problem(resolved)
        if problem and path is not None:  # name the file as the sweep file does
            detail = problem.removeprefix(f"{path}: ") if path.is_file() else "not found"
            problem = f"policy file {policy!r}: {detail}"
        if problem:
            raise SweepError(file, f"policies.{i}", problem)
        out.append(resolved)
    return out
