"""Load and validate a security-assistance case: a YAML file, its tables optionally in CSV.

A table is given in the YAML file as a list, or as the name of a CSV file beside it
(``pledges: pledges.csv``). Every problem found is collected with its file, line and field and
raised together in one :class:`AssistError`. Also here: the CSV text of the pledges and
requirements tables (export), in the layout this loader reads back.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from forcemodel.assist.model import (
    CSV_TABLES,
    TABLES,
    AssistanceCase,
    Meta,
    requirement_serves,
)
from forcemodel.common.errors import LocatedError, Problem
from forcemodel.common.read import (
    LocatingValidator,
    Locations,
    Path_,
    ReadError,
    no_such_source,
    read_csv_into,
    read_yaml_mapping,
    suggest,
    validation_message,
)

TOP_KEYS = ("meta", *TABLES)


class AssistError(LocatedError):
    """A case could not be loaded; ``problems`` lists everything found, in file order."""

    what = "case"


def bundled_cases() -> dict[str, Path]:
    """Names of the assistance cases shipped with forcemodel and where they lie."""
    root = Path(str(resources.files("forcemodel").joinpath("data/assist")))
    return {p.stem: p for p in sorted(root.glob("*.yaml"))}


def load_case(source: str | Path) -> AssistanceCase:
    """Load and validate a case from a YAML file, or a bundled case by name (``example``).

    Raises :class:`AssistError` listing every problem, each with its file, line and field.
    """
    path = Path(source)
    bundled = bundled_cases()
    if not path.exists() and str(source) in bundled:
        path = bundled[str(source)]
    if path.is_dir() and (path / "case.yaml").is_file():
        path = path / "case.yaml"
    label = str(source) if str(source) in bundled and not Path(source).exists() else str(path)
    if not path.exists():
        raise AssistError([no_such_source(str(source), bundled, "case")])
    locs: Locations = {}
    problems: list[Problem] = []
    try:
        raw = read_yaml_mapping(path, label, locs, problems, keys="meta")
    except ReadError as exc:
        raise AssistError(exc.problems) from None
    headers: dict[str, tuple[str, list[str]]] = {}
    for table in TABLES:
        ref = raw.get(table)
        if not (isinstance(ref, str) and ref.lower().endswith(".csv")):
            continue
        file, at = locs.get((table,), (label, 0))
        line = at or None
        if table not in CSV_TABLES:
            problems.append(Problem(file, line, table, "holds lists: give it in the YAML file"))
            raw[table] = []
            continue
        csv_label = str(Path(label).parent / ref)
        if not read_csv_into(raw, headers, table, path.parent / ref, csv_label, locs, problems):
            problems.append(Problem(file, line, table, f"cannot read '{ref}' beside {label}"))
    return _Validator(raw, locs, label, problems, headers).run()


def load_case_data(data: Mapping[str, Any], label: str = "<data>") -> AssistanceCase:
    """Validate a case given as Python data (as it would be after reading YAML)."""
    return _Validator(dict(data), {}, label, [], {}).run()


class _Validator(LocatingValidator):
    def run(self) -> AssistanceCase:
        for key in self.raw:
            if key not in TOP_KEYS:
                self.problem((str(key),), f"unknown section{suggest(str(key), TOP_KEYS)}")
        for table, (csv_label, header) in self.headers.items():
            self.check_header(table, csv_label, header)
        meta = self.validate_meta(self.raw.get("meta"))
        parts: dict[str, Any] = {"meta": meta}
        for table, model in TABLES.items():
            parts[table] = tuple(self.validate_list(table, self.raw.get(table), model))
        self.check_references(parts)
        if self.problems or meta is None:
            raise AssistError(self.problems)
        return AssistanceCase.model_construct(**parts)

    def validate_meta(self, raw: Any) -> Meta | None:
        if raw is None:
            self.problem(("meta",), "required section is missing")
            return None
        try:
            return Meta.model_validate(raw)
        except ValidationError as exc:
            self.report(exc, ("meta",), None)
            return None

    def check_header(self, table: str, csv_label: str, header: list[str]) -> None:
        model = TABLES[table]
        fields = {(f.alias or name): f for name, f in model.model_fields.items()}
        before = len(self.problems)
        for col in header:
            if col and col not in fields:
                self.problems.append(
                    Problem(csv_label, 1, col, f"unknown column{suggest(col, fields)}")
                )
        for key, f in fields.items():
            if f.is_required() and key not in header:
                self.problems.append(Problem(csv_label, 1, key, "required column is missing"))
                self.missing_columns.add((table, key))
        if len(self.problems) > before:
            self.bad_header.add(table)

    def validate_list(self, table: str, items: Any, model: type[BaseModel]) -> list[Any]:
        positions = self.positions.setdefault(table, [])
        if items is None:
            return []
        if not isinstance(items, list):
            self.problem((table,), "must be a list of items (or the name of a CSV file)")
            return []
        if table in self.bad_header:
            return []
        out: list[Any] = []
        for i, item in enumerate(items):
            try:
                out.append(model.model_validate(item))
                positions.append(i)
            except ValidationError as exc:
                self.report(exc, (table, i), table)
        return out

    def report(self, exc: ValidationError, path: Path_, table: str | None) -> None:
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            if (
                err["type"] == "missing"
                and table
                and loc
                and ((table, str(loc[0])) in self.missing_columns)
            ):
                continue
            self.problem((*path, *loc), validation_message(err, loc, _known_fields))

    def check_references(self, p: dict[str, Any]) -> None:
        meta = p["meta"]

        def rows(table: str) -> Iterable[tuple[Path_, Any]]:
            for pos, obj in zip(self.positions[table], p[table], strict=True):
                yield (table, pos), obj

        ids: dict[str, set[str]] = {}
        for table in ("donors", "items", "requirements", "pledges", "hubs", "routes", "courses"):
            seen: dict[str, Path_] = {}
            for path, obj in rows(table):
                if obj.id in seen:
                    first = self.where(seen[obj.id])
                    at = f"{first[0]}:{first[1]}" if first[1] else first[0]
                    self.problem((*path, "id"), f"'{obj.id}' is used twice (first at {at})")
                seen.setdefault(obj.id, path)
            ids[table] = set(seen)
        items = {it.id: it for it in p["items"]}
        capabilities = {it.capability for it in items.values()}
        origins = {r.origin for r in p["routes"]}

        def ref(path: Path_, value: str | None, table: str, what: str) -> None:
            if value is not None and value not in ids[table]:
                self.problem(path, f"no {what} '{value}'{suggest(value, ids[table])}")

        def in_horizon(path: Path_, date: Any, what: str) -> None:
            if meta is None:
                return
            day = (date - meta.start).days
            horizon = meta.horizon_days
            if day < 0 or day > horizon:
                self.problem(
                    path,
                    f"{what} {date.isoformat()} is day {day}, outside days 0..{horizon} "
                    f"from meta.start {meta.start.isoformat()}",
                )

        for path, it in rows("items"):
            if it.price_eur is not None and it.made_at not in origins:
                self.problem((*path, "made_at"), f"no route leaves '{it.made_at}'")
        for path, r in rows("requirements"):
            ref((*path, "item"), r.item, "items", "item")
            if r.capability is not None and r.capability not in capabilities:
                hint = suggest(r.capability, capabilities)
                self.problem(
                    (*path, "capability"), f"no item has capability '{r.capability}'{hint}"
                )
            in_horizon((*path, "needed_by"), r.needed_by, "needed_by")
        for path, pl in rows("pledges"):
            ref((*path, "donor"), pl.donor, "donors", "donor")
            ref((*path, "item"), pl.item, "items", "item")
            if pl.location is not None and pl.item is not None and pl.location not in origins:
                self.problem((*path, "location"), f"no route leaves '{pl.location}'")
            if pl.funds_eur is not None and not any(
                it.price_eur is not None for it in items.values()
            ):
                self.problem((*path, "funds_eur"), "no item of the catalogue has a price")
        for path, rt in rows("routes"):
            ref((*path, "hub"), rt.hub, "hubs", "hub")
        for path, c in rows("courses"):
            for k, pre in enumerate(c.prerequisites):
                ref((*path, "prerequisites", k), pre, "courses", "course")
                if pre == c.id:
                    self.problem((*path, "prerequisites", k), "a course cannot require itself")
            for k, q in enumerate(c.qualifies):
                ref((*path, "qualifies", k), q, "items", "item")
                if q in items and items[q].category != "system":
                    self.problem((*path, "qualifies", k), f"'{q}' is not a system: no crews")
            if c.first_start is not None:
                in_horizon((*path, "first_start"), c.first_start, "first_start")
        for path, f in rows("fleet"):
            ref((*path, "item"), f.item, "items", "item")
        pledges = {pl.id: pl for pl in p["pledges"]}
        reqs = {r.id: r for r in p["requirements"]}
        routes = {rt.id: rt for rt in p["routes"]}
        for path, d in rows("deliveries"):
            ref((*path, "pledge"), d.pledge, "pledges", "pledge")
            ref((*path, "requirement"), d.requirement, "requirements", "requirement")
            ref((*path, "route"), d.route, "routes", "route")
            pl, r = pledges.get(d.pledge), reqs.get(d.requirement)
            if pl is None or r is None:
                continue
            if pl.item is None:
                self.problem((*path, "pledge"), "record deliveries of funds as item pledges")
                continue
            if pl.item in items and not requirement_serves(r, items[pl.item]):
                self.problem(
                    (*path, "requirement"),
                    f"pledge '{pl.id}' ({pl.item}) cannot serve requirement '{r.id}'",
                )
            if d.date is not None:
                in_horizon((*path, "date"), d.date, "date")
            rt = routes.get(d.route) if d.route is not None else None
            if rt is not None and rt.origin != pl.location:
                self.problem(
                    (*path, "route"), f"route '{rt.id}' leaves '{rt.origin}', not '{pl.location}'"
                )
            elif d.date is not None and meta is not None:
                start = ((pl.available_from or meta.start) - meta.start).days
                cand = (
                    [rt]
                    if rt is not None
                    else [x for x in routes.values() if x.origin == pl.location]
                )
                lags = [0 if d.status == "shipped" else x.to_hub_days + x.onward_days for x in cand]
                if cand and (d.date - meta.start).days < start + min(lags):
                    self.problem(
                        (*path, "date"),
                        f"{d.status} on {d.date.isoformat()}, before pledge '{pl.id}' can be "
                        f"(available from day {start}, route times included)",
                    )


def _known_fields() -> set[str]:
    known: set[str] = set()
    models: list[type[BaseModel]] = [Meta, *TABLES.values()]
    for model in models:
        known.update((f.alias or n) for n, f in model.model_fields.items())
    return known


def table_csv(case: AssistanceCase, table: str) -> str:
    """The CSV text of a flat table of ``case`` (pledges, requirements, ...), as loaded back."""
    if table not in CSV_TABLES:
        raise ValueError(f"'{table}' is not a flat table: use one of {', '.join(CSV_TABLES)}")
    model = TABLES[table]
    columns = [(f.alias or n) for n, f in model.model_fields.items()]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for obj in getattr(case, table):
        row = obj.model_dump(by_alias=True, mode="json")
        writer.writerow(["" if row[c] is None else row[c] for c in columns])
    return buf.getvalue()
