"""Checkpoints (gate 6), medical sentinels' drug buyers (gate 5) and big-data
push verification (大数据推送核查)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pandas as pd

from ..ledgers import RISK_CATEGORIES
from .context import CATEGORY_WEIGHTS, ORIGINS, Township
from .draws import pick, random_day


#: Where a returnee arriving by each means of transport is checked, by index
#: into the township's checkpoints (郸城东收费站卡点, 311国道城郊卡点, S207省道卡点,
#: 郸城汽车站卡点, 郸城火车站出口卡点, 乡政府路口卡点, 东环路卡点, 南环路卡点).
ARRIVAL_CHECKPOINTS = {
    "火车": (4,),
    "客车": (3,),
    "自驾": (0, 1, 2, 6, 7, 5),
    "飞机": (0, 1),  # by car from the airport
}


def arrival_checkpoints(t: Township, transport: str) -> tuple[str, ...]:
    """The township's checkpoints where someone arriving by ``transport`` is checked."""
    return tuple(t.checkpoints[i] for i in ARRIVAL_CHECKPOINTS[transport])
FIRST_LOG_DAY = date(2022, 3, 20)


def add_checkpoint_logs(t: Township, n_unregistered: int = 140) -> None:
    """卡点登记: every returnee who arrived since the checkpoints kept logs is
    checked once on arrival (已报备, same person and ID as the pre-registration);
    ``n_unregistered`` travellers who had not registered are sampled on the
    spot and sent back, isolated or let through."""
    rng, names = t.rng, t.names
    logs = []
    for r in t.returnees:
        arrival = r["actual_arrival"]
        if arrival is None or arrival < FIRST_LOG_DAY:
            continue
        when = datetime.combine(arrival, datetime.min.time()) + timedelta(minutes=int(rng.integers(6 * 60, 23 * 60)))
        logs.append(_log(t, when, arrival_checkpoints(t, r["transport"]), r["name"], r["id_number"], r["phone"],
                         r["transport"], r["origin"], r["village"], registered=True))
        # a red code goes on to central isolation by point-to-point transfer
        logs[-1].update(health_code=r["health_code"], trip_star=r["trip_star"], test48=r["test48_result"],
                        outcome="点对点转运" if r["health_code"] == "红码" else "放行")
    for i in range(n_unregistered):
        when = datetime.combine(random_day(rng, FIRST_LOG_DAY, t.today), datetime.min.time()) + timedelta(
            minutes=int(rng.integers(0, 24 * 60)))
        idn, _sex = t.new_person()
        origin = pick(rng, ORIGINS["省外低风险地区"] + ORIGINS["省内低风险地区"])
        logs.append(_log(t, when, arrival_checkpoints(t, "自驾"), names.person(), idn, names.phone(), "自驾",
                         origin, pick(rng, t.village_names), registered=False))
    t.out["checkpoint_logs"] = pd.DataFrame(sorted(logs, key=lambda row: row["time"]))


def _log(t: Township, when: datetime, checkpoints, name: str, idn: str, phone: str, transport: str,
         origin: str, village: str, *, registered: bool) -> dict:
    """One checkpoint row; a traveller who had not registered is sampled on the spot."""
    rng = t.rng
    return dict(
        time=when, checkpoint=pick(rng, checkpoints), name=name, id_number=idn, phone=phone,
        plate=f"豫P{int(rng.integers(10000, 99999))}" if transport == "自驾" else "", transport=transport,
        passengers=int(rng.integers(0, 4)), origin=origin, destination=village,
        temperature=round(float(rng.normal(36.4, 0.2)), 1),
        health_code="绿码" if rng.random() < 0.95 else "黄码", trip_star=bool(rng.random() < 0.3),
        test48="阴性" if rng.random() < 0.92 else "无", pre_registered=registered,
        sampled=not registered, outcome="放行" if registered else pick(rng, ("劝返", "临时隔离", "点对点转运", "放行")),
        inspector=t.names.person(),
    )


def add_drug_buyers(t: Township, n: int = 220) -> None:
    """哨点: buyers of the four drug classes at pharmacies and clinics, and their follow-up test."""
    rng, names, today = t.rng, t.names, t.today
    clinics = [p for p in t.places if p["category"] in ("药店", "诊所")]
    buyers = []
    for i in range(n):
        idn, _sex = t.new_person()
        when = random_day(rng, date(2022, 3, 15), today)
        dclass = pick(rng, ("退热", "止咳", "抗病毒", "抗生素"))
        tested = when < today - timedelta(days=2) or rng.random() < 0.5
        buyers.append(dict(
            date=when, outlet=pick(rng, [c["name"] for c in clinics]), name=names.person(), id_number=idn,
            phone=names.phone(), village=pick(rng, t.village_names),
            drug={"退热": "布洛芬缓释胶囊", "止咳": "复方甘草片", "抗病毒": "奥司他韦", "抗生素": "阿莫西林胶囊"}[dclass],
            drug_class=dclass, temperature=round(float(rng.normal(36.6, 0.3)), 1),
            test_date=when + timedelta(days=1) if tested else None, test_result="阴性" if tested else None,
            checker=names.person(), status="已核酸" if tested else "待核酸",
        ))
    t.out["drug_buyers"] = pd.DataFrame(buyers)


def add_pushes(t: Township, n: int = 90) -> None:
    """大数据推送核查: pushed people and the result of checking each."""
    rng, names, today = t.rng, t.names, t.today
    pushes = []
    for i in range(n):
        idn, _sex = t.new_person()
        at = datetime.combine(random_day(rng, date(2022, 3, 15), today), datetime.min.time()) + timedelta(
            hours=int(rng.integers(6, 23)))
        done = rng.random() < 0.9 or at < datetime.combine(today - timedelta(days=2), datetime.min.time())
        pushes.append(dict(
            batch=f"TS{at:%m%d}-{int(rng.integers(1, 4))}", pushed_at=at,
            source=pick(rng, ("省平台", "协查函", "公安", "通信")), name=names.person(), id_number=idn,
            phone=names.phone(), village=pick(rng, t.village_names),
            risk_category=pick(rng, RISK_CATEGORIES, p=CATEGORY_WEIGHTS),
            # 已落实管控 belongs to the pushes that led to a control (below)
            result=pick(rng, ("已核实在本地", "已核实不在本地", "无法联系", "信息有误")) if done else "待核查",
            measure="", verified_at=min(at + timedelta(hours=int(rng.integers(1, 20))),
                                         datetime.combine(today, time(17, 0))) if done else None,
            verifier=names.person(),
        ))
    pushes += _pushes_behind_controls(t)
    t.out["pushes"] = pd.DataFrame(pushes).drop_duplicates(["batch", "id_number"])


def _pushes_behind_controls(t: Township) -> list[dict]:
    """The push behind each control found by 大数据推送: the province's list
    reached the township on the morning the person arrived, and they were
    under control (已落实管控) within the 2 hours the rules allow."""
    arrivals = {r["id_number"]: r["actual_arrival"] for r in t.returnees}
    controls = t.out["controls"]
    rows = []
    for c in controls[controls["found_via"] == "大数据推送"].to_dict("records"):
        at = datetime.combine(arrivals[c["id_number"]], datetime.min.time()) + timedelta(hours=8)
        rows.append(dict(
            batch=f"TS{at:%m%d}-1", pushed_at=at, source="省平台", name=c["name"], id_number=c["id_number"],
            phone=c["phone"], village=c["village"], risk_category=c["category"], result="已落实管控",
            measure=c["measure"], verified_at=at + timedelta(hours=1, minutes=30), verifier=c["team"][0],
        ))
    return rows
