"""Located problems in scenario input: file, line, field path and what is wrong."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, located as precisely as the input allows."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        # Line 0 stands for "no line" (a --set option, say): lines count from 1.
        where = f"{self.file}:{self.line}" if self.line else self.file
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class LocatedError(ValueError):
    """Input could not be loaded; ``problems`` lists everything found, in file order.

    Subclasses name what was being loaded (``what``), e.g. "scenario" or "case".
    """

    what = "input"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.field, p.message))
        n = len(self.problems)
        head = "\n".join(str(p) for p in self.problems[:20])
        more = f"\n... and {n - 20} more" if n > 20 else ""
        super().__init__(f"{n} problem{'s' if n != 1 else ''} in the {self.what}:\n{head}{more}")


class ScenarioError(LocatedError):
    """A scenario could not be loaded; ``problems`` lists everything found, in file order."""

    what = "scenario"
