"""The lifecycle of assistance records: pledges, requirements, items and allocations, in one place.

A pledge moves through the delivery stages of :class:`DeliveryStatus`, in order::

    pledged --(first allocation)--> allocated --> shipped --> delivered --> operational
       ^------(last allocation removed)---'

``pledged`` and ``allocated`` follow the pledge's allocations: the first allocation makes a
pledge ``allocated``, removing its last one makes it ``pledged`` again, and nobody sets either
by hand. From ``allocated`` on, its donor or a coordinator moves it forward (stages may be
skipped: a delivery reported without its shipment), never back. Once shipped, a pledge's item,
quantity and available-from date are history: they, and its allocations' quantities, no longer
change, and it takes no new allocation. A pledge or requirement with allocations keeps its item
and may not shrink below what is allocated, nor be withdrawn; a catalogue item allocated
anywhere keeps its category and standard (they decide which pledge may serve which
requirement). An allocation gives a pledge's item to a requirement of the same category and
standard, never more than the pledge has left or the requirement still needs.

Every rule has a name (:class:`Rule`); a refusal raises :class:`LifecycleError` naming it, with
``conflict`` true when the records' current state forbids the change (HTTP 409) and false when
the change itself is invalid (HTTP 422). The service's API, its CSV import and the matcher all
change records through these checks. Plain values in, no database: the service reads the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class DeliveryStatus(StrEnum):
    """The stages of a pledge's delivery, in the order it moves (the one spelling of them)."""

    pledged = "pledged"
    allocated = "allocated"
    shipped = "shipped"
    delivered = "delivered"
    operational = "operational"


#: The stages in order.
STAGES: tuple[DeliveryStatus, ...] = tuple(DeliveryStatus)
#: Stages that follow the allocations: nobody sets them by hand.
SET_BY_ALLOCATIONS = frozenset({DeliveryStatus.pledged, DeliveryStatus.allocated})
#: Stages at which a pledge has left its donor: what it gives is history.
GONE = frozenset({DeliveryStatus.shipped, DeliveryStatus.delivered, DeliveryStatus.operational})
#: Pledge fields that are history once it has shipped.
FROZEN_ONCE_SHIPPED = ("item_id", "quantity", "available_from")


class Rule(StrEnum):
    """The lifecycle's rules, by name (a refusal names the rule it enforces)."""

    status_follows_allocations = "status-follows-allocations"
    allocated_before_shipped = "allocated-before-shipped"
    forward_only = "forward-only"
    shipped_is_history = "shipped-is-history"
    allocated_keeps_item = "allocated-keeps-item"
    covers_allocations = "covers-allocations"
    withdraw_unallocated = "withdraw-unallocated"
    item_in_use = "item-in-use"
    compatible = "compatible"
    within_quantities = "within-quantities"


@dataclass
class LifecycleError(ValueError):
    """A change the lifecycle forbids; ``field`` names the field at fault, when one is."""

    rule: Rule
    message: str
    conflict: bool
    field: str | None = None

    def __str__(self) -> str:
        return f"{self.message} (rule {self.rule.value})"


def _stage(status: str) -> int:
    return STAGES.index(DeliveryStatus(status))


# --- pledges -------------------------------------------------------------------------------


def check_status_change(pledge: str, current: str, new: str, allocations: int) -> None:
    """Refuse a pledge's status change by hand that the lifecycle forbids.

    ``pledge`` names the pledge in messages; ``allocations`` counts its allocations.
    """
    if new == current:
        return
    target = DeliveryStatus(new)
    if target in SET_BY_ALLOCATIONS:
        raise LifecycleError(
            Rule.status_follows_allocations,
            f"{pledge} cannot be set to {target.value} by hand: a pledge becomes allocated by "
            "its first allocation and pledged again when its last one is removed",
            conflict=True,
            field="status",
        )
    if allocations == 0 or DeliveryStatus(current) is DeliveryStatus.pledged:
        raise LifecycleError(
            Rule.allocated_before_shipped,
            f"{pledge} is {current} with no allocation: allocate it before it is {target.value}",
            conflict=True,
            field="status",
        )
    if _stage(new) < _stage(current):
        raise LifecycleError(
            Rule.forward_only,
            f"{pledge} is {current}: a pledge's status moves forward only "
            f"({' -> '.join(s.value for s in STAGES[1:])}), not back to {target.value}",
            conflict=True,
            field="status",
        )


def status_after_allocations(current: str, allocations: int) -> DeliveryStatus:
    """The status a pledge takes when its number of allocations becomes ``allocations``."""
    status = DeliveryStatus(current)
    if status is DeliveryStatus.pledged and allocations > 0:
        return DeliveryStatus.allocated
    if status is DeliveryStatus.allocated and allocations == 0:
        return DeliveryStatus.pledged
    return status


def check_pledge_edit(
    pledge: str,
    status: str,
    changes: Mapping[str, object],
    current: Mapping[str, object],
    allocated: int,
) -> None:
    """Refuse a change of a pledge's fields (``changes``, by name) that the lifecycle forbids.

    ``current`` holds the pledge's current values of the changed fields; ``allocated`` is the
    quantity its allocations give.
    """
    changed = {k for k, v in changes.items() if current.get(k) != v}
    if DeliveryStatus(status) in GONE:
        frozen = sorted(changed & set(FROZEN_ONCE_SHIPPED))
        if frozen:
            raise LifecycleError(
                Rule.shipped_is_history,
                f"{pledge} is {status}: its {', '.join(frozen)} no longer change",
                conflict=True,
                field=frozen[0],
            )
    if "item_id" in changed and allocated > 0:
        raise LifecycleError(
            Rule.allocated_keeps_item,
            "item_id: the pledge is allocated; remove its allocations first",
            conflict=False,
            field="item_id",
        )
    check_covers(changes.get("quantity"), allocated)


def check_covers(quantity: object, allocated: int) -> None:
    """Refuse a new quantity below what the allocations already give."""
    if isinstance(quantity, int) and quantity < allocated:
        raise LifecycleError(
            Rule.covers_allocations,
            f"quantity {quantity} is below the {allocated} already allocated",
            conflict=False,
            field="quantity",
        )


def check_withdraw(what: str, allocations: int) -> None:
    """Refuse to withdraw a pledge or requirement that has allocations."""
    if allocations:
        raise LifecycleError(
            Rule.withdraw_unallocated,
            f"{what} has {allocations} allocation(s); remove them first",
            conflict=True,
        )


# --- requirements and items --------------------------------------------------------------------


def check_requirement_edit(
    changes: Mapping[str, object], current_item: str, allocated: int
) -> None:
    """Refuse a change of a requirement that the lifecycle forbids (see the module docstring)."""
    if changes.get("item_id", current_item) != current_item and allocated > 0:
        raise LifecycleError(
            Rule.allocated_keeps_item,
            "item_id: the requirement has allocations; remove them first",
            conflict=False,
            field="item_id",
        )
    check_covers(changes.get("quantity"), allocated)


def check_item_edit(
    item: str, changes: Mapping[str, object], current: Mapping[str, object], in_use: int
) -> None:
    """Refuse a change of an item's category or standard while ``in_use`` allocations use it."""
    changed = sorted(
        k for k in ("category", "standard") if k in changes and changes[k] != current.get(k)
    )
    if changed and in_use:
        raise LifecycleError(
            Rule.item_in_use,
            f"item {item!r} is given or received by {in_use} allocation(s): its "
            f"{' and '.join(changed)} decide which pledge may serve which requirement and no "
            "longer change; remove the allocations or add a new item",
            conflict=True,
            field=changed[0],
        )


# --- allocations -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """What an item is, for compatibility: its category and standard."""

    category: str
    standard: str

    def __str__(self) -> str:
        return f"{self.category} of standard {self.standard}"


def check_allocation(
    pledge: int,
    requirement: int,
    status: str,
    offered: Kind,
    needed: Kind,
    quantity: int,
    pledge_left: int,
    requirement_open: int,
) -> None:
    """Refuse a new (or changed) allocation the lifecycle forbids.

    ``pledge_left`` and ``requirement_open`` are what the pledge still has and the requirement
    still needs, not counting the allocation being changed.
    """
    check_allocation_open(pledge, status)
    if offered != needed:
        raise LifecycleError(
            Rule.compatible,
            f"pledge {pledge} offers {offered}, but requirement {requirement} needs {needed}",
            conflict=False,
            field="requirement_id",
        )
    if quantity > pledge_left:
        raise LifecycleError(
            Rule.within_quantities,
            f"quantity {quantity} exceeds the {pledge_left} left of pledge {pledge}",
            conflict=False,
            field="quantity",
        )
    if quantity > requirement_open:
        raise LifecycleError(
            Rule.within_quantities,
            f"quantity {quantity} exceeds the {requirement_open} still needed by requirement "
            f"{requirement}",
            conflict=False,
            field="quantity",
        )


def check_allocation_open(pledge: int, status: str) -> None:
    """Refuse to add, resize or remove an allocation of a pledge that has shipped."""
    if DeliveryStatus(status) in GONE:
        raise LifecycleError(
            Rule.shipped_is_history,
            f"pledge {pledge} is {status}: its allocations are history and it takes no new one",
            conflict=True,
        )


def accepts_allocations(status: str) -> bool:
    """Whether a pledge at ``status`` may take new allocations."""
    return DeliveryStatus(status) not in GONE


@dataclass(frozen=True)
class Allocated:
    """An allocation as the lifecycle sees it: its pledge and requirement, by id."""

    id: int
    pledge: int
    requirement: int
    quantity: int


def broken_allocations(
    allocations: Sequence[Allocated],
    pledge_kind: Mapping[int, Kind],
    pledge_quantity: Mapping[int, int],
    requirement_kind: Mapping[int, Kind],
    requirement_quantity: Mapping[int, int],
) -> list[tuple[Rule, str]]:
    """What is wrong with stored allocations that the rules forbid (empty when none is).

    Records written before the rules were enforced (or by hand in the database) may hold an
    allocation between items that are no longer compatible, or more than a pledge has or a
    requirement needs. The matcher keeps existing allocations, so it names these first.
    """
    problems: list[tuple[Rule, str]] = []
    given: dict[int, int] = {}
    received: dict[int, int] = {}
    for a in allocations:
        given[a.pledge] = given.get(a.pledge, 0) + a.quantity
        received[a.requirement] = received.get(a.requirement, 0) + a.quantity
        offered, needed = pledge_kind[a.pledge], requirement_kind[a.requirement]
        if offered != needed:
            problems.append(
                (
                    Rule.compatible,
                    f"allocation {a.id} gives pledge {a.pledge}'s {offered} to requirement "
                    f"{a.requirement}, which needs {needed}",
                )
            )
    problems += _overdrawn("pledge", "gives", given, pledge_quantity)
    problems += _overdrawn("requirement", "receives", received, requirement_quantity)
    return problems


def _overdrawn(
    what: str, verb: str, totals: Mapping[int, int], limit: Mapping[int, int]
) -> Iterable[tuple[Rule, str]]:
    for key, total in sorted(totals.items()):
        if total > limit[key]:
            yield (
                Rule.within_quantities,
                f"{what} {key} {verb} {total} by its allocations, more than its quantity "
                f"{limit[key]}",
            )
