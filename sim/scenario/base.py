"""Shared pieces of the scenario schema: the strict base model and small value types."""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

__all__ = ["FieldError", "Hours", "HoursSpec", "Mean", "Share", "StrictModel", "WholeNumber"]

#: A share or probability. [0..1]
Share = Annotated[float, Field(ge=0.0, le=1.0)]


class FieldError(ValueError):
    """A validation failure that belongs to a sub-field of the model being validated.

    Raised inside ``model_validator`` methods so that the loader can report the exact
    field path (pydantic would only report the model's own path).

    Args:
        field: Dotted path below the model, e.g. ``"outages.0.location"``.
        reason: What is wrong, in plain words.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def _not_a_flag(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"Input should be a whole number, not {str(value).lower()}")
    return value


WholeNumber = Annotated[int, BeforeValidator(_not_a_flag)]
"""An integer that true/false do not pass for (numpy integers and 28.0 do, as for `int`)."""


def _members(annotation: Any) -> list[Any]:
    """The types a field's annotation admits, unions and ``Annotated`` taken apart."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(annotation) for m in _members(a)]
    return [annotation]


def _shown(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else repr(value)


def _converted(value: Any, annotation: Any) -> tuple[str, str] | None:
    """The first scalar in `value` that a field of type `annotation` would take only by
    converting it: true/false or text for a number, a number or text for true/false; items
    of lists and mappings included. Returns ``(where below the field, reason)`` (where is
    ``""`` for `value` itself), or None when there is none."""
    members = _members(annotation)
    if isinstance(value, list | Mapping):
        shape = list if isinstance(value, list) else dict
        for member in members:
            args = typing.get_args(member)
            if typing.get_origin(member) is shape and args:
                items = enumerate(value) if shape is list else value.items()
                for key, item in items:
                    found = _converted(item, args[-1])
                    if found:
                        return ".".join(p for p in (str(key), found[0]) if p), found[1]
                return None
        return None
    kinds = {m for m in members if m in (bool, int, float, str)}
    if type(value) in kinds or not isinstance(value, bool | int | float | str):
        return None
    if kinds & {int, float} and isinstance(value, bool | str):
        return "", f"Input should be a number, not {_shown(value)}"
    if kinds == {bool}:
        return "", f"Input should be true or false, not {_shown(value)}"
    return None


class StrictModel(BaseModel):
    """Base of every scenario section: unknown keys are errors; defaults and assignments
    are validated too (so default profiles are normalised like given ones); numbers are
    finite, and neither true/false nor text passes for a number (``"30"`` is a mistake in
    a scenario file, not 30), nor a number or text for true/false, in lists and mappings
    too."""

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, validate_default=True, allow_inf_nan=False
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_number_from_flag_or_text(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        found = _converted(value, field.annotation) if field is not None else None
        if found and found[0]:
            raise FieldError(*found)
        if found:
            raise ValueError(found[1])
        return value


class Mean(StrictModel):
    """A positive random duration given by its mean (exponential unless stated otherwise).

    Attributes:
        mean: Mean of the distribution, in the unit the field name gives.
    """

    mean: float = Field(gt=0)


class Hours(StrictModel):
    """Local opening hours, the same every open weekday.

    ``always`` in YAML means open around the clock (``{open: 0, close: 24}``).

    Attributes:
        open: Local opening hour. [h, 0..24]
        close: Local closing hour, after ``open``. [h, 0..24]
        closed_weekdays: Weekdays closed all day, Monday=0 .. Sunday=6.
    """

    open: float = Field(default=0.0, ge=0, le=24)
    close: float = Field(default=24.0, ge=0, le=24)
    closed_weekdays: list[Annotated[int, Field(ge=0, le=6)]] = []

    @model_validator(mode="after")
    def _open_before_close(self) -> Hours:
        if self.close <= self.open:
            raise FieldError("close", f"close ({self.close}) must be after open ({self.open})")
        return self

    @property
    def always_open(self) -> bool:
        """True when open 0..24 every day."""
        return self.open == 0 and self.close == 24 and not self.closed_weekdays


def _parse_hours(value: object) -> object:
    """Accept the word ``always`` as round-the-clock hours."""
    if value == "always":
        return {"open": 0.0, "close": 24.0}
    return value


#: Opening hours as written in YAML: ``always`` or ``{open, close, closed_weekdays}``.
HoursSpec = Annotated[Hours, BeforeValidator(_parse_hours)]
