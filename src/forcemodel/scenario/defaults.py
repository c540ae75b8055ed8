"""The values a scenario file may leave out, filled before validation: a unit's figures from
its type and tier, a region's in-place forces from their unit types, a link's length from its
nodes' coordinates (:data:`forcemodel.scenario.model.FILLED_BY_LOADER`).

:class:`DefaultFilling` is the part of the loader's validator that does it
(:mod:`forcemodel.scenario.load`); what it cannot fill is reported with file, line and field.
"""

from __future__ import annotations

from typing import Any

from forcemodel.common.read import LocatingValidator, suggest
from forcemodel.scenario.catalogue import Catalogue
from forcemodel.scenario.model import Node, Tier, UnitType, great_circle_km

#: Stands for an item that cannot be validated at all (it is left out of its table).
SKIP = object()


class DefaultFilling(LocatingValidator):
    """Fills the loader's defaults into raw items, before they are typed."""

    catalogue: Catalogue
    invalid_ids: dict[str, set[str]]
    invalid_items: dict[str, list[tuple[int, dict[str, Any]]]]

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
                for f in ("load_out_days", "profile", "max_road_march_km"):
                    if f not in item:
                        item[f] = getattr(defaults, f)
                if isinstance(item.get("power"), dict):
                    # Capabilities not given keep the type's value.
                    item["power"] = {**defaults.power.model_dump(), **item["power"]}
            elif missing and isinstance(utype, str):
                self.problem(
                    ("units", i, "type"),
                    f"unknown unit type '{utype}'{suggest(utype, types)}: give "
                    f"{', '.join(missing)} or define the type under unit_types",
                )
                if isinstance(item.get("id"), str):
                    self.invalid_ids["units"].add(item["id"])
                self.invalid_items["units"].append((i, item))
                out.append(SKIP)
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
                            f"unknown unit type '{utype}'{suggest(utype, types)}: give "
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
