"""The returnee page's state, driven by setting traits and calling the form
methods of the model (no browser). Read-only tests use the session's demo
database; tests that write get a copy of their own."""

from __future__ import annotations

import json
import re
from datetime import date, datetime

import pandas as pd
import pytest
import traitlets

from fangkong_lib import store
from fangkong_lib.dataset import Dataset
from fangkong_lib.domain.returnees import KPI_LABELS, PERSON_STATUSES
from fangkong_lib.domain.returnees import regime_name
from fangkong_lib.ingest.normalize import mask_id
from fangkong_lib.ui.returnees import ReturneeModel, ReturneePage

DAY = date(2022, 4, 7)
RAW_ID = re.compile(r"(?<![\d*])\d{17}[\dX](?![\d*])")


@pytest.fixture
def model(demo_data):
    return ReturneeModel(demo_data)


@pytest.fixture
def writable(writable_demo_db) -> ReturneeModel:
    """A model on a fresh copy of the demo township."""
    return ReturneeModel(Dataset.load(writable_demo_db, reload=True), operator="李干事")


def ids_in(people: pd.DataFrame) -> set[str]:
    return set(people["id_number"])


def audit_count(m: ReturneeModel) -> int:
    return len(store.load_audit(m.data.engine))


# -- Reading -----------------------------------------------------------------------------


def test_default_is_the_demo_day_at_the_evening_report(model):
    assert (model.day, model.clock, model.now) == (DAY, "17:00", datetime(2022, 4, 7, 17, 0))
    assert model.status.startswith("已更新") and not model.error, model.status
    assert list(model.kpis) == list(KPI_LABELS)
    assert model.kpis["people"] == sum(model.kpis[s] for s in PERSON_STATUSES) > 1000
    assert model.kpis["管控中"] > 0 and model.kpis["在外"] > 0 and model.kpis["fevers"] > 0
    assert "<iframe" in model.map_html and "筛选人数" in model.map_html
    assert 'data-alert="fevers"' in model.alerts_html and "fk-returnee-list" in model.table_html
    assert model.detail_html and "请在上方选择" in model.detail_html


def test_filters_change_kpis_table_map_and_lists_together(model, demo_data):
    before = dict(model.kpis), model.map_html, model.table_html, model.alerts_html
    village = demo_data.village_names[9]
    model.village = village
    shown = model.summary.people
    assert 0 < len(shown) == model.kpis["people"] < before[0]["people"]
    assert set(shown["village"]) == {village}
    assert model.map_html != before[1] and model.table_html != before[2] and model.alerts_html != before[3]
    for key, rows in model.summary.alerts.items():
        assert set(rows["village"]) <= {village}, key
    assert all(village in label for label, _ in model.person_options)

    model.person_status = "管控中"
    assert set(model.summary.people["status"]) == {"管控中"} and model.kpis["在外"] == 0
    assert model.kpis["people"] == model.kpis["管控中"]
    assert model.summary.alerts["arrivals_expected"].empty  # people under control are not arriving

    model.person_status = ""
    model.measure = "集中隔离"
    assert all("集中隔离" in m.split("+") for m in model.summary.people["measure"])

    model.measure = ""
    model.category = "省外低风险地区"
    assert set(model.summary.people["category"]) == {"省外低风险地区"}

    model.category = ""
    model.date_from, model.date_to = date(2022, 4, 1), date(2022, 4, 5)
    keys = model.summary.people["key_date"]
    assert len(keys) and keys.between(pd.Timestamp("2022-04-01"), pd.Timestamp("2022-04-05")).all()

    model.date_from = model.date_to = None
    model.village = ""  # one village may have nobody overdue on the demo day: the whole township has
    model.only_overdue = True
    assert len(model.summary.people) and model.summary.people["overdue"].all()


def test_a_grid_of_another_village_is_dropped_when_the_village_changes(model, demo_data):
    grids = demo_data.ledgers["grids"]
    first, second = demo_data.village_names[0], demo_data.village_names[1]
    model.village = first
    model.grid = grids[grids["village"] == first]["code"].iloc[0]
    assert set(model.summary.people["grid"]) <= {model.grid}
    model.village = second
    assert model.grid == ""
    assert {c for _, c in model.grid_options} - {""} == set(grids[grids["village"] == second]["code"])
    assert not model.error


def test_values_the_browser_could_send_are_checked(model):
    for trait, value in (("village", "<img src=x onerror=alert(1)>"), ("grid", "CJ99"), ("person_status", "隔离"),
                         ("measure", "封控"), ("category", "火星"), ("selected", "110105194912310021")):
        with pytest.raises(traitlets.TraitError):
            setattr(model, trait, value)


def test_the_clock_decides_what_is_missing(model):
    at_five = model.kpis["temperatures_missing"], model.kpis["reports_missing"]
    assert at_five[0] > 0 and at_five[1] > 0
    model.clock = "10:00"
    assert (model.kpis["temperatures_missing"], model.kpis["reports_missing"]) == (0, 0)
    model.clock = "12:30"  # the morning slot is late from noon
    noon = model.summary.alerts["temperatures_missing"]
    assert set(noon["slot"]) <= {"上午"}
    model.clock = "25:00"
    assert model.error and model.status.startswith("出错") and "时:分" in model.status


def test_a_past_day_is_over_and_a_date_range_must_make_sense(model):
    model.day = date(2022, 4, 1)
    assert model.now == datetime(2022, 4, 1, 23, 59) and not model.error
    assert model.kpis["管控中"] > 0
    model.date_from, model.date_to = date(2022, 4, 5), date(2022, 4, 1)
    assert model.error and "结束早于开始" in model.status


def control_regime(model) -> str:
    return model.control()["regime"]


def test_a_person_under_control_shows_plan_days_and_team(model):
    model.person_status = "管控中"
    label, idn = model.person_options[0]
    model.selected = idn
    html = model.detail_html
    assert 'class="fk-days"' in html and "五包一责任人" in html
    assert regime_name(control_regime(model)) in html  # the plan names the regime it follows
    assert html.count("<tr><td>") == 5  # five roles, as the seed names them
    for role in ("乡干部", "支部书记", "村医", "一村一警", "志愿者"):
        assert role in html
    assert mask_id(idn) in html and idn not in html and not RAW_ID.search(html)
    days = model.days()
    control = model.control()
    assert len(days) == (control["end_date"] - control["start_date"]).days + 1
    assert set(days["test_state"]) <= {"done", "due", "late", "abnormal", "planned", "absent", "none"}
    assert mask_id(idn) in label and idn not in label


def test_someone_not_yet_arrived_has_no_plan_yet(model):
    model.person_status = "已报备"
    model.selected = model.person_options[0][1]
    assert "尚未到达" in model.detail_html and "fk-days" not in model.detail_html


def test_tables_lists_and_map_never_show_personal_data(model):
    model.person_status = "管控中"
    people = model.summary.people
    for html in (model.table_html, model.alerts_html, model.detail_html):
        assert not RAW_ID.search(html)
        assert not any(p in html for p in people["phone"].dropna())
    # The map aggregates per grid cell: no person, not even masked.
    for idn in people["id_number"]:
        assert idn not in model.map_html and mask_id(idn) not in model.map_html
    # grid tooltips (JSON inside the map document) count the filtered people
    in_json = lambda text: json.dumps(text)[1:-1]  # noqa: E731
    assert in_json("筛选人数：") in model.map_html and in_json("管控中：") not in model.map_html


def test_page_widgets_follow_the_model(model):
    page = ReturneePage(model)
    page._pstatus.value = "管控中"
    assert model.person_status == "管控中"
    assert 'data-kpi="管控中"' in page._kpis.value and page._map.value == model.map_html
    labels = [label for label, _ in page._person.options]
    assert len(labels) == len(model.person_options) + 1
    assert not any(RAW_ID.search(label) for label in labels)
    page._person.value = model.person_options[0][1]
    assert model.selected == model.person_options[0][1] and page._detail.value == model.detail_html
    page._village.value = model.data.village_names[2]
    assert page._grid.options == tuple(model.grid_options)


# -- Writing -------------------------------------------------------------------------------


def _under_control_without_fever(m: ReturneeModel) -> str:
    m.person_status = "管控中"
    hot = set(m.summary.alerts["fevers"]["id_number"])
    return next(i for _, i in m.person_options if i not in hot)


def test_recording_a_fever_updates_the_page_at_once(writable):
    m = writable
    idn = _under_control_without_fever(m)
    m.selected = idn
    fevers = m.kpis["fevers"]
    before = audit_count(m)
    assert m.record_temperature({"date": DAY, "slot": "下午", "temperature": "38.1"})
    assert m.kpis["fevers"] == fevers + 1
    assert idn in set(m.summary.alerts["fevers"]["id_number"])
    name = m.person()["name"]
    assert name in m.alerts_html.split('data-alert="fevers"')[1].split("fk-alert-list")[0]
    today = m.days().set_index("date").loc[DAY]
    assert (today["pm_state"], today["pm_text"]) == ("abnormal", "38.1")
    assert m.messages["temperature"][1] is False and "38.1" in m.messages["temperature"][0]
    assert m.status.startswith("已保存") and not m.error
    audit = store.load_audit(m.data.engine)
    assert len(audit) == before + 1 and audit.iloc[-1]["user"] == "李干事"


def test_forms_need_an_operator_and_a_writable_page(writable):
    m = writable
    m.selected = _under_control_without_fever(m)
    before = audit_count(m)
    m.operator = "  "
    assert not m.record_temperature({"date": DAY, "slot": "上午", "temperature": "36.5"})
    assert m.messages["temperature"][1] and "操作人" in m.messages["temperature"][0]
    assert m.error and "未保存" in m.status
    read_only = ReturneeModel(m.data, read_only=True, operator="李干事")
    read_only.selected = m.selected
    assert not read_only.record_temperature({"date": DAY, "slot": "上午", "temperature": "36.5"})
    assert "只读" in read_only.messages["temperature"][0]
    nobody = ReturneeModel(m.data, operator="李干事")
    assert not nobody.record_test({"sample_date": DAY, "result": "阴性"})
    assert "请先" in nobody.messages["test"][0]
    assert audit_count(m) == before


def test_a_bad_value_is_explained_next_to_its_form(writable):
    m = writable
    m.selected = _under_control_without_fever(m)
    before = audit_count(m)
    assert not m.record_temperature({"date": DAY, "slot": "上午", "temperature": "三十六"})
    text, error = m.messages["temperature"]
    assert error and "体温「三十六」：应为数字" in text
    assert audit_count(m) == before


def test_a_test_taken_leaves_the_list_of_tests_due(writable):
    m = writable
    due = m.summary.alerts["tests_due"]
    idn = due["id_number"].iloc[0]
    m.selected = idn
    n = m.kpis["tests_due"]
    assert m.record_test({"sample_date": DAY, "result": "待出", "method": "上门"})
    assert m.kpis["tests_due"] == n - 1 and idn not in set(m.summary.alerts["tests_due"]["id_number"])
    assert m.days().set_index("date").loc[DAY, "test_state"] == "done"


def test_a_release_due_today(writable):
    m = writable
    due = m.summary.alerts["releases_due"]
    ready = due[due["tests_pending"] == 0]
    idn = ready["id_number"].iloc[0]
    m.selected = idn
    counts = m.kpis["releases_due"], m.kpis["管控中"], m.kpis["已解除"]
    assert m.record_release({"released_date": DAY}), m.messages
    assert (m.kpis["releases_due"], m.kpis["管控中"], m.kpis["已解除"]) == (counts[0] - 1, counts[1] - 1,
                                                                         counts[2] + 1)
    assert m.person()["status"] == "已解除"


def test_an_arrival_puts_a_registered_person_under_control(writable):
    m = writable
    m.person_status = "已报备"
    registered = m.summary.people
    row = registered[registered["category"].isin(["高风险区", "中风险区", "中高风险区所在市其他县", "省外低风险地区"])]
    idn = row["id_number"].iloc[0]
    m.person_status = ""
    m.selected = idn
    counts = m.kpis["已报备"], m.kpis["管控中"]
    assert m.record_arrival({"actual_arrival": DAY, "landing_test_result": "待出", "health_code": "绿码"}), m.messages
    assert (m.kpis["已报备"], m.kpis["管控中"]) == (counts[0] - 1, counts[1] + 1)
    assert m.person()["status"] == "管控中" and "管控措施" in m.messages["arrival"][0]
    assert "fk-days" in m.detail_html and "待指定" not in m.detail_html  # a full 五包一 team


def test_a_registration_from_a_person_away(writable):
    m = writable
    label, away_id = m.away_options()[0]
    assert "在外" in label and away_id not in label
    assert m.record_preregistration({"risk_category": "省外低风险地区", "expected_arrival": "2022-04-12",
                                     "report_channel": "电话"}, away_id=away_id), m.messages
    assert m.selected == away_id and m.person()["status"] == "已报备"
    assert "已关联在外人员台账" in m.messages["prereg"][0]
    assert away_id not in {i for _, i in m.away_options()}


def test_text_from_the_ledgers_is_shown_as_text(model):
    """Names and villages come from villages' Excel files: escaped everywhere."""
    from fangkong_lib.views.returnees import alerts_html, person_detail_html, returnee_table_html

    evil = '<img src=x onerror="alert(1)">${alert(2)}`'
    people = model.people.head(3).assign(name=evil, village=evil, flags=evil)
    lists = {k: v.head(2).assign(name=evil) if "name" in v else v.head(2).assign(village=evil)
             for k, v in model.summary.alerts.items()}
    person = people.iloc[0].to_dict()
    for html in (returnee_table_html(people), alerts_html(lists),
                 person_detail_html(person, control={**model.data.ledgers["controls"].iloc[0].to_dict(),
                                                     "team": f"{evil};b;c;d;e"}, team=[("包村乡干部", evil)])):
        assert "<img" not in html and "${" not in html and "`" not in html
        assert "&lt;img src=x" in html


def test_each_kpi_card_selects_its_action_list(model):
    """Issue 11.8: a KPI card opens the list it counts: an alert KPI its
    action list, a status KPI the people in that status."""
    page = ReturneePage(model)
    overdue = model.kpis["tests_overdue"]
    assert overdue > 0
    page._kpis.click("tests_overdue")
    body = page._focus_body.value
    assert 'data-alert="tests_overdue"' in body and "data-alert=" not in body.replace('data-alert="tests_overdue"', "")
    assert f'<span class="fk-count">{overdue}</span>' in body and not RAW_ID.search(body)
    page._kpis.click("管控中")
    assert model.focus == "管控中" and "管控中" in page._focus_title.value
    assert max(page._focus_body.value.count("<tr>") - 1, 0) == model.kpis["管控中"] > 0
    model.village = model.village_options[2][1]  # the open list follows the filters
    assert max(page._focus_body.value.count("<tr>") - 1, 0) == model.kpis["管控中"]
    assert "people" not in model.kpi_lists  # 筛选人数 is the table below, not a list of its own
