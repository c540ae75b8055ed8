"""Run the matcher over the service's records: ``POST /match`` (coordinators).

A dry run (the default) answers the allocations the plan proposes beyond those that exist, why
requirements stay short, and the fleet mix; ``?apply=true`` also writes the proposed allocations
through the records layer (checks, pledge status, versions and audit as for ``POST
/allocations``), all of them or none. The case is built from the records by
:func:`forcemodel.assist.records.case_from_records` (what that leaves out is said there and in
docs/assistance.md); existing allocations are kept.

The matcher runs outside any write transaction (it may take seconds); the writes then happen in
one transaction that first checks that no pledge, requirement or allocation changed meanwhile
(409 if one did: run the match again). :func:`match_records` is the same for the command line.

The route is ``forcemodel.service.routers.match``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import threading
from collections.abc import Callable
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from forcemodel.assist import fleet_mix, lifecycle, match_case
from forcemodel.assist.lifecycle import Kind
from forcemodel.assist.records import (
    AllocationRecord,
    ItemRecord,
    PledgeRecord,
    RequirementRecord,
    case_from_records,
    proposed_allocations,
)
from forcemodel.mip.errors import InfeasibleError, OptimizationError
from forcemodel.service import records
from forcemodel.service.auth import Principal
from forcemodel.service.db import begin_write
from forcemodel.service.records import RecordError
from forcemodel.service.schemas import AllocationIn
from forcemodel.service.tables import Allocation, Item, Pledge, Requirement, Role

#: The note written on allocations the matcher makes.
NOTE = "proposed by the matcher (POST /match)"
#: Default seconds the solver may run for one match.
DEFAULT_TIME_LIMIT = 30.0
#: Days between two rows of the fleet mix answered.
FLEET_MIX_EVERY = 7


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProposedAllocation(_Out):
    """An allocation the plan adds: whole items of a pledge to a requirement."""

    pledge_id: int
    requirement_id: int
    quantity: int
    existing: int
    planned: int
    delivery_date: dt.date
    allocation_id: int | None = None


class UnmetReason(_Out):
    """One reason a requirement is short on its needed-by date."""

    requirement_id: int
    needed_by: dt.date
    quantity: float
    operational_by_due: float
    shortfall: float
    reason: str
    detail: str


class FleetMixRow(_Out):
    """Donated systems delivered by a date, by standard."""

    date: dt.date
    nato: float
    soviet: float
    other: float
    nato_share: float | None


class MatchOut(_Out):
    """What the matcher proposes (and, with ``apply``, wrote)."""

    applied: bool
    termination: str
    objective: float
    mip_gap: float | None
    allocations: list[ProposedAllocation]
    unmet: list[UnmetReason]
    fleet_mix: list[FleetMixRow]


@dataclasses.dataclass(frozen=True)
class _Snapshot:
    """The records a plan was made from, and their versions."""

    items: list[ItemRecord]
    pledges: list[PledgeRecord]
    requirements: list[RequirementRecord]
    allocations: list[AllocationRecord]
    versions: dict[tuple[str, int], int]


def _snapshot(session: Session) -> _Snapshot:
    """The records and their versions; a pledge that takes no new allocation (it has shipped)
    enters the case with only what its allocations give, so the plan cannot add to it."""
    items = [ItemRecord(i.id, i.category, i.standard) for i in session.scalars(select(Item))]
    versions: dict[tuple[str, int], int] = {}
    allocations = []
    given: dict[int, int] = {}
    for a in session.scalars(select(Allocation).order_by(Allocation.id)):
        allocations.append(AllocationRecord(a.pledge_id, a.requirement_id, a.quantity))
        given[a.pledge_id] = given.get(a.pledge_id, 0) + a.quantity
        versions[("allocation", a.id)] = a.version
    pledges = []
    for p in session.scalars(select(Pledge).order_by(Pledge.id)):
        versions[("pledge", p.id)] = p.version
        quantity = p.quantity if lifecycle.accepts_allocations(p.status) else given.get(p.id, 0)
        if quantity > 0:
            pledges.append(
                PledgeRecord(p.id, p.donor, p.item_id, quantity, p.available_from, p.location)
            )
    reqs = []
    for r in session.scalars(select(Requirement).order_by(Requirement.id)):
        reqs.append(
            RequirementRecord(r.id, r.partner, r.item_id, r.quantity, r.priority, r.needed_by)
        )
        versions[("requirement", r.id)] = r.version
    return _Snapshot(items, pledges, reqs, allocations, versions)


def _broken(session: Session) -> list[tuple[lifecycle.Rule, str]]:
    """What is wrong with the stored allocations (the lifecycle's rules), for the 409."""
    kinds = {i.id: Kind(i.category, i.standard) for i in session.scalars(select(Item))}
    pledges = list(session.execute(select(Pledge.id, Pledge.item_id, Pledge.quantity)))
    reqs = list(session.execute(select(Requirement.id, Requirement.item_id, Requirement.quantity)))
    allocations = [
        lifecycle.Allocated(a.id, a.pledge_id, a.requirement_id, a.quantity)
        for a in session.scalars(select(Allocation).order_by(Allocation.id))
    ]
    return lifecycle.broken_allocations(
        allocations,
        {p.id: kinds[p.item_id] for p in pledges},
        {p.id: p.quantity for p in pledges},
        {r.id: kinds[r.item_id] for r in reqs},
        {r.id: r.quantity for r in reqs},
    )


def _versions(session: Session) -> dict[tuple[str, int], int]:
    out: dict[tuple[str, int], int] = {}
    for entity, model in (("pledge", Pledge), ("requirement", Requirement)):
        for key, version in session.execute(select(model.id, model.version)):
            out[(entity, int(key))] = int(version)
    for key, version in session.execute(select(Allocation.id, Allocation.version)):
        out[("allocation", int(key))] = int(version)
    return out


def _float(value: Any) -> float | None:
    v = float(value)
    return None if math.isnan(v) else v


#: One matching solve at a time in this process: HiGHS keeps one thread scheduler per process,
#: and the large-case improvement may restart it (forcemodel.assist.parts), which must not
#: happen under another solve; the solves are CPU-bound, so running them side by side would
#: not be faster anyway.
_SOLVING = threading.Lock()


def match_records(
    sessions: Callable[[], Session],
    actor: Principal,
    *,
    apply: bool = False,
    time_limit: float = DEFAULT_TIME_LIMIT,
    mip_gap: float = 1e-4,
) -> MatchOut:
    """Match the pledges to the requirements in the database; with ``apply``, write the plan.

    ``sessions`` makes sessions on the database; ``actor`` is recorded in the audit log.

    Raises:
        RecordError: 403 for a caller who is not a coordinator; 409 when the existing
            allocations cannot all be kept, or the records changed while the plan was made;
            422 for records the matcher cannot plan (dates too far apart); 503 when the solver
            stops without a plan.
    """
    if actor.role is not Role.coordinator:
        raise RecordError(
            403, f"role {actor.role.value} may not run the matcher; allowed: coordinator"
        )
    with sessions() as session:
        snap = _snapshot(session)
        broken = _broken(session)
    if broken:
        raise RecordError(
            409,
            "the stored allocations break the records' rules, so no plan can keep them: "
            + "; ".join(f"{text} (rule {rule.value})" for rule, text in broken)
            + "; fix or remove these allocations, then match again",
            rule=broken[0][0].value,
        )
    try:
        case = case_from_records(snap.items, snap.pledges, snap.requirements, snap.allocations)
        with _SOLVING:
            result = match_case(case, time_limit=time_limit, mip_gap=mip_gap)
    except InfeasibleError as exc:
        raise RecordError(409, f"{exc.message}: {'; '.join(exc.reasons)}") from None
    except OptimizationError as exc:
        raise RecordError(503, f"{exc.message}: {'; '.join(exc.reasons)}") from None
    except ValueError as exc:
        raise RecordError(422, str(exc), ("query", "apply")) from None
    plan = proposed_allocations(result, snap.allocations)
    proposed = [ProposedAllocation.model_validate(row) for row in plan.to_dict("records")]
    if apply and proposed:
        with sessions() as session:
            begin_write(session)
            if _versions(session) != snap.versions:
                raise RecordError(
                    409,
                    "pledges, requirements or allocations changed while the plan was made; "
                    "run the match again",
                )
            for p in proposed:
                made = records.create_allocation(
                    session,
                    actor,
                    AllocationIn(
                        pledge_id=p.pledge_id,
                        requirement_id=p.requirement_id,
                        quantity=p.quantity,
                        note=NOTE,
                    ),
                )
                p.allocation_id = made.id
            session.commit()
    unmet = [
        UnmetReason(
            requirement_id=int(str(row["requirement"])[1:]),
            needed_by=row["needed_by"],
            quantity=row["quantity"],
            operational_by_due=row["operational_by_due"],
            shortfall=row["shortfall"],
            reason=row["reason"],
            detail=row["detail"],
        )
        for row in result.unmet.to_dict("records")
    ]
    mix = fleet_mix(result, every=FLEET_MIX_EVERY)
    mix_rows = [
        FleetMixRow(
            date=row["date"],
            nato=row["nato"],
            soviet=row["soviet"],
            other=row["other"],
            nato_share=_float(row["nato_share"]),
        )
        for row in mix.to_dict("records")
    ]
    return MatchOut(
        applied=apply,
        termination=result.termination,
        objective=result.objective,
        mip_gap=result.mip_gap,
        allocations=proposed,
        unmet=unmet,
        fleet_mix=mix_rows,
    )


def proposed_frame(out: MatchOut) -> pd.DataFrame:
    """The proposed allocations of ``out`` as a table (for the command line)."""
    return pd.DataFrame(
        [a.model_dump(mode="json") for a in out.allocations],
        columns=list(ProposedAllocation.model_fields),
    )
