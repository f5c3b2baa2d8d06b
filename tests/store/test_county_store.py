"""The county demo written to a real SQLite file: townships, their villages
and grids, and keys unique across townships.

A full county takes minutes (22 townships, about 350,000 households), so
this test builds the first two townships of the county with a tenth of
the people: the same code path, the county's own geometry and numbering.
"""

import pandas as pd
import pytest
import sqlalchemy as sa

from fangkong_lib import store
from fangkong_lib.demo.county import TOWNSHIP_NAMES
from fangkong_lib.demo.county import build_county

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    path = tmp_path_factory.mktemp("county") / "county.sqlite"
    summary = build_county(path, fraction=0.1, townships=2, workers=1)
    return store.get_engine(path), summary


def test_the_county_s_townships_villages_and_grids(county):
    engine, summary = county
    townships = store.load_ledger(engine, "townships")
    assert townships["name"].tolist() == list(TOWNSHIP_NAMES[:2]) == ["新城街道", "洺北街道"]
    assert townships["code_synthetic"].all() and townships["note"].str.contains("代码为合成").all()
    assert store.get_meta(engine)["scale"] == "county"
    villages = store.load_ledger(engine, "villages")
    assert set(villages["township"]) == set(townships["name"]) and villages["name"].is_unique
    assert 2 * 18 <= len(villages) <= 2 * 26
    grids = store.load_ledger(engine, "grids")
    assert set(grids["village"]) == set(villages["name"]) and grids["code"].is_unique
    assert {c[:4] for c in grids["code"]} == {code[-3:] + "-" for code in townships["code"]}
    assert summary["townships"] == 2 and summary["villages"] == len(villages) and summary["grids"] == len(grids)
    # a township is the union of its villages (same boundary, as stored)
    import shapely

    for row in townships.itertuples():
        mine = shapely.from_wkt(villages.loc[villages["township"] == row.name, "geometry"].tolist())
        assert shapely.union_all(mine).symmetric_difference(shapely.from_wkt(row.geometry)).area < 1e-12


def test_people_and_numbers_are_unique_across_townships(county):
    engine, summary = county
    ids = {key: store.load_ledger(engine, key, columns=["id_number", "village"]) for key in
           ("away", "returnees", "pushes", "drug_buyers")}
    assert summary["away"] == len(ids["away"]) > 0 and summary["returnees"] == len(ids["returnees"]) > 0
    villages = store.load_ledger(engine, "villages", columns=["name", "township"])
    township_of = dict(zip(villages["name"], villages["township"]))
    # the same ID in two townships would be two people sharing one number
    both = pd.concat(ids.values())
    assert (both.groupby("id_number")["village"].agg(lambda v: v.map(township_of).nunique()) == 1).all()
    with engine.connect() as conn:
        for key, col in (("staff", "staff_no"), ("places", "code"), ("volunteers", "volunteer_no"),
                         ("command_units", "unit"), ("duty_posts", "name"), ("households", "household_no")):
            total, distinct = conn.execute(sa.text(f"SELECT count(*), count(DISTINCT {col}) FROM {key}")).one()
            assert total == distinct > 0, key
