"""Errors of the optimiser, in plain words: what has no solution, and why."""

from __future__ import annotations


class OptimizationError(ValueError):
    """The optimiser could not give a plan; ``reasons`` says why, one line each."""

    def __init__(self, message: str, reasons: list[str] | None = None) -> None:
        self.message = message
        self.reasons = list(reasons or [])
        lines = "".join(f"\n  {r}" for r in self.reasons)
        super().__init__(f"{message}{lines}")


class InfeasibleError(OptimizationError):
    """No plan meets the model's constraints (e.g. a unit that can reach no region)."""


class NoSolutionError(OptimizationError):
    """The solver stopped (time limit, error) before it found any plan."""
