"""What a sweep runs: a scenario, a grid of parameters by path, draws and a seed; all checked.

Every problem with the input is found here, before any run starts, and reported located:
an unknown path or a bad value at its ``--param PATH=...``, an empty range, a probability above
1 at its line of the scenario (or ``--uncertainty`` file), a hazard aimed at an unknown asset.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from forcemodel.common.errors import LocatedError, Problem, ScenarioError
from forcemodel.common.read import Locations, ReadError, parse_yaml, read_text
from forcemodel.scenario.load import RawScenario, build_scenario, read_scenario
from forcemodel.scenario.model import Scenario
from forcemodel.scenario.paths import Setting, SettingError, apply_settings, parse_setting
from forcemodel.scenario.uncertainty import Uncertainty

PARAM_LABEL = "--param"
#: Bundled uncertainty sections, by the scenario they were written for.
BUNDLED_UNCERTAINTY = ("eastern-flank", "tiny")


class SweepError(LocatedError):
    """A sweep cannot start; ``problems`` says why, located."""

    what = "sweep"


@dataclass(frozen=True)
class Param:
    """One swept parameter: a scenario path and the values (YAML text) it takes."""

    text: str
    path: str
    values: tuple[str, ...]


def parse_param(text: str) -> Param:
    """Read ``PATH=LIST|RANGE``: ``a,b,c``, ``[a, b]``, ``LOW:HIGH:STEP`` or ``LOW..HIGH``.

    Ranges include both ends (``0:30:10`` is 0, 10, 20, 30; ``1..3`` is 1, 2, 3).

    >>> parse_param("meta.warning_day=0:30:10").values
    ('0', '10', '20', '30')
    """
    label = f"{PARAM_LABEL} {text}"
    path, sep, spec = text.partition("=")
    path, spec = path.strip(), spec.strip()
    if not sep or not path or any(not p for p in path.split(".")):
        raise SweepError([Problem(label, None, path, "not of the form PATH=LIST|RANGE")])

    def bad(message: str) -> SweepError:
        return SweepError([Problem(label, None, path, message)])

    values: list[str]
    if ".." in spec and ":" not in spec and not spec.startswith("["):
        lo_t, _, hi_t = spec.partition("..")
        lo, hi = _number(lo_t, bad), _number(hi_t, bad)
        if lo != int(lo) or hi != int(hi):
            raise bad(f"'{spec}': LOW..HIGH takes whole numbers (use LOW:HIGH:STEP)")
        values = [str(v) for v in range(int(lo), int(hi) + 1)]
        if not values:
            raise bad(f"the range '{spec}' is empty (LOW above HIGH)")
    elif spec.count(":") == 2 and not spec.startswith("["):
        lo, hi, step = (_number(p, bad) for p in spec.split(":"))
        if step <= 0:
            raise bad(f"the range '{spec}' needs a step above 0")
        if lo > hi:
            raise bad(f"the range '{spec}' is empty (LOW above HIGH)")
        count = int((hi - lo) / step + 1e-9) + 1
        if count > 100_000:
            raise bad(f"the range '{spec}' has {count:,} values; at most 100,000")
        values = [_fmt(lo + n * step) for n in range(count)]
    else:
        try:
            parsed = yaml.safe_load(spec) if spec.startswith("[") else None
        except yaml.YAMLError:
            raise bad(f"'{spec}' is not a YAML list") from None
        if spec.startswith("["):
            if not isinstance(parsed, list):
                raise bad(f"'{spec}' is not a list")
            values = [json.dumps(v) for v in parsed]
        else:
            values = [v.strip() for v in spec.split(",")] if spec else []
            if any(not v for v in values):
                raise bad(f"'{spec}' has an empty value")
        if not values:
            raise bad("an empty list of values")
    return Param(text, path, tuple(values))


def _number(text: str, bad: Any) -> float:
    try:
        return float(text)
    except ValueError:
        raise bad(f"'{text.strip()}' is not a number") from None


def _fmt(x: float) -> str:
    return str(round(x)) if abs(x - round(x)) < 1e-9 else repr(round(x, 9))


@dataclass(frozen=True)
class Plan:
    """A checked sweep: the raw scenario, the grid points (settings each), draws and seed."""

    raw: RawScenario
    settings: tuple[str, ...]
    params: tuple[Param, ...]
    points: tuple[tuple[str, ...], ...]
    seed: int
    draws: int
    digest: str
    regions: tuple[str, ...]

    @property
    def runs(self) -> int:
        """Grid points times draws."""
        return len(self.points) * self.draws

    def where(self, run: int) -> tuple[int, int]:
        """The grid point and draw of a run (runs go point by point)."""
        return divmod(run, self.draws)


def load_uncertainty_file(raw: RawScenario, source: str | Path) -> RawScenario:
    """``raw`` with its ``uncertainty`` section taken from a YAML file (or a bundled name).

    The file holds the section's fields (or a mapping with the single key ``uncertainty``);
    problems in it are located in that file.
    """
    path, label = Path(source), str(source)
    if not path.exists() and str(source) in BUNDLED_UNCERTAINTY:
        path = Path(__file__).with_name("data") / f"{source}.yaml"
        label = f"uncertainty/{source}.yaml"
    locs: Locations = {}
    problems: list[Problem] = []
    if not path.is_file():
        bundled = ", ".join(BUNDLED_UNCERTAINTY)
        raise SweepError(
            [Problem("--uncertainty", None, "", f"no such file '{source}' (bundled: {bundled})")]
        )
    try:
        data = parse_yaml(read_text(path, label), label, locs, problems)
    except ReadError as exc:
        raise SweepError(exc.problems) from None
    prefix: tuple[str | int, ...] = ("uncertainty",)
    if isinstance(data, dict) and set(data) == {"uncertainty"}:
        data, prefix = data["uncertainty"], ()
    new_raw = copy.deepcopy(raw.raw)
    new_raw["uncertainty"] = data
    new_locs = {k: v for k, v in raw.locs.items() if not (k and k[0] == "uncertainty")} | {
        (*prefix, *k): v for k, v in locs.items()
    }
    return RawScenario(new_raw, new_locs, raw.label, (*raw.problems, *problems), raw.headers)


def prepare(
    source: str | Path | RawScenario,
    *,
    draws: int,
    seed: int,
    params: Sequence[str | Param] = (),
    settings: Sequence[str] = (),
    uncertainty: str | Path | None = None,
) -> Plan:
    """Check a sweep and return its plan; raises a located error before any run."""
    problems: list[Problem] = []
    if draws < 1:
        problems.append(Problem("--draws", None, "", f"at least 1 draw, got {draws}"))
    if not 0 <= seed < 2**63:
        problems.append(Problem("--seed", None, "", f"a whole number 0..2**63-1, got {seed}"))
    parsed: list[Param] = []
    for p in params:
        try:
            parsed.append(parse_param(p) if isinstance(p, str) else p)
        except SweepError as exc:
            problems.extend(exc.problems)
    paths = [p.path for p in parsed]
    for p in parsed:
        if paths.count(p.path) > 1:
            problems.append(Problem(f"{PARAM_LABEL} {p.text}", None, p.path, "swept twice"))
    raw = source if isinstance(source, RawScenario) else read_scenario(source)
    if uncertainty is not None:
        raw = load_uncertainty_file(raw, uncertainty)
    if problems:
        raise SweepError(problems)
    points = tuple(
        tuple(f"{p.path}={v}" for p, v in zip(parsed, combo, strict=True))
        for combo in itertools.product(*(p.values for p in parsed))
    )
    # Every grid point must build: each value is checked where it was given.
    regions: tuple[str, ...] = ()
    for point in points:
        located = _relabel(point, parsed)
        try:
            scenario = _build(raw, [*settings, *point], located)
        except LocatedError as exc:
            problems.extend(exc.problems)
            if len(problems) > 50:
                break
            continue
        problems.extend(check_uncertainty(raw, scenario))
        regions = regions or tuple(r.id for r in scenario.regions)
    if problems:
        raise SweepError(sorted(set(problems), key=str))
    digest = _digest(raw, settings, parsed, seed, draws)
    return Plan(raw, tuple(settings), tuple(parsed), points, seed, draws, digest, regions)


def _relabel(point: tuple[str, ...], params: list[Param]) -> dict[str, str]:
    return {s: f"{PARAM_LABEL} {p.text}" for s, p in zip(point, params, strict=True)}


def _build(raw: RawScenario, settings: Sequence[str], labels: dict[str, str]) -> Scenario:
    """Build one variant; problems with a swept value are located at its ``--param``."""
    try:
        return raw.build(settings)
    except ScenarioError as exc:
        fixed = []
        for p in exc.problems:
            text = p.file.removeprefix("--set ")
            fixed.append(
                Problem(labels[text], p.line, p.field, p.message)
                if p.file.startswith("--set ") and text in labels
                else p
            )
        raise SweepError(fixed) from None


def build_point(plan: Plan, point: int) -> Scenario:
    """The scenario of one grid point (before any draw)."""
    return plan.raw.build([*plan.settings, *plan.points[point]])


def build_variant(raw: RawScenario, settings: Sequence[str | Setting]) -> Scenario:
    """Like :meth:`RawScenario.build`, with settings given as values (no YAML to read).

    Only the sections a setting reaches into are copied (a sweep builds thousands of
    variants of one large scenario); sections set whole, and those no setting touches, are
    shared with ``raw``, which validation only reads.
    """
    parsed = [parse_setting(s) if isinstance(s, str) else s for s in settings]
    data = dict(raw.raw)
    for top in {s.path[0] for s in parsed if len(s.path) > 1 and s.path[0] in data}:
        data[top] = copy.deepcopy(data[top])
    locs = dict(raw.locs)
    problems = list(raw.problems) + apply_settings(data, parsed, locs)
    return build_scenario(data, locs, raw.label, problems, dict(raw.headers))


def raw_after(plan: Plan, point: int) -> dict[str, Any]:
    """The raw data of a grid point (its disruption rows are kept when draws add theirs)."""
    raw = copy.deepcopy(plan.raw.raw)
    apply_settings(raw, [*plan.settings, *plan.points[point]], dict(plan.raw.locs))
    return raw


def check_uncertainty(raw: RawScenario, scenario: Scenario) -> list[Problem]:
    """References of the ``uncertainty`` section: assets, units, pools, hazards that exist."""
    unc = scenario.uncertainty
    if unc is None:
        return []
    problems: list[Problem] = []

    def at(path: tuple[str | int, ...], message: str) -> None:
        for n in range(len(path), -1, -1):
            hit = raw.locs.get(path[:n])
            if hit is not None:
                problems.append(Problem(hit[0], hit[1], _dotted(path), message))
                return
        problems.append(Problem(raw.label, None, _dotted(path), message))

    capped = {n.id for n in scenario.nodes if n.t_per_day or n.pax_per_day or n.transship} | {
        lk.id for lk in scenario.links if lk.t_per_day is not None or lk.pax_per_day is not None
    }
    assets = {n.id for n in scenario.nodes} | {lk.id for lk in scenario.links}
    units = {u.id for u in scenario.units}
    pools = {p.id for p in scenario.lift_pools}

    def target(path: tuple[str | int, ...], t: str) -> None:
        if t not in assets:
            at(path, f"unknown link or node '{t}'")
        elif t not in capped:
            at(path, f"'{t}' has no capacity to cut (unlimited): give it t_per_day or pax_per_day")

    base: tuple[str | int, ...] = ("uncertainty",)
    for i, slip in enumerate(unc.notice_to_move):
        for j, u in enumerate(slip.units):
            if u not in units:
                at((*base, "notice_to_move", i, "units", j), f"unknown unit '{u}'")
    for i, lift in enumerate(unc.lift):
        if lift.pool not in pools:
            at((*base, "lift", i, "pool"), f"unknown lift pool '{lift.pool}'")
    hazards = {h.id: h for h in unc.hazards}
    for i, h in enumerate(unc.hazards):
        for j, t in enumerate(h.targets):
            target((*base, "hazards", i, "targets", j), t)
        for j, u in enumerate(h.units):
            if u not in units:
                at((*base, "hazards", i, "units", j), f"unknown unit '{u}'")
    for i, m in enumerate(unc.measures):
        if m.hazard is not None and m.hazard not in hazards:
            at((*base, "measures", i, "hazard"), f"unknown hazard '{m.hazard}'")
            continue
        allowed = set(hazards[m.hazard].targets) if m.hazard is not None else assets
        for j, t in enumerate(m.targets):
            if t not in allowed:
                at((*base, "measures", i, "targets", j), f"'{t}' is not a target of the hazard")
    for j, t in enumerate(unc.attack.candidates):
        target((*base, "attack", "candidates", j), t)
    for j, c in enumerate(unc.attack.costs):
        target((*base, "attack", "costs", j, "asset"), c.asset)
    return problems


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def _digest(
    raw: RawScenario, settings: Sequence[str], params: list[Param], seed: int, draws: int
) -> str:
    """What makes a sweep's results: a resume folder must hold the same."""
    payload = json.dumps(
        {
            "raw": raw.raw,
            "settings": list(settings),
            "params": [[p.path, list(p.values)] for p in params],
            "seed": seed,
            "draws": draws,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def validate_setting_paths(texts: Sequence[str]) -> list[Problem]:
    """Problems with ``PATH=VALUE`` texts that do not parse (for the command line)."""
    out: list[Problem] = []
    for t in texts:
        try:
            parse_setting(t)
        except SettingError as exc:
            out.extend(exc.problems)
    return out


__all__ = [
    "Param",
    "Plan",
    "SweepError",
    "Uncertainty",
    "build_point",
    "check_uncertainty",
    "load_uncertainty_file",
    "parse_param",
    "prepare",
    "raw_after",
]
