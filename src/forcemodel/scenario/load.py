"""Load and validate a scenario: files -> raw data -> defaults -> typed items -> references.

Every problem found is collected with its file, line and field path, and all of them are raised
together in one :class:`ScenarioError`; nothing is reported one at a time.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from forcemodel.common.errors import Problem, ScenarioError
from forcemodel.common.read import (
    CSV_TABLES,
    Locations,
    Path_,
    ReadError,
    parse_yaml,
    read_csv_table,
    read_text,
    suggest,
)
from forcemodel.scenario.catalogue import builtin_catalogue
from forcemodel.scenario.defaults import SKIP, DefaultFilling
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
)
from forcemodel.scenario.paths import apply_settings
from forcemodel.scenario.references import ReferenceChecks
from forcemodel.scenario.uncertainty import Uncertainty

TOP_KEYS = ("meta", "unit_types", *COMPONENT_MODELS, "prepositioning", "uncertainty")


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
    hint = suggest(str(source), bundled)
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


class _Validator(DefaultFilling, ReferenceChecks):
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
                self.problem((str(key),), f"unknown section{suggest(str(key), TOP_KEYS)}")
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
            "uncertainty": self.validate_one(Uncertainty, raw.get("uncertainty"), ("uncertainty",)),
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
                    Problem(csv_label, 1, col, f"unknown column{suggest(top, fields)}")
                )
            elif sub:
                nested = _nested_model(fields[top].annotation)
                names = set(nested.model_fields) if nested is not None else set()
                if sub not in names:
                    self.problems.append(
                        Problem(csv_label, 1, col, f"unknown column{suggest(sub, names)}")
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
            if item is SKIP:
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

    def known_fields(self) -> set[str]:
        """Every field name of the format, for the closest match to an unknown one."""
        return _known_fields()

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


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as ``Power`` or ``Transship | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _nested_model(arg)
        if found is not None:
            return found
    return None


def _known_fields() -> set[str]:
    """Every field name of the format, for the closest match to an unknown one."""
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
    return known


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
