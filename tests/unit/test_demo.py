"""The synthetic township: counts, geometry and rules, deterministically."""

import hashlib
from datetime import date

import pandas as pd
import pytest
import shapely

from fangkong_lib.config import COUNTY_SEAT
from fangkong_lib.demo import generate
from fangkong_lib.domain.plans import make_plan


@pytest.fixture(scope="module")
def frames():
    return generate()


#: sha256 of every frame of ``generate()`` (default seed), as CSV, by sorted key.
#: Refactoring the generator must keep it; a deliberate change of the demo data
#: updates it in a commit of its own that says why.
DEMO_HASH = "dad42a646ce99bbb152efba3223a3e02060007f2a6133c69edadfeadfc5d6983"


def frames_hash(frames: dict[str, pd.DataFrame]) -> str:
    digest = hashlib.sha256()
    for key in sorted(frames):
        digest.update(key.encode())
        digest.update(frames[key].to_csv(index=False).encode())
    return digest.hexdigest()


def test_the_default_township_is_pinned(frames):
    assert frames_hash(frames) == DEMO_HASH


def test_counts_match_the_township(frames):
    assert len(frames["villages"]) == 17
    assert 100 <= len(frames["natural_villages"]) <= 130
    assert len(frames["grids"]) == 376
    assert len(frames["places"]) == 435
    assert len(frames["volunteers"]) == 376
    staff = frames["staff"]["level"].value_counts()
    assert staff.to_dict() == {"党员联户": 376, "自然村干部": len(frames["natural_villages"]), "下沉乡干部": 53,
                               "党支部书记": 17, "网格长": 9, "大网格长": 2,
                               "村医": 17, "民警/辅警": 9}  # doctors and police serve on 五包一 teams
    assert len(frames["away"]) >= 300
    assert frames["problems"]["team"].nunique() == 3 and len(frames["problems"]) >= 30
    assert set(frames["problems"]["stage"]) == {"发现", "反馈", "整改中", "复查", "销号"}
    assert frames["donations"]["donor"].nunique() >= 20
    assert 90_000 <= frames["donations"]["value"].sum() <= 110_000
    assert (frames["gatherings"]["kind"] == "白事").sum() == 5


def test_grids_tile_a_ring_around_the_county_seat(frames):
    grids = shapely.from_wkt(frames["grids"]["geometry"].to_numpy())
    assert shapely.is_valid(grids).all()
    union = shapely.union_all(grids)
    # no gaps and no overlaps: the areas add up, and the union is one ring
    assert union.geom_type == "Polygon" and len(union.interiors) == 1
    assert abs(union.area - shapely.area(grids).sum()) < 1e-9
    seat = shapely.Point(COUNTY_SEAT[1], COUNTY_SEAT[0])
    assert shapely.Polygon(union.interiors[0]).contains(seat)
    km2 = union.area * 111.32 * 110.57 * 0.833  # cos(33.6°)
    assert 50 <= km2 <= 80


def test_nesting_grid_in_natural_village_in_village(frames):
    villages = dict(zip(frames["villages"]["name"], shapely.from_wkt(frames["villages"]["geometry"])))
    naturals = frames["natural_villages"]
    for name, village, wkt in zip(naturals["name"], naturals["village"], naturals["geometry"]):
        assert villages[village].buffer(1e-9).contains(shapely.from_wkt(wkt)), name
    for v, lon, lat in zip(naturals["village"], naturals["lon"], naturals["lat"]):
        assert villages[v].contains(shapely.Point(lon, lat))
    places = frames["places"]
    for v, lon, lat in zip(places["village"], places["lon"], places["lat"]):
        assert villages[v].contains(shapely.Point(lon, lat))
    assert set(frames["grids"]["natural_village"]) == set(naturals["name"])


def test_controls_follow_the_rules(frames):
    returnees = frames["returnees"].set_index("id_number")
    for row in frames["controls"].itertuples():
        person = returnees.loc[row.id_number]
        plan = make_plan(person["risk_category"], person["actual_arrival"], person["left_risk_date"])
        assert (row.measure, row.start_date, row.end_date) == (plan.measure, plan.start, plan.end)
        assert row.test_dates == [d.isoformat() for d in plan.test_dates]
        assert len(row.team) == 5
    arrivals = pd.to_datetime(returnees["actual_arrival"].dropna())
    assert arrivals.min() >= pd.Timestamp("2022-03-10")


def test_every_id_is_valid_and_unique(frames):
    from fangkong_lib.ingest.normalize import normalize_id_number

    ids = pd.concat([frames[k]["id_number"] for k in ("away", "returnees", "checkpoint_logs", "pushes")])
    assert ids.is_unique
    assert all(normalize_id_number(i, today=date(2022, 4, 7))[1] is None for i in ids)


def test_same_seed_same_township_other_seed_other_people():
    a, b, c = generate(seed=7), generate(seed=7), generate(seed=8)
    for key in a:
        pd.testing.assert_frame_equal(a[key], b[key])
    assert not a["returnees"]["id_number"].equals(c["returnees"]["id_number"])
