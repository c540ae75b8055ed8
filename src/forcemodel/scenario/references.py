"""The cross-references of a scenario: ids unique, every reference known, the rules that span
tables (gauges meet where a node transships, disruptions cut a capacity, pre-positioning's
depots and set types).

:class:`ReferenceChecks` is the part of the loader's validator that runs once every table is
typed (:mod:`forcemodel.scenario.load`); it reports with file, line and field like the rest.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from forcemodel.common.read import LocatingValidator, Path_, dotted, suggest
from forcemodel.scenario.model import LiftPool, Meta, Prepositioning


@dataclass(frozen=True)
class _KnownIds:
    """The ids that references may name, gathered once for every table's check."""

    nodes: set[str]
    regions: set[str]
    pools: dict[str, LiftPool]
    pool_ids: set[str]
    links: set[str]
    set_types: set[str]


class ReferenceChecks(LocatingValidator):
    """Checks across tables, over the typed items and the raw ones that failed validation."""

    #: ids of items that failed validation, by table: references to them are not reported again.
    invalid_ids: dict[str, set[str]]
    #: Items that failed validation, by table: (raw position, raw item).
    invalid_items: dict[str, list[tuple[int, dict[str, Any]]]]

    def check_references(self, p: dict[str, Any]) -> None:
        """Ids unique, every reference known, each table's cross-table rules (in file order).

        One check per table, in the order the problems are reported.
        """
        self._check_ids(p["meta"])
        known = self._known_ids(p)
        self._check_links(p, known)
        self._check_gauges(p)
        self._check_units(p, known)
        for i, s in self._rows(p, "stocks"):
            self._ref(("stocks", i, "depot"), s.depot, known.nodes, "node")
        for i, r in self._rows(p, "regions"):
            self._ref(("regions", i, "reception"), r.reception, known.nodes, "node")
            for where in ("port", "air_base"):
                rec = getattr(r, where)
                if rec is not None:
                    self._ref(("regions", i, where, "node"), rec.node, known.nodes, "node")
        prep: Prepositioning | None = p["prepositioning"]
        if prep is not None:
            self.check_prepositioning(prep, p, known.nodes)
        self._check_threats(p, known)
        self._check_disruptions(p, known)
        self._check_invalid_items(known)

    def _rows(self, p: dict[str, Any], table: str) -> Iterable[tuple[int, Any]]:
        """Each valid item of ``table`` with its position in the file."""
        return zip(self.positions.get(table, []), p[table], strict=True)

    def _ref(self, path: Path_, value: str | None, known: set[str], what: str) -> None:
        if value is not None and value not in known:
            self.problem(path, f"unknown {what} '{value}'{suggest(value, known)}")

    def _index(self, table: str, attr: str = "id") -> dict[str, int]:
        """Position of each id in the raw list; report duplicates."""
        seen: dict[str, int] = {}
        items = self.raw.get(table)
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

    def _check_ids(self, meta: Meta | None) -> None:
        """No id twice in a table, no source id twice, the warning day within the horizon."""
        for table in ("nodes", "links", "lift_pools", "units", "stocks", "regions", "disruptions"):
            self._index(table)
        self._index("tiers", "tier")
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

    def _known_ids(self, p: dict[str, Any]) -> _KnownIds:
        """The ids references may name (those of invalid items too: their errors come first)."""
        set_types = {s.set_type for s in p["stocks"] if s.kind == "equipment_set" and s.sets > 0}
        prep: Prepositioning | None = p["prepositioning"]
        if prep is not None and prep.depots:
            # A set type the optimiser may buy is one a unit may fall in on.
            set_types |= {c.set_type for c in prep.sets}
        raw_prep = self.raw.get("prepositioning")
        if prep is None and isinstance(raw_prep, dict) and isinstance(raw_prep.get("sets"), list):
            # The section has an error of its own: references to its set types are not
            # reported again.
            set_types |= {
                str(c["set_type"])
                for c in raw_prep["sets"]
                if isinstance(c, dict) and "set_type" in c
            }
        pools = {q.id: q for q in p["lift_pools"]}
        return _KnownIds(
            nodes={n.id for n in p["nodes"]} | self.invalid_ids["nodes"],
            regions={r.id for r in p["regions"]} | self.invalid_ids["regions"],
            pools=pools,
            pool_ids=set(pools) | self.invalid_ids["lift_pools"],
            links={lk.id for lk in p["links"]} | self.invalid_ids["links"],
            set_types=set_types,
        )

    def _check_links(self, p: dict[str, Any], known: _KnownIds) -> None:
        """Links join two known nodes, by a known lift pool of their own mode."""
        for i, lk in self._rows(p, "links"):
            self._ref(("links", i, "from"), lk.from_, known.nodes, "node")
            self._ref(("links", i, "to"), lk.to, known.nodes, "node")
            if lk.from_ == lk.to:
                self.problem(("links", i, "to"), "a link must join two different nodes")
            self._ref(("links", i, "pool"), lk.pool, known.pool_ids, "lift pool")
            if lk.pool in known.pools and known.pools[lk.pool].mode != lk.mode:
                self.problem(
                    ("links", i, "pool"),
                    f"lift pool '{lk.pool}' is {known.pools[lk.pool].mode}, the link is {lk.mode}",
                )

    def _check_gauges(self, p: dict[str, Any]) -> None:
        """Where rail gauges meet, the node must transship."""
        gauges: dict[str, set[int]] = defaultdict(set)
        rail_links: dict[str, list[str]] = defaultdict(list)
        for _, lk in self._rows(p, "links"):
            if lk.gauge is not None:
                for end in (lk.from_, lk.to):
                    gauges[end].add(lk.gauge)
                    rail_links[end].append(lk.id)
        for i, node in self._rows(p, "nodes"):
            gs = gauges.get(node.id, set())
            if len(gs) > 1 and node.transship is None:
                self.problem(
                    ("nodes", i, "transship"),
                    f"rail gauges {', '.join(str(g) for g in sorted(gs))} meet at '{node.id}' "
                    f"(links {', '.join(sorted(rail_links[node.id])[:4])}) but the node cannot "
                    "transship: give it transship: {t_per_day, hours}",
                )

    def _check_units(self, p: dict[str, Any], known: _KnownIds) -> None:
        """Units start at a known node, go to a known region, fall in on a set type there is."""
        for i, u in self._rows(p, "units"):
            self._ref(("units", i, "home"), u.home, known.nodes, "node")
            self._ref(("units", i, "assigned_to"), u.assigned_to, known.regions, "region")
            if u.set_type is not None and u.set_type not in known.set_types:
                types = {t for t in known.set_types if t}
                self.problem(
                    ("units", i, "set_type"),
                    f"no stock provides set type '{u.set_type}'{suggest(u.set_type, types)}",
                )

    def _check_threats(self, p: dict[str, Any], known: _KnownIds) -> None:
        """One threat per known region."""
        threat_regions: set[str] = set()
        for i, t in self._rows(p, "threats"):
            self._ref(("threats", i, "region"), t.region, known.regions, "region")
            if t.region in threat_regions:
                self.problem(("threats", i, "region"), f"a second threat for region '{t.region}'")
            threat_regions.add(t.region)

    def _check_disruptions(self, p: dict[str, Any], known: _KnownIds) -> None:
        """Each disruption cuts one known, capacity-limited link or node."""
        uncapped = {
            n.id: "node"
            for n in p["nodes"]
            if n.t_per_day is None and n.pax_per_day is None and n.transship is None
        } | {lk.id: "link" for lk in p["links"] if lk.t_per_day is None and lk.pax_per_day is None}
        for i, d in self._rows(p, "disruptions"):
            in_nodes, in_links = d.target in known.nodes, d.target in known.links
            if not in_nodes and not in_links:
                self.problem(
                    ("disruptions", i, "target"),
                    f"unknown link or node '{d.target}'"
                    f"{suggest(d.target, known.nodes | known.links)}",
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

    def _check_invalid_items(self, known: _KnownIds) -> None:
        """Items that failed validation: check the references they do hold (as raw text), so
        that a link with a negative capacity AND an unknown node reports both."""
        raw_refs: dict[str, tuple[tuple[str, set[str], str], ...]] = {
            "links": (
                ("from", known.nodes, "node"),
                ("to", known.nodes, "node"),
                ("pool", known.pool_ids, "lift pool"),
            ),
            "units": (("home", known.nodes, "node"), ("assigned_to", known.regions, "region")),
            "stocks": (("depot", known.nodes, "node"),),
            "regions": (("reception", known.nodes, "node"),),
            "threats": (("region", known.regions, "region"),),
            "disruptions": (("target", known.nodes | known.links, "link or node"),),
        }
        reported = {q.field for q in self.problems}
        for table, fields in raw_refs.items():
            for i, item in self.invalid_items.get(table, []):
                for key, ids, what in fields:
                    value = item.get(key)
                    if isinstance(value, str) and dotted((table, i, key)) not in reported:
                        self._ref((table, i, key), value, ids, what)

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
                    f"no unit has set type '{c.set_type}'{suggest(c.set_type, unit_types)}: "
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
                ref_hint = suggest(d.depot, node_ids)
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
