"""When the optimiser stops: a time budget (the default) or deterministic work limits.

With a time budget every stage gets a share of the seconds left, so the plan depends on the
machine's speed. With :class:`WorkLimits` no stage reads the clock: HiGHS stops by nodes and
simplex iterations and the simulated search by a number of simulations, so the same input
gives the same plan on any machine (docs/optimization.md, "Stopping rules").
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Any

from forcemodel.mip.solve import SolverSettings

#: The least time, in seconds, any stage is given, even when the deadline has passed: the
#: most a stage can overrun it by (each solver stage that starts late stops after this).
MIN_STAGE_S = 0.05


@dataclass(frozen=True)
class WorkLimits:
    """A deterministic stopping rule: work, not seconds.

    ``evaluations``: simulations the simulated search may run; ``mip_nodes``: branch-and-bound
    nodes per MIP solve (HiGHS ``mip_max_nodes``); ``lp_iterations``: simplex iterations per
    LP or MIP solve (HiGHS ``simplex_iteration_limit``).
    """

    evaluations: int = 400
    mip_nodes: int = 200
    lp_iterations: int = 60_000

    def check(self) -> None:
        """Raise :class:`ValueError` for a limit below 1."""
        for name in ("evaluations", "mip_nodes", "lp_iterations"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(
                    f"work limit {name} must be a whole number, 1 or more, got {value}"
                )


class Budget:
    """What each stage may spend: seconds before a deadline, or the work limits."""

    def __init__(self, settings: SolverSettings, work: WorkLimits | None = None) -> None:
        self.settings = settings
        self.work = work
        self.started = time.monotonic()
        self.deadline = math.inf if work is not None else self.started + settings.time_limit
        #: Every plan the search has scored so far (the search appends to it), so that an
        #: interrupted search can still return the best of them.
        self.found: list[Any] = []

    @property
    def rule(self) -> str:
        """The stopping rule in words."""
        if self.work is None:
            return f"time budget of {self.settings.time_limit:g} s"
        w = self.work
        return (
            f"work limits ({w.evaluations} simulations, {w.mip_nodes} MIP nodes, "
            f"{w.lp_iterations} simplex iterations per solve)"
        )

    def elapsed(self) -> float:
        """Seconds since the call started."""
        return time.monotonic() - self.started

    def seconds(self, reserve: float = 0.0, share: float = 1.0) -> float:
        """Seconds a stage may run: ``share`` of what is left before the deadline less
        ``reserve``, never less than :data:`MIN_STAGE_S` (``inf`` under work limits)."""
        if self.work is not None:
            return math.inf
        return max(MIN_STAGE_S, share * (self.deadline - time.monotonic() - reserve))

    def stage(
        self, reserve: float = 0.0, share: float = 1.0, *, at_least: float = 0.0, **changes: object
    ) -> SolverSettings:
        """The solver settings of one stage: its time, or the work limits."""
        if self.work is not None:
            return dataclasses.replace(
                self.settings,
                time_limit=math.inf,
                node_limit=self.work.mip_nodes,
                iteration_limit=self.work.lp_iterations,
                **changes,  # type: ignore[arg-type]
            )
        seconds = max(at_least, self.seconds(reserve, share))
        return dataclasses.replace(self.settings, time_limit=seconds, **changes)  # type: ignore[arg-type]

    def extend(self, seconds: float) -> None:
        """Give ``seconds`` back to the budget (time spent on what is not the search)."""
        self.started += seconds
        self.deadline += seconds

    def left(self, reserve: float = 0.0) -> float:
        """Seconds left before the deadline less ``reserve`` (``inf`` under work limits)."""
        return self.deadline - time.monotonic() - reserve

    def expired(self, reserve: float = 0.0) -> bool:
        """Whether the deadline (less ``reserve``) has passed; never under work limits."""
        return self.left(reserve) <= 0.0
