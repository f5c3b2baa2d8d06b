"""The lists a grid worker acts on (domain/alerts.py), on small hand-made
ledgers where every row is there for a reason, then on the demo township."""

import ast
from datetime import date, datetime, time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from fangkong_lib.domain import alerts as al
from fangkong_lib.domain.daily import village_report_status
from fangkong_lib.domain.overview import summarize_overview
from fangkong_lib.ledgers import get_ledger
from fangkong_lib.policy import load_regimes

DAY = date(2022, 4, 7)
HENAN = "henan-2022-03-22"


def frame(key: str, rows: list[dict]) -> pd.DataFrame:
    """Rows of a ledger with its columns and dtypes (as the store loads them)."""
    ledger = get_ledger(key)
    out = pd.DataFrame(rows, columns=ledger.columns)
    for fld in ledger.fields:
        if fld.type in ("date", "datetime"):
            out[fld.key] = pd.to_datetime(out[fld.key])
        elif fld.type == "float":
            out[fld.key] = pd.to_numeric(out[fld.key]).astype("float64")
        elif fld.type == "bool":
            out[fld.key] = out[fld.key].astype("boolean")
        elif fld.type == "list":
            out[fld.key] = out[fld.key].map(lambda v: ";".join(v) if isinstance(v, list) else v)
    return out


def control(idn, name, start, end, tests=(), *, measure="居家健康监测", released=None, regime=HENAN,
            village="柳湾村", grid="CJ01-01-1"):
    return dict(id_number=idn, name=name, village=village, grid=grid, phone="13800000000", measure=measure,
                category="中高风险区所在市其他县", start_date=start, end_date=end, released_date=released,
                test_dates=list(tests), regime=regime, status="管控中")


def sample(idn, day, result="阴性"):
    return dict(id_number=idn, name="x", village="柳湾村", sample_date=day, result=result)


def reading(idn, day, am=None, pm=None):
    return dict(id_number=idn, name="x", village="柳湾村", date=day, temp_am=am, temp_pm=pm)


def returnee(idn, name, *, report=None, expected=None, arrival=None, category="省外低风险地区", village="柳湾村"):
    return dict(id_number=idn, name=name, village=village, grid="CJ01-01-1", phone="13800000000",
                risk_category=category, report_date=report, expected_arrival=expected, actual_arrival=arrival)


def away_row(idn, name, expected=None, returned=False):
    return dict(id_number=idn, name=name, village="柳湾村", grid="CJ01-01-2", phone="13900000000",
                province="浙江省", city="杭州市", risk_level="低", expected_return=expected, returned=returned)


# -- Tests (核酸) ------------------------------------------------------------------


@pytest.fixture
def test_ledgers():
    controls = frame("controls", [
        control("A", "甲", "2022-04-01", "2022-04-07", ["2022-04-01", "2022-04-03", "2022-04-05", "2022-04-07"]),
        control("B", "乙", "2022-04-05", "2022-04-11", ["2022-04-05", "2022-04-07", "2022-04-09"]),
        control("C", "丙", "2022-04-01", "2022-04-07", ["2022-04-03", "2022-04-07"], released="2022-04-06"),
    ])
    tests = frame("tests", [
        sample("A", "2022-04-01"), sample("A", "2022-04-04"),  # the 3rd sampled a day late; the 5th missed
        sample("B", "2022-04-05"), sample("B", "2022-04-07"),  # today's already done
    ])
    return controls, tests


def test_tests_due_today_are_those_not_yet_sampled(test_ledgers):
    due = al.tests_due(*test_ledgers, DAY)
    assert due["name"].tolist() == ["甲"]
    assert due["planned"].tolist() == [pd.Timestamp(DAY)]
    assert {"id_number", "name", "village", "grid", "phone", "measure"} <= set(due.columns)


def test_overdue_tests_count_each_missed_test_of_people_still_under_control(test_ledgers):
    late = al.tests_overdue(*test_ledgers, DAY)
    # 甲's test of the 3rd was done late (the 4th), the 5th never; 丙 is released.
    assert list(zip(late["name"], late["planned"].dt.day, late["days_late"])) == [("甲", 5, 2)]


# -- Temperatures (体温) --------------------------------------------------------------


@pytest.fixture
def temp_ledgers():
    controls = frame("controls", [
        control("A", "甲", "2022-04-05", "2022-04-11"),
        control("B", "乙", "2022-04-05", "2022-04-11"),
        control("L", "迟", "2022-04-03", "2022-04-16"),  # left the risk area on the 3rd, arrives on the 9th
        control("R", "解", "2022-04-01", "2022-04-07", released="2022-04-07"),
    ])
    checks = frame("daily_checks", [reading("A", "2022-04-07", am=36.5), reading("B", "2022-04-07", am=36.4, pm=36.6)])
    returnees = frame("returnees", [returnee("L", "迟", arrival="2022-04-09")])
    return controls, checks, returnees


@pytest.mark.parametrize("clock, expected", [
    (time(9, 0), []),  # nothing is late yet in the morning
    (time(12, 0), []),  # everyone here reported the morning reading
    (time(16, 59), []),
    (time(17, 0), [("甲", "下午")]),  # the afternoon slot counts from 17:00
    (time(21, 0), [("甲", "下午")]),
])
def test_a_slot_is_missing_only_after_its_cut_off(temp_ledgers, clock, expected):
    controls, checks, returnees = temp_ledgers
    missing = al.missing_temperatures(controls, checks, DAY, datetime.combine(DAY, clock), returnees=returnees)
    assert list(zip(missing["name"], missing["slot"])) == expected


def test_no_reading_at_all_misses_both_slots_and_past_days_are_over(temp_ledgers):
    controls, _, returnees = temp_ledgers
    none = frame("daily_checks", [])
    missing = al.missing_temperatures(controls, none, date(2022, 4, 6), datetime(2022, 4, 7, 8, 0),
                                      returnees=returnees)
    assert sorted(zip(missing["name"], missing["slot"])) == [("乙", "上午"), ("乙", "下午"), ("甲", "上午"),
                                                             ("甲", "下午"), ("解", "上午"), ("解", "下午")]
    # a future day: nothing is due yet
    assert al.missing_temperatures(controls, none, date(2022, 4, 8), datetime(2022, 4, 7, 18, 0)).empty


def test_people_not_yet_arrived_are_not_asked_for_readings(temp_ledgers):
    controls, checks, returnees = temp_ledgers
    at_night = datetime(2022, 4, 7, 22, 0)
    assert "迟" not in set(al.missing_temperatures(controls, checks, DAY, at_night, returnees=returnees)["name"])
    after = al.missing_temperatures(controls, checks, date(2022, 4, 9), datetime(2022, 4, 9, 22, 0),
                                    returnees=returnees)
    assert sorted(after[after["name"] == "迟"]["slot"]) == ["上午", "下午"]


def test_a_regime_with_one_check_a_day_only_asks_for_the_morning(temp_ledgers):
    controls, checks, returnees = temp_ledgers
    once = tuple(replace(r, temperature_checks_per_day=1) for r in load_regimes())
    missing = al.missing_temperatures(controls, checks, DAY, datetime(2022, 4, 7, 22, 0), returnees=returnees,
                                      regimes=once)
    assert missing.empty


def test_fevers_use_the_threshold_of_the_regime():
    controls = frame("controls", [control("A", "甲", "2022-04-05", "2022-04-11"),
                                  control("B", "乙", "2022-04-05", "2022-04-11"),
                                  control("R", "解", "2022-04-01", "2022-04-07", released="2022-04-06")])
    checks = frame("daily_checks", [
        dict(reading("A", "2022-04-07", am=37.2, pm=37.3), symptoms="发热"),
        reading("B", "2022-04-07", am=38.5, pm=36.9),
        reading("A", "2022-04-06", am=39.0),  # another day
        reading("R", "2022-04-07", am=38.0),  # released: no longer on the lists
    ])
    hot = al.fevers(controls, checks, DAY)
    assert sorted(zip(hot["name"], hot["slot"], hot["temperature"])) == [("乙", "上午", 38.5), ("甲", "下午", 37.3)]
    assert hot["threshold"].tolist() == [37.3, 37.3]
    stricter = tuple(replace(r, fever_threshold=37.5) for r in load_regimes())
    assert al.fevers(controls, checks, DAY, regimes=stricter)["name"].tolist() == ["乙"]


# -- Releases (解除) -----------------------------------------------------------------


def test_releases_due_today_and_overdue():
    controls = frame("controls", [
        control("A", "甲", "2022-04-01", "2022-04-07", ["2022-04-01", "2022-04-07"]),
        control("B", "乙", "2022-04-01", "2022-04-07", released="2022-04-07"),
        control("C", "丙", "2022-03-25", "2022-04-05"),
        control("D", "丁", "2022-04-05", "2022-04-11"),
        control("E", "戊", "2022-03-31", "2022-04-06", released="2022-04-07"),
    ])
    tests = frame("tests", [sample("A", "2022-04-01")])
    due = al.releases_due(controls, DAY, tests)
    assert due["name"].tolist() == ["甲"] and due["tests_pending"].tolist() == [1]
    late = al.releases_overdue(controls, DAY, tests)
    assert list(zip(late["name"], late["days_late"])) == [("丙", 2)]
    # looking back at the 6th: 戊 was due that day (released on the 7th), 丙 already overdue
    assert al.releases_due(controls, date(2022, 4, 6))["name"].tolist() == ["戊"]
    assert al.releases_overdue(controls, date(2022, 4, 6))["name"].tolist() == ["丙"]


# -- Arrivals (返乡) -----------------------------------------------------------------


@pytest.fixture
def arrival_ledgers():
    returnees = frame("returnees", [
        returnee("T", "今", report="2022-04-01", expected="2022-04-07"),
        returnee("S", "三", report="2022-04-05", expected="2022-04-10"),
        returnee("F", "四", report="2022-04-05", expected="2022-04-11"),  # beyond the 3 days
        returnee("X", "到", report="2022-04-01", expected="2022-04-08", arrival="2022-04-06"),
        returnee("N", "未", report="2022-04-01", expected="2022-04-05"),  # did not come
        returnee("L", "迟", report="2022-04-05", expected="2022-04-06", arrival="2022-04-06"),  # 1 day ahead
        returnee("U", "无", arrival="2022-04-07"),  # never registered
        returnee("O", "早", report="2022-04-01", expected="2022-04-04", arrival="2022-04-04"),  # 3 days: fine
        returnee("Z", "旧", arrival="2022-03-20"),  # outside the 14-day window
    ])
    away = frame("away", [
        away_row("W", "外", expected="2022-04-09"),
        away_row("S", "三", expected="2022-04-10"),  # registered already: listed once, as 已报备
        away_row("Y", "回", expected="2022-04-08", returned=True),
        away_row("V", "远", expected="2022-04-20"),
    ])
    return returnees, away


def test_arrivals_in_the_next_three_days_from_registrations_and_the_away_ledger(arrival_ledgers):
    soon = al.arrivals_expected(*arrival_ledgers, DAY)
    assert list(zip(soon["name"], soon["source"], soon["expected"].dt.day)) == [
        ("今", "已报备", 7), ("外", "在外人员", 9), ("三", "已报备", 10)]
    assert soon.loc[soon["name"] == "外", "origin"].item() == "浙江省杭州市"


def test_arrivals_not_registered_three_days_ahead(arrival_ledgers):
    late = al.late_registrations(arrival_ledgers[0], DAY)
    assert list(zip(late["name"], late["lead_days"].astype(object).where(late["lead_days"].notna(), None))) == [
        ("迟", 1), ("无", None)]


def test_registered_people_who_did_not_arrive(arrival_ledgers):
    gone = al.no_shows(arrival_ledgers[0], DAY)
    assert list(zip(gone["name"], gone["days_late"])) == [("未", 2)]


# -- Villages' daily reports ------------------------------------------------------------


def test_village_reports_missing_at_five_including_zero_reports():
    villages = frame("villages", [dict(name=n, secretary=f"{n}书记", secretary_phone="13700000000")
                                  for n in ("柳湾村", "杏园村", "桑庄村", "槐荫村")])
    reports = frame("village_reports", [
        dict(date="2022-04-07", village="柳湾村", reported_at="2022-04-07 15:10", zero_report=True),
        dict(date="2022-04-07", village="杏园村", reported_at="2022-04-07 17:20", zero_report=False),
        dict(date="2022-04-06", village="桑庄村", reported_at="2022-04-06 15:00", zero_report=False),
    ])
    assert al.missing_village_reports(reports, villages, DAY, datetime(2022, 4, 7, 16, 59)).empty
    missing = al.missing_village_reports(reports, villages, DAY, datetime(2022, 4, 7, 17, 0))
    # at 17:00 杏园村's report (17:20) is not in yet
    assert list(zip(missing["village"], missing["state"])) == [
        ("杏园村", "未报告"), ("桑庄村", "未报告"), ("槐荫村", "未报告")]
    later = al.missing_village_reports(reports, villages, DAY, datetime(2022, 4, 7, 18, 0))
    assert list(zip(later["village"], later["state"])) == [
        ("桑庄村", "未报告"), ("槐荫村", "未报告"), ("杏园村", "迟报")]
    assert later.loc[2, "secretary"] == "杏园村书记"
    assert later.loc[2, "reported_at"] == pd.Timestamp("2022-04-07 17:20")
    # the daily report's table says the same words for the same villages
    status = village_report_status({"villages": villages, "village_reports": reports}, DAY)
    assert status["status"].to_dict() == {"柳湾村": "零报告", "杏园村": "迟报", "桑庄村": "未报告", "槐荫村": "未报告"}
    assert dict(zip(later["village"], later["state"])) == status["status"][status["status"] != "零报告"].to_dict()


def test_the_report_deadline_and_words_live_in_one_place():
    from fangkong_lib.domain import daily, reports

    assert daily.REPORT_DEADLINE is reports.REPORT_DEADLINE == time(17, 0)
    assert daily.village_report_status is reports.village_report_status
    assert not hasattr(al, "REPORT_CUTOFF")
    words = [reports.REPORT_ON_TIME, reports.REPORT_ZERO, reports.REPORT_LATE, reports.REPORT_MISSING]
    for path in (Path(al.__file__), Path(daily.__file__)):
        text = path.read_text(encoding="utf-8")
        assert not any(f'"{w}"' in text for w in words + ["未报", "逾期未报"]), path.name


def test_domain_modules_import_each_other_without_cycles():
    """alerts and overview used to import each other; the shared pieces live
    in domain/controls.py and domain/reports.py now."""
    folder = Path(al.__file__).parent
    graph = {}
    for path in folder.glob("*.py"):
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                targets.add(node.module.split(".")[0])
            elif isinstance(node, ast.ImportFrom) and node.level == 1:
                targets.update(a.name for a in node.names)
        graph[path.stem] = targets & {p.stem for p in folder.glob("*.py")}

    def reaches(start, goal, seen=()):
        return any(t == goal or (t not in seen and reaches(t, goal, (*seen, t))) for t in graph.get(start, ()))

    assert [m for m in graph if reaches(m, m)] == []


# -- The demo township --------------------------------------------------------------------


def test_every_list_on_the_demo_day_agrees_with_the_overview(demo_data):
    lists = al.summarize_alerts(demo_data.ledgers, DAY, datetime(2022, 4, 7, 17, 0))
    assert list(lists) == list(al.ALERT_LABELS)
    for key, rows in lists.items():
        assert isinstance(rows, pd.DataFrame)
        assert set(rows.columns) <= set(al.ALERT_COLUMNS), key
    ov = summarize_overview(demo_data.ledgers, DAY)
    assert len(lists["tests_overdue"]) == ov.kpis["tests_overdue"]
    assert len(lists["fevers"]) >= ov.kpis["fevers"]  # one row per reading, the overview counts people
    assert set(lists["fevers"]["id_number"]) == set(ov.fevers["id_number"])
    # The demo leaves a few things undone on its day, so each kind of list shows up.
    for key in ("tests_due", "temperatures_missing", "releases_due", "arrivals_expected", "late_registrations",
                "reports_missing"):
        assert len(lists[key]) > 0, key


def test_lists_do_not_change_the_ledgers(demo_data):
    before = {k: v.copy() for k, v in demo_data.ledgers.items() if k in ("controls", "tests", "daily_checks")}
    al.summarize_alerts(demo_data.ledgers, DAY, datetime(2022, 4, 7, 17, 0))
    for key, frame_before in before.items():
        pd.testing.assert_frame_equal(demo_data.ledgers[key], frame_before)


# -- Arrival tests (落地核酸) ------------------------------------------------------------


def test_arrivals_without_an_arrival_test_once_the_24_hours_are_over():
    returnees = frame("returnees", [
        returnee("A", "甲", arrival="2022-04-05"),  # nothing: missing since the end of the 6th
        dict(returnee("B", "乙", arrival="2022-04-05"), landing_test_time="2022-04-05 15:00"),
        returnee("C", "丙", arrival="2022-04-04"),  # sampled by the village doctor on the 5th
        returnee("D", "丁", arrival="2022-04-06"),  # still within its time on the 7th
        dict(returnee("E", "戊", arrival="2022-04-03"), landing_test_time="2022-04-01 09:00"),  # the 48 h test
        returnee("Z", "旧", arrival="2022-03-20"),  # outside the 14-day window
        returnee("N", "未", expected="2022-04-08"),  # not arrived
    ])
    tests = frame("tests", [sample("C", "2022-04-05"), sample("E", "2022-04-02")])
    missing = al.arrival_tests_missing(returnees, tests, DAY, datetime(2022, 4, 7, 9, 0))
    assert list(zip(missing["name"], missing["days_late"])) == [("戊", 3), ("甲", 1)]
    assert missing.loc[1, "due_by"] == pd.Timestamp("2022-04-07 00:00")
    assert set(missing.columns) <= set(al.ALERT_COLUMNS)
    # a day later 丁's time is over too
    later = al.arrival_tests_missing(returnees, tests, date(2022, 4, 8), datetime(2022, 4, 8, 9, 0))
    assert set(later["name"]) == {"甲", "丁", "戊"}


def test_a_missing_arrival_test_is_an_overdue_alert_with_a_chinese_label():
    assert al.ALERT_LABELS["arrival_tests_missing"] == "落地核酸未检"
    assert "arrival_tests_missing" in al.OVERDUE_ALERTS
    data = {key: frame(key, []) for key in ("controls", "tests", "daily_checks", "away", "village_reports",
                                             "villages")}
    data["returnees"] = frame("returnees", [returnee("A", "甲", arrival="2022-04-04")])
    lists = al.summarize_alerts(data, DAY, datetime(2022, 4, 7, 9, 0))
    assert lists["arrival_tests_missing"]["name"].tolist() == ["甲"]


# -- Data that got in: test dates nobody can read ----------------------------------------


@pytest.fixture
def ledgers_with_a_bad_row(demo_data):
    """The demo ledgers with one control's 核酸日期 typed as free text."""
    data = dict(demo_data.ledgers)
    controls = data["controls"].copy()
    active = (controls["start_date"] <= pd.Timestamp(DAY)) & (controls["end_date"] >= pd.Timestamp(DAY)) \
        & controls["released_date"].isna()
    target = controls.index[active.to_numpy(dtype=bool)][0]
    controls.loc[target, "test_dates"] = "明天;后天"
    data["controls"] = controls
    return data, target, controls.loc[target]


def test_free_text_test_dates_are_skipped_and_named_not_fatal(demo_data, ledgers_with_a_bad_row):
    from fangkong_lib.domain.controls import describe_bad_rows

    data, target, row = ledgers_with_a_bad_row
    good = summarize_overview(demo_data.ledgers, DAY)
    ov = summarize_overview(data, DAY)  # used to raise and leave the page with only an error
    assert ov.bad_rows[["row", "name", "value"]].to_dict("records") == [
        {"row": target + 1, "name": row["name"], "value": "明天;后天"}]
    assert ov.notes == describe_bad_rows(ov.bad_rows)
    assert f"管控台账第{target + 1}行" in ov.notes[0] and "“明天;后天”无法识别" in ov.notes[0]
    # everyone else's figures are as before; the bad row only drops its own tests
    assert ov.kpis["under_control"] == good.kpis["under_control"]
    assert ov.kpis["tests_due"] <= good.kpis["tests_due"]
    assert row["id_number"] not in set(ov.tests_due["id_number"]) | set(ov.tests_overdue["id_number"])
    others = good.tests_overdue[good.tests_overdue["id_number"] != row["id_number"]]
    assert len(ov.tests_overdue) == len(others)
    assert good.bad_rows.empty and good.notes == []

    lists = al.summarize_alerts(data, DAY, datetime(2022, 4, 7, 17, 0))
    assert lists.bad_rows["row"].tolist() == [target + 1]
    assert len(lists["tests_due"]) > 0


def test_the_returnee_page_summary_and_day_grid_survive_a_bad_row(ledgers_with_a_bad_row):
    from fangkong_lib.domain.returnees import person_days, person_table, summarize_returnees

    data, target, row = ledgers_with_a_bad_row
    alerts = al.summarize_alerts(data, DAY, datetime(2022, 4, 7, 17, 0))
    people = person_table(data, DAY, alerts)
    summary = summarize_returnees(people, alerts, data["grids"]["code"])
    assert summary.bad_rows["row"].tolist() == [target + 1]
    assert summarize_returnees(people, alerts, data["grids"]["code"], village="不存在的村").bad_rows.empty
    assert row["id_number"] in set(summary.people["id_number"])
    tests = data["tests"][data["tests"]["id_number"] == row["id_number"]]
    checks = data["daily_checks"][data["daily_checks"]["id_number"] == row["id_number"]]
    days = person_days(row.to_dict(), tests, checks, DAY, datetime(2022, 4, 7, 17, 0))
    assert len(days) == (row["end_date"] - row["start_date"]).days + 1
    assert not days["test_state"].isin(["due", "late", "planned"]).any()  # no plan to read
    past = days[days["date"] < DAY]  # the temperatures still show
    assert len(past) and past["am_state"].isin(["done", "abnormal", "absent", "late"]).all()
