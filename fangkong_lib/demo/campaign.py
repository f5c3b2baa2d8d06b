"""Gathering control and publicity (管控关, 宣传网): the approval trail and
the rule fields of the five funerals already built, weddings that keep and
break the rules of ``policy/gatherings.toml``, the joint enforcement team's
actions, and every village's publicity work since 10 March, a few villages
falling behind the targets of ``policy/publicity.toml``.

Draws from its own generator (``[seed, 1305]``), so no other section's rows
move when this one changes.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd

from ..policy.community import load_publicity_policy
from .context import Township
from .draws import Names

SECTION = 1305
#: Villages whose publicity lags (indexes into the township's villages): each misses a
#: different target, so the page shows every kind of reason.
LAGGING = {4: "broadcasts", 9: "leaflets", 13: "wechat", 16: "doors"}


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute))


def add_campaign(t: Township) -> None:
    """Gatherings' trail and rule fields, new weddings, enforcement, publicity."""
    rng = np.random.default_rng([t.seed, SECTION])
    names = Names(rng)
    gatherings = _complete_gatherings(t.out["gatherings"], t)
    weddings = _weddings(t, rng, names)
    t.out["gatherings"] = pd.concat([gatherings, pd.DataFrame(weddings)], ignore_index=True)
    t.out["enforcements"] = pd.DataFrame(_enforcements(t, rng, names, weddings))
    t.out["publicity"] = pd.DataFrame(_publicity(t, rng, names))


def _complete_gatherings(frame: pd.DataFrame, t: Township) -> pd.DataFrame:
    """The funerals were handled as the rules ask (简办, a cadre present
    throughout, 分餐): their death time lies hours before the report, and
    village and township approved them the day they were reported. The two
    weddings talked into waiting are still pending."""
    out = frame.copy()
    funerals = out["kind"] == "白事"
    reported = pd.to_datetime(out["reported_at"])
    out["deceased_at"] = (reported - pd.Timedelta(hours=14)).where(funerals)
    out["supervised"] = funerals.where(funerals)
    out["separate_meals"] = True
    secretaries = out["supervisor"]
    out["village_reviewer"] = secretaries.where(funerals)
    out["village_reviewed_at"] = (reported + pd.Timedelta(hours=1)).where(funerals)
    out["township_reviewer"] = pd.Series("乡疫情防控指挥部", index=out.index).where(funerals)
    out["township_reviewed_at"] = (reported + pd.Timedelta(hours=3)).where(funerals)
    out["refusal"] = None
    return out


def _weddings(t: Township, rng, names: Names) -> list[dict]:
    """Weddings reported around the demo day: some keep the rules (one at
    every limit: exactly 3 days ahead, 50 people, 10 per table), some break
    them and are refused or still waiting, one is approved by the village."""
    today = t.today
    plans = [
        # (days ahead of the report, report day offset, people, tables, pledge, state, refusal)
        (3, 0, 50, 5, True, "待审批", None),           # at every limit: keeps the rules
        (12, -2, 36, 4, True, "村已审批", None),
        (20, -5, 40, 5, True, "乡已审批", None),
        (2, -1, 60, 5, True, "不予批准", "村：报备不足3天，人数超过50人，已劝导缓办"),
        (5, 0, 48, 4, True, "待审批", None),            # 12 per table
        (1, 0, 30, 3, False, "待审批", None),           # late, no pledge
        (9, -3, 80, 8, True, "待审批", None),           # too many people
    ]
    rows = []
    for ahead, offset, people, tables, pledge, state, refusal in plans:
        v = int(rng.integers(len(t.village_names)))
        village = t.village_names[v]
        reported_on = today + timedelta(days=offset)
        reported = _at(reported_on, int(rng.integers(8, 12)), int(rng.integers(0, 60)))
        secretary = t.village_rows[v]["secretary"]
        row = dict(
            host=names.person(), phone=names.phone(), village=village, kind="红事",
            date=reported_on + timedelta(days=ahead), place=f"{village}事主家中", expected_people=people,
            tables=tables, outside_guests=int(rng.integers(0, 8)), pledge=pledge, supervisor=secretary,
            reported_at=reported, approval=state, actual="", separate_meals=False, supervised=None,
            deceased_at=None, village_reviewer=None, village_reviewed_at=None, township_reviewer=None,
            township_reviewed_at=None, refusal=refusal,
        )
        if state in ("村已审批", "乡已审批", "不予批准"):
            row.update(village_reviewer=secretary, village_reviewed_at=reported + timedelta(hours=2))
        if state == "乡已审批":
            row.update(township_reviewer="乡疫情防控指挥部", township_reviewed_at=reported + timedelta(hours=5))
        rows.append(row)
    return rows


def _enforcements(t: Township, rng, names: Names, weddings: list[dict]) -> list[dict]:
    """The joint team's work: persuading the refused wedding to wait,
    checking a funeral, and closing or ordering places found open against
    the rules (the places already closed or ordered to fix by inspections)."""
    rows = []
    refused = next(w for w in weddings if w["approval"] == "不予批准")
    rows.append(dict(
        time=refused["reported_at"] + timedelta(hours=4), unit="综治办", village=refused["village"],
        target_type="红白事", target=f"{refused['host']} 红事 {refused['date'].isoformat()}", place_code=None,
        host=refused["host"], event_date=refused["date"], kind="红事", action="劝导", people=refused["expected_people"],
        description="上门劝导红事缓办，事主签字同意延期", officers=f"{names.person()}、{names.person()}",
        result="已同意缓办",
    ))
    funerals = t.out["gatherings"][t.out["gatherings"]["kind"] == "白事"]
    for r in funerals.head(2).itertuples(index=False):
        rows.append(dict(
            time=pd.Timestamp(r.reported_at).to_pydatetime() + timedelta(hours=6), unit="村", village=r.village,
            target_type="红白事", target=f"{r.host} 白事 {pd.Timestamp(r.date).date().isoformat()}", place_code=None,
            host=r.host, event_date=pd.Timestamp(r.date).date(), kind="白事", action="劝导",
            people=int(r.expected_people), description="村干部全程在场，督促分餐、简办", officers=r.supervisor,
            result="简办完成",
        ))
    closed = [p for p in t.places if p.get("status") in ("停业整改", "限期整改")][:6]
    units = ("派出所", "执法大队", "综治办")
    for i, place in enumerate(closed):
        day = t.today - timedelta(days=int(rng.integers(0, 10)))
        action = "责令停业" if place["status"] == "停业整改" else "责令整改"
        rows.append(dict(
            time=_at(day, int(rng.integers(9, 18)), int(rng.integers(0, 60))), unit=units[i % len(units)],
            village=place["village"], target_type="重点场所", target=place["name"], place_code=place["code"],
            host=None, event_date=None, kind=None, action=action, people=int(rng.integers(0, 15)),
            description="联合执法检查：场所码查验、测温、戴口罩未落实", officers=f"{names.person()}、{names.person()}",
            result="已下达整改通知" if action == "责令整改" else "已关停，整改复查后恢复",
        ))
    rows.append(dict(
        time=_at(t.today - timedelta(days=3), 19, 30), unit="派出所", village=t.village_names[2], target_type="其他聚集",
        target=f"{t.village_names[2]}村口广场", place_code=None, host=None, event_date=None, kind=None, action="劝散",
        people=14, description="群众聚集打牌，劝离并宣传防控要求", officers=f"{names.person()}、{names.person()}",
        result="已劝散",
    ))
    return rows


def _publicity(t: Township, rng, names: Names) -> list[dict]:
    """Every village's publicity since ``since``: daily broadcasts, WeChat
    posts with its groups and members, leaflets delivered to households,
    banners and door visits, over the policy's topics; the villages in
    :data:`LAGGING` each fall short of one target."""
    policy = load_publicity_policy()
    targets, topics = policy.targets, policy.topics
    rows = []
    for v, village in enumerate(t.village_names):
        households = int(t.village_rows[v]["households"] or 0)
        lag = LAGGING.get(v)
        reporter = names.person()
        groups = int(rng.integers(2, 5))
        members = int(households * (0.5 if lag == "wechat" else rng.uniform(0.9, 1.3)))
        leaflet_total = int(households * (0.6 if lag == "leaflets" else rng.uniform(1.05, 1.4)))
        door_total = int(households * (0.25 if lag == "doors" else rng.uniform(0.6, 0.9)))
        days = pd.date_range(targets.since, t.today).date
        leaflet_days = sorted(rng.choice(len(days), size=6, replace=False))
        door_days = sorted(rng.choice(len(days), size=8, replace=False))
        for i, day in enumerate(days):
            per_day = int(rng.integers(1, 3)) if lag == "broadcasts" else int(rng.integers(3, 6))
            rows.append(dict(date=day, village=village, channel="村村通广播", topic=topics[i % len(topics)],
                             quantity=per_day, households=None, groups=None, members=None, reporter=reporter,
                             note=""))
            if i % 2 == 0:
                rows.append(dict(date=day, village=village, channel="微信群", topic=topics[(i + 1) % len(topics)],
                                 quantity=int(rng.integers(2, 8)), households=None, groups=groups,
                                 members=members - int(rng.integers(0, 10)) if day < t.today else members,
                                 reporter=reporter, note=""))
            if i in leaflet_days:
                share = leaflet_total // len(leaflet_days)
                rows.append(dict(date=day, village=village, channel="宣传单", topic=topics[(i + 2) % len(topics)],
                                 quantity=share + int(rng.integers(0, 30)), households=share, groups=None,
                                 members=None, reporter=reporter, note=""))
            if i in door_days:
                share = door_total // len(door_days)
                rows.append(dict(date=day, village=village, channel="入户宣传", topic=topics[(i + 3) % len(topics)],
                                 quantity=share, households=share, groups=None, members=None, reporter=reporter,
                                 note=""))
            if i in (0, 5, 12, 20) or (i == 26 and v % 3):
                rows.append(dict(date=day, village=village, channel="横幅标语", topic=topics[(i + 4) % len(topics)],
                                 quantity=2, households=None, groups=None, members=None, reporter=reporter, note=""))
    return rows
