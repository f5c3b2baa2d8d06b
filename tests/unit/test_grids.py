"""Grid responsibility (网格责任): the six-level tree, household coverage and
what is flagged, on the demo township and on small frames made by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from fangkong_lib.domain.grids import (
    BEHIND, COMPLETE, INCOMPLETE, coverage_by, coverage_summary, filter_tree, grid_coverage, grid_responsibles,
    grid_tree, incomplete_grids, link_status, member_loads, vacant_nodes,
)
from fangkong_lib.ledgers import GRID_LEVELS
from fangkong_lib.policy import PolicyError
from fangkong_lib.policy.grid_coverage import CoveragePolicy, load_coverage_policy
from fangkong_lib.views.grids import make_grids_map, tree_html
from fangkong_lib.views.maps import render_map

POLICY = CoveragePolicy(households_per_member=10, member_max_households=15, behind_below=0.9)


@pytest.fixture(scope="module")
def frames(demo_frames):
    return demo_frames


@pytest.fixture(scope="module")
def tree(frames):
    return grid_tree(frames["staff"], frames["villages"], frames["natural_villages"], frames["grids"])


# -- The tree ------------------------------------------------------------------------------


def test_the_demo_tree_has_the_six_levels_with_a_person_and_phone_everywhere(tree):
    assert tree["level"].value_counts().reindex(list(GRID_LEVELS)).tolist() == [2, 9, 17, 53, 112, 376]
    assert tree["depth"].iloc[:11].tolist() == [0] * 2 + [1] * 9 and tree["depth"].iloc[11] == 2
    assert vacant_nodes(tree).empty
    assert (tree["name"] != "").all() and (tree["phone"] != "").all()


def test_each_village_reads_secretary_then_cadres_natural_villages_and_grids(tree, frames):
    village = frames["villages"]["name"].iloc[0]
    nodes = tree[tree["village"] == village]
    assert nodes["level"].iloc[0] == "党支部书记"
    # every natural village sits under a 下沉乡干部 and is followed by its own grids
    levels = nodes["level"].tolist()
    for i, level in enumerate(levels):
        if level == "党员联户":
            above = [lv for lv in levels[:i] if lv != "党员联户"]
            assert above[-1] == "自然村干部"
            assert nodes["natural_village"].iloc[i] == nodes[nodes["level"] == "自然村干部"].loc[
                :nodes.index[i]]["natural_village"].iloc[-1]
    grids = frames["grids"][frames["grids"]["village"] == village]
    assert set(nodes.loc[nodes["level"] == "党员联户", "grid"]) == set(grids["code"])


def test_a_grid_without_its_party_member_is_a_vacant_node(frames):
    staff = frames["staff"]
    code = frames["grids"]["code"].iloc[3]
    without = staff[~((staff["level"] == "党员联户") & (staff["grid"] == code))].copy()
    no_phone = without.index[without["level"] == "自然村干部"][0]
    without.loc[no_phone, "phone"] = None
    tree = grid_tree(without, frames["villages"], frames["natural_villages"], frames["grids"])
    vacant = vacant_nodes(tree)
    assert len(vacant) == 2
    hole = vacant[vacant["vacant"]].iloc[0]
    assert (hole["level"], hole["scope"], hole["name"]) == ("党员联户", code, "")
    assert hole["node"] == f"空缺:党员联户:{code}"
    assert vacant[~vacant["vacant"]].iloc[0]["level"] == "自然村干部"
    people = grid_responsibles(tree)
    assert people.loc[code, "党员联户"] == "空缺" and people.loc[code, "大网格长"].count("、") == 1


def test_filter_tree_keeps_the_leaders_above_a_village(tree, frames):
    village = frames["villages"]["name"].iloc[4]
    rows = filter_tree(tree, village=village)
    assert set(rows["level"]) == set(GRID_LEVELS)
    assert (rows["level"] == "网格长").sum() == 1 and (rows["level"] == "大网格长").sum() == 2
    nat = rows.loc[rows["level"] == "自然村干部", "natural_village"].iloc[0]
    only = filter_tree(tree, natural_village=nat, level="党员联户")
    assert set(only["natural_village"]) == {nat} and len(only) == (frames["grids"]["natural_village"] == nat).sum()


def test_the_tree_view_escapes_and_masks(tree):
    hostile = tree.copy()
    hostile.loc[hostile.index[20], "name"] = "<img src=x onerror=alert(1)>"
    text = tree_html(hostile, {"village": pd.DataFrame(), "natural_village": pd.DataFrame(),
                               "grid": pd.DataFrame()}, mask_phone=lambda p: p[:3] + "****" + p[-4:])
    assert "<img src=x" not in text and "&lt;img src=x" in text
    assert text.count("fk-tree-village") == 17
    assert hostile["phone"].iloc[20] not in text


# -- Coverage -----------------------------------------------------------------------------------


def _small():
    grids = pd.DataFrame({"code": ["A-1", "A-2", "B-1"], "village": ["甲村", "甲村", "乙村"],
                          "natural_village": ["东庄", "西庄", "南庄"], "households": [4, 2, 2], "linked": [0, 0, 0]})
    members = pd.DataFrame({"member_no": ["D1", "D2", "D3"], "village": ["甲村", "甲村", "乙村"],
                            "grid": ["A-1", "A-2", "B-1"]})
    households = pd.DataFrame({
        "household_no": [f"H{i}" for i in range(8)],
        "village": ["甲村"] * 6 + ["乙村"] * 2,
        "natural_village": ["东庄"] * 4 + ["西庄"] * 2 + ["南庄"] * 2,
        "grid": ["A-1"] * 4 + ["A-2"] * 2 + ["B-1"] * 2,
        "member_no": ["D1", "D1", "D1", None, "D2", "D2", "D3", "X9"],
    })
    return grids, members, households


def test_coverage_is_linked_over_households_by_grid_natural_village_and_village():
    grids, members, households = _small()
    linked = link_status(households, members)
    assert linked["link_problem"].tolist()[3] == "未联户" and linked["link_problem"].tolist()[7] == "联户党员不在名册"
    by_grid = grid_coverage(grids, households, members, POLICY).set_index("code")
    assert by_grid.loc["A-1", ["households", "linked", "unlinked"]].tolist() == [4, 3, 1]
    assert by_grid["state"].to_dict() == {"A-1": BEHIND, "A-2": COMPLETE, "B-1": BEHIND}
    by_village = coverage_by(linked, "village", POLICY)
    assert by_village.loc["甲村", "coverage"] == pytest.approx(5 / 6)
    assert coverage_by(linked, "natural_village", POLICY).loc["西庄", "state"] == COMPLETE


def test_a_member_over_the_policy_limit_is_overloaded():
    grids, members, households = _small()
    tight = CoveragePolicy(households_per_member=2, member_max_households=2, behind_below=0.5)
    loads = member_loads(households, members, tight).set_index("member_no")
    assert loads["load"].to_dict() == {"D1": 3, "D2": 2, "D3": 1}
    assert loads["overloaded"].to_dict() == {"D1": True, "D2": False, "D3": False}
    assert grid_coverage(grids, households, members, tight).set_index("code").loc["A-1", "state"] == INCOMPLETE


def test_without_household_rows_the_grid_table_counts():
    grids, members, _ = _small()
    grids = grids.assign(linked=[4, 1, 2])
    table = grid_coverage(grids, pd.DataFrame(), members, POLICY).set_index("code")
    assert table["coverage"].to_dict() == {"A-1": 1.0, "A-2": 0.5, "B-1": 1.0}
    assert incomplete_grids(grids, POLICY)["code"].tolist() == ["A-2"]


# -- The demo township ---------------------------------------------------------------------------


def test_demo_households_add_up_to_grids_and_villages(frames):
    households, grids, villages = frames["households"], frames["grids"], frames["villages"]
    assert len(households) == grids["households"].sum() == villages["households"].sum()
    per_grid = households.groupby("grid").size()
    assert per_grid.reindex(grids["code"]).tolist() == grids["households"].tolist()
    assert households.groupby("village")["population"].sum().to_dict() == dict(
        zip(villages["name"], villages["population"]))
    assert households["household_no"].is_unique and (households["population"] >= 1).all()
    # a household's grid lies in its natural village and village
    where = grids.set_index("code")[["village", "natural_village"]]
    assert (where.loc[households["grid"], "natural_village"].to_numpy() == households["natural_village"]).all()


def test_demo_coverage_is_realistic(frames):
    policy = load_coverage_policy()
    households, members, grids = frames["households"], frames["party_members"], frames["grids"]
    table = grid_coverage(grids, households, members, policy)
    assert table["linked"].tolist() == grids["linked"].tolist()  # the stored 已联户数 agree
    states = table["state"].value_counts()
    assert states[COMPLETE] > 0.85 * len(grids) and states.get(BEHIND, 0) >= 5 and states.get(INCOMPLETE, 0) >= 5
    by_village = coverage_by(link_status(households, members), "village", policy)
    assert 1 <= (by_village["state"] == BEHIND).sum() <= 3
    loads = member_loads(households, members, policy)
    assert 8 <= loads.loc[loads["load"] > 0, "load"].mean() <= 12
    assert 1 <= loads["overloaded"].sum() <= 30
    # the grid's own party member (第六级) is on the roster and links households
    heads = members.drop_duplicates("grid")
    assert heads["name"].tolist() == grids["member"].tolist()
    summary = coverage_summary(frames, policy)
    assert summary["households"] == grids["households"].sum() and summary["vacant"] == 0


def test_the_map_names_every_level_and_escapes(frames, tree):
    import geopandas as gpd
    import shapely

    grids = frames["grids"].head(6).copy()
    grids.loc[grids.index[0], "natural_village"] = "<script>alert(1)</script>"
    shapes = gpd.GeoDataFrame(grids, geometry=shapely.from_wkt(grids["geometry"]), crs="EPSG:4326")
    villages = gpd.GeoDataFrame(frames["villages"], geometry=shapely.from_wkt(frames["villages"]["geometry"]),
                                crs="EPSG:4326")
    nat = frames["natural_villages"]
    naturals = gpd.GeoDataFrame(nat, geometry=shapely.from_wkt(nat["geometry"]), crs="EPSG:4326")
    cov = grid_coverage(frames["grids"], frames["households"], frames["party_members"], POLICY).set_index("code")
    people = grid_responsibles(tree)
    def js(text: str) -> str:  # GeoJSON properties are written as HTML-safe JSON (jinja's tojson)
        out = json.dumps(text)[1:-1]
        for ch, code in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("'", "\\u0027")):
            out = out.replace(ch, code)
        return out

    doc = render_map(make_grids_map(shapes, villages, naturals, cov, people, township="城郊乡", behind_below=0.9))
    assert "<script>alert(1)" not in doc and js("&lt;script&gt;alert(1)") in doc
    for level in GRID_LEVELS:
        assert js(f"{level}：") in doc
    code = grids["code"].iloc[1]
    assert js(people.loc[code, "党支部书记"]) in doc and js("覆盖率") in doc
    masked = render_map(make_grids_map(shapes, villages, naturals, cov, people, township="城郊乡",
                                       behind_below=0.9, name_of=lambda n: n[0] + "*"))
    assert js(people.loc[code, "党员联户"]) not in masked and js(people.loc[code, "党员联户"][0] + "*") in masked


# -- The policy file -----------------------------------------------------------------------------------


def test_the_coverage_policy_is_data_and_checked(tmp_path: Path):
    policy = load_coverage_policy()
    assert policy.households_per_member == 10 and policy.member_max_households > 10
    bad = tmp_path / "coverage.toml"
    bad.write_text("households_per_member = 10\nmember_max_households = 5\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="coverage.toml.*member_max_households"):
        load_coverage_policy(bad)
    bad.write_text("behind_below = 1.5\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="behind_below"):
        load_coverage_policy(bad)
    bad.write_text("overload = 3\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="未知条目 overload"):
        load_coverage_policy(bad)
