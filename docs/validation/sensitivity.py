"""Sensitivity of each validation case (docs/validation.md) to the inputs it is unsure of.

Each uncertain input is varied alone over a range of reasonable values (each range is stated
next to it, with the reason); the case's figure is computed for each. The **tolerance** of a
case is half the spread of those figures, ``(max - min) / 2``, plus the uncertainty of the
observation itself: a case passes when its modelled figure lies within that distance of the
observed one. A tolerance so set can fail: it is as
wide as the inputs' uncertainty makes the model, no wider. Where the public figure is itself
a round or planned figure ("the typical 60 days", "as little as a week", a movement schedule),
its own uncertainty, stated with the case, is added.

Run from the repository root to regenerate the tables of docs/validation.md::

    PYTHONPATH=src python docs/validation/sensitivity.py

``tests/flow/test_validation.py`` imports :func:`cases` and asserts every case.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

import forcemodel
from forcemodel import simulate
from forcemodel.results import Results

HERE = Path(__file__).resolve().parent
Data = dict[str, Any]
Change = Callable[[Data], None]


def _scenario_data(source: str) -> Data:
    path = HERE / source if source.endswith(".yaml") else forcemodel.bundled_scenarios()[source]
    data: Data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _link(data: Data, src: str, dst: str, mode: str) -> Data:
    found: Data = next(
        x for x in data["links"] if x["from"] == src and x["to"] == dst and x["mode"] == mode
    )
    return found


def _node(data: Data, node_id: str) -> Data:
    found: Data = next(n for n in data["nodes"] if n["id"] == node_id)
    return found


def _set(path: Callable[[Data], Data], key: str, value: Any) -> Change:
    def change(data: Data) -> None:
        path(data)[key] = value

    return change


def _transfer(mode: str, hours: float) -> Change:
    def change(data: Data) -> None:
        data["meta"].setdefault("transfer_hours", {})[mode] = hours

    return change


def _units(key: str, value: Any, only: str | None = None) -> Change:
    def change(data: Data) -> None:
        for u in data["units"]:
            if only is None or u["id"] == only:
                u[key] = value

    return change


def _rsom_days(days: float) -> Change:
    def change(data: Data) -> None:
        for r in data["regions"]:
            r["rsom"]["days"] = days

    return change


@dataclass
class Case:
    """A validation case: its scenario, the figure it measures, the observation, the inputs."""

    name: str
    source: str
    observed: float
    observed_uncertainty: float  # days: how precise the public figure is (0: a stated number)
    why_uncertain: str
    figure: Callable[[Results], float]
    inputs: list[tuple[str, Change]]

    def runs(self) -> list[tuple[str, float]]:
        """(input varied, figure) for the base and each variation."""
        base = _scenario_data(self.source)
        out = []
        for label, change in [("as bundled", lambda _d: None), *self.inputs]:
            data = copy.deepcopy(base)
            change(data)
            results = simulate(forcemodel.load_scenario_data(data, label=self.name))
            out.append((label, self.figure(results)))
        return out


@dataclass
class Verdict:
    """The spread of a case over its inputs and what it says about the base figure."""

    case: Case
    rows: list[tuple[str, float]]

    @property
    def base(self) -> float:
        return self.rows[0][1]

    @property
    def low(self) -> float:
        return min(v for _, v in self.rows)

    @property
    def high(self) -> float:
        return max(v for _, v in self.rows)

    @property
    def tolerance(self) -> float:
        """Half the spread of the figure over the reasonable inputs plus the observation's own
        uncertainty, days."""
        return (self.high - self.low) / 2 + self.case.observed_uncertainty

    @property
    def passes(self) -> bool:
        return abs(self.base - self.case.observed) <= self.tolerance

    def table(self) -> str:
        lines = [
            f"#### {self.case.name}: observed {self.case.observed:g} days",
            "",
            "| input varied | figure (days) |",
            "| --- | ---: |",
        ]
        lines += [f"| {label} | {value:.1f} |" for label, value in self.rows]
        lines += [
            "",
            f"Spread {self.low:.1f}–{self.high:.1f} days, observation ±"
            f"{self.case.observed_uncertainty:g} ({self.case.why_uncertain}): tolerance "
            f"±{self.tolerance:.1f} days; "
            f"modelled {self.base:.1f}, observed {self.case.observed:g}: "
            f"{'within' if self.passes else 'OUTSIDE'} "
            f"({self.base - self.case.observed:+.1f} days).",
        ]
        return "\n".join(lines)


def _port_to_field(results: Results) -> float:
    ev = results.unit_events
    first = ev[(ev["load"] == "equipment") & (ev["to"] == "bremerhaven")]["arrive"].min()
    return float(results.units["closure_day"].max() - first)


def _closure(unit: str) -> Callable[[Results], float]:
    def figure(results: Results) -> float:
        return float(results.units.set_index("unit").loc[unit, "closure_day"])

    return figure


def _arrival(unit: str) -> Callable[[Results], float]:
    def figure(results: Results) -> float:
        return float(results.units.set_index("unit").loc[unit, "arrival_day"])

    return figure


def _last_arrival(results: Results) -> float:
    return float(results.units["arrival_day"].max())


def cases() -> list[Case]:
    """The validation cases of docs/validation.md with their uncertain inputs and ranges."""
    rail_2017 = lambda d: _link(d, "bremerhaven", "zagan", "rail")  # noqa: E731
    rail_powidz = lambda d: _link(d, "bremerhaven", "powidz-aa", "rail")  # noqa: E731
    sea = lambda d: _link(d, "beaumont", "bremerhaven", "sea")  # noqa: E731
    air_powidz = lambda d: _link(d, "colorado-springs", "poznan-airport", "air")  # noqa: E731
    stock = lambda d: d["stocks"][0]  # noqa: E731
    rail_2022 = lambda d: _link(d, "coleman-aps2", "grafenwoehr", "rail")  # noqa: E731
    air_2022 = lambda d: _link(d, "hunter-aaf", "ramstein", "air")  # noqa: E731
    # Shared ranges: RSOM 0-4 days (a unit fit to fight on arrival, to twice the catalogue's 2);
    # trains 2.5-3.5 a day of 30 wagons (2,000-3,000 t); military trains 10-15 km/h over a day
    # (240-360 km a day around the 280 of 2020); rail loading 6-24 h, ro-ro 12-48 h a side.
    return [
        Case(
            "1. 3rd ABCT 2017, port to field",
            "validation-abct-2017",
            14.0,
            0.0,
            "a stated number",
            _port_to_field,
            [
                ("RSOM 0 days", _rsom_days(0.0)),
                ("RSOM 4 days", _rsom_days(4.0)),
                ("rail 2,000 t/day", _set(rail_2017, "t_per_day", 2000)),
                ("rail 3,000 t/day", _set(rail_2017, "t_per_day", 3000)),
                ("rail 10 km/h", _set(rail_2017, "speed_kmh", 10)),
                ("rail 15 km/h", _set(rail_2017, "speed_kmh", 15)),
                (
                    "Bremerhaven 6,000 t/day",
                    _set(lambda d: _node(d, "bremerhaven"), "t_per_day", 6000),
                ),
                (
                    "Bremerhaven 10,000 t/day",
                    _set(lambda d: _node(d, "bremerhaven"), "t_per_day", 10000),
                ),
                ("entrain/detrain 6 h", _transfer("rail", 6.0)),
                ("entrain/detrain 24 h", _transfer("rail", 24.0)),
                ("ro-ro 12 h a side", _transfer("sea", 12.0)),
                ("ro-ro 48 h a side", _transfer("sea", 48.0)),
            ],
        ),
        Case(
            "2a. Powidz set, closure",
            "validation-powidz",
            7.0,
            1.0,
            "'as little as a week'",
            _closure("abct-powidz-set"),
            [
                ("draw 2 days (48 h claimed)", _set(stock, "draw_days", 2)),
                ("draw 7 days", _set(stock, "draw_days", 7)),
                ("seats 1,000/day", _set(air_powidz, "pax_per_day", 1000)),
                ("seats 4,000/day", _set(air_powidz, "pax_per_day", 4000)),
                ("RSOM 0 days", _rsom_days(0.0)),
                ("RSOM 4 days", _rsom_days(4.0)),
            ],
        ),
        Case(
            "2b. Own equipment from the US, closure",
            "validation-powidz",
            60.0,
            15.0,
            "'the typical 60 days', a round figure over many moves: a quarter",
            _closure("abct-own-equipment"),
            [
                ("load-out 4 days", _units("load_out_days", 4, "abct-own-equipment")),
                ("load-out 14 days", _units("load_out_days", 14, "abct-own-equipment")),
                ("Beaumont 2,500 t/day", _set(lambda d: _node(d, "beaumont"), "t_per_day", 2500)),
                ("Beaumont 5,000 t/day", _set(lambda d: _node(d, "beaumont"), "t_per_day", 5000)),
                ("sea 30 km/h (16 kn)", _set(sea, "speed_kmh", 30)),
                ("sea 44 km/h (24 kn)", _set(sea, "speed_kmh", 44)),
                ("rail 2,000 t/day", _set(rail_powidz, "t_per_day", 2000)),
                ("rail 3,000 t/day", _set(rail_powidz, "t_per_day", 3000)),
                ("RSOM 0 days", _rsom_days(0.0)),
                ("RSOM 4 days", _rsom_days(4.0)),
                ("ro-ro 12 h a side", _transfer("sea", 12.0)),
                ("ro-ro 48 h a side", _transfer("sea", 48.0)),
            ],
        ),
        Case(
            "3. 1st ABCT 2022, APS-2 set to Grafenwoehr, arrival",
            "validation-aps2-2022.yaml",
            21.0,
            1.0,
            "the end of a movement schedule, a plan",
            _arrival("abct-1-3id"),
            [
                ("first flights day 2", _units("notice_to_move_days", 2)),
                ("first flights day 5", _units("notice_to_move_days", 5)),
                ("draw 2 days", _set(stock, "draw_days", 2)),
                ("draw 7 days", _set(stock, "draw_days", 7)),
                ("rail 2,000 t/day", _set(rail_2022, "t_per_day", 2000)),
                ("rail 3,000 t/day", _set(rail_2022, "t_per_day", 3000)),
                ("rail 10 km/h", _set(rail_2022, "speed_kmh", 10)),
                ("rail 15 km/h", _set(rail_2022, "speed_kmh", 15)),
                ("seats 1,000/day", _set(air_2022, "pax_per_day", 1000)),
                ("seats 4,000/day", _set(air_2022, "pax_per_day", 4000)),
            ],
        ),
        Case(
            "4. 82nd Airborne to Poland 2022, first troops",
            "validation-82abn-2022.yaml",
            4.0,
            0.5,
            "first aircraft on day 3, the main body on day 4",
            _last_arrival,
            [
                ("wheels up at 18 h", _units("notice_to_move_days", 0.75)),
                ("wheels up at 3 days", _units("notice_to_move_days", 3.0)),
                ("C-17s 10 a day", _set(lambda d: d["lift_pools"][0], "assets", 10)),
                ("C-17s 30 a day", _set(lambda d: d["lift_pools"][0], "assets", 30)),
                ("turnaround 12 h", _set(lambda d: d["lift_pools"][0], "turnaround_hours", 12)),
                ("turnaround 48 h", _set(lambda d: d["lift_pools"][0], "turnaround_hours", 48)),
            ],
        ),
        Case(
            "5. Dragoon Ride 2015, road march",
            "validation-dragoon-ride-2015.yaml",
            11.0,
            0.5,
            "several columns, start and end dates",
            _last_arrival,
            [
                ("120 km a day (5 km/h)", _set(lambda d: d["links"][0], "speed_kmh", 5)),
                ("200 km a day (8.3 km/h)", _set(lambda d: d["links"][0], "speed_kmh", 8.3)),
                ("route 10 % shorter", _set(lambda d: d["links"][0], "distance_km", 1620)),
                ("route 10 % longer", _set(lambda d: d["links"][0], "distance_km", 1980)),
            ],
        ),
    ]


def main() -> None:
    for case in cases():
        print(Verdict(case, case.runs()).table())
        print()


if __name__ == "__main__":
    main()
