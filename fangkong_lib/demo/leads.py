"""Leads (线索核查) and the clinics' fever reports: one story told by the
checkpoints, the sentinels and the pushes built before.

- pushes: most verified in time, some late, some still open on the demo
  day (a few of them already overdue);
- a few travellers stopped at a checkpoint without pre-registration were
  verified at home by their grid and became returnees (registered on the
  spot, with their plan); the other unregistered arrivals were verified in
  time or late, the last ones are still open;
- drug buyers with and without a follow-up test, and a few who had a
  negative arrival test the day before and so raised no lead;
- clinics' fever reports, tested the same day (a few late, the demo day's
  still open).

The leads themselves are what :func:`fangkong_lib.domain.leads.plan_sync`
derives from these ledgers (as the workbook's own sync would), then the
grids' work on them. Draws come from this section's own generator.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd

from ..domain.leads import data_now, plan_sync, responsible_people, source_leads
from ..domain.plans import make_plan
from ..ingest.normalize import sex_from_id
from ..ledgers import get_ledger
from ..policy import load_regimes
from ..policy.leads import load_lead_policy
from ..store import coerce_frame
from .context import Township
from .draws import Names, pick, random_day
from .sentinels import health_centre
from .returns import _control, _daily_checks, _returnee, _tests

#: This section's own generator: ``default_rng([seed, SECTION])``.
SECTION = 12
#: Unregistered arrivals verified at home who became returnees.
N_RETURNED = 4
N_FEVER_REPORTS = 26
#: Share of verifications done after the deadline.
LATE_SHARE = 0.15
SYMPTOMS = ("发热", "发热、咳嗽", "发热、咽痛", "发热、乏力", "发热、头痛")


def add_leads(t: Township) -> None:
    """Fever reports, the pushes' and checkpoints' story, and the leads."""
    rng = np.random.default_rng([t.seed, SECTION])
    own = replace(t, rng=rng, names=Names(rng))
    now = data_now(t.today)
    _push_story(own)
    returned = _arrivals_become_returnees(own)
    _buyers_with_a_recent_test(own)
    _fever_reports(own)
    policy = load_lead_policy()
    ledgers = {k: coerce_frame(get_ledger(k), v.copy()) for k, v in t.out.items() if k in _READ}
    empty = coerce_frame(get_ledger("leads"), pd.DataFrame(columns=get_ledger("leads").columns))
    plan = plan_sync(source_leads(ledgers, policy, t.village_names), empty, ledgers, policy, now=now)
    responsible = responsible_people(t.out["grids"])
    cadre = dict(zip(t.out["grids"]["code"], t.out["grids"]["cadre"]))
    rows = [_worked(own, r, now, returned, responsible, cadre) for r in plan.new]
    t.out["leads"] = pd.DataFrame(rows, columns=get_ledger("leads").columns)


_READ = ("pushes", "checkpoint_logs", "drug_buyers", "fever_reports", "returnees", "controls", "away", "tests",
         "grids")


def _at(day: date, hours: float) -> datetime:
    return datetime.combine(day, time(0)) + timedelta(hours=hours)


def _push_story(t: Township) -> None:
    """Some verified pushes were late; on the demo day some are still open,
    the ones of the two days before already overdue."""
    rng, today = t.rng, t.today
    pushes = t.out["pushes"].copy()
    cutoff = _at(today, 17)
    plain = pushes["result"].isin(("已核实在本地", "已核实不在本地", "无法联系", "信息有误"))
    for i in pushes.index[plain]:
        pushed = pushes.at[i, "pushed_at"]
        late = pushed + timedelta(hours=float(rng.uniform(26, 44)))
        if rng.random() < LATE_SHARE and late <= cutoff:
            pushes.at[i, "verified_at"] = late.replace(second=0, microsecond=0)
    days = pushes["pushed_at"].map(lambda ts: ts.date())
    still_open = list(pushes.index[plain & days.isin((today - timedelta(days=2), today - timedelta(days=1)))][:3])
    still_open += list(pushes.index[plain & (days == today)][:4])
    pushes.loc[still_open, ["result", "verified_at", "verifier"]] = ["待核查", None, None]
    t.out["pushes"] = pushes


def _arrivals_become_returnees(t: Township) -> dict[str, tuple[dict, datetime]]:
    """A few unregistered arrivals, verified at home by their grid within the
    day, registered (报备 by the village) with their arrival and plan:
    ID → (returnee row, when verified)."""
    rng, today = t.rng, t.today
    logs = t.out["checkpoint_logs"]
    days = logs["time"].map(lambda ts: ts.date())
    fit = logs[~logs["pre_registered"] & logs["outcome"].isin(("放行", "临时隔离")) &
               days.between(today - timedelta(days=12), today - timedelta(days=1))]
    chosen = fit.iloc[np.sort(rng.choice(len(fit), size=min(N_RETURNED, len(fit)), replace=False))]
    regimes = load_regimes()
    returnees, controls, tests, checks = [], [], [], []
    out: dict[str, tuple[dict, datetime]] = {}
    for log in chosen.to_dict("records"):
        v = t.village_names.index(log["destination"])
        cells = t.grids_by_village[v]
        g = cells[int(rng.integers(len(cells)))]
        verified = (log["time"] + timedelta(hours=float(rng.uniform(2, 16)))).replace(second=0, microsecond=0)
        arrival = log["time"].date()
        person = _returnee(t, v, g, log["id_number"], sex_from_id(log["id_number"]))
        category = "省内低风险地区" if str(log["origin"]).startswith("河南") else "省外低风险地区"
        person.update(
            report_date=verified.date(), report_channel="村委", name=log["name"], phone=log["phone"],
            origin=log["origin"], travel_history=log["origin"], risk_category=category, left_risk_date=None,
            expected_arrival=arrival, actual_arrival=arrival, transport="自驾", vehicle_no=log["plate"],
            test48_time=None, test48_result=None, health_code=log["health_code"], trip_star=log["trip_star"],
            landing_test_time=log["time"], landing_test_result="阴性",
            note=f"{log['checkpoint']}发现未报备，网格上门核实后纳入管理",
        )
        returnees.append(person)
        t.returnees.append(person)
        plan = make_plan(category, arrival, None, regimes=regimes)
        if plan.controlled:
            control = _control(t, v, g, person, plan)
            control["found_via"] = "排查"
            controls.append(control)
            tests += _tests(t, v, person, plan)
            checks += _daily_checks(t, g, person, plan)
        out[log["id_number"]] = (person, verified)
    for key, rows in (("returnees", returnees), ("controls", controls), ("tests", tests), ("daily_checks", checks)):
        if rows:
            t.out[key] = pd.concat([t.out[key], pd.DataFrame(rows)], ignore_index=True)
    return out


def _buyers_with_a_recent_test(t: Township, n: int = 5) -> None:
    """Returnees who bought cough or fever medicine the day after a negative
    arrival test: registered, but no lead (the test is within the limit)."""
    rng, today = t.rng, t.today
    controlled = set(t.out["controls"]["id_number"])
    fit = [r for r in t.returnees if r["id_number"] not in controlled and r["landing_test_result"] == "阴性"
           and r["actual_arrival"] is not None and today - timedelta(days=4) <= r["actual_arrival"] < today]
    clinics = [p["name"] for p in t.places if p["category"] in ("药店", "诊所")]
    rows = []
    for r in fit[:n]:
        dclass = pick(rng, ("退热", "止咳"))
        rows.append(dict(
            date=r["actual_arrival"] + timedelta(days=1), outlet=pick(rng, clinics), name=r["name"],
            id_number=r["id_number"], phone=r["phone"], village=r["village"],
            drug={"退热": "对乙酰氨基酚片", "止咳": "急支糖浆"}[dclass], drug_class=dclass,
            temperature=round(float(rng.normal(36.5, 0.2)), 1), test_date=r["actual_arrival"], test_result="阴性",
            checker=t.names.person(), status="已核酸",
        ))
    if rows:
        t.out["drug_buyers"] = pd.concat([t.out["drug_buyers"], pd.DataFrame(rows)], ignore_index=True)


def _fever_reports(t: Township) -> None:
    """发热病人报告 of the health centre and the clinics: half of them people
    the ledgers know (matched by ID), tested the same day, a few late, the
    demo day's partly still waiting."""
    rng, today = t.rng, t.today
    clinics = [health_centre(t)] + [p["name"] for p in t.places if p["category"] == "诊所"]
    known = [r for r in t.returnees if r["actual_arrival"] is not None]
    rows = []
    for _ in range(N_FEVER_REPORTS):
        day = random_day(rng, date(2022, 3, 25), today)
        at = _at(day, float(rng.uniform(8, 20))).replace(second=0, microsecond=0)
        if rng.random() < 0.5:
            r = known[int(rng.integers(len(known)))]
            name, idn, phone, village = r["name"], r["id_number"], r["phone"], r["village"]
            sex = r["sex"]
        else:
            idn, sex = t.new_person()
            name, phone, village = t.names.person(), t.names.phone(), pick(rng, t.village_names)
        roll = rng.random()
        if day == today and roll < 0.5:
            test_time = None  # still to be tested tonight
        elif roll < 0.1 and day < today:
            test_time = _at(day + timedelta(days=1), float(rng.uniform(8, 11)))  # tested late
        else:
            test_time = min(at + timedelta(hours=float(rng.uniform(0.5, 3))), _at(day, 23.5))
        rows.append(dict(
            reported_at=at, clinic=pick(rng, clinics), name=name, sex=sex, id_number=idn, phone=phone,
            village=village, temperature=round(t.fever(day) + float(rng.uniform(0.1, 1.6)), 1),
            symptoms=pick(rng, SYMPTOMS), onset_date=day - timedelta(days=int(rng.integers(0, 3))),
            handling=pick(rng, ("留观", "居家观察", "转诊"), p=(0.5, 0.4, 0.1)),
            test_time=test_time and test_time.replace(second=0, microsecond=0),
            test_result="阴性" if test_time else None, doctor=t.names.person(), note="",
        ))
    t.out["fever_reports"] = pd.DataFrame(sorted(rows, key=lambda r: r["reported_at"]))


def _worked(t: Township, lead: dict, now: datetime, returned: dict, responsible, cadre: dict) -> dict:
    """A lead after the grids' work on it: assigned when it had no grid (the
    last day's leads partly still waiting), checkpoint leads verified (the
    ones found at home into the returnee workflow), in time or late."""
    rng = t.rng
    lead = {"outcome": None, "verified_at": None, "verifier": None, "measure": None, **lead}
    received = lead["received_at"]
    recent = now - received < timedelta(hours=24)
    if lead["grid"] is None and lead["village"] and not (recent and lead["outcome"] is None and rng.random() < 0.5):
        cells = t.grids_by_village[t.village_names.index(lead["village"])]
        g = cells[int(rng.integers(len(cells)))]
        lead.update(grid=g["code"], matched_by="人工分派", assignee=responsible.get(g["code"]))
    if lead["id_number"] in returned:
        person, verified = returned[lead["id_number"]]
        lead.update(outcome="已核实在本地", verified_at=verified, verifier=cadre.get(person["grid"]),
                    measure="已纳入返乡人员管理", grid=person["grid"], village=person["village"], returnee=True,
                    assignee=responsible.get(person["grid"]))
    elif lead["source"] == "卡口" and lead["outcome"] is None and lead["grid"] and not recent and rng.random() > 0.05:
        late = rng.random() < LATE_SHARE
        verified = received + timedelta(hours=float(rng.uniform(25, 40) if late else rng.uniform(1, 22)))
        if verified <= now:
            lead.update(outcome=pick(rng, ("已核实不在本地", "信息有误", "无法联系"), p=(0.7, 0.15, 0.15)),
                        verified_at=verified.replace(second=0, microsecond=0), verifier=cadre.get(lead["grid"]),
                        measure="已电话及上门核实")
    return lead
