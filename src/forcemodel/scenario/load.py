"""Load and validate a scenario: files -> raw data -> defaults -> typed items -> references.

Every problem found is collected with its file, line and field path, and all of them are raised
together in one :class:`ScenarioError`; nothing is reported one at a time.
"""

from __future__ import annotations

import copy
import difflib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from forcemodel.common.errors import Problem, ScenarioError
from forcemodel.common.read import (
    CSV_TABLES,
    LocatingValidator,
    Locations,
    Path_,
    ReadError,
    dotted,
    parse_yaml,
    read_csv_table,
    read_text,
)
from forcemodel.scenario.catalogue import builtin_catalogue
from forcemodel.scenario.model import (
    COMPONENT_MODELS,
    FILLED_BY_LOADER,
    TEXT_CELLS,
    CandidateDepot,
    InPlaceForce,
    Link,
    Meta,
    NewSetCost,
    Node,
    Prepositioning,
    Region,
    Scenario,
    Stock,
    Tier,
    Unit,
    UnitType,
    great_circle_km,
)
from forcemodel.scenario.paths import apply_settings

TOP_KEYS = ("meta", "unit_types", *COMPONENT_MODELS, "prepositioning")


def bundled_scenarios() -> dict[str, Path]:
    """Names of the scenarios shipped with forcemodel and where they lie."""
    root = Path(str(resources.files("forcemodel").joinpath("data/scenarios")))
    found: dict[str, Path] = {}
    for entry in sorted(root.iterdir()):
        if entry.is_dir() and (entry / "scenario.yaml").exists():
            found[entry.name] = entry
        elif entry.suffix in (".yaml", ".yml"):
            found[entry.stem] = entry
    return found


def resolve_source(source: str | Path) -> Path:
    """A path for a scenario given by path or by the name of a bundled scenario."""
    path = Path(source)
    if path.exists():
        return path
    bundled = bundled_scenarios()
    if str(source) in bundled:
        return bundled[str(source)]
    hint = _suggest(str(source), bundled)
    raise ScenarioError(
        [
            Problem(
                str(source),
                None,
                "",
                f"no such file or folder, and no bundled scenario of that name{hint} "
                f"(bundled: {', '.join(bundled)})",
            )
        ]
    )


def load_scenario(source: str | Path, settings: Sequence[str] = ()) -> Scenario:
    """Load, fill defaults into and validate a scenario.

    ``source`` is a YAML file, a folder holding ``scenario.yaml`` and CSV tables, or the name of
    a bundled scenario (``"tiny"``, ``"eastern-flank"``). ``settings`` are ``PATH=VALUE``
    changes applied before validation (:mod:`forcemodel.scenario.paths`), e.g.
    ``["nodes.lt-sestokai.transship.t_per_day=4000"]``. Raises :class:`ScenarioError` listing
    every problem found, each with its file (or ``--set`` option), line and field.

    >>> load_scenario("tiny").meta.name
    'tiny'
    """
    return read_scenario(source).build(settings)


@dataclass(frozen=True)
class RawScenario:
    """A scenario as read from its files, before validation: to build many variants of it."""

    raw: dict[str, Any]
    locs: Locations
    label: str
    problems: tuple[Problem, ...]
    headers: dict[str, tuple[str, list[str]]]

    def build(self, settings: Sequence[str] = ()) -> Scenario:
        """Apply ``settings`` to a copy of the raw data and validate it into a Scenario."""
        raw, locs = copy.deepcopy(self.raw), dict(self.locs)
        problems = list(self.problems) + apply_settings(raw, settings, locs)
        return build_scenario(raw, locs, self.label, problems, dict(self.headers))


def read_scenario(source: str | Path) -> RawScenario:
    """Read a scenario's files (YAML and CSV tables) into raw data, located; no validation.

    Raises :class:`ScenarioError` when the main file cannot be read or is not a mapping;
    other problems are kept and reported by :meth:`RawScenario.build`.
    """
    path = resolve_source(source)
    main = path / "scenario.yaml" if path.is_dir() else path
    base = main.parent
    label = _label(main, source)
    locs: Locations = {}
    problems: list[Problem] = []
    try:
        raw = parse_yaml(read_text(main, label), label, locs, problems)
    except ReadError as exc:
        raise ScenarioError(exc.problems) from None
    if not isinstance(raw, dict):
        raise ScenarioError(
            [Problem(label, 1, "", "the top level must be a mapping with keys such as meta, nodes")]
        )
    headers: dict[str, tuple[str, list[str]]] = {}
    # CSV tables beside scenario.yaml are picked up whether the folder or the file is named.
    auto = path.is_dir() or main.name == "scenario.yaml"
    for table in CSV_TABLES:
        ref = raw.get(table)
        csv_path: Path | None = None
        if isinstance(ref, str) and ref.lower().endswith(".csv"):
            csv_path = base / ref
            if not csv_path.is_file():
                # Located at the line that names it: that is where the mistake is.
                file, line = locs.get((table,), (label, None))
                problems.append(Problem(file, line, table, f"no CSV file '{ref}' beside {label}"))
                raw[table] = []
                continue
        elif auto and (base / f"{table}.csv").exists():
            if ref is not None:
                file, line = locs.get((table,), (label, None))
                problems.append(
                    Problem(file, line, table, f"given both here and in {table}.csv; keep one")
                )
                continue
            csv_path = base / f"{table}.csv"
        if csv_path is None:
            continue
        csv_label = _label(csv_path, None, relative_to=main.parent, prefix=label)
        try:
            text = read_text(csv_path, csv_label)
        except ReadError as exc:
            problems.extend(exc.problems)
            raw[table] = []
            continue
        rows, header = read_csv_table(text, csv_label, table, locs, problems)
        raw[table] = rows
        headers[table] = (csv_label, header)
    return RawScenario(raw, locs, label, tuple(problems), headers)


def load_scenario_data(data: Mapping[str, Any], label: str = "<data>") -> Scenario:
    """Validate a scenario given as Python data (as it would be after reading YAML)."""
    return build_scenario(dict(data), {}, label, [], {})


def build_scenario(
    raw: dict[str, Any],
    locs: Locations,
    label: str,
    problems: list[Problem],
    headers: dict[str, tuple[str, list[str]]],
) -> Scenario:
    """Validate raw data into a :class:`Scenario`, or raise every problem found."""
    return _Validator(raw, locs, label, problems, headers).run()


class _Validator(LocatingValidator):
    def __init__(
        self,
        raw: dict[str, Any],
        locs: Locations,
        label: str,
        problems: list[Problem],
        headers: dict[str, tuple[str, list[str]]],
    ) -> None:
        super().__init__(raw, locs, label, problems, headers)
        # ids of items that failed validation: references to them are not reported again.
        self.invalid_ids: dict[str, set[str]] = defaultdict(set)
        self.catalogue = builtin_catalogue()
        # Items that failed validation, by table: (raw position, raw item); their references
        # are still checked so that every problem of a file is reported together.
        self.invalid_items: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)

    # -- stages ---------------------------------------------------------------------------------

    def run(self) -> Scenario:
        raw = self.raw
        for key in raw:
            if key not in TOP_KEYS:
                self.problem((str(key),), f"unknown section{_suggest(str(key), TOP_KEYS)}")
        for table, (csv_label, header) in self.headers.items():
            self.check_header(table, csv_label, header)

        meta = self.validate_one(Meta, raw.get("meta"), ("meta",), required=True)
        tiers = self.validate_list("tiers", raw.get("tiers"), Tier)
        if "tiers" not in raw:
            tiers = list(self.catalogue.tiers)
        unit_types = dict(self.catalogue.unit_types)
        unit_types.update(self.validate_unit_types(raw.get("unit_types")))
        nodes = self.validate_list("nodes", raw.get("nodes"), Node)
        node_by_id = {n.id: n for n in nodes}
        if isinstance(raw.get("links"), list):
            # Filled ids take part in the duplicate check below.
            raw["links"] = self.fill_links(raw["links"], node_by_id)
        links = self.validate_list("links", raw.get("links"), Link)
        pools = self.validate_list(
            "lift_pools", raw.get("lift_pools"), COMPONENT_MODELS["lift_pools"]
        )
        units = self.validate_list(
            "units", self.fill_units(raw.get("units"), unit_types, tiers), Unit
        )
        stocks = self.validate_list("stocks", raw.get("stocks"), Stock)
        regions = self.validate_list(
            "regions", self.fill_regions(raw.get("regions"), unit_types), Region
        )
        threats = self.validate_list("threats", raw.get("threats"), COMPONENT_MODELS["threats"])
        disruptions = self.validate_list(
            "disruptions", raw.get("disruptions"), COMPONENT_MODELS["disruptions"]
        )
        prepositioning = self.validate_one(
            Prepositioning, raw.get("prepositioning"), ("prepositioning",)
        )
        parts: dict[str, Any] = {
            "meta": meta,
            "tiers": tuple(tiers),
            "unit_types": unit_types,
            "nodes": tuple(nodes),
            "links": tuple(links),
            "lift_pools": tuple(pools),
            "units": tuple(units),
            "stocks": tuple(stocks),
            "regions": tuple(regions),
            "threats": tuple(threats),
            "disruptions": tuple(disruptions),
            "prepositioning": prepositioning,
        }
        self.check_references(parts)
        if self.problems or meta is None:
            raise ScenarioError(self.problems)
        # Items are validated already; construct the container without validating twice.
        return Scenario.model_construct(**parts)

    def check_header(self, table: str, csv_label: str, header: list[str]) -> None:
        model = COMPONENT_MODELS[table]
        fields = {(f.alias or name): f for name, f in model.model_fields.items()}
        filled = set(FILLED_BY_LOADER.get(model.__name__, ()))
        before = len(self.problems)
        for col in header:
            top, _, sub = col.partition(".")
            if col and top not in fields:
                self.problems.append(
                    Problem(csv_label, 1, col, f"unknown column{_suggest(top, fields)}")
                )
            elif sub:
                nested = _nested_model(fields[top].annotation)
                names = set(nested.model_fields) if nested is not None else set()
                if sub not in names:
                    self.problems.append(
                        Problem(csv_label, 1, col, f"unknown column{_suggest(sub, names)}")
                    )
        present = {c.split(".")[0] for c in header}
        for name, f in model.model_fields.items():
            key = f.alias or name
            if f.is_required() and key not in present and key not in filled:
                self.problems.append(Problem(csv_label, 1, key, "required column is missing"))
                # One message for the column, not one per row.
                self.missing_columns.add((table, key))
        if len(self.problems) > before:
            # With a wrong header every row would repeat the same complaint: fix the header first.
            self.bad_header.add(table)

    def validate_one(
        self, model: type[BaseModel], item: Any, path: Path_, required: bool = False
    ) -> Any:
        if item is None:
            if required:
                self.problem(path, "required section is missing")
            return None
        try:
            return model.model_validate(item)
        except ValidationError as exc:
            self.report(exc, path)
            return None

    def validate_list(self, table: str, items: Any, model: type[BaseModel]) -> list[Any]:
        if items is None:
            return []
        if not isinstance(items, list):
            self.problem((table,), "must be a list of items (or the name of a CSV file)")
            return []
        out: list[Any] = []
        positions = self.positions.setdefault(table, [])
        if table in self.bad_header:
            self.invalid_ids[table].update(
                str(it["id"]) for it in items if isinstance(it, dict) and "id" in it
            )
            return out
        # CSV cells are text by nature; everywhere else a quoted number is refused.
        context = {TEXT_CELLS: table in self.headers}
        for i, item in enumerate(items):
            if item is _SKIP:
                continue
            try:
                out.append(model.model_validate(item, context=context))
                positions.append(i)
            except ValidationError as exc:
                self.report(exc, (table, i), table=table)
                if isinstance(item, dict):
                    self.invalid_items[table].append((i, item))
                    if isinstance(item.get("id"), str):
                        self.invalid_ids[table].add(item["id"])
        return out

    def report(self, exc: ValidationError, path: Path_, table: str | None = None) -> None:
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            if (
                err["type"] == "missing"
                and table
                and loc
                and (table, str(loc[0])) in self.missing_columns
            ):
                continue
            self.problem((*path, *loc), _message(err, type(exc), loc))

    def validate_unit_types(self, raw: Any) -> dict[str, UnitType]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.problem(("unit_types",), "must be a mapping from type name to its defaults")
            return {}
        out = {}
        for name, spec in raw.items():
            ut = self.validate_one(UnitType, spec, ("unit_types", name))
            if ut is not None:
                out[str(name)] = ut
        return out

    # -- defaults -------------------------------------------------------------------------------

    def fill_units(self, raw: Any, types: dict[str, UnitType], tiers: list[Tier]) -> Any:
        if not isinstance(raw, list):
            return raw
        ntm = {t.tier: t.notice_to_move_days for t in tiers}
        out: list[Any] = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict):
                out.append(item)
                continue
            item = dict(item)
            utype = item.get("type")
            missing = [f for f in ("personnel", "equipment_t", "outsize", "power") if f not in item]
            if isinstance(utype, str) and utype in types:
                defaults = types[utype]
                for f in missing:
                    item[f] = getattr(defaults, f)
                if "load_out_days" not in item:
                    item["load_out_days"] = defaults.load_out_days
                if isinstance(item.get("power"), dict):
                    # Capabilities not given keep the type's value.
                    item["power"] = {**defaults.power.model_dump(), **item["power"]}
            elif missing and isinstance(utype, str):
                self.problem(
                    ("units", i, "type"),
                    f"unknown unit type '{utype}'{_suggest(utype, types)}: give "
                    f"{', '.join(missing)} or define the type under unit_types",
                )
                if isinstance(item.get("id"), str):
                    self.invalid_ids["units"].add(item["id"])
                self.invalid_items["units"].append((i, item))
                out.append(_SKIP)
                continue
            if "notice_to_move_days" not in item:
                try:
                    tier = int(item.get("tier"))  # type: ignore[arg-type]
                except (TypeError, ValueError, OverflowError):  # OverflowError: tier .inf
                    tier = None  # the tier's own error is reported by validation
                if tier in ntm:
                    item["notice_to_move_days"] = ntm[tier]
                elif tier is not None:
                    known = ", ".join(str(t) for t in sorted(ntm)) or "none"
                    self.problem(
                        ("units", i, "tier"),
                        f"tier {tier} is not defined (defined: {known}); "
                        "define it under tiers or give notice_to_move_days",
                    )
                    item["notice_to_move_days"] = 0.0
            out.append(item)
        return out

    def fill_regions(self, raw: Any, types: dict[str, UnitType]) -> Any:
        if not isinstance(raw, list):
            return raw
        out: list[Any] = []
        for i, region in enumerate(raw):
            forces = region.get("in_place") if isinstance(region, dict) else None
            if not isinstance(forces, list):
                out.append(region)
                continue
            filled = []
            for j, force in enumerate(forces):
                if isinstance(force, dict):
                    force = dict(force)
                    utype = force.get("type")
                    missing = [f for f in ("personnel", "power") if f not in force]
                    if isinstance(utype, str) and utype in types:
                        for f in missing:
                            force[f] = getattr(types[utype], f)
                        if isinstance(force.get("power"), dict):
                            force["power"] = {**types[utype].power.model_dump(), **force["power"]}
                    elif missing and isinstance(utype, str):
                        self.problem(
                            ("regions", i, "in_place", j, "type"),
                            f"unknown unit type '{utype}'{_suggest(utype, types)}: give "
                            f"{', '.join(missing)} or define the type under unit_types",
                        )
                        continue
                filled.append(force)
            out.append({**region, "in_place": filled})
        return out

    def fill_links(self, raw: Any, nodes: dict[str, Node]) -> Any:
        if not isinstance(raw, list):
            return raw
        modes = self.catalogue.modes
        out: list[Any] = []
        for item in raw:
            if not isinstance(item, dict):
                out.append(item)
                continue
            item = dict(item)
            src, dst, mode = item.get("from"), item.get("to"), item.get("mode")
            if "id" not in item and isinstance(src, str) and isinstance(dst, str):
                item["id"] = f"{src}_{dst}_{mode}"
            defaults = modes.get(mode) if isinstance(mode, str) else None
            if "speed_kmh" not in item and defaults is not None:
                item["speed_kmh"] = defaults.speed_kmh
            if "distance_km" not in item:
                a, b = (
                    nodes.get(src) if isinstance(src, str) else None,
                    (nodes.get(dst) if isinstance(dst, str) else None),
                )
                if a is not None and b is not None and defaults is not None:
                    # Coincident nodes still need a positive leg length.
                    km = great_circle_km(a.lat, a.lon, b.lat, b.lon) * defaults.circuity
                    item["distance_km"] = max(km, 0.1)
                elif isinstance(src, str) and isinstance(dst, str):
                    item["distance_km"] = 1.0  # the dangling reference is reported instead
            out.append(item)
        return out

    # -- cross-references -----------------------------------------------------------------------

    def check_references(self, p: dict[str, Any]) -> None:
        meta: Meta | None = p["meta"]
        raw = self.raw

        def index(table: str, attr: str = "id") -> dict[str, int]:
            """Position of each id in the raw list; report duplicates."""
            seen: dict[str, int] = {}
            items = raw.get(table)
            if not isinstance(items, list):
                return seen
            for i, item in enumerate(items):
                if not isinstance(item, dict) or attr not in item:
                    continue
                key = str(item[attr])
                if key in seen:
                    self.problem(
                        (table, i, attr),
                        f"duplicate {attr} '{key}' (first at {self._at((table, seen[key]))})",
                    )
                else:
                    seen[key] = i
            return seen

        for table in ("nodes", "links", "lift_pools", "units", "stocks", "regions", "disruptions"):
            index(table)
        index("tiers", "tier")
        if meta is not None:
            source_ids = Counter(s.id for s in meta.sources)
            for sid, n in source_ids.items():
                if n > 1:
                    self.problem(("meta", "sources"), f"duplicate source id '{sid}'")
            if meta.warning_day > meta.horizon_days:
                self.problem(
                    ("meta", "warning_day"),
                    f"warning day {meta.warning_day:g} is after the horizon "
                    f"({meta.horizon_days} days)",
                )

        node_ids = {n.id for n in p["nodes"]} | self.invalid_ids["nodes"]
        region_ids = {r.id for r in p["regions"]} | self.invalid_ids["regions"]
        pools = {q.id: q for q in p["lift_pools"]}
        pool_ids = set(pools) | self.invalid_ids["lift_pools"]
        link_ids = {lk.id for lk in p["links"]} | self.invalid_ids["links"]
        set_types = {s.set_type for s in p["stocks"] if s.kind == "equipment_set" and s.sets > 0}
        prep: Prepositioning | None = p["prepositioning"]
        if prep is not None and prep.depots:
            # A set type the optimiser may buy is one a unit may fall in on.
            set_types |= {c.set_type for c in prep.sets}
        raw_prep = raw.get("prepositioning")
        if prep is None and isinstance(raw_prep, dict) and isinstance(raw_prep.get("sets"), list):
            # The section has an error of its own: references to its set types are not
            # reported again.
            set_types |= {
                str(c["set_type"])
                for c in raw_prep["sets"]
                if isinstance(c, dict) and "set_type" in c
            }

        def rows(table: str) -> Iterable[tuple[int, Any]]:
            return zip(self.positions.get(table, []), p[table], strict=True)

        def ref(path: Path_, value: str | None, known: set[str], what: str) -> None:
            if value is not None and value not in known:
                self.problem(path, f"unknown {what} '{value}'{_suggest(value, known)}")

        gauges: dict[str, set[int]] = defaultdict(set)
        rail_links: dict[str, list[str]] = defaultdict(list)
        for i, lk in rows("links"):
            ref(("links", i, "from"), lk.from_, node_ids, "node")
            ref(("links", i, "to"), lk.to, node_ids, "node")
            if lk.from_ == lk.to:
                self.problem(("links", i, "to"), "a link must join two different nodes")
            ref(("links", i, "pool"), lk.pool, pool_ids, "lift pool")
            if lk.pool in pools and pools[lk.pool].mode != lk.mode:
                self.problem(
                    ("links", i, "pool"),
                    f"lift pool '{lk.pool}' is {pools[lk.pool].mode}, the link is {lk.mode}",
                )
            if lk.gauge is not None:
                for end in (lk.from_, lk.to):
                    gauges[end].add(lk.gauge)
                    rail_links[end].append(lk.id)
        for i, node in rows("nodes"):
            gs = gauges.get(node.id, set())
            if len(gs) > 1 and node.transship is None:
                self.problem(
                    ("nodes", i, "transship"),
                    f"rail gauges {', '.join(str(g) for g in sorted(gs))} meet at '{node.id}' "
                    f"(links {', '.join(sorted(rail_links[node.id])[:4])}) but the node cannot "
                    "transship: give it transship: {t_per_day, hours}",
                )
        for i, u in rows("units"):
            ref(("units", i, "home"), u.home, node_ids, "node")
            ref(("units", i, "assigned_to"), u.assigned_to, region_ids, "region")
            if u.set_type is not None and u.set_type not in set_types:
                known = {t for t in set_types if t}
                self.problem(
                    ("units", i, "set_type"),
                    f"no stock provides set type '{u.set_type}'{_suggest(u.set_type, known)}",
                )
        for i, s in rows("stocks"):
            ref(("stocks", i, "depot"), s.depot, node_ids, "node")
        for i, r in rows("regions"):
            ref(("regions", i, "reception"), r.reception, node_ids, "node")
        if prep is not None:
            self.check_prepositioning(prep, p, node_ids)
        threat_regions: set[str] = set()
        for i, t in rows("threats"):
            ref(("threats", i, "region"), t.region, region_ids, "region")
            if t.region in threat_regions:
                self.problem(("threats", i, "region"), f"a second threat for region '{t.region}'")
            threat_regions.add(t.region)
        uncapped = {
            n.id: "node"
            for n in p["nodes"]
            if n.t_per_day is None and n.pax_per_day is None and n.transship is None
        } | {lk.id: "link" for lk in p["links"] if lk.t_per_day is None and lk.pax_per_day is None}
        for i, d in rows("disruptions"):
            in_nodes, in_links = d.target in node_ids, d.target in link_ids
            if not in_nodes and not in_links:
                self.problem(
                    ("disruptions", i, "target"),
                    f"unknown link or node '{d.target}'{_suggest(d.target, node_ids | link_ids)}",
                )
            elif in_nodes and in_links:
                self.problem(
                    ("disruptions", i, "target"),
                    f"'{d.target}' is both a node and a link id; rename one",
                )
            elif d.target in uncapped:
                # A disruption cuts capacities; on an unlimited target it would silently do
                # nothing, which no one who wrote it means.
                self.problem(
                    ("disruptions", i, "target"),
                    f"{uncapped[d.target]} '{d.target}' has no capacity for the disruption to cut "
                    "(unlimited): give it t_per_day or pax_per_day",
                )
        # Items that failed validation: check the references they do hold (as raw text), so
        # that a link with a negative capacity AND an unknown node reports both.
        raw_refs: dict[str, tuple[tuple[str, set[str], str], ...]] = {
            "links": (
                ("from", node_ids, "node"),
                ("to", node_ids, "node"),
                ("pool", pool_ids, "lift pool"),
            ),
            "units": (("home", node_ids, "node"), ("assigned_to", region_ids, "region")),
            "stocks": (("depot", node_ids, "node"),),
            "regions": (("reception", node_ids, "node"),),
            "threats": (("region", region_ids, "region"),),
            "disruptions": (("target", node_ids | link_ids, "link or node"),),
        }
        reported = {p.field for p in self.problems}
        for table, fields in raw_refs.items():
            for i, item in self.invalid_items.get(table, []):
                for key, known, what in fields:
                    value = item.get(key)
                    if isinstance(value, str) and dotted((table, i, key)) not in reported:
                        ref((table, i, key), value, known, what)

    def check_prepositioning(
        self, prep: Prepositioning, p: dict[str, Any], node_ids: set[str]
    ) -> None:
        """Set types that some unit uses, depots that exist and are depots, no repeats."""
        unit_types = {u.set_type for u in p["units"] if u.set_type is not None}
        seen: dict[str, int] = {}
        for i, c in enumerate(prep.sets):
            path: Path_ = ("prepositioning", "sets", i, "set_type")
            if c.set_type in seen:
                self.problem(
                    path,
                    f"set type '{c.set_type}' is listed twice (first at sets[{seen[c.set_type]}])",
                )
                continue
            seen[c.set_type] = i
            if c.set_type not in unit_types and not self.invalid_ids["units"]:
                self.problem(
                    path,
                    f"no unit has set type '{c.set_type}'{_suggest(c.set_type, unit_types)}: "
                    "a new set no unit can fall in on would never be drawn",
                )
        nodes = {n.id: n for n in p["nodes"]}
        stocked = {s.depot for s in p["stocks"] if s.kind == "equipment_set"}
        depots: dict[str, int] = {}
        for i, d in enumerate(prep.depots):
            path = ("prepositioning", "depots", i, "depot")
            if d.depot in depots:
                self.problem(
                    path, f"depot '{d.depot}' is listed twice (first at depots[{depots[d.depot]}])"
                )
                continue
            depots[d.depot] = i
            if d.depot not in node_ids:
                ref_hint = _suggest(d.depot, node_ids)
                self.problem(path, f"unknown node '{d.depot}'{ref_hint}")
            elif d.depot in nodes and nodes[d.depot].kind != "depot":
                self.problem(
                    path, f"node '{d.depot}' is a {nodes[d.depot].kind}, not a depot (kind: depot)"
                )
            elif d.draw_days is None and d.depot not in stocked:
                self.problem(
                    ("prepositioning", "depots", i, "draw_days"),
                    f"required: depot '{d.depot}' holds no equipment-set stock to take the days "
                    "to draw a set from",
                )

    def _at(self, path: Path_) -> str:
        file, line = self.where(path)
        return f"{file}:{line}" if line else file


_SKIP = object()


def _message(err: Any, _exc: type, loc: tuple[Any, ...]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        field = str(loc[-1]) if loc else "?"
        return f"unknown field{_suggest_field(field)}"
    if kind == "missing":
        return "required field is missing"
    msg = str(err["msg"])
    if kind == "string_pattern_mismatch":
        pattern = str((err.get("ctx") or {}).get("pattern", ""))
        msg = _PATTERN_MESSAGES.get(pattern, msg)
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    value = err.get("input")
    if kind not in ("model_type", "dict_type", "missing") and not isinstance(value, (dict, list)):
        msg = f"{msg} (got {value!r})"
    return msg


_PATTERN_MESSAGES = {
    "^[A-Z]{2}$": "must be a two-letter country code in capitals (ISO 3166-1), e.g. PL",
    "^[A-Z]{3}$": "must be a three-letter currency code in capitals (ISO 4217), e.g. EUR",
    r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$": (
        "must be an identifier: letters, digits, '_', '-' and '.', starting with a letter or digit"
    ),
}


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as ``Power`` or ``Transship | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _nested_model(arg)
        if found is not None:
            return found
    return None


def _suggest_field(field: str) -> str:
    known: set[str] = set()
    models: tuple[type[BaseModel], ...] = (
        *COMPONENT_MODELS.values(),
        Meta,
        InPlaceForce,
        UnitType,
        Prepositioning,
        CandidateDepot,
        NewSetCost,
    )
    for model in models:
        known.update((f.alias or n) for n, f in model.model_fields.items())
    return _suggest(field, known)


def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, [str(o) for o in options], n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _label(
    path: Path, source: str | Path | None, relative_to: Path | None = None, prefix: str = ""
) -> str:
    """A short, readable file name for messages."""
    if relative_to is not None and prefix:
        return (
            str(Path(prefix).parent / path.relative_to(relative_to))
            if path.is_relative_to(relative_to)
            else str(path)
        )
    bundled = bundled_scenarios()
    if source is not None and str(source) in bundled and not Path(source).exists():
        root = bundled[str(source)]
        return f"{source}/{path.name}" if root.is_dir() else path.name
    return str(path)
