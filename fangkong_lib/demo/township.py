"""A synthetic but faithful Chengjiao township (DOMAIN.md §5).

Everything here is invented — village names, people, boundaries — and labelled
as synthetic; the region codes and the county-seat coordinate are real. The
build is deterministic for a given seed.

Geography: a ring around the county seat, cut into 17 administrative villages,
about 112 natural villages and exactly 376 grid cells. The cells are built as
rectangles in (angle, radius) space whose shared edges carry the same vertices,
then warped smoothly, so the polygons tile the ring without gaps or overlaps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from shapely import Polygon, unary_union
from shapely.geometry import Point

from .. import store
from ..config import COUNTY_CODE, COUNTY_SEAT, DEMO_TODAY, SYNTHETIC_NOTE, TOWNSHIP_CODE
from ..domain.plans import make_plan
from ..ledgers import LEDGERS, PLACE_CATEGORIES, RISK_CATEGORIES
from ..ingest.normalize import id_check_char
from ..policy import fever_threshold, five_in_one_roles, load_regimes
from ..actions.plans import policy_hash

N_VILLAGES = 17
N_GRIDS = 376
N_NATURAL = 112
N_PLACES = 435
N_AREAS = 9
START_RETURNS = date(2022, 3, 10)

VILLAGE_NAMES = (
    "柳湾村", "杏园村", "桑庄村", "槐荫村", "枣林村", "荷塘村", "麦岗村", "稻香村", "菱角村",
    "芦花村", "桃溪村", "梨园村", "竹林村", "松岗村", "榆树村", "柏庄村", "杨湖村",
)
SURNAMES = tuple("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎")
GIVEN = tuple("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英建华玉兰文辉国庆志红海燕春梅小龙")
SUFFIXES = ("庄", "楼", "寨", "营", "集", "湾", "庙", "店", "岗", "园", "屯", "坡")
ORIGINS = {
    "高风险区": ("吉林省吉林市船营区", "吉林省长春市宽城区", "上海市闵行区"),
    "中风险区": ("河北省廊坊市广阳区", "山东省青岛市黄岛区", "广东省深圳市福田区"),
    "中高风险区所在县": ("河北省廊坊市安次区", "山东省青岛市胶州市", "江苏省苏州市昆山市"),
    "中高风险区所在市其他县": ("江苏省苏州市吴江区", "山东省青岛市平度市", "广东省深圳市龙岗区"),
    "上海": ("上海市浦东新区", "上海市松江区", "上海市嘉定区"),
    "省外低风险地区": ("北京市朝阳区", "浙江省杭州市余杭区", "安徽省亳州市谯城区", "广东省东莞市", "江苏省南京市江宁区"),
    "省内低风险地区": ("河南省郑州市金水区", "河南省周口市川汇区", "河南省商丘市梁园区"),
    "密切接触者": ("协查通报", "大数据推送"),
    "次密接": ("协查通报",),
}
CATEGORY_WEIGHTS = (0.01, 0.03, 0.05, 0.10, 0.05, 0.46, 0.26, 0.02, 0.02)
CHECKPOINTS = ("郸城东收费站卡点", "311国道城郊卡点", "S207省道卡点", "郸城汽车站卡点", "郸城火车站出口卡点", "乡政府路口卡点", "东环路卡点", "南环路卡点")
DONATION_ITEMS = (
    # item, unit, unit value (yuan)
    ("医用外科口罩", "盒", 25.0),
    ("N95口罩", "盒", 80.0),
    ("75%酒精", "瓶", 12.0),
    ("84消毒液", "桶", 30.0),
    ("矿泉水", "箱", 24.0),
    ("牛奶", "箱", 55.0),
    ("方便面", "箱", 45.0),
    ("防护服", "套", 35.0),
)
DONOR_FIRMS = (
    "郸城县某纺织有限公司", "城郊乡某面业有限公司", "郸城县某食品厂", "某乳业郸城经销处",
    "郸城县某建材公司", "城郊乡某养殖合作社", "郸城县某医药连锁", "某饮用水郸城分公司",
    "郸城县某商贸公司", "城郊乡某农机合作社", "郸城县某物流公司", "郸城县某服装厂",
    "郸城县某家具厂", "城郊乡某超市", "郸城县某农资公司", "郸城县某电动车商行",
    "郸城县某粮油公司", "城郊乡某砖厂", "郸城县某印刷厂", "郸城县某汽修厂",
    "郸城县某酒店", "城郊乡某果蔬合作社",
)


# -- Geometry ----------------------------------------------------------------


@dataclass
class _Cell:
    t0: float
    t1: float
    r0: float
    r1: float
    village: int
    natural: int


def _split(total: float, n: int, rng: np.random.Generator, jitter=0.35) -> np.ndarray:
    """Breakpoints cutting [0, total] into ``n`` uneven parts."""
    w = 1 + jitter * (rng.random(n) * 2 - 1)
    return np.concatenate([[0.0], np.cumsum(w / w.sum() * total)])


def _allocate(total: int, n: int, lo: int, hi: int, rng: np.random.Generator) -> list[int]:
    """``n`` integers in [lo, hi] summing to ``total``."""
    counts = [lo] * n
    left = total - lo * n
    while left > 0:
        i = int(rng.integers(n))
        if counts[i] < hi:
            counts[i] += 1
            left -= 1
    return counts


def _cells(rng: np.random.Generator, r_in=2.3, r_out=5.3) -> list[_Cell]:
    nat_counts = _allocate(N_NATURAL, N_VILLAGES, 5, 8, rng)
    grid_counts = _allocate(N_GRIDS, N_NATURAL, 2, 5, rng)
    theta = _split(2 * math.pi, N_VILLAGES, rng, 0.3)
    theta[0], theta[-1] = 0.0, 2 * math.pi
    cells, nat_index = [], 0
    for v in range(N_VILLAGES):
        t0, t1 = theta[v], theta[v + 1]
        n_nat = nat_counts[v]
        # two radial bands, each cut by angle into natural villages
        inner = n_nat // 2
        r_mid = r_in + (r_out - r_in) * (0.42 + 0.16 * rng.random())
        bands = [(r_in, r_mid, inner), (r_mid, r_out, n_nat - inner)]
        for b0, b1, k in bands:
            cuts = t0 + _split(t1 - t0, k, rng)
            for j in range(k):
                rect = (cuts[j], cuts[j + 1], b0, b1)
                for g in _split_rect(rect, grid_counts[nat_index], rng):
                    cells.append(_Cell(*g, village=v, natural=nat_index))
                nat_index += 1
    return cells


def _split_rect(rect, n, rng):
    """Cut a (t0, t1, r0, r1) rectangle into ``n`` along its longer side."""
    t0, t1, r0, r1 = rect
    if n == 1:
        return [rect]
    arc = (t1 - t0) * (r0 + r1) / 2
    first = n // 2
    frac = first / n * (1 + 0.2 * (rng.random() - 0.5))
    if arc >= (r1 - r0):
        tm = t0 + (t1 - t0) * frac
        return _split_rect((t0, tm, r0, r1), first, rng) + _split_rect((tm, t1, r0, r1), n - first, rng)
    rm = r0 + (r1 - r0) * frac
    return _split_rect((t0, t1, r0, rm), first, rng) + _split_rect((t0, t1, rm, r1), n - first, rng)


def _warp(t: np.ndarray, r: np.ndarray, phase: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A smooth bijection of the (angle, radius) plane that makes the cells look
    like fields and villages rather than a dartboard."""
    r2 = r * (1 + 0.07 * np.sin(3 * t + phase[0]) + 0.04 * np.sin(7 * t + phase[1]))
    t2 = t + 0.10 * np.sin(1.3 * r2 + phase[2]) + 0.04 * np.sin(3.1 * r2 + phase[3])
    return t2, r2


def _to_lonlat(t: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat0, lon0 = COUNTY_SEAT
    x, y = r * np.cos(t), r * np.sin(t)
    lon = lon0 + x / (111.320 * math.cos(math.radians(lat0)))
    lat = lat0 + y / 110.574
    return np.round(lon, 6), np.round(lat, 6)


def build_geometry(rng: np.random.Generator):
    """Return (cells, grid polygons) tiling the ring."""
    cells = _cells(rng)
    lattice_t = np.arange(0, 2 * math.pi, math.radians(2.0))
    lattice_r = np.arange(2.0, 6.0, 0.3)
    # Breakpoints on each line come from the cells that touch that line, so
    # neighbours share identical vertices (no T-junctions once warped).
    on_r: dict[float, set] = {}
    on_t: dict[float, set] = {}
    for c in cells:
        for r in (c.r0, c.r1):
            on_r.setdefault(r, set()).update((c.t0, c.t1))
        for t in (c.t0, c.t1):
            on_t.setdefault(t, set()).update((c.r0, c.r1))
    # the seam: the line at angle 2π is the line at angle 0
    seam = on_t.setdefault(0.0, set())
    seam |= on_t.get(2 * math.pi, set())
    on_t[2 * math.pi] = seam
    phase = rng.random(4) * 2 * math.pi
    polys = []

    def between(values, lo, hi, inclusive):
        arr = np.array(sorted(values))
        if inclusive:
            return arr[(arr >= lo - 1e-12) & (arr <= hi + 1e-12)]
        return arr[(arr > lo + 1e-12) & (arr < hi - 1e-12)]

    for c in cells:
        bottom_t = between(on_r[c.r0] | set(lattice_t), c.t0, c.t1, True)
        top_t = between(on_r[c.r1] | set(lattice_t), c.t0, c.t1, True)
        right_r = between(on_t[c.t1] | set(lattice_r), c.r0, c.r1, False)
        left_r = between(on_t[c.t0] | set(lattice_r), c.r0, c.r1, False)
        t = np.concatenate([bottom_t, np.full(len(right_r), c.t1), top_t[::-1], np.full(len(left_r), c.t0)])
        r = np.concatenate([np.full(len(bottom_t), c.r0), right_r, np.full(len(top_t), c.r1), left_r[::-1]])
        # the seam at angle 0 / 2π must give identical vertices on both sides
        t = np.where(np.isclose(t, 2 * math.pi), 0.0, t)
        tw, rw = _warp(t, r, phase)
        lon, lat = _to_lonlat(tw, rw)
        polys.append(Polygon(np.column_stack([lon, lat])))
    return cells, polys


# -- People and names ---------------------------------------------------------


class _Names:
    def __init__(self, rng):
        self.rng = rng

    def person(self) -> str:
        s = SURNAMES[int(self.rng.integers(len(SURNAMES)))]
        n = 1 + int(self.rng.random() < 0.7)
        return s + "".join(GIVEN[int(i)] for i in self.rng.integers(len(GIVEN), size=n))

    def phone(self) -> str:
        return "1" + str(int(self.rng.choice([3, 5, 7, 8, 9]))) + "".join(
            str(int(d)) for d in self.rng.integers(10, size=9)
        )

    def id_number(self, sex: str | None = None, born_from=1950, born_to=2010) -> tuple[str, str]:
        born = date(born_from, 1, 1) + timedelta(days=int(self.rng.integers((born_to - born_from) * 365)))
        seq = int(self.rng.integers(0, 500)) * 2
        if sex is None:
            sex = "男" if self.rng.random() < 0.55 else "女"
        if sex == "男":
            seq += 1
        first17 = f"{COUNTY_CODE}{born:%Y%m%d}{seq:03d}"
        return first17 + id_check_char(first17), sex


def _pick(rng, seq, p=None):
    return seq[int(rng.choice(len(seq), p=p))]


def _day(rng, start: date, end: date) -> date:
    return start + timedelta(days=int(rng.integers((end - start).days + 1)))


# -- The build -----------------------------------------------------------------


def generate(seed: int = 20220407, today: date = DEMO_TODAY) -> dict[str, pd.DataFrame]:
    """Return every ledger of the synthetic township as DataFrames."""
    rng = np.random.default_rng(seed)
    names = _Names(rng)
    cells, polys = build_geometry(rng)
    out: dict[str, pd.DataFrame] = {}

    # Villages, natural villages, grids --------------------------------------
    areas = [f"第{'一二三四五六七八九'[i]}片区" for i in range(N_AREAS)]
    village_area = [areas[min(v * N_AREAS // N_VILLAGES, N_AREAS - 1)] for v in range(N_VILLAGES)]
    grid_rows, nat_cells = [], {}
    per_nat = {}
    for cell, poly in zip(cells, polys):
        per_nat.setdefault(cell.natural, []).append(poly)
    used_nat_names: set[str] = set()
    nat_rows = []
    nat_of_village: dict[int, list[int]] = {}
    for n, plist in sorted(per_nat.items()):
        v = next(c.village for c in cells if c.natural == n)
        nat_of_village.setdefault(v, []).append(n)
        while True:
            nm = _pick(rng, SURNAMES[:30]) + _pick(rng, SUFFIXES)
            if nm not in used_nat_names:
                used_nat_names.add(nm)
                break
        geom = unary_union(plist)
        pt = geom.representative_point()
        hh = int(rng.integers(80, 220))
        nat_cells[n] = dict(
            code=f"{TOWNSHIP_CODE}{v + 201:03d}{len(nat_of_village[v]):02d}",
            name=nm,
            village=VILLAGE_NAMES[v],
            cadre=names.person(),
            cadre_phone=names.phone(),
            households=hh,
            population=int(hh * rng.uniform(3.2, 4.1)),
            lon=round(pt.x, 6),
            lat=round(pt.y, 6),
            geometry=geom.wkt,
        )
        nat_rows.append(nat_cells[n])
    out["natural_villages"] = pd.DataFrame(nat_rows)

    village_rows, village_geoms = [], []
    for v in range(N_VILLAGES):
        geom = unary_union([p for c, p in zip(cells, polys) if c.village == v])
        village_geoms.append(geom)
        nats = [nat_cells[n] for n in nat_of_village[v]]
        village_rows.append(
            dict(
                code=f"{TOWNSHIP_CODE}{v + 201:03d}",
                name=VILLAGE_NAMES[v],
                area=village_area[v],
                secretary=names.person(),
                secretary_phone=names.phone(),
                households=sum(x["households"] for x in nats),
                population=sum(x["population"] for x in nats),
                geometry=geom.wkt,
            )
        )
    out["villages"] = pd.DataFrame(village_rows)

    cadres_by_village = {v: [names.person() for _ in range(c)] for v, c in
                         enumerate(_allocate(53, N_VILLAGES, 3, 4, rng))}
    grid_counter: dict[int, int] = {}
    for cell, poly in zip(cells, polys):
        grid_counter[cell.natural] = grid_counter.get(cell.natural, 0) + 1
        v = cell.village
        nat_no = nat_of_village[v].index(cell.natural) + 1
        cadres = cadres_by_village[v]
        grid_rows.append(
            dict(
                code=f"CJ{v + 1:02d}-{nat_no:02d}-{grid_counter[cell.natural]}",
                village=VILLAGE_NAMES[v],
                natural_village=nat_cells[cell.natural]["name"],
                member=names.person(),
                member_phone=names.phone(),
                cadre=cadres[nat_no % len(cadres)],
                households=int(rng.integers(8, 13)),
                geometry=poly.wkt,
            )
        )
    grids = pd.DataFrame(grid_rows)
    out["grids"] = grids

    # Staff: the six levels ----------------------------------------------------
    staff = []

    def add_staff(level, name, duty, **scope):
        staff.append(dict(staff_no=f"S{len(staff) + 1:04d}", name=name, level=level, duty=duty,
                          phone=names.phone(), **scope))

    for duty in ("乡党委书记", "乡长"):
        add_staff("大网格长", names.person(), duty)
    for a in areas:
        add_staff("网格长", names.person(), "包片乡领导", area=a)
    for v, row in enumerate(village_rows):
        add_staff("党支部书记", row["secretary"], "村党支部书记", area=row["area"], village=row["name"])
    for v, cadres in cadres_by_village.items():
        for c in cadres:
            add_staff("下沉乡干部", c, "下沉乡干部", area=village_area[v], village=VILLAGE_NAMES[v])
    for n in nat_rows:
        add_staff("自然村干部", n["cadre"], "自然村干部", village=n["village"], natural_village=n["name"])
    for g in grid_rows:
        add_staff("党员联户", g["member"], "联户党员", village=g["village"],
                  natural_village=g["natural_village"], grid=g["code"])
    out["staff"] = pd.DataFrame(staff)

    grids_by_village = {v: grids[grids.village == VILLAGE_NAMES[v]].reset_index(drop=True)
                        for v in range(N_VILLAGES)}
    doctors = {v: names.person() for v in range(N_VILLAGES)}
    police = {a: names.person() for a in areas}
    # Village doctors and police serve on the 五包一 teams, so they are staff
    # too; their phones come from a stream of their own so that everything
    # generated after this point stays as it was.
    support = _Names(np.random.default_rng(seed + 1))
    for v in range(N_VILLAGES):
        staff.append(dict(staff_no=f"S{len(staff) + 1:04d}", name=doctors[v], level="村医", duty="村卫生室医生",
                          phone=support.phone(), area=village_area[v], village=VILLAGE_NAMES[v]))
    for a in areas:
        staff.append(dict(staff_no=f"S{len(staff) + 1:04d}", name=police[a], level="民警/辅警",
                          duty="城郊派出所民警", phone=support.phone(), area=a))
    out["staff"] = pd.DataFrame(staff)

    def home(v=None):
        v = int(rng.integers(N_VILLAGES)) if v is None else v
        g = grids_by_village[v].iloc[int(rng.integers(len(grids_by_village[v])))]
        return v, g

    # People away (gate 1) and returnees (gates 2-3) ---------------------------
    regimes = load_regimes()
    away, returnees, controls, tests, checks = [], [], [], [], []
    used_ids: set[str] = set()

    def new_person():
        while True:
            idn, sex = names.id_number()
            if idn not in used_ids:
                used_ids.add(idn)
                return idn, sex

    provinces = ("北京市", "上海市", "浙江省", "江苏省", "广东省", "河南省", "安徽省", "山东省", "吉林省", "河北省")
    for _ in range(640):
        v, g = home()
        idn, sex = new_person()
        intends = rng.random() < 0.25
        away.append(dict(
            village=VILLAGE_NAMES[v], natural_village=g["natural_village"], group=f"{int(rng.integers(1, 9))}组",
            grid=g["code"], householder=names.person(), name=names.person(), sex=sex, id_number=idn,
            phone=names.phone(), province=_pick(rng, provinces), city="", county="", township="",
            address="某区某街道某小区" + str(int(rng.integers(1, 30))) + "号楼",
            risk_level=_pick(rng, ("高", "中", "低", "常态化"), p=(0.02, 0.05, 0.33, 0.60)),
            reason=_pick(rng, ("务工", "经商", "上学", "其他"), p=(0.62, 0.18, 0.14, 0.06)),
            left_date=_day(rng, date(2021, 2, 20), date(2022, 2, 28)),
            intends_return=intends,
            expected_return=_day(rng, today + timedelta(days=1), today + timedelta(days=20)) if intends else None,
            persuasion="已劝导非必要不返乡" if rng.random() < 0.8 else "",
            contact=g["member"], returned=False, note="",
        ))

    for i in range(520):
        v, g = home()
        idn, sex = new_person()
        category = _pick(rng, RISK_CATEGORIES, p=CATEGORY_WEIGHTS)
        arrived = rng.random() < 0.93
        if arrived:
            arrival = _day(rng, START_RETURNS, today)
            expected = arrival - timedelta(days=int(rng.integers(0, 2)))
        else:
            expected = _day(rng, today + timedelta(days=1), today + timedelta(days=5))
            arrival = None
        lead = int(rng.choice([1, 2, 3, 3, 4, 5, 6]))
        report = (expected - timedelta(days=lead))
        left_risk = None
        if category in ("高风险区", "中风险区", "中高风险区所在县", "上海") and rng.random() < 0.5:
            left_risk = (arrival or expected) - timedelta(days=int(rng.integers(0, 4)))
        origin = _pick(rng, ORIGINS[category])
        person = dict(
            report_date=report, report_channel=_pick(rng, ("豫事办", "电话", "村委", "微信")),
            name=names.person(), sex=sex, id_number=idn, phone=names.phone(),
            village=VILLAGE_NAMES[v], natural_village=g["natural_village"], grid=g["code"],
            household_address=f"郸城县城郊乡{VILLAGE_NAMES[v]}{g['natural_village']}",
            residence_address=f"郸城县城郊乡{VILLAGE_NAMES[v]}{g['natural_village']}{int(rng.integers(1, 80))}号",
            origin=origin, via="", travel_history=origin, risk_category=category,
            left_risk_date=left_risk, expected_arrival=expected, actual_arrival=arrival,
            transport=_pick(rng, ("自驾", "火车", "飞机", "客车")),
            vehicle_no="", companions="",
            test48_time=datetime.combine(expected - timedelta(days=1), datetime.min.time()) + timedelta(hours=9),
            test48_result="阴性", health_code=_pick(rng, ("绿码", "黄码")) if category not in ("高风险区", "中风险区") else "红码",
            trip_star=category not in ("省内低风险地区",),
            landing_test_time=(datetime.combine(arrival, datetime.min.time()) + timedelta(hours=15)) if arrival else None,
            landing_test_result=("阴性" if arrival and arrival < today else ("待出" if arrival else None)),
            responsible=g["member"], entered_by=g["cadre"], note="",
        )
        returnees.append(person)
        if arrival is None:
            continue
        plan = make_plan(category, arrival, left_risk, regimes=regimes)
        if not plan.controlled:
            continue
        released = plan.end + timedelta(days=1) if plan.end < today else None
        team = [g["cadre"], nat_cells_by_name(nat_rows, g["natural_village"])["cadre"], doctors[v],
                police[village_area[v]], g["member"]]
        controls.append(dict(
            village=VILLAGE_NAMES[v], natural_village=g["natural_village"], grid=g["code"],
            house_no=f"{int(rng.integers(1, 80))}号", name=person["name"], sex=sex, id_number=idn,
            phone=person["phone"], measure=plan.measure, category=category, origin=origin,
            found_via=_pick(rng, ("报备", "排查", "大数据推送", "协查"), p=(0.8, 0.1, 0.07, 0.03)),
            start_date=plan.start, end_date=plan.end, released_date=released,
            home_ok="达标" if "居家" in plan.measure or "三天" in plan.measure else "不达标",
            cohabitants=int(rng.integers(0, 5)),
            test_dates=[d.isoformat() for d in plan.test_dates], team=team,
            notice_signed=True, regime=plan.regime,
            status="已解除" if released else "管控中",
        ))
        # tests: most on the planned day, a few late, a few missing (overdue)
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
            tests.append(dict(id_number=idn, name=person["name"], village=VILLAGE_NAMES[v], sample_date=when,
                              method="上门" if "居家" in plan.measure else "集中",
                              result="待出" if when >= today else "阴性", sampler=doctors[v], note=""))
        # twice-daily temperatures
        first = max(plan.start, arrival)
        last = min(plan.end, today)
        day = first
        while day <= last:
            t_am = min(round(float(rng.normal(36.5, 0.22)), 1), 37.0)
            t_pm = min(round(float(rng.normal(36.6, 0.22)), 1), 37.1)
            if rng.random() < 0.004:
                t_pm = round(float(rng.uniform(fever_threshold(day, regimes=regimes), 38.6)), 1)
            if day == today:
                t_pm = None if rng.random() < 0.5 else t_pm  # afternoon not reported yet
                if rng.random() < 0.03:
                    t_am = round(float(rng.uniform(fever_threshold(day, regimes=regimes), 38.2)), 1)
            checks.append(dict(
                date=day, id_number=idn, name=person["name"], village=VILLAGE_NAMES[v],
                day_no=(day - plan.start).days + 1, temp_am=t_am,
                temp_pm=t_pm, symptoms="发热" if max(t_am, t_pm or 0) >= fever_threshold(day, regimes=regimes) else "无",
                at_home=True, needs="", visitor=g["member"],
                reported_at=datetime.combine(day, datetime.min.time()) + timedelta(hours=16, minutes=int(rng.integers(0, 59))),
            ))
            day += timedelta(days=1)
    # a couple of people away have since pre-registered: link them
    for person in away[:12]:
        person["intends_return"] = True
        person["expected_return"] = today + timedelta(days=int(rng.integers(1, 4)))
    out["away"] = pd.DataFrame(away)
    out["returnees"] = pd.DataFrame(returnees)
    out["controls"] = pd.DataFrame(controls)
    out["tests"] = pd.DataFrame(tests)
    out["daily_checks"] = pd.DataFrame(checks)

    # Key places (gate 4) -------------------------------------------------------
    places = []
    cat_p = np.array([6, 4, 4, 5, 3, 8, 6, 6, 3, 1, 1, 2, 2, 9, 2, 1, 4], dtype=float)
    cat_p /= cat_p.sum()
    for i in range(N_PLACES):
        v = int(rng.integers(N_VILLAGES))
        pt = _random_point_in(village_geoms[v], rng)
        cat = _pick(rng, PLACE_CATEGORIES, p=cat_p)
        places.append(dict(
            code=f"ZKT{TOWNSHIP_CODE[-3:]}{i + 1:04d}", name=f"{VILLAGE_NAMES[v][:-1]}{_pick(rng, SURNAMES)}记{cat}",
            category=cat, village=VILLAGE_NAMES[v], address=f"城郊乡{VILLAGE_NAMES[v]}",
            manager=names.person(), manager_phone=names.phone(), code_posted=bool(rng.random() < 0.95),
            status="正常营业", staff_count=int(rng.integers(1, 60)), lon=round(pt.x, 6), lat=round(pt.y, 6),
        ))
    out["places"] = pd.DataFrame(places)

    inspections, problems = [], []
    checklist = ("code_posted", "scan_enforced", "temperature", "masks", "crowd_limit",
                 "disinfection_log", "staff_health_log")
    labels = LEDGERS["inspections"].labels
    for i in range(320):
        p = places[int(rng.integers(N_PLACES))]
        when = _day(rng, date(2022, 3, 12), today)
        items = {k: bool(rng.random() > 0.04) for k in checklist}
        items["drug_register"] = bool(rng.random() > 0.08) if p["category"] in ("药店", "诊所") else None
        failed = [labels[k] for k, ok in items.items() if ok is False]
        action = "无" if not failed else ("停业整改" if len(failed) >= 3 else "限期整改" if len(failed) == 2 else "现场整改")
        inspections.append(dict(
            date=when, place_code=p["code"], place_name=p["name"], category=p["category"], village=p["village"],
            **items, scans_today=int(rng.integers(0, 300)), findings="、".join(f"未落实{f}" for f in failed),
            action=action, deadline=when + timedelta(days=3) if action == "限期整改" else None,
            recheck_result="", inspector=_pick(rng, ("市场监管所", "乡综治办", "派出所", "卫生院")),
        ))
        if action == "停业整改" and when >= today - timedelta(days=5):
            p["status"] = "停业整改"
        elif action == "限期整改" and when >= today - timedelta(days=3) and p["status"] == "正常营业":
            p["status"] = "限期整改"
    out["inspections"] = pd.DataFrame(inspections).drop_duplicates(["date", "place_code"])
    out["places"] = pd.DataFrame(places)

    teams = ("第一督查组", "第二督查组", "第三督查组")
    stages = ("发现", "反馈", "整改中", "复查", "销号")
    for i in range(34):
        when = _day(rng, date(2022, 3, 14), today)
        v = int(rng.integers(N_VILLAGES))
        stage = stages[i] if i < len(stages) else _pick(rng, stages, p=(0.06, 0.12, 0.2, 0.12, 0.5))
        if stage != "销号":  # open problems are recent: one found weeks ago would have moved on
            when = today - timedelta(days=(today - when).days % {"发现": 2, "反馈": 3, "整改中": 7, "复查": 9}[stage])
        cat = _pick(rng, ("人员排查", "居家隔离", "卡点值守", "场所码", "聚集活动", "宣传", "台账资料", "物资"))
        problems.append(dict(
            problem_no=f"DC2022-{i + 1:03d}", date=when, team=teams[i % 3], method=_pick(rng, ("明察", "暗访")),
            target=VILLAGE_NAMES[v], target_type="村", village=VILLAGE_NAMES[v], category=cat,
            description=f"{VILLAGE_NAMES[v]}{cat}工作不到位", unit=VILLAGE_NAMES[v] + "党支部",
            person=village_rows[v]["secretary"], leader=_pick(rng, [s["name"] for s in staff if s["level"] == "网格长"]),
            measure="立即整改并书面报告", deadline=when + timedelta(days=2),
            done_date=when + timedelta(days=int(rng.integers(1, 3))) if stage in ("复查", "销号") else None,
            evidence="整改照片、书面报告" if stage in ("复查", "销号") else "",
            rechecker=_pick(rng, teams) if stage == "销号" else "", stage=stage,
            accountability=_pick(rng, ("无", "约谈", "通报", "诫勉"), p=(0.7, 0.15, 0.1, 0.05)),
        ))
    out["problems"] = pd.DataFrame(problems)
    out["problem_events"] = pd.DataFrame(_problem_history(problems, rng, names, today))

    # Donations and distributions (enterprise support team) ---------------------
    donations, dists = [], []
    for i, donor in enumerate(DONOR_FIRMS):
        for k in range(int(rng.integers(1, 3))):
            item, unit, price = DONATION_ITEMS[int(rng.integers(len(DONATION_ITEMS)))]
            qty = float(int(rng.integers(20, 160)))
            donations.append(dict(
                voucher_no=f"JZ2022-{len(donations) + 1:03d}", date=_day(rng, date(2022, 3, 12), today - timedelta(days=1)),
                donor=donor, donor_type="单位", contact=names.person(), contact_phone=names.phone(),
                directed="非定向", directed_to="", item=item, spec="", unit=unit, quantity=qty,
                value=round(qty * price, 2),
                expiry=_day(rng, today + timedelta(days=5), date(2023, 6, 30)) if item in ("牛奶", "方便面", "矿泉水") else None,
                receiver="乡党政办", supervisor="乡纪委", location="乡政府物资库",
            ))
    total_value = sum(d["value"] for d in donations)
    scale = 102_000 / total_value  # about 100,000 yuan in all
    for d in donations:
        d["quantity"] = float(max(5, round(d["quantity"] * scale)))
        price = next(p for it, _, p in DONATION_ITEMS if it == d["item"])
        d["value"] = round(d["quantity"] * price, 2)
        if d["item"] == "牛奶":  # keeps about six weeks: early deliveries are short-dated by the demo day
            d["expiry"] = d["date"] + timedelta(days=45)
    stock: dict[str, float] = {}
    for d in sorted(donations, key=lambda r: r["date"]):
        stock[d["item"]] = stock.get(d["item"], 0) + d["quantity"]
    for item, qty in sorted(stock.items()):
        given = 0.0
        for j in range(int(rng.integers(2, 6))):
            q = float(int(qty * rng.uniform(0.05, 0.2)))
            if q <= 0 or given + q > qty:
                continue
            given += q
            v = int(rng.integers(N_VILLAGES))
            rtype = _pick(rng, ("卡点", "村", "隔离户", "志愿者"))
            dists.append(dict(
                voucher_no=f"CK2022-{len(dists) + 1:03d}", date=_day(rng, date(2022, 3, 20), today),
                item=item, quantity=q, unit=next(u for it, u, _ in DONATION_ITEMS if it == item),
                recipient_type=rtype,
                recipient=_pick(rng, CHECKPOINTS) if rtype == "卡点" else VILLAGE_NAMES[v],
                village=VILLAGE_NAMES[v], taker=names.person(), handler="乡党政办", published=today,
                location="乡政府物资库",
            ))
    out["donations"] = pd.DataFrame(donations)
    out["distributions"] = pd.DataFrame(dists)

    # Checkpoints, sentinels, pushes, gatherings, volunteers ----------------------
    logs = []
    for i in range(1400):
        when = datetime.combine(_day(rng, date(2022, 3, 20), today), datetime.min.time()) + timedelta(
            minutes=int(rng.integers(0, 24 * 60)))
        idn, _sex = new_person()
        registered = rng.random() < 0.9
        logs.append(dict(
            time=when, checkpoint=_pick(rng, CHECKPOINTS), name=names.person(), id_number=idn,
            phone=names.phone(), plate=f"豫P{int(rng.integers(10000, 99999))}", transport="自驾",
            passengers=int(rng.integers(0, 4)), origin=_pick(rng, ORIGINS["省外低风险地区"] + ORIGINS["省内低风险地区"]),
            destination=_pick(rng, VILLAGE_NAMES), temperature=round(float(rng.normal(36.4, 0.2)), 1),
            health_code="绿码" if rng.random() < 0.95 else "黄码", trip_star=bool(rng.random() < 0.3),
            test48="阴性" if rng.random() < 0.92 else "无", pre_registered=registered,
            sampled=not registered, outcome="放行" if registered else _pick(rng, ("劝返", "临时隔离", "点对点转运", "放行")),
            inspector=names.person(),
        ))
    out["checkpoint_logs"] = pd.DataFrame(logs)

    clinics = [p for p in places if p["category"] in ("药店", "诊所")]
    buyers = []
    for i in range(220):
        idn, _sex = new_person()
        when = _day(rng, date(2022, 3, 15), today)
        dclass = _pick(rng, ("退热", "止咳", "抗病毒", "抗生素"))
        tested = when < today - timedelta(days=2) or rng.random() < 0.5
        buyers.append(dict(
            date=when, outlet=_pick(rng, [c["name"] for c in clinics]), name=names.person(), id_number=idn,
            phone=names.phone(), village=_pick(rng, VILLAGE_NAMES),
            drug={"退热": "布洛芬缓释胶囊", "止咳": "复方甘草片", "抗病毒": "奥司他韦", "抗生素": "阿莫西林胶囊"}[dclass],
            drug_class=dclass, temperature=round(float(rng.normal(36.6, 0.3)), 1),
            test_date=when + timedelta(days=1) if tested else None, test_result="阴性" if tested else None,
            checker=names.person(), status="已核酸" if tested else "待核酸",
        ))
    out["drug_buyers"] = pd.DataFrame(buyers)

    pushes = []
    for i in range(90):
        idn, _sex = new_person()
        at = datetime.combine(_day(rng, date(2022, 3, 15), today), datetime.min.time()) + timedelta(
            hours=int(rng.integers(6, 23)))
        done = rng.random() < 0.9 or at < datetime.combine(today - timedelta(days=2), datetime.min.time())
        pushes.append(dict(
            batch=f"TS{at:%m%d}-{int(rng.integers(1, 4))}", pushed_at=at,
            source=_pick(rng, ("省平台", "协查函", "公安", "通信")), name=names.person(), id_number=idn,
            phone=names.phone(), village=_pick(rng, VILLAGE_NAMES),
            risk_category=_pick(rng, RISK_CATEGORIES, p=CATEGORY_WEIGHTS),
            result=_pick(rng, ("已核实在本地", "已核实不在本地", "无法联系", "信息有误", "已落实管控")) if done else "待核查",
            measure="", verified_at=at + timedelta(hours=int(rng.integers(1, 20))) if done else None,
            verifier=names.person(),
        ))
    out["pushes"] = pd.DataFrame(pushes).drop_duplicates(["batch", "id_number"])

    gatherings = []
    for i in range(5):
        v = int(rng.integers(N_VILLAGES))
        when = _day(rng, date(2022, 3, 12), today)
        gatherings.append(dict(
            host=names.person(), phone=names.phone(), village=VILLAGE_NAMES[v], kind="白事", date=when,
            place=f"{VILLAGE_NAMES[v]}事主家中", expected_people=int(rng.integers(20, 45)),
            tables=int(rng.integers(0, 4)), outside_guests=int(rng.integers(0, 6)), pledge=True,
            supervisor=village_rows[v]["secretary"],
            reported_at=datetime.combine(when, datetime.min.time()) + timedelta(hours=int(rng.integers(7, 12))),
            approval="乡已审批", actual="简办，村干部全程在场",
        ))
    for i in range(2):
        v = int(rng.integers(N_VILLAGES))
        when = _day(rng, today + timedelta(days=10), today + timedelta(days=40))
        gatherings.append(dict(
            host=names.person(), phone=names.phone(), village=VILLAGE_NAMES[v], kind="红事", date=when,
            place=f"{VILLAGE_NAMES[v]}", expected_people=int(rng.integers(30, 50)), tables=5,
            outside_guests=int(rng.integers(0, 10)), pledge=True, supervisor=village_rows[v]["secretary"],
            reported_at=datetime.combine(today - timedelta(days=int(rng.integers(1, 10))), datetime.min.time()),
            approval="待审批", actual="已劝导缓办",
        ))
    out["gatherings"] = pd.DataFrame(gatherings)

    identities = ["预备党员"] * 31 + ["入党积极分子"] * 46
    identities += [_pick(rng, ("老党员", "教师", "机关干部", "其他"), p=(0.5, 0.25, 0.15, 0.1)) for _ in range(376 - 77)]
    vols = []
    for i, ident in enumerate(identities):
        v = int(rng.integers(N_VILLAGES))
        vols.append(dict(
            volunteer_no=f"ZY{i + 1:04d}", name=names.person(), identity=ident, village=VILLAGE_NAMES[v],
            post=_pick(rng, ("守门员", "消杀员", "代购员", "卡点", "核酸")), phone=names.phone(),
            households=str(int(rng.integers(0, 12))), hours=float(int(rng.integers(4, 120))),
        ))
    out["volunteers"] = pd.DataFrame(vols)
    out["village_reports"] = pd.DataFrame(_village_reports(out, today, rng, names))
    out["supervisions"] = pd.DataFrame(_supervision_visits(problems, places, teams, rng, names, today))
    return out


def _supervision_visits(problems, places, teams, rng, names, today: date, n_visits: int = 66) -> list[dict]:
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
        when, team = _day(rng, date(2022, 3, 14), today), _pick(rng, teams)
        method = _pick(rng, ("明察", "暗访"))
        kind = _pick(rng, ("村", "场所", "卡点"), p=(0.5, 0.3, 0.2))
        if kind == "村":
            village = _pick(rng, VILLAGE_NAMES)
            visit(when, team, method, village, kind, village)
        elif kind == "场所":
            place = places[int(rng.integers(len(places)))]
            visit(when, team, method, place["name"], kind, place["village"], place["code"])
        else:
            visit(when, team, method, _pick(rng, CHECKPOINTS), kind, None)
    return sorted(visits.values(), key=lambda r: (r["date"], r["team"], r["target"]))


def _problem_history(problems: list[dict], rng, names, today: date = DEMO_TODAY) -> list[dict]:
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


def _village_reports(out: dict, today: date, rng, names) -> list[dict]:
    """日报告、零报告: every village reports every day before 17:00; on the
    demo day a few have not reported yet."""
    rows = []
    controls = out["controls"]
    returnees = out["returnees"]
    day = START_RETURNS
    while day <= today:
        for v in VILLAGE_NAMES:
            if day == today and rng.random() < 0.18:
                continue  # not in yet: shows as missing at 17:00
            arrivals = int((returnees["village"].eq(v) & returnees["actual_arrival"].eq(day)).sum())
            active = controls[controls["village"].eq(v)]
            active = active[(active["start_date"] <= day) & (active["end_date"] >= day)]
            late = rng.random() < 0.05
            at = datetime.combine(day, datetime.min.time()) + timedelta(
                hours=17 if late else 15, minutes=int(rng.integers(0, 59)) if late else int(rng.integers(0, 120)))
            rows.append(dict(
                date=day, village=v, reported_at=at, zero_report=arrivals == 0, new_away=0, arrivals=arrivals,
                under_control=len(active), fevers=0, reporter=names.person(), note="",
            ))
        day += timedelta(days=1)
    return rows


def nat_cells_by_name(rows: list[dict], name: str) -> dict:
    return next(r for r in rows if r["name"] == name)


def _random_point_in(geom, rng) -> Point:
    minx, miny, maxx, maxy = geom.bounds
    while True:
        pt = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if geom.contains(pt):
            return pt


def build_demo(db=None, *, seed: int = 20220407, today: date = DEMO_TODAY) -> dict[str, int]:
    """Build the synthetic township into ``db`` (replacing what is there).

    Returns the number of rows written per ledger.
    """
    engine = store.get_engine(db)
    store.drop_all(engine)
    store.init_db(engine)
    frames = generate(seed, today)
    counts = {}
    for key in LEDGERS:
        frame = frames.get(key, pd.DataFrame())
        counts[key] = store.write_ledger(engine, key, frame, replace=True, user="demo", note=SYNTHETIC_NOTE)
    store.set_meta(engine, synthetic="1", today=today.isoformat(), seed=str(seed),
                   five_in_one="、".join(five_in_one_roles()), policy_hash=policy_hash())
    return counts
