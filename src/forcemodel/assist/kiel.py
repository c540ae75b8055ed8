"""Import pledges in the layout of the Kiel Institute's Ukraine Support Tracker.

The tracker publishes one row per pledge with its donor, a category or item, a count and a
value in euros. Column names differ between releases, so the header is matched without regard
to case, spaces or underscores, against a few names for each column (:data:`COLUMNS`); only
``donor`` and ``category`` and one of ``count`` or ``value`` are needed. Each row's category is
mapped to a catalogue item by its id, its name or one of its ``aliases`` (or an explicit
mapping); rows that cannot be mapped, or that give no count (and no price to estimate one from
the value), are reported with their line, never dropped silently.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from forcemodel.assist.load import AssistError
from forcemodel.assist.model import Donor, Item, Pledge
from forcemodel.common.errors import Problem
from forcemodel.common.read import csv_rows

#: Accepted header names (normalised: lower case, no spaces, '_', '-', '(', ')') per column.
COLUMNS: dict[str, tuple[str, ...]] = {
    "donor": ("donor", "country", "donorcountry", "countrysummary"),
    "category": ("category", "item", "typeofaidspecific", "itemcategory", "weapon"),
    "count": ("count", "quantity", "units", "number", "numberofunits"),
    "value": ("value", "valueeur", "valueineur", "value€", "valueeurm", "totalvalue"),
}


_EITHER = (*COLUMNS["count"], *COLUMNS["value"])


@dataclass(frozen=True)
class KielImport:
    """What an import gives: pledges, their donors, and the rows it could not use."""

    pledges: tuple[Pledge, ...]
    donors: tuple[Donor, ...]
    unmapped: tuple[Problem, ...]
    rows: int

    def pledges_csv(self) -> str:
        """The pledges as a CSV table that a case can name (``pledges: pledges.csv``)."""
        return _csv(Pledge, self.pledges)

    def donors_csv(self) -> str:
        """The donors as a CSV table (``donors: donors.csv``)."""
        return _csv(Donor, self.donors)


def _norm(text: str) -> str:
    return re.sub(r"[\s_()\-.]+", "", text.strip().lower())


def _slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_.\-]+", "-", text.strip()).strip("-._")
    return s[:120] or "unknown"


def _number(text: str) -> float | None:
    t = text.strip().replace(",", "").replace("€", "").replace(" ", "")
    if not t:
        return None
    try:
        v = float(t)
    except ValueError:
        return math.nan
    return v if math.isfinite(v) else math.nan


def import_kiel(
    text: str,
    label: str,
    items: Iterable[Item],
    *,
    available_from: dt.date,
    location: str,
    mapping: Mapping[str, str] | None = None,
) -> KielImport:
    """Pledges from the CSV ``text`` of a tracker export (``label`` names it in messages).

    Every pledge gets ``available_from`` and ``location`` (the tracker has neither). ``mapping``
    maps further category names to item ids. Raises :class:`AssistError` (located) when the
    header lacks a needed column; rows that cannot be used are returned in ``unmapped``.
    """
    catalogue = {it.id: it for it in items}
    names: dict[str, str] = {}
    for it in catalogue.values():
        for name in (it.id, it.name, *it.aliases):
            if name:
                names.setdefault(_norm(name), it.id)
    for name, item_id in (mapping or {}).items():
        if item_id not in catalogue:
            raise AssistError([Problem(label, None, "", f"mapping names no item '{item_id}'")])
        names[_norm(name)] = item_id
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise AssistError([Problem(label, None, "", "file is empty")]) from None
    except csv.Error as exc:
        raise AssistError([Problem(label, 1, "", f"CSV syntax error: {exc}")]) from None
    col: dict[str, int] = {}
    for i, h in enumerate(header):
        for key, accepted in COLUMNS.items():
            if _norm(h) in accepted and key not in col:
                col[key] = i
    missing = [k for k in ("donor", "category") if k not in col]
    if "count" not in col and "value" not in col:
        missing.append("count or value")
    if missing:
        raise AssistError(
            [
                Problem(
                    label,
                    1,
                    m,
                    f"no column for {m} (accepted: {', '.join(COLUMNS.get(m, _EITHER))})",
                )
                for m in missing
            ]
        )
    pledges: list[Pledge] = []
    donors: dict[str, Donor] = {}
    unmapped: list[Problem] = []
    n = 0
    for line, row in csv_rows(reader, label, unmapped):
        n += 1

        def cell(key: str, row: list[str] = row) -> str:
            i = col.get(key)
            return row[i].strip() if i is not None and i < len(row) else ""

        donor, category = cell("donor"), cell("category")
        if not donor:
            unmapped.append(Problem(label, line, "donor", "no donor"))
            continue
        found = names.get(_norm(category)) if category else None
        if found is None:
            unmapped.append(Problem(label, line, "category", f"no catalogue item for {category!r}"))
            continue
        item_id = found
        count, value = _number(cell("count")), _number(cell("value"))
        if count is not None and math.isnan(count):
            unmapped.append(Problem(label, line, "count", f"not a number: {cell('count')!r}"))
            continue
        note = ""
        if count is None or count <= 0:
            price = catalogue[item_id].price_eur
            if value is None or math.isnan(value) or value <= 0 or price is None:
                unmapped.append(
                    Problem(
                        label,
                        line,
                        "count",
                        f"no count for {category!r}, and no price to estimate one from a value",
                    )
                )
                continue
            count = math.floor(value / price)
            note = f"; count estimated from value {value:g} EUR at {price:g} EUR each"
            if count <= 0:
                unmapped.append(Problem(label, line, "value", f"{value:g} EUR buys no {item_id}"))
                continue
        donor_id = _slug(donor)
        donors.setdefault(donor_id, Donor(id=donor_id, name=donor, source=f"{label}"))
        pledges.append(
            Pledge(
                id=f"kiel-{line}",
                donor=donor_id,
                item=item_id,
                quantity=float(count),
                available_from=available_from,
                location=location,
                source=f"{label}:{line} ({category}){note}",
            )
        )
    return KielImport(tuple(pledges), tuple(donors.values()), tuple(unmapped), n)


def _csv(model: type[Pledge] | type[Donor], rows: Iterable[Pledge | Donor]) -> str:
    columns = [(f.alias or n) for n, f in model.model_fields.items()]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for obj in rows:
        data = obj.model_dump(by_alias=True, mode="json")
        writer.writerow(["" if data[c] is None else data[c] for c in columns])
    return buf.getvalue()
