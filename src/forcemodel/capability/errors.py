"""Errors of capability planning: what is wrong, and where in the input it was set."""

from __future__ import annotations

from dataclasses import dataclass

from forcemodel.common.errors import LocatedError

Path_ = tuple[str | int, ...]


class CapabilityError(LocatedError):
    """A capability file or the options beside it cannot be used; ``problems`` are located."""

    what = "capability input"


@dataclass(frozen=True)
class Issue:
    """One thing an engine cannot work with: the field of the capability file it comes from
    (``path``, e.g. ``("floors", 2, "power")``), or the option that set it, and why."""

    path: Path_
    message: str


class CapabilityInputError(ValueError):
    """The engines' error: ``issues`` say what and where; the API locates them in the file."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = list(issues)
        super().__init__("; ".join(f"{'.'.join(map(str, i.path))}: {i.message}" for i in issues))
