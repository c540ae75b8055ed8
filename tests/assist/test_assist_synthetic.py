"""Synthetic assistance cases (reproducible, valid) and the exactness of merging pledges."""

from __future__ import annotations

import copy

import pytest
import yaml

from forcemodel.assist import compile_case, load_case_data, match_case
from forcemodel.assist.synthetic import synthetic_case


def test_same_seed_same_bytes_and_a_valid_case() -> None:
    a = yaml.safe_dump(synthetic_case(300, 60, 12, seed=3), sort_keys=True)
    b = yaml.safe_dump(synthetic_case(300, 60, 12, seed=3), sort_keys=True)
    assert a == b
    assert a != yaml.safe_dump(synthetic_case(300, 60, 12, seed=4), sort_keys=True)
    case = load_case_data(synthetic_case(300, 60, 12, seed=3))
    assert (len(case.pledges), len(case.requirements), len(case.courses)) == (300, 60, 12)
    assert any(p.funds_eur for p in case.pledges)
    assert any(r.capability for r in case.requirements)


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="courses"):
        synthetic_case(10, 5, 1)
    with pytest.raises(ValueError, match="1 hub"):
        synthetic_case(10, 5, 2, hubs=0)


def test_one_hub_is_enough() -> None:
    """Places reach one or two hubs: with one hub there is only one to reach (this raised)."""
    case = load_case_data(synthetic_case(30, 8, 4, hubs=1, donors=3, seed=2))
    assert {rt.hub for rt in case.routes} == {"hub-0"}
    assert len(case.routes) == 3 + 3  # each depot and factory, once


def test_merged_pledges_give_the_same_plan_value_and_stay_within_each_pledge() -> None:
    data = synthetic_case(40, 10, 6, seed=1)
    # Split every item pledge in three identical parts (same item, place and date): merged
    # back into one source, the optimum must not move, and no part gives more than it holds.
    split = copy.deepcopy(data)
    parts = []
    for p in split["pledges"]:
        if "item" not in p:
            parts.append(p)
            continue
        q = float(p["quantity"])
        whole = [q // 3, q // 3, q - 2 * (q // 3)]
        for k, share in enumerate(whole):
            if share > 0:
                parts.append({**p, "id": f"{p['id']}-{k}", "quantity": share})
    split["pledges"] = parts
    one, three = load_case_data(data), load_case_data(split)
    assert len(compile_case(three).sources) == len(compile_case(one).sources)
    a = match_case(one, mip_gap=0.0)
    b = match_case(three, mip_gap=0.0)
    assert b.objective == pytest.approx(a.objective, rel=1e-6)
    held = {p.id: float(p.quantity or 0.0) for p in three.pledges if p.item is not None}
    given = b.deliveries.groupby("pledge")["quantity"].sum()
    for pledge, qty in given.items():
        if pledge in held:
            assert qty <= held[str(pledge)] + 1e-6
