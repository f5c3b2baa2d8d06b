"""People away (gate 1), returnees (gate 2) and their controls, tests and
twice-daily temperatures (gate 3), following the control-rule regimes."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd

from ..actions.plans import TeamAssigner
from ..domain.plans import make_plan
from ..ledgers import RISK_CATEGORIES
from ..policy import load_regimes
from .context import CATEGORY_WEIGHTS, ORIGINS, START_RETURNS, Township
from .draws import pick, random_day

PROVINCES = ("北京市", "上海市", "浙江省", "江苏省", "广东省", "河南省", "安徽省", "山东省", "吉林省", "河北省")


def add_people_away(t: Township, n: int | None = None) -> None:
    """在外人员: residents away, where and since when, and whether they mean to return."""
    rng, names, today = t.rng, t.names, t.today
    for _ in range(t.n_away if n is None else n):
        v, g = t.home()
        idn, sex = t.new_person()
        intends = rng.random() < 0.25
        t.away.append(dict(
            village=t.village_names[v], natural_village=g["natural_village"], group=f"{int(rng.integers(1, 9))}组",
            grid=g["code"], householder=names.person(), name=names.person(), sex=sex, id_number=idn,
            phone=names.phone(), province=pick(rng, PROVINCES), city="", county="", township="",
            address="某区某街道某小区" + str(int(rng.integers(1, 30))) + "号楼",
            risk_level=pick(rng, ("高", "中", "低", "常态化"), p=(0.02, 0.05, 0.33, 0.60)),
            reason=pick(rng, ("务工", "经商", "上学", "其他"), p=(0.62, 0.18, 0.14, 0.06)),
            left_date=random_day(rng, date(2021, 2, 20), date(2022, 2, 28)),
            intends_return=intends,
            expected_return=random_day(rng, today + timedelta(days=1), today + timedelta(days=20)) if intends else None,
            persuasion="已劝导非必要不返乡" if rng.random() < 0.8 else "",
            contact=g["member"], returned=False, note="",
        ))


def add_returnees(t: Township, n: int | None = None) -> None:
    """返乡报备 for ``n`` returnees; those who arrived and fall under a measure
    get a control with its tests and daily checks."""
    rng = t.rng
    regimes = load_regimes()
    t.team_of = TeamAssigner(t.out["grids"], t.out["natural_villages"], t.out["villages"], t.out["staff"])
    controls, tests, checks = [], [], []
    for _ in range(t.n_returnees if n is None else n):
        v, g = t.home()
        idn, sex = t.new_person()
        person = _returnee(t, v, g, idn, sex)
        t.returnees.append(person)
        arrival = person["actual_arrival"]
        if arrival is None:
            continue
        plan = make_plan(person["risk_category"], arrival, person["left_risk_date"], regimes=regimes)
        if not plan.controlled:
            continue
        controls.append(_control(t, v, g, person, plan))
        tests += _tests(t, v, person, plan)
        checks += _daily_checks(t, g, person, plan)
    # a couple of people away have since pre-registered: link them
    for person in t.away[:12]:
        person["intends_return"] = True
        person["expected_return"] = t.today + timedelta(days=int(rng.integers(1, 4)))
    _mark_returned(t)
    _fevers_today(t, checks)
    t.out["away"] = pd.DataFrame(t.away)
    t.out["returnees"] = pd.DataFrame(t.returnees)
    t.out["controls"] = pd.DataFrame(controls)
    t.out["tests"] = pd.DataFrame(tests)
    t.out["daily_checks"] = pd.DataFrame(checks)


#: Every how many-th arrived returnee was on the people-away ledger before.
RETURNED_EVERY = 10


def _mark_returned(t: Township) -> None:
    """Some people away have come home: their row on the people-away ledger
    becomes the returnee's (same person, same ID) and is marked 已返乡.

    Rows from the 13th on are used (the first twelve are still on their way).
    """
    arrived = [r for r in t.returnees if r["actual_arrival"] is not None][::RETURNED_EVERY]
    for person, returnee in zip(t.away[12:], arrived):
        origin = returnee["origin"]
        person.update(
            village=returnee["village"], natural_village=returnee["natural_village"], grid=returnee["grid"],
            name=returnee["name"], sex=returnee["sex"], id_number=returnee["id_number"], phone=returnee["phone"],
            province=next((p for p in PROVINCES if origin.startswith(p)), person["province"]),
            contact=returnee["responsible"], intends_return=True, expected_return=returnee["expected_arrival"],
            returned=True, note=f"已于{returnee['actual_arrival'].month}月{returnee['actual_arrival'].day}日返乡",
        )


def _returnee(t: Township, v: int, g, idn: str, sex: str) -> dict:
    """One pre-registration: origin and its risk, arrival (or expected arrival), tests."""
    rng, names, today = t.rng, t.names, t.today
    category = pick(rng, RISK_CATEGORIES, p=CATEGORY_WEIGHTS)
    arrived = rng.random() < 0.93
    if arrived:
        arrival = random_day(rng, START_RETURNS, today)
        expected = arrival - timedelta(days=int(rng.integers(0, 2)))
    else:
        expected = random_day(rng, today + timedelta(days=1), today + timedelta(days=5))
        arrival = None
    lead = int(rng.choice([1, 2, 3, 3, 4, 5, 6]))
    report = min(expected - timedelta(days=lead), today)  # nobody registers in the future
    left_risk = None
    if category in ("高风险区", "中风险区", "中高风险区所在县", "上海") and rng.random() < 0.5:
        left_risk = (arrival or expected) - timedelta(days=int(rng.integers(0, 4)))
    origin = pick(rng, ORIGINS[category])
    return dict(
        report_date=report, report_channel=pick(rng, ("豫事办", "电话", "村委", "微信")),
        name=names.person(), sex=sex, id_number=idn, phone=names.phone(),
        village=t.village_names[v], natural_village=g["natural_village"], grid=g["code"],
        household_address=f"郸城县{t.name}{t.village_names[v]}{g['natural_village']}",
        residence_address=f"郸城县{t.name}{t.village_names[v]}{g['natural_village']}{int(rng.integers(1, 80))}号",
        origin=origin, via="", travel_history=origin, risk_category=category,
        left_risk_date=left_risk, expected_arrival=expected, actual_arrival=arrival,
        transport=pick(rng, ("自驾", "火车", "飞机", "客车")),
        vehicle_no="", companions="",
        test48_time=datetime.combine(expected - timedelta(days=1), datetime.min.time()) + timedelta(hours=9),
        test48_result="阴性", health_code=pick(rng, ("绿码", "黄码")) if category not in ("高风险区", "中风险区") else "红码",
        trip_star=category not in ("省内低风险地区",),
        landing_test_time=(datetime.combine(arrival, datetime.min.time()) + timedelta(hours=15)) if arrival else None,
        landing_test_result=("阴性" if arrival and arrival < today else ("待出" if arrival else None)),
        responsible=g["member"], entered_by=g["cadre"], note="",
    )


def _control(t: Township, v: int, g, person: dict, plan) -> dict:
    """The control row (居家隔离/管控) of a returnee under ``plan``, with its 五包一 team."""
    rng, today = t.rng, t.today
    released = plan.end + timedelta(days=1) if plan.end < today else None
    # 五包一: the roles and where each one's person comes from are policy
    # (policy/five_in_one.toml), the same rule the returnee workflow applies
    team = t.team_of(g["code"], t.village_names[v], g["natural_village"])
    return dict(
        village=t.village_names[v], natural_village=g["natural_village"], grid=g["code"],
        house_no=f"{int(rng.integers(1, 80))}号", name=person["name"], sex=person["sex"], id_number=person["id_number"],
        phone=person["phone"], measure=plan.measure, category=person["risk_category"], origin=person["origin"],
        found_via=pick(rng, ("报备", "排查", "大数据推送", "协查"), p=(0.8, 0.1, 0.07, 0.03)),
        start_date=plan.start, end_date=plan.end, released_date=released,
        home_ok="达标" if "居家" in plan.measure or "三天" in plan.measure else "不达标",
        cohabitants=int(rng.integers(0, 5)),
        test_dates=[d.isoformat() for d in plan.test_dates], team=team,
        notice_signed=True, regime=plan.regime,
        status="已解除" if released else "管控中",
    )


def _tests(t: Township, v: int, person: dict, plan) -> list[dict]:
    """Tests of a control: most on the planned day, a few late, a few missing (overdue)."""
    rng, today = t.rng, t.today
    rows = []
    for d in plan.test_dates:
        if d > today:
            continue
        roll = rng.random()
        if roll < 0.04 and d >= today - timedelta(days=3):
            continue  # not done: shows as overdue
        if d == today and roll < 0.45:
            continue  # still to be sampled today
        late = d + timedelta(days=1)
        when = late if roll > 0.97 and d < today and late not in plan.test_dates else d
        rows.append(dict(id_number=person["id_number"], name=person["name"], village=t.village_names[v],
                         sample_date=when, method="上门" if "居家" in plan.measure else "集中",
                         result="待出" if when >= today else "阴性", sampler=t.doctors[v], note=""))
    return rows


#: Morning readings of the demo day turned into fevers when chance gave none:
#: the fever list, its alert and its briefing section always have rows to show.
DEMO_FEVERS = (37.8, 38.1)


def _fevers_today(t: Township, checks: list[dict]) -> None:
    """At least two fevers on the demo day, at people under home measures."""
    today = [c for c in checks if c["date"] == t.today]
    if any(max(c["temp_am"], c["temp_pm"] or 0) >= t.fever(t.today) for c in today):
        return
    for check, value in zip(today[::max(1, len(today) // 2)], DEMO_FEVERS):
        check["temp_am"], check["symptoms"] = value, "发热"


def _daily_checks(t: Township, g, person: dict, plan) -> list[dict]:
    """Twice-daily temperatures from arrival to the end of control (or today)."""
    rng, today = t.rng, t.today
    rows = []
    day = max(plan.start, person["actual_arrival"])
    last = min(plan.end, today)
    while day <= last:
        fever = t.fever(day)
        t_am = min(round(float(rng.normal(36.5, 0.22)), 1), 37.0)
        t_pm = min(round(float(rng.normal(36.6, 0.22)), 1), 37.1)
        if rng.random() < 0.004:
            t_pm = round(float(rng.uniform(fever, 38.6)), 1)
        if day == today:
            t_pm = None if rng.random() < 0.5 else t_pm  # afternoon not reported yet
            if rng.random() < 0.03:
                t_am = round(float(rng.uniform(fever, 38.2)), 1)
        rows.append(dict(
            date=day, id_number=person["id_number"], name=person["name"], village=person["village"],
            day_no=(day - plan.start).days + 1, temp_am=t_am,
            temp_pm=t_pm, symptoms="发热" if max(t_am, t_pm or 0) >= fever else "无",
            at_home=True, needs="", visitor=g["member"],
            reported_at=datetime.combine(day, datetime.min.time()) + timedelta(hours=16, minutes=int(rng.integers(0, 59))),
        ))
        day += timedelta(days=1)
    return rows
