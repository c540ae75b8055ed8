"""The board's assistance plan: the matcher over the records and their logistics and training.

``POST /match`` plans allocations from pledges, requirements and allocations alone (every
pledge straight to the partner, no crews). The plan here adds what the board records since
revision 0004 (:mod:`forcemodel.service.logistics`): hubs, routes, training courses, item
weights and crews, so that it says when each system is usable (delivered and crews trained),
which cohorts run, and what passes through each hub (:mod:`forcemodel.assist.pipeline`). It
writes nothing. It runs as a job of the service's bounded match queue
(:class:`forcemodel.service.jobs.MatchQueue`), never in a request's thread; the board's page
``/ui/board/plan`` shows it.

:func:`records_mark` says whether the records changed since a plan was made: every change is
audited in its own transaction, so the newest audit entry's id changes with every write.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forcemodel.assist import MatchResult, match_case
from forcemodel.assist.board_logistics import (
    CourseRecord,
    HubRecord,
    Logistics,
    NeedsRecord,
    PlanError,
    RouteRecord,
)
from forcemodel.assist.records import case_from_records
from forcemodel.mip.errors import InfeasibleError, OptimizationError
from forcemodel.service.matching import _SOLVING, _broken, _snapshot
from forcemodel.service.records import RecordError
from forcemodel.service.tables import AuditEntry, Course, Hub, ItemNeeds, Route

#: Seconds the solver may run for the board's plan (the case pages' limit).
PLAN_TIME_LIMIT = 60.0


def logistics(session: Session) -> Logistics:
    """The board's hubs, routes, courses and item needs, in key order."""
    return Logistics(
        hubs=[
            HubRecord(h.id, h.name, h.location, h.t_per_day)
            for h in session.scalars(select(Hub).order_by(Hub.id))
        ],
        routes=[
            RouteRecord(r.id, r.origin, r.hub_id, r.to_hub_days, r.onward_days, r.t_per_day)
            for r in session.scalars(select(Route).order_by(Route.id))
        ],
        courses=[
            CourseRecord(
                c.id,
                c.item_id,
                c.cohort_size,
                c.duration_days,
                c.first_start,
                c.every_days,
                c.max_cohorts,
                tuple(c.prerequisites or ()),
            )
            for c in session.scalars(select(Course).order_by(Course.id))
        ],
        needs=[
            NeedsRecord(n.item_id, n.tons, n.crew)
            for n in session.scalars(select(ItemNeeds).order_by(ItemNeeds.item_id))
        ],
    )


def records_mark(session: Session) -> int:
    """The id of the newest audit entry (0 when none): it changes with every change made."""
    return int(session.scalar(select(func.max(AuditEntry.id))) or 0)


def plan_records(
    sessions: Callable[[], Session], time_limit: float = PLAN_TIME_LIMIT
) -> MatchResult:
    """The matcher's plan of the board's records with their logistics and training.

    Raises:
        RecordError: 409 when the stored allocations break the records' rules or no plan can
            keep them; 422 when the records cannot be planned (every problem located in the
            REST API: ``/courses/crew: prerequisites[0]: no course 'basic'``; or dates too
            far apart); 503 when the solver stops without a plan.
    """
    with sessions() as session:
        snap = _snapshot(session)
        broken = _broken(session)
        kept = logistics(session)
    if broken:
        raise RecordError(
            409,
            "the stored allocations break the records' rules: "
            + "; ".join(f"{text} (rule {rule.value})" for rule, text in broken),
            rule=broken[0][0].value,
        )
    try:
        case = case_from_records(
            snap.items, snap.pledges, snap.requirements, snap.allocations, logistics=kept
        )
        with _SOLVING:
            return match_case(case, time_limit=time_limit)
    except PlanError as exc:
        raise RecordError(422, str(exc)) from None
    except InfeasibleError as exc:
        raise RecordError(409, f"{exc.message}: {'; '.join(exc.reasons)}") from None
    except OptimizationError as exc:
        raise RecordError(503, f"{exc.message}: {'; '.join(exc.reasons)}") from None
    except ValueError as exc:
        raise RecordError(422, str(exc)) from None
