"""Supervision (监督镜): three teams' visits, the problems they found and each
problem's way through the rectification loop (发现 → 反馈 → 整改中 → 复查 → 销号)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd

from ..config import DEMO_TODAY
from .context import SUPERVISION_TEAMS, Township
from .draws import pick, random_day

STAGES = ("发现", "反馈", "整改中", "复查", "销号")


def add_problems(t: Township, n: int = 34) -> None:
    """督查问题整改: ``n`` problems at every stage, and their history."""
    rng, names, today, teams = t.rng, t.names, t.today, SUPERVISION_TEAMS
    problems = t.problems
    for i in range(n):
        when = random_day(rng, date(2022, 3, 14), today)
        v = int(rng.integers(t.n_villages))
        stage = STAGES[i] if i < len(STAGES) else pick(rng, STAGES, p=(0.06, 0.12, 0.2, 0.12, 0.5))
        if stage != "销号":  # open problems are recent: one found weeks ago would have moved on
            when = today - timedelta(days=(today - when).days % {"发现": 2, "反馈": 3, "整改中": 7, "复查": 9}[stage])
        cat = pick(rng, ("人员排查", "居家隔离", "卡点值守", "场所码", "聚集活动", "宣传", "台账资料", "物资"))
        problems.append(dict(
            problem_no=f"DC2022-{i + 1:03d}", date=when, team=teams[i % 3], method=pick(rng, ("明察", "暗访")),
            target=t.village_names[v], target_type="村", village=t.village_names[v], category=cat,
            description=f"{t.village_names[v]}{cat}工作不到位", unit=t.village_names[v] + "党支部",
            person=t.village_rows[v]["secretary"], leader=pick(rng, [s["name"] for s in t.staff if s["level"] == "网格长"]),
            measure="立即整改并书面报告", deadline=when + timedelta(days=2),
            done_date=min(when + timedelta(days=int(rng.integers(1, 3))), today) if stage in ("复查", "销号") else None,
            evidence="整改照片、书面报告" if stage in ("复查", "销号") else "",
            rechecker=pick(rng, teams) if stage == "销号" else "", stage=stage,
            accountability=pick(rng, ("无", "约谈", "通报", "诫勉"), p=(0.7, 0.15, 0.1, 0.05)),
        ))
    t.out["problems"] = pd.DataFrame(problems)
    t.out["problem_events"] = pd.DataFrame(problem_history(problems, rng, names, today))


def add_supervision_visits(t: Township) -> None:
    """督查记录 (see :func:`supervision_visits`)."""
    t.out["supervisions"] = pd.DataFrame(
        supervision_visits(t.problems, t.places, SUPERVISION_TEAMS, t.rng, t.names, t.today,
                           villages=t.village_names, checkpoints=t.checkpoints))


def supervision_visits(problems, places, teams, rng, names, today: date, n_visits: int = 66, *,
                       villages, checkpoints) -> list[dict]:
    """督查记录: one row per visit of a team. Every problem came from a visit;
    most visits find nothing (60+ visits, 30+ problems)."""
    content = {"村": "人员排查、居家隔离、值班值守", "场所": "场所码张贴、扫码测温、消毒登记", "卡点": "卡点值守、登记查验"}
    visits: dict[tuple, dict] = {}

    def visit(when, team, method, target, kind, village, place_code=None):
        return visits.setdefault((when, team, target), dict(
            date=when, team=team, method=method, target=target, target_type=kind, village=village,
            place_code=place_code, content=content[kind], problems_found=0,
            inspectors=f"{names.person()}、{names.person()}",
        ))

    for p in problems:
        visit(p["date"], p["team"], p["method"], p["target"], p["target_type"], p["village"])["problems_found"] += 1
    while len(visits) < n_visits:
        when, team = random_day(rng, date(2022, 3, 14), today), pick(rng, teams)
        method = pick(rng, ("明察", "暗访"))
        kind = pick(rng, ("村", "场所", "卡点"), p=(0.5, 0.3, 0.2))
        if kind == "村":
            village = pick(rng, villages)
            visit(when, team, method, village, kind, village)
        elif kind == "场所":
            place = places[int(rng.integers(len(places)))]
            visit(when, team, method, place["name"], kind, place["village"], place["code"])
        else:
            visit(when, team, method, pick(rng, checkpoints), kind, None)
    return sorted(visits.values(), key=lambda r: (r["date"], r["team"], r["target"]))


def problem_history(problems: list[dict], rng, names, today: date = DEMO_TODAY) -> list[dict]:
    """Each problem's steps up to its current stage (发现 → 反馈 → 整改中 →
    复查 → 销号), with who, when and evidence; some re-inspections fail once."""
    order = ("发现", "反馈", "整改中", "复查", "销号")
    events = []
    for p in problems:
        found = datetime.combine(p["date"], datetime.min.time()) + timedelta(hours=9 + int(rng.integers(0, 5)))
        steps = list(order[: order.index(p["stage"]) + 1])
        if p["stage"] in ("复查", "销号") and rng.random() < 0.25:
            steps[3:3] = ["复查", "复查未通过", "整改中"]
        # spread the steps between discovery and now (the demo day, 17:00)
        now = datetime.combine(today, datetime.min.time()) + timedelta(hours=17)
        window = min(now - found, timedelta(days=2 + len(steps)))
        for k, step in enumerate(steps):
            t = found + (window * k / len(steps) if k else timedelta(0))
            t = t.replace(second=0, microsecond=0)
            events.append(dict(
                problem_no=p["problem_no"], step=step, time=t,
                who=p["team"] if step in ("发现", "复查", "复查未通过", "销号") else p["unit"],
                unit=p["unit"] if step == "反馈" else None, person=p["person"] if step == "反馈" else None,
                deadline=p["deadline"] if step == "反馈" else None,
                note={"发现": p["description"], "反馈": "当日反馈，限期整改", "整改中": "正在整改",
                      "复查": "现场复查", "复查未通过": "整改不到位，退回重新整改", "销号": "整改到位，予以销号"}[step],
                evidence="整改照片、书面报告" if step in ("复查", "销号") else "",
            ))
    return events
