"""The board's logistics and training records, checked and made into a case's hubs, routes,
courses and item weights and crews.

The service's database (revision 0004) holds hubs (tons a day), routes (from a pledge's
location through a hub to the partner), training courses (the system they train crews on,
seats per cohort, days, prerequisites) and what each item needs (tons of one, crew of a system).
:func:`forcemodel.assist.records.case_from_records` builds the case with them; what cannot be
planned is refused here with every problem located by the record's path in the REST API
(``/courses/crew-155: prerequisites[0]: no course 'basic'``).

Plain data in, plain data out: no database access here (the service reads the rows).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from forcemodel.assist.model import Course, Hub, Route
from forcemodel.common.errors import LocatedError, Problem
from forcemodel.common.read import suggest

#: The case's route and hub for pledges whose location no recorded route leaves.
DIRECT = "direct"
#: The case's location of those pledges.
ORIGIN = "origin"
#: Category of the items that need crews (the case format's ``system``).
SYSTEM = "system"


class PlanError(LocatedError):
    """The board's records cannot be planned; ``problems`` locates each in the REST API."""

    what = "board's records"


@dataclass(frozen=True)
class HubRecord:
    """A logistics hub of the service."""

    id: str
    name: str
    location: str
    t_per_day: float


@dataclass(frozen=True)
class RouteRecord:
    """A route of the service: pledges waiting at ``origin`` go this way."""

    id: str
    origin: str
    hub_id: str
    to_hub_days: int
    onward_days: int
    t_per_day: float | None = None


@dataclass(frozen=True)
class CourseRecord:
    """A training course of the service (``item_id``: the system it trains crews on)."""

    id: str
    item_id: str | None
    cohort_size: int
    duration_days: int
    first_start: dt.date | None = None
    every_days: int | None = None
    max_cohorts: int | None = None
    prerequisites: tuple[str, ...] = ()


@dataclass(frozen=True)
class NeedsRecord:
    """What one item needs: tons of one, crew of a system."""

    item_id: str
    tons: float
    crew: int


@dataclass(frozen=True)
class Logistics:
    """The board's logistics and training records."""

    hubs: Sequence[HubRecord] = ()
    routes: Sequence[RouteRecord] = ()
    courses: Sequence[CourseRecord] = ()
    needs: Sequence[NeedsRecord] = ()

    def __bool__(self) -> bool:
        return bool(self.hubs or self.routes or self.courses or self.needs)


def ident(text: str) -> str:
    """``text`` as an identifier of the case format (letters, digits, '_', '-', '.')."""
    out = re.sub(r"[^A-Za-z0-9_.\-]", "_", text)
    return out if out[:1].isalnum() else f"x{out}"


def location_key(location: str, origins: set[str]) -> str:
    """The case's location of a pledge waiting at ``location``: its own when a recorded route
    leaves it (``origins``), else the one every other pledge leaves from (:data:`ORIGIN`)."""
    return f"at.{ident(location)}" if location in origins else ORIGIN


def check(logistics: Logistics, categories: Mapping[str, str]) -> None:
    """Refuse records that cannot be planned, every problem located.

    ``categories``: each catalogue item's category. Problems: an unknown prerequisite, a cycle
    of prerequisites, a course on an item that is not a system, a crew for an item that is not
    a system, a hub or route named :data:`DIRECT` (the plan's own), a route to an unknown hub.

    Raises:
        PlanError: listing every problem.
    """
    problems: list[Problem] = []
    courses = {c.id: c for c in logistics.courses}
    hubs = {h.id for h in logistics.hubs}
    for h in logistics.hubs:
        if h.id == DIRECT:
            problems.append(Problem(f"/hubs/{h.id}", None, "id", _RESERVED))
    for r in logistics.routes:
        if r.id == DIRECT:
            problems.append(Problem(f"/routes/{r.id}", None, "id", _RESERVED))
        if r.hub_id not in hubs:
            problems.append(Problem(f"/routes/{r.id}", None, "hub_id", f"no hub '{r.hub_id}'"))
    for c in logistics.courses:
        where = f"/courses/{c.id}"
        for k, pre in enumerate(c.prerequisites):
            if pre not in courses:
                problems.append(
                    Problem(
                        where,
                        None,
                        f"prerequisites[{k}]",
                        f"no course '{pre}'{suggest(pre, courses)}",
                    )
                )
        if c.item_id is not None and categories.get(c.item_id, SYSTEM) != SYSTEM:
            problems.append(
                Problem(
                    where,
                    None,
                    "item_id",
                    f"'{c.item_id}' is not a system (category {categories[c.item_id]}): no crews",
                )
            )
    for n in logistics.needs:
        if n.crew and categories.get(n.item_id, SYSTEM) != SYSTEM:
            problems.append(
                Problem(
                    f"/item-needs/{n.item_id}",
                    None,
                    "crew",
                    f"only a system has a crew; '{n.item_id}' is {categories[n.item_id]}",
                )
            )
    for cycle in _cycles(courses):
        problems.append(
            Problem(
                f"/courses/{cycle[0]}",
                None,
                "prerequisites",
                "the prerequisites go round in a circle: " + " -> ".join([*cycle, cycle[0]]),
            )
        )
    if problems:
        raise PlanError(problems)


_RESERVED = f"'{DIRECT}' is the plan's own route and hub for pledges without one: rename it"


def _cycles(courses: Mapping[str, CourseRecord]) -> list[list[str]]:
    """Each circle of prerequisites once (from its smallest id)."""
    found: set[tuple[str, ...]] = set()
    out: list[list[str]] = []

    def walk(path: list[str]) -> None:
        for pre in courses[path[-1]].prerequisites:
            if pre not in courses:
                continue
            if pre in path:
                cycle = path[path.index(pre) :]
                first = cycle.index(min(cycle))
                key = tuple(cycle[first:] + cycle[:first])
                if key not in found:
                    found.add(key)
                    out.append(list(key))
            elif len(path) < len(courses):
                walk([*path, pre])

    for course_id in sorted(courses):
        walk([course_id])
    return out


def chain_days(logistics: Logistics) -> int:
    """Days past the records' last date the plan looks: the slowest route and the longest
    chain of courses (a course's days and those of its prerequisites before it)."""
    courses = {c.id: c for c in logistics.courses}
    memo: dict[str, int] = {}

    def chain(course_id: str, seen: frozenset[str]) -> int:
        if course_id in memo:
            return memo[course_id]
        c = courses[course_id]
        before = [
            chain(p, seen | {course_id}) for p in c.prerequisites if p in courses and p not in seen
        ]
        memo[course_id] = c.duration_days + max(before, default=0)
        return memo[course_id]

    route = max((r.to_hub_days + r.onward_days for r in logistics.routes), default=0)
    training = max((chain(c, frozenset()) for c in courses), default=0)
    return route + training


def case_hubs(logistics: Logistics) -> tuple[Hub, ...]:
    """The recorded hubs, and the plan's own unlimited one."""
    recorded = [
        Hub(id=h.id, name=h.name, country=h.location, t_per_day=h.t_per_day) for h in logistics.hubs
    ]
    return (Hub(id=DIRECT, t_per_day=1e12), *recorded)


def case_routes(logistics: Logistics) -> tuple[Route, ...]:
    """The recorded routes (from their origin's location key), and the plan's own direct one."""
    origins = {r.origin for r in logistics.routes}
    direct = {"id": DIRECT, "from": ORIGIN, "hub": DIRECT, "to_hub_days": 0, "onward_days": 0}
    recorded = [
        Route.model_validate(
            {
                "id": r.id,
                "from": location_key(r.origin, origins),
                "hub": r.hub_id,
                "to_hub_days": r.to_hub_days,
                "onward_days": r.onward_days,
                "t_per_day": r.t_per_day,
            }
        )
        for r in logistics.routes
    ]
    return (Route.model_validate(direct), *recorded)


def case_courses(logistics: Logistics) -> tuple[Course, ...]:
    """The recorded courses; a course's system is the item it qualifies crews on."""
    return tuple(
        Course(
            id=c.id,
            cohort_size=c.cohort_size,
            duration_days=c.duration_days,
            first_start=c.first_start,
            every_days=c.every_days,
            max_cohorts=c.max_cohorts,
            prerequisites=c.prerequisites,
            qualifies=(ident(c.item_id),) if c.item_id is not None else (),
        )
        for c in logistics.courses
    )
