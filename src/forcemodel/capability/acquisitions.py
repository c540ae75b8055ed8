"""The force of a year as a scenario: announced acquisitions added as units.

An acquisition with a ``unit`` (type, home node, tier, ...) becomes a unit of the scenario from
its year on, with the acquisition's power in its capability (personnel and tons from the
catalogue's type), so that "what does the force look like in 2029" is a scenario that the
force-flow simulation reads as well as the targets (which count each acquisition once).
"""

from __future__ import annotations

import re
from typing import Any

from forcemodel.capability.errors import CapabilityInputError, Issue
from forcemodel.capability.model import CapabilityFile
from forcemodel.scenario import Scenario, ScenarioError, load_scenario_data
from forcemodel.scenario.write import scenario_data

_UNIT_ROW = re.compile(r"^units\[(\d+)\]\.?(.*)$")


def force_as_of(scenario: Scenario, plan: CapabilityFile, year: int) -> Scenario:
    """``scenario`` with a unit for each acquisition delivered by ``year`` that names one.

    A unit the scenario loader refuses (an unknown home node or type, a duplicate id) is an
    error located at the acquisition's ``unit`` in the capability file.
    """
    data: dict[str, Any] = scenario_data(scenario)
    units = list(data.get("units", []))
    origin: dict[int, int] = {}
    for k, a in enumerate(plan.acquisitions):
        if a.unit is None or a.year > year:
            continue
        u = a.unit
        row: dict[str, Any] = {
            "id": a.unit_id(k),
            "nation": a.ally,
            "type": u.type,
            "home": u.home,
            "tier": u.tier,
            "power": {a.capability: a.power},
            "source": f"acquisition {k + 1} of the capability file"
            + (f": {a.what}" if a.what else "")
            + (f" ({a.source})" if a.source else ""),
        }
        for field in ("name", "notice_to_move_days", "assigned_to", "set_type"):
            value = getattr(u, field)
            if value is not None:
                row[field] = value
        origin[len(units)] = k
        units.append(row)
    data["units"] = units
    data["meta"] = {**data["meta"], "name": f"{scenario.meta.name}-{year}"}
    try:
        return load_scenario_data(data, label=f"{scenario.meta.name} as of {year}")
    except ScenarioError as exc:
        issues = []
        for p in exc.problems:
            m = _UNIT_ROW.match(p.field)
            if m and int(m.group(1)) in origin:
                path: tuple[str | int, ...] = ("acquisitions", origin[int(m.group(1))], "unit")
                issues.append(Issue(path, f"{m.group(2) or 'unit'}: {p.message}"))
            else:
                issues.append(Issue(("acquisitions",), str(p)))
        raise CapabilityInputError(issues) from None
