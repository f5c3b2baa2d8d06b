"""The ledger definitions: complete, consistent, one source of truth."""

import pytest

from fangkong_lib.ledgers import FIELD_TYPES, LEDGERS, RISK_CATEGORIES, get_ledger

ARCHITECTURE_KEYS = {
    "villages", "natural_villages", "grids", "staff", "away", "returnees", "controls", "daily_checks",
    "tests", "places", "inspections", "problems", "donations", "distributions", "checkpoint_logs",
    "drug_buyers", "pushes", "gatherings", "volunteers",
}


# Ledgers the workbook adds to the architecture's list: the rectification
# history, the villages' daily reports and the supervision teams' visits.
EXTRA_KEYS = {"problem_events", "village_reports", "supervisions"}
# gatherings (聚集管控) and publicity (宣传网): the joint team's actions, the villages' publicity work
EXTRA_KEYS |= {"enforcements", "publicity"}
# The duty roster (值班值守): posts and shifts.
EXTRA_KEYS |= {"duty_posts", "duty_shifts"}
# 指挥调度: the 1+17+N structure, meetings, assigned tasks and their history.
EXTRA_KEYS |= {"command_units", "meetings", "tasks", "task_events"}
# Leads (线索核查, named by the architecture) and the clinics' fever reports that raise them.
EXTRA_KEYS |= {"leads", "fever_reports"}
# Grid responsibility (网格责任): the party members who link households, the
# households, and the history of who answers for each node of the tree.
EXTRA_KEYS |= {"party_members", "households", "grid_assignments"}
# One fist (党员志愿者): where each volunteer is posted.
EXTRA_KEYS |= {"volunteer_assignments"}
# County scale: the townships (乡镇、街道) the villages belong to.
EXTRA_KEYS |= {"townships"}


def test_every_ledger_of_the_architecture_is_defined():
    assert set(LEDGERS) == ARCHITECTURE_KEYS | EXTRA_KEYS


@pytest.mark.parametrize("key", sorted(ARCHITECTURE_KEYS | EXTRA_KEYS))
def test_ledger_is_well_formed(key):
    ledger = LEDGERS[key]
    assert ledger.label and ledger.title.startswith("城郊乡") or "表" in ledger.title
    assert all(f.type in FIELD_TYPES for f in ledger.fields)
    # every header and alias maps to exactly one field, so import mapping is unambiguous
    headers = [h for f in ledger.fields for h in f.headers]
    assert len(headers) == len(set(headers)), f"{key}: a header or alias is used twice"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in f.label) for f in ledger.fields), "labels are Chinese"
    assert set(ledger.natural_key) <= set(ledger.columns)


def test_personal_data_is_flagged():
    returnees = get_ledger("returnees")
    assert returnees["id_number"].pii == "id"
    assert returnees["phone"].pii == "phone"
    assert returnees["name"].pii == "name"
    assert "id_number" in returnees.pii_fields(["id"])
    # every id_number and phone field in any ledger is personal data
    for ledger in LEDGERS.values():
        for f in ledger.fields:
            if f.type in ("id_number", "phone"):
                assert f.pii in ("id", "phone"), (ledger.key, f.key)


def test_villages_ledger_has_village_name_column():
    assert get_ledger("villages")["name"].label == "村名"


def test_returnee_aliases_staff_use():
    r = get_ledger("returnees")
    assert {"身份证号码", "证件号码", "公民身份号码"} <= set(r["id_number"].aliases)
    assert {"手机号码", "联系电话", "电话"} <= set(r["phone"].aliases)
    assert {"行政村", "所属村"} <= set(r["village"].aliases)
    assert r["risk_category"].choices == RISK_CATEGORIES


def test_six_level_grid_is_modelled():
    levels = get_ledger("staff")["level"].choices
    assert levels[:6] == ("大网格长", "网格长", "党支部书记", "下沉乡干部", "自然村干部", "党员联户")
    assert set(levels[6:]) == {"村医", "民警/辅警"}  # on 五包一 teams, outside the six levels
    assert "natural_village" in get_ledger("grids") and "village" in get_ledger("natural_villages")


def test_unknown_ledger_error_is_clear():
    with pytest.raises(KeyError, match="未知台账"):
        get_ledger("nope")


def test_bounds_are_declared_on_the_fields():
    """Forms and imports derive their refusals from these declarations."""
    from fangkong_lib.ledgers import Field

    past = {("returnees", "report_date"), ("returnees", "actual_arrival"), ("inspections", "date"),
            ("donations", "date"), ("distributions", "date"), ("daily_checks", "date"), ("tests", "sample_date")}
    for ledger_key, key in past:
        assert get_ledger(ledger_key)[key].not_future, (ledger_key, key)
    for ledger_key, key in (("returnees", "expected_arrival"), ("controls", "end_date"), ("gatherings", "date")):
        assert not get_ledger(ledger_key)[key].not_future, "a plan or an expected date lies ahead"
    assert get_ledger("donations")["quantity"].positive and get_ledger("distributions")["quantity"].positive
    assert get_ledger("controls")["test_dates"].items == "date"
    with pytest.raises(ValueError):
        Field("x", "某", "text", not_future=True)
    with pytest.raises(ValueError):
        Field("x", "某", "date", positive=True)
