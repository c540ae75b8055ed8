"""Synthetic security-assistance cases of any size, valid by construction, for benchmarks and tests.

The picture: a partner whose forces move from Soviet-era to NATO-standard equipment. A catalogue
of systems (each with a crew and a first load of ammunition of its calibre), ammunition and
spares; donors who pledge from their own depots in packages (availability dates on a weekly
rhythm), some of them funds that buy priced ammunition at a factory; a few logistics hubs with
daily capacities; one crew course per system type behind a handful of basic courses; and the
partner's requirements: mostly named items in tranches, some a capability (of a standard).

Nothing here is a real figure: the numbers are plausible orders of magnitude drawn from a seeded
generator (:func:`numpy.random.default_rng`), so the same arguments always give the same data
(and :func:`yaml.safe_dump` of it the same bytes). The data loads with
:func:`forcemodel.assist.load_case_data`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

__all__ = ["synthetic_case"]

_SOURCE = "synthetic (forcemodel.assist.synthetic): not a real figure"
_START = dt.date(2025, 1, 1)

# Capabilities of systems: (capability, tons, crew, supply family by standard or None, rounds).
_SYSTEM_KINDS: tuple[tuple[str, float, int, dict[str, str] | None, float], ...] = (
    ("tube_artillery", 40.0, 5, {"nato": "155mm", "soviet": "152mm"}, 200.0),
    ("rocket_artillery", 25.0, 3, {"nato": "227mm", "soviet": "122mm-rocket"}, 24.0),
    ("main_battle_tank", 55.0, 4, {"nato": "120mm", "soviet": "125mm"}, 40.0),
    ("infantry_fighting_vehicle", 30.0, 3, {"nato": "30mm", "soviet": "30mm-soviet"}, 400.0),
    ("armoured_personnel_carrier", 15.0, 2, None, 0.0),
    ("long_range_air_defence", 300.0, 80, {"nato": "lr-interceptor", "soviet": "sa-lr"}, 24.0),
    ("medium_range_air_defence", 100.0, 30, {"nato": "mr-interceptor", "soviet": "sa-mr"}, 18.0),
    ("short_range_air_defence", 20.0, 4, {"nato": "sr-missile", "soviet": "sa-sr"}, 8.0),
    ("counter_battery_radar", 15.0, 6, None, 0.0),
    ("engineering_vehicle", 45.0, 3, None, 0.0),
    ("utility_helicopter", 10.0, 4, None, 0.0),
    ("drone_system", 2.0, 3, {"nato": "loitering-munition", "soviet": "loitering-munition"}, 20.0),
)


def _date(day: int) -> str:
    return (_START + dt.timedelta(days=int(day))).isoformat()


Row = dict[str, Any]


def synthetic_case(
    pledges: int = 10_000,
    requirements: int = 2_000,
    courses: int = 50,
    *,
    horizon_days: int = 180,
    donors: int = 40,
    hubs: int = 4,
    seed: int = 0,
) -> dict[str, Any]:
    """A case as Python data (as read from YAML): ``pledges`` pledges, ``requirements``
    requirements and ``courses`` training courses (at least 2), ``horizon_days`` from 2025-01-01.

    About one course in ten is a basic course (prerequisite of crew courses); every other course
    trains crews for one system type, so the catalogue holds that many systems, plus their
    ammunition (one item per calibre, some of them priced for funds), spares and other items.
    About 1 % of pledges are funds. Requirements: three in four name an item, the rest a
    capability (half of those with a standard).
    """
    if courses < 2:
        raise ValueError("courses: at least 2 (a basic course and one crew course)")
    if pledges < 1 or requirements < 1 or horizon_days < 30 or hubs < 1 or donors < 1:
        raise ValueError("need at least 1 pledge, 1 requirement, 1 hub, 1 donor and 30 days")
    # The steps draw from one generator in this order: the same arguments, the same data.
    g = _Generator(np.random.default_rng(seed), int(horizon_days), donors)
    hub_rows, route_rows = g.places(hubs)
    g.catalogue(courses)
    g.popularity()
    pledge_rows = g.pledges(pledges)
    req_rows = g.requirements(requirements)
    course_rows = g.courses()
    fleet = [
        {"item": s["id"], "quantity": float(g.rng.integers(10, 300)), "source": _SOURCE}
        for s in g.systems
        if s["standard"] == "soviet"
    ]
    return {
        "meta": {
            "name": f"synthetic-{pledges}-{requirements}-{courses}-s{seed}",
            "description": "A synthetic case (forcemodel.assist.synthetic): no real figures.",
            "start": _START.isoformat(),
            "horizon_days": g.H,
            "partner": "partner",
        },
        "donors": [{"id": d, "name": f"Donor {d[-2:]}", "source": _SOURCE} for d in g.donor_ids],
        "items": g.items,
        "requirements": req_rows,
        "pledges": pledge_rows,
        "hubs": hub_rows,
        "routes": route_rows,
        "courses": course_rows,
        "fleet": fleet,
    }


class _Generator:
    """The steps of :func:`synthetic_case`, each drawing from the one seeded generator."""

    def __init__(self, rng: np.random.Generator, H: int, donors: int) -> None:
        self.rng, self.H, self.donors = rng, H, donors
        self.donor_ids = [f"donor-{k:02d}" for k in range(donors)]
        self.depots = [f"depot-{k:02d}" for k in range(donors)]
        self.factories = [f"factory-{k}" for k in range(3)]
        self.items: list[Row] = []
        self.systems: list[Row] = []
        self.ammo: list[Row] = []
        self.others: list[Row] = []
        self.n_basic = 1
        self.pool: list[Row] = []
        self.weight = np.zeros(0)

    def places(self, hubs: int) -> tuple[list[Row], list[Row]]:
        """Hubs, and routes from each depot and factory to one or two hubs."""
        rng = self.rng
        hub_ids = [f"hub-{k}" for k in range(hubs)]
        hub_rows = [
            {
                "id": h,
                "name": f"Logistics hub {k}",
                "t_per_day": float(rng.choice([1500.0, 2000.0, 3000.0, 4000.0])),
                "source": _SOURCE,
            }
            for k, h in enumerate(hub_ids)
        ]
        route_rows: list[Row] = []
        for loc in [*self.depots, *self.factories]:
            overseas = rng.random() < 0.2
            # Each place reaches one or two hubs (nearest first).
            two = int(rng.random() < 0.5)
            for h in rng.choice(hub_ids, size=min(len(hub_ids), 1 + two), replace=False):
                route_rows.append(
                    {
                        "id": f"{loc}-{h}",
                        "from": loc,
                        "hub": str(h),
                        "to_hub_days": int(
                            rng.integers(12, 20) if overseas else rng.integers(1, 6)
                        ),
                        "onward_days": int(rng.integers(1, 4)),
                        "source": _SOURCE,
                    }
                )
        return hub_rows, route_rows

    def catalogue(self, courses: int) -> None:
        """Systems (one a crew course), their ammunition (two makes a calibre, the NATO one
        priced) and equipment kits."""
        rng = self.rng
        self.n_basic = max(1, courses // 10)
        n_systems = courses - self.n_basic
        families: dict[str, str] = {}  # calibre -> standard
        for k in range(n_systems):
            cap, tons, crew, fam, per = _SYSTEM_KINDS[k % len(_SYSTEM_KINDS)]
            standard = "soviet" if rng.random() < 0.3 else "nato"
            system: Row = {
                "id": f"sys-{k:03d}",
                "name": f"{cap.replace('_', ' ')} type {k}",
                "category": "system",
                "capability": cap,
                "family": f"sys-{k:03d}",
                "standard": standard,
                "tons": round(tons * float(rng.uniform(0.7, 1.3)), 1),
                "crew": max(1, round(crew * float(rng.uniform(0.8, 1.2)))),
                "source": _SOURCE,
            }
            if fam is not None:
                calibre = fam[standard]
                families.setdefault(calibre, standard)
                system["supplies"] = [{"family": calibre, "per_system": per}]
            self.items.append(system)
            self.systems.append(system)
        for k, (calibre, standard) in enumerate(sorted(families.items())):
            for variant in range(2):  # two makes of each calibre
                item = self._ammo(calibre, standard, variant)
                if variant == 0 and standard == "nato":
                    item.update(
                        {
                            "price_eur": float(4000 if "mm" in calibre else 400_000),
                            "lead_days": int(rng.integers(30, 90)),
                            "made_at": self.factories[k % len(self.factories)],
                        }
                    )
                self.items.append(item)
                self.ammo.append(item)
        self.others = [
            {
                "id": f"kit-{k:02d}",
                "name": f"equipment kit {k}",
                "category": "spares" if k % 2 else "other",
                "capability": f"kit_{k % 5}",
                "family": f"kit-{k:02d}",
                "standard": "nato",
                "tons": round(float(rng.uniform(0.1, 5.0)), 2),
                "source": _SOURCE,
            }
            for k in range(max(5, n_systems // 2))
        ]
        self.items.extend(self.others)

    @staticmethod
    def _ammo(calibre: str, standard: str, variant: int) -> Row:
        return {
            "id": f"ammo-{calibre}-{variant}",
            "name": f"{calibre} ammunition, make {variant}",
            "category": "ammunition",
            "capability": "missile" if "missile" in calibre or "sa-" in calibre else "ammo",
            "family": calibre,
            "standard": standard,
            "tons": 0.05 if "mm" in calibre else 0.5,
            "source": _SOURCE,
        }

    def popularity(self) -> None:
        """Popularity of items in pledges and requirements: ammunition most, systems, then
        kits."""
        ammo, systems, others = self.ammo, self.systems, self.others
        self.pool = [*ammo, *systems, *others]
        weight = np.array(
            [3.0] * len(ammo) + [1.5] * len(systems) + [0.5] * len(others), dtype=float
        ) * self.rng.uniform(0.3, 1.7, size=len(self.pool))
        self.weight = weight / weight.sum()

    def quantity(self, item: Row, scale: float) -> float:
        """A quantity of ``item`` of a plausible order of magnitude."""
        if item["category"] == "ammunition":
            base = 5000.0 if "mm" in str(item["family"]) else 40.0
        elif item["category"] == "system":
            base = 6.0
        else:
            base = 50.0
        return float(max(1, round(base * scale * float(self.rng.lognormal(0.0, 0.6)))))

    def pledges(self, pledges: int) -> list[Row]:
        """Packages from each donor's depot on a weekly rhythm; about 1 % funds (only if the
        catalogue has a priced item for them to buy)."""
        rng, H = self.rng, self.H
        n_funds = pledges // 100 if any(it.get("price_eur") for it in self.items) else 0
        rows: list[Row] = []
        picks = rng.choice(len(self.pool), size=pledges - n_funds, p=self.weight)
        donor_of = rng.integers(0, self.donors, size=pledges)
        week = rng.integers(0, (H * 2 // 3) // 7 + 1, size=pledges)
        for k in range(pledges - n_funds):
            item = self.pool[int(picks[k])]
            d = int(donor_of[k])
            rows.append(
                {
                    "id": f"p-{k:05d}",
                    "donor": self.donor_ids[d],
                    "item": item["id"],
                    "quantity": self.quantity(item, 0.5),
                    "available_from": _date(7 * int(week[k])),
                    "location": self.depots[d],
                    "source": _SOURCE,
                }
            )
        for k in range(pledges - n_funds, pledges):
            rows.append(
                {
                    "id": f"p-{k:05d}",
                    "donor": self.donor_ids[int(donor_of[k])],
                    "funds_eur": float(int(rng.integers(1, 50)) * 1_000_000),
                    "available_from": _date(7 * int(week[k])),
                    "source": _SOURCE,
                }
            )
        return rows

    def requirements(self, requirements: int) -> list[Row]:
        """Items in tranches; one in four system requirements a capability instead."""
        rng = self.rng
        rows: list[Row] = []
        req_picks = rng.choice(len(self.pool), size=requirements, p=self.weight)
        kinds = rng.random(size=requirements)
        for k in range(requirements):
            item = self.pool[int(req_picks[k])]
            row: Row = {"id": f"r-{k:04d}"}
            if kinds[k] < 0.75 or item["category"] != "system":
                row["item"] = item["id"]
            else:
                row["capability"] = item["capability"]
                if kinds[k] < 0.875:
                    row["standard"] = item["standard"]
            row.update(
                {
                    "quantity": self.quantity(item, 1.0),
                    "priority": int(rng.integers(1, 6)),
                    "needed_by": _date(int(rng.integers(30, self.H + 1))),
                    "source": _SOURCE,
                }
            )
            rows.append(row)
        return rows

    def courses(self) -> list[Row]:
        """Basic courses, then one crew course a system."""
        rng, donor_ids, donors = self.rng, self.donor_ids, self.donors
        rows: list[Row] = []
        for k in range(self.n_basic):
            rows.append(
                {
                    "id": f"basic-{k}",
                    "provider": donor_ids[k % donors],
                    "place": f"training area {k}",
                    "cohort_size": int(rng.choice([500, 1000, 1500])),
                    "duration_days": 35,
                    "every_days": 7,
                    "source": _SOURCE,
                }
            )
        for k, system in enumerate(self.systems):
            duration = int(rng.choice([28, 42, 56, 70]))
            size = int(system["crew"]) * int(rng.integers(2, 12))
            course: Row = {
                "id": f"crew-{system['id']}",
                "provider": donor_ids[(k * 7) % donors],
                "place": f"school {k}",
                "cohort_size": size,
                "duration_days": duration,
                "every_days": int(rng.choice([duration // 2, duration])),
                "qualifies": [system["id"]],
                "source": _SOURCE,
            }
            if rng.random() < 0.6:
                course["prerequisites"] = [f"basic-{k % self.n_basic}"]
            if rng.random() < 0.2:
                course["max_cohorts"] = int(rng.integers(1, 4))
            rows.append(course)
        return rows
