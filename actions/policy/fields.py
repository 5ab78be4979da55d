"""The field types every section of policy.yml is made of (pydantic v1, strict)."""

from __future__ import annotations

from enum import Enum
from typing import Mapping, Type

from pydantic import BaseModel, ConstrainedDecimal, ConstrainedInt, ConstrainedStr, conlist

from actions.shop.models import Resolution


class Count(ConstrainedInt):
    strict = True
    ge = 0


class PositiveCount(ConstrainedInt):
    strict = True
    gt = 0


class Yuan(ConstrainedDecimal):
    ge = 0


class Text(ConstrainedStr):
    strict = True
    strip_whitespace = True
    min_length = 1


ResolutionList = conlist(Resolution, min_items=1)
TextList = conlist(Text, min_items=1)


def every(enum_type: Type[Enum]):
    """A validator: the mapping has an entry for every member of enum_type."""

    def check(cls, mapping: Mapping) -> Mapping:
        missing = [member.value for member in enum_type if member not in mapping]
        if missing:
            raise ValueError(f"missing entries for {', '.join(missing)} (every {enum_type.__name__} needs one)")
        return mapping

    return check


class Section(BaseModel):
    """A section of the file: unknown keys are errors (a typo must not be ignored); read-only."""

    class Config:
        extra = "forbid"
        allow_mutation = False
