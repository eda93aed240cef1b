"""Load, validate and override scenarios, with one-line errors for people.

Every user error (missing file, invalid YAML, unknown key, wrong type, bad value, unknown
location or SKU referenced) becomes a `ScenarioError` whose ``str()`` is one line:
``FILE: FIELD.PATH: reason``.
"""

from __future__ import annotations

import copy
import difflib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sim.scenario.base import FieldError
from sim.scenario.schema import Scenario

__all__ = [
    "SCENARIOS_DIR",
    "ScenarioError",
    "apply_overrides",
    "available_scenarios",
    "check_file",
    "check_policy",
    "load_scenario",
]

#: Named scenarios shipped with the repository (``load_scenario("default")``).
SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "scenarios"
DICT_SOURCE = "<dict>"
# Tags of the "list or mapping" unions in the schema; pydantic puts them in error paths.
_UNION_TAGS = {"list", "other"}


class ScenarioError(Exception):
    """A scenario file or override is invalid.

    Attributes:
        file: The file (or ``<dict>``) the scenario came from.
        field: Dotted path of the offending field, e.g. ``demand.channels.web.orders_per_day``;
            empty when the problem is the file itself.
        reason: What is wrong, in plain words.
    """

    def __init__(self, file: str, field: str, reason: str) -> None:
        self.file = str(file)
        self.field = field
        self.reason = " ".join(str(reason).split())  # always one line
        super().__init__(str(self))

    def __reduce__(self) -> tuple[type[ScenarioError], tuple[str, str, str]]:
        return (type(self), (self.file, self.field, self.reason))  # picklable for workers

    def __str__(self) -> str:
        parts = [self.file, self.field, self.reason] if self.field else [self.file, self.reason]
        return ": ".join(parts)


def available_scenarios() -> list[str]:
    """Names of the scenarios in ``scenarios/`` (without ``.yaml``)."""
    return sorted(p.stem for p in SCENARIOS_DIR.glob("*.yaml"))


def _resolve_path(source: str | Path) -> Path:
    path = Path(source)
    if path.exists() or isinstance(source, Path):
        return path
    text = str(source)
    if "/" not in text and "\\" not in text and path.suffix not in (".yaml", ".yml"):
        named = SCENARIOS_DIR / f"{text}.yaml"
        if named.exists():
            return named
        raise ScenarioError(
            text, "", f"no such file or named scenario (named: {', '.join(available_scenarios())})"
        )
    return path


def _read(path: Path) -> dict[str, Any]:
    file = str(path)
    if not path.exists():
        raise ScenarioError(file, "", "file not found")
    if not path.is_file():
        raise ScenarioError(file, "", "not a file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(file, "", f"cannot read file: {exc}") from None
    return parse_yaml(text, file)


class _StrictLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects a key repeated in one mapping and leaves dates as
    text, so that the scenario's validation reads them and names the field of a bad one."""


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:  # an unhashable key: the normal constructor reports it
            continue
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def parse_yaml(text: str, file: str = "<text>") -> dict[str, Any]:
    """Parse a YAML document whose top level must be a mapping; repeated keys are errors.

    Args:
        text: The YAML text.
        file: Name used in error messages.

    Raises:
        ScenarioError: invalid YAML (with line and column), a repeated key, or a top
            level that is not a mapping.
    """
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ScenarioError(file, "", _yaml_reason(exc)) from None
    except RecursionError:
        raise ScenarioError(file, "", "invalid YAML: nested too deeply") from None
    except (ValueError, OverflowError) as exc:  # e.g. an explicit !!timestamp that is no date
        raise ScenarioError(file, "", f"invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        got = "an empty file" if data is None else _kind(data)
        raise ScenarioError(file, "", f"top level must be a mapping of sections, got {got}")
    return data


def _kind(value: Any) -> str:
    """What a YAML value is, in plain words: ``"a list"``, ``"the number 42"``..."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"the flag {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {_short(value)}"
    return f"a {type(value).__name__}"


def _yaml_reason(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"invalid YAML{where}: {problem}"


def _validate(data: Mapping[str, Any], file: str) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _from_validation(exc, file) from None


def _from_validation(exc: ValidationError, file: str) -> ScenarioError:
    errors = exc.errors()
    first = errors[0]
    loc = [str(p) for p in first["loc"] if p not in _UNION_TAGS]
    error = (first.get("ctx") or {}).get("error")
    if isinstance(error, FieldError):
        loc += [p for p in error.field.split(".") if p]
        reason = error.reason
    elif first["type"] == "extra_forbidden":
        reason = _unknown_key_reason(first["loc"])
    elif first["type"] == "missing":
        reason = "required field is missing"
    else:
        reason = _plain(str(first["msg"]).removeprefix("Value error, "), loc)
        if first["type"] not in ("value_error", "assertion_error") and "input" in first:
            reason += f" (got {_short(first['input'])})"
    if len(errors) > 1:
        reason += f" (and {len(errors) - 1} more)"
    return ScenarioError(file, ".".join(loc), reason)


def _plain(message: str, loc: list[str]) -> str:
    """A pydantic message without Python class names: "Input should be a valid
    dictionary or instance of StorePlacement" -> "Input should be a mapping of settings"."""
    if " or instance of " not in message and message != "Input should be a valid dictionary":
        return message
    if loc and loc[-1] == "hours":
        return "Input should be always, or a mapping {open, close, closed_weekdays}"
    return "Input should be a mapping of settings (key: value lines)"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that holds the last element of ``loc`` (None if not found)."""
    annotation: Any = Scenario
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if part in _UNION_TAGS:  # pick the list or the mapping member of the union
            annotation = _union_member(annotation, part)
            continue
        model = _find_model(annotation)
        info = model.model_fields.get(str(part)) if model is not None else None
        if info is None:
            return None
        annotation = info.annotation
    return _find_model(annotation)


def _union_member(annotation: Any, tag: str) -> Any:
    for arg in typing.get_args(_strip_annotated(annotation)):
        is_list = typing.get_origin(_strip_annotated(arg)) is list
        if is_list == (tag == "list"):
            return arg
    return annotation


def _strip_annotated(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _find_model(annotation: Any) -> type[BaseModel] | None:
    annotation = _strip_annotated(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _find_model(arg)
            if found is not None:
                return found
    return None


def _unknown_key_reason(loc: tuple[Any, ...]) -> str:
    key = str(loc[-1])
    model = _model_at(loc)
    if model is None:
        return f"unknown key {key!r}"
    allowed = list(model.model_fields)
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f" (allowed: {', '.join(allowed)})"
    return f"unknown key {key!r}{hint}"


def apply_overrides(
    scenario_dict: Mapping[str, Any], overrides: Mapping[str, Any], *, file: str = DICT_SOURCE
) -> dict[str, Any]:
    """Return the resolved scenario dict with dotted-path overrides applied.

    Paths name schema fields, list positions or mapping keys, e.g.
    ``{"demand.channels.web.orders_per_day": 3000, "disruptions.outages.0.days": 3}``.
    The result is not validated again; `load_scenario` does that.

    Args:
        scenario_dict: A scenario as loaded from YAML (defaults may be omitted).
        overrides: Dotted path -> new value.
        file: Name used in error messages.

    Raises:
        ScenarioError: the base scenario is invalid, or a path names no field.
    """
    base = scenario_dict if isinstance(scenario_dict, Scenario) else _validate(scenario_dict, file)
    data = base.model_dump(mode="python")
    for path, value in overrides.items():
        _set_path(base, data, str(path), copy.deepcopy(value), file)
    return data


def _set_path(obj: Any, node: Any, path: str, value: Any, file: str) -> None:
    parts = path.split(".")
    for i, part in enumerate(parts):
        here = ".".join(parts[: i + 1])
        if isinstance(obj, BaseModel):
            fields = type(obj).model_fields
            if part not in fields:
                close = difflib.get_close_matches(part, list(fields), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ScenarioError(file, path, f"unknown setting {part!r} at {here}{hint}")
            key: Any = part
            child = getattr(obj, part)
        elif isinstance(obj, list):
            if not part.lstrip("-").isdigit() or not -len(obj) <= int(part) < len(obj):
                raise ScenarioError(
                    file, path, f"no list item {part!r} at {here} ({len(obj)} items)"
                )
            key = int(part)
            child = obj[key]
        elif isinstance(obj, dict):
            key = int(part) if part.isdigit() and any(isinstance(k, int) for k in obj) else part
            if key not in obj and i < len(parts) - 1:
                raise ScenarioError(file, path, f"unknown key {part!r} at {here}")
            child = obj.get(key)
        else:
            raise ScenarioError(file, path, f"{'.'.join(parts[:i])} is a value, not a section")
        if i == len(parts) - 1:
            node[key] = value
        else:
            obj, node = child, node[key]


def load_scenario(
    source: str | Path | Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> Scenario:
    """Load and validate a scenario.

    Args:
        source: A path to a YAML file, a scenario name from ``scenarios/`` (e.g.
            ``"default"``), or a dict with the file's content. A rules file that a
            file's ``routing.policy`` names by a relative path is read from that file's
            folder (and the path made absolute); a dict's, from the current folder.
        overrides: Optional dotted-path overrides (see `apply_overrides`).

    Returns:
        The validated `Scenario` with every default filled in.

    Raises:
        ScenarioError: on any invalid input; ``str(err)`` is ``FILE: FIELD: reason``.
            Whether ``routing.policy`` names a known policy is checked when a run uses
            it (`check_policy`): a notebook may register its policy after loading.
    """
    if isinstance(source, Scenario):
        data: Mapping[str, Any] = source.model_dump(mode="python")
        file = f"<{source.name}>"
    elif isinstance(source, Mapping):
        data, file = source, DICT_SOURCE
    else:
        path = _resolve_path(source)
        data, file = _policy_file_from(_read(path), path.parent), str(path)
    if overrides:
        data = apply_overrides(data, overrides, file=file)
    return _validate(data, file)


def _policy_file_from(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    """`data` with a relative rules-file path in ``routing.policy`` (``FILE[:NAME]``) read
    from `folder`, the scenario file's own, and made absolute: the file then resolves the
    same from any current folder, in worker processes and in a ``scenario.yaml`` written
    elsewhere. Anything else, and an absolute path, is left as it is."""
    from engine.routing.rules import policy_spec_from

    routing = data.get("routing")
    policy = routing.get("policy") if isinstance(routing, dict) else None
    if not isinstance(policy, str) or (moved := policy_spec_from(policy, folder)) == policy:
        return data
    return {**data, "routing": {**routing, "policy": moved}}


def check_file(path: str | Path) -> Scenario:
    """Validate a scenario file fully: schema, references, and that its network builds.

    Args:
        path: Scenario file or name.

    Raises:
        ScenarioError: the first problem found, as one line.
    """
    scenario = load_scenario(path)
    file = str(_resolve_path(path)) if not isinstance(path, Mapping) else DICT_SOURCE
    from sim.scenario.build import build_network

    try:
        build_network(scenario)
    except (ValueError, KeyError) as exc:
        raise ScenarioError(file, "network", str(exc)) from None
    check_policy(scenario, file)
    return scenario


def check_policy(scenario: Scenario, file: str = DICT_SOURCE) -> None:
    """Check that ``routing.policy`` names a registered policy that accepts ``routing.params``.

    Not part of `load_scenario`: a notebook may register its own policy after loading.

    Args:
        scenario: The validated scenario.
        file: Name used in error messages.

    Raises:
        ScenarioError: on ``routing.policy`` (see `sim.policy_modules.policy_problem`) or
            ``routing.params`` (parameters the policy does not accept).
    """
    from engine.errors import RoutingError
    from engine.routing import get_policy
    from engine.routing.rules import policy_file_spec
    from sim.policy_modules import module_spec, policy_problem

    name, params = scenario.routing.policy, dict(scenario.routing.params)
    problem = policy_problem(name)
    if problem:
        raise ScenarioError(file, "routing.policy", problem)
    if policy_file_spec(name) is not None:  # a rules file, as `sim.run.run` accepts
        if params:
            raise ScenarioError(
                file, "routing.params", "a rules-file policy takes no params (set them in the file)"
            )
        return
    if module_spec(name):  # imported and found registered by `policy_problem`
        name = module_spec(name)[1]
    try:
        get_policy(name, **params)
    except (RoutingError, ValueError) as exc:
        raise ScenarioError(file, "routing.params", str(exc)) from None
