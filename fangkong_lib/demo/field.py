"""Checkpoints (gate 6), medical sentinels' drug buyers (gate 5) and big-data
push verification (大数据推送核查)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd

from ..ledgers import RISK_CATEGORIES
from .context import CATEGORY_WEIGHTS, CHECKPOINTS, ORIGINS, VILLAGE_NAMES, Township
from .draws import pick, random_day


def add_checkpoint_logs(t: Township, n: int = 1400) -> None:
    """卡点登记: people and vehicles checked at the checkpoints."""
    rng, names, today = t.rng, t.names, t.today
    logs = []
    for i in range(n):
        when = datetime.combine(random_day(rng, date(2022, 3, 20), today), datetime.min.time()) + timedelta(
            minutes=int(rng.integers(0, 24 * 60)))
        idn, _sex = t.new_person()
        registered = rng.random() < 0.9
        logs.append(dict(
            time=when, checkpoint=pick(rng, CHECKPOINTS), name=names.person(), id_number=idn,
            phone=names.phone(), plate=f"豫P{int(rng.integers(10000, 99999))}", transport="自驾",
            passengers=int(rng.integers(0, 4)), origin=pick(rng, ORIGINS["省外低风险地区"] + ORIGINS["省内低风险地区"]),
            destination=pick(rng, VILLAGE_NAMES), temperature=round(float(rng.normal(36.4, 0.2)), 1),
            health_code="绿码" if rng.random() < 0.95 else "黄码", trip_star=bool(rng.random() < 0.3),
            test48="阴性" if rng.random() < 0.92 else "无", pre_registered=registered,
            sampled=not registered, outcome="放行" if registered else pick(rng, ("劝返", "临时隔离", "点对点转运", "放行")),
            inspector=names.person(),
        ))
    t.out["checkpoint_logs"] = pd.DataFrame(logs)


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
            phone=names.phone(), village=pick(rng, VILLAGE_NAMES),
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
            phone=names.phone(), village=pick(rng, VILLAGE_NAMES),
            risk_category=pick(rng, RISK_CATEGORIES, p=CATEGORY_WEIGHTS),
            result=pick(rng, ("已核实在本地", "已核实不在本地", "无法联系", "信息有误", "已落实管控")) if done else "待核查",
            measure="", verified_at=at + timedelta(hours=int(rng.integers(1, 20))) if done else None,
            verifier=names.person(),
        ))
    t.out["pushes"] = pd.DataFrame(pushes).drop_duplicates(["batch", "id_number"])
