"""A synthetic Dancheng county (郸城县): its 22 township-level units, each
built by the township generator from its own seed.

The township names are real; of their codes only 城郊乡's (411625200) is
known to be real, the others are made up (411625xxx) and marked so in the
townships ledger (代码为合成). Everything else — outline, boundaries,
villages, people — is invented and labelled as synthetic.

Geometry is one county-wide tessellation, so every boundary is shared
exactly: about 8,000 grid seeds inside a county outline of about 1,490 km²
around the county seat, their Voronoi cells clipped to the outline are the
grid cells; grids go to the nearest township centre, then to villages and
natural villages within their township, so a village is the union of its
grids and a township the union of its villages.
"""

from __future__ import annotations

import math
import multiprocessing
import time
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import shapely

from .. import store
from ..actions.plans import policy_hash
from ..config import COUNTY_CODE, COUNTY_NAME, COUNTY_SEAT, DEMO_TODAY, SYNTHETIC_NOTE, TOWNSHIP_CODE, TOWNSHIP_NAME
from ..ledgers import LEDGERS
from ..policy import five_in_one_roles
from .context import Township
from .draws import SURNAMES
from .township import build

#: The county's township-level units (names real), 街道 first, then 镇 and 乡.
TOWNSHIP_NAMES = (
    "新城街道", "洺北街道", "洺南街道",
    "吴台镇", "南丰镇", "白马镇", "宁平镇", "宜路镇", "钱店镇", "汲冢镇", "石槽镇",
    "城郊乡", "虎岗乡", "汲水乡", "张完乡", "丁村乡", "双楼乡", "秋渠乡", "东风乡", "巴集乡", "李楼乡", "胡集乡",
)
#: Codes known to be real; the others are made up.
REAL_CODES = {TOWNSHIP_NAME: TOWNSHIP_CODE}
AREA_KM2 = 1490.0
N_GRIDS = 8000
GRIDS_PER_VILLAGE = 16
VILLAGES_PER_TOWNSHIP = (18, 26)  # the generator's sections name villages up to the 17th
GRIDS_PER_NATURAL = 3.4
PEOPLE_AWAY = 100_000
RETURNEES = 20_000
#: The township demo's 53 cadres sent down to its 17 villages, per village.
CADRES_PER_VILLAGE = 53 / 17
#: Checkpoints of a township in a county build (in the order of the township demo's).
CHECKPOINT_PATTERNS = ("{}高速口卡点", "{}国道卡点", "{}省道卡点", "{}客运站卡点", "{}火车站方向卡点",
                       "{}政府路口卡点", "{}东口卡点", "{}南口卡点")
#: Ledgers whose sequence numbers (S0001, ZY0001…) each township starts at 1:
#: in a county build they carry the township's code, so they stay unique.
NUMBERED = {
    "staff": ("staff_no",), "grid_assignments": ("staff_no",),
    "problems": ("problem_no",), "problem_events": ("problem_no",),
    "donations": ("voucher_no",), "distributions": ("voucher_no",),
    "volunteers": ("volunteer_no",), "volunteer_assignments": ("volunteer_no", "assign_no"),
    "tasks": ("task_no",), "task_events": ("task_no",),
    "party_members": ("member_no",), "households": ("member_no",),
}
VILLAGE_SUFFIXES = ("庄", "楼", "寨", "营", "集", "湾", "庙", "店", "岗", "园", "屯", "坡", "桥", "口", "台", "寺")
VILLAGE_PREFIXES = ("", "东", "西", "南", "北", "前", "后", "大", "小", "新", "老", "高")


def township_codes() -> dict[str, tuple[str, bool]]:
    """name → (code, synthetic): 街道 0xx, 镇 1xx, 乡 2xx (城郊乡's real 200 kept)."""
    out, next_no = {}, {"街道": 1, "镇": 101, "乡": 201}
    for name in TOWNSHIP_NAMES:
        if name in REAL_CODES:
            out[name] = (REAL_CODES[name], False)
            continue
        kind = "街道" if name.endswith("街道") else name[-1]
        no = next_no[kind]
        while any(c == f"{COUNTY_CODE}{no:03d}" for c in REAL_CODES.values()):
            no += 1
        out[name] = (f"{COUNTY_CODE}{no:03d}", True)
        next_no[kind] = no + 1
    return out


# -- Geometry ------------------------------------------------------------------------------------

KM_PER_DEG_LAT = 110.574


def _km_per_deg_lon() -> float:
    return 111.320 * math.cos(math.radians(COUNTY_SEAT[0]))


def _to_lonlat(coords: np.ndarray) -> np.ndarray:
    lat0, lon0 = COUNTY_SEAT
    return np.round(np.column_stack([lon0 + coords[:, 0] / _km_per_deg_lon(),
                                     lat0 + coords[:, 1] / KM_PER_DEG_LAT]), 6)


def _outline_km(rng: np.random.Generator) -> shapely.Polygon:
    """A smooth, irregular county outline of AREA_KM2 around the seat (km)."""
    theta = np.linspace(0, 2 * math.pi, 360, endpoint=False)
    phase = rng.random(3) * 2 * math.pi
    r = 1 + 0.12 * np.sin(2 * theta + phase[0]) + 0.07 * np.sin(3 * theta + phase[1]) + 0.04 * np.sin(5 * theta + phase[2])
    shape = shapely.Polygon(np.column_stack([r * np.cos(theta), r * np.sin(theta)]))
    scale = math.sqrt(AREA_KM2 / shape.area)
    # the seat sits a little off the centre
    return shapely.Polygon(np.column_stack([scale * r * np.cos(theta) + 1.5, scale * r * np.sin(theta) - 1.0]))


def _seeds(outline: shapely.Polygon, rng: np.random.Generator) -> np.ndarray:
    """About N_GRIDS points inside ``outline``: a jittered hexagonal lattice."""
    spacing = math.sqrt(2 * outline.area / (math.sqrt(3) * N_GRIDS))
    minx, miny, maxx, maxy = outline.bounds
    ys = np.arange(miny - spacing, maxy + spacing, spacing * math.sqrt(3) / 2)
    xs = np.arange(minx - spacing, maxx + spacing, spacing)
    pts = np.array([(x + (spacing / 2 if i % 2 else 0), y) for i, y in enumerate(ys) for x in xs])
    pts += rng.uniform(-0.3, 0.3, pts.shape) * spacing
    return pts[shapely.contains_xy(outline, pts[:, 0], pts[:, 1])]


def _kmeans(points: np.ndarray, k: int, rng: np.random.Generator, rounds: int = 12) -> np.ndarray:
    """Labels of ``points`` in ``k`` compact groups (Lloyd's rounds from a spread-out start)."""
    k = min(k, len(points))
    centres = [points[int(rng.integers(len(points)))]]
    for _ in range(k - 1):  # k-means++: far points are likelier centres
        d2 = np.min(((points[:, None, :] - np.array(centres)[None]) ** 2).sum(-1), axis=1)
        centres.append(points[int(rng.choice(len(points), p=d2 / d2.sum()))])
    centres = np.array(centres)
    for _ in range(rounds):
        labels = ((points[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)
        for j in range(k):
            if (labels == j).any():
                centres[j] = points[labels == j].mean(0)
    labels = ((points[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)
    _, labels = np.unique(labels, return_inverse=True)  # no empty group
    return labels


@dataclass
class Cell:
    """A grid cell's place in the tree (what the township generator reads)."""

    village: int
    natural: int


@dataclass
class CountyGeometry:
    outline: shapely.Polygon  # lon/lat
    cells: np.ndarray  # grid polygons (lon/lat)
    township: np.ndarray  # township index of each cell
    village: np.ndarray  # village index within its township
    natural: np.ndarray  # natural village index within its township


def build_county_geometry(seed: int) -> CountyGeometry:
    """The county tessellation: grid cells, and the township, village and
    natural village each belongs to."""
    rng = np.random.default_rng([seed, 1400])
    outline = _outline_km(rng)
    seeds = _seeds(outline, rng)
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=outline.buffer(5), ordered=True)
    cells = shapely.intersection(np.array(shapely.get_parts(cells)), outline)
    centres = shapely.get_coordinates(shapely.centroid(cells))
    township = _townships(centres, rng)
    village = np.zeros(len(cells), dtype=int)
    natural = np.zeros(len(cells), dtype=int)
    lo, hi = VILLAGES_PER_TOWNSHIP
    for k in range(len(TOWNSHIP_NAMES)):
        idx = np.flatnonzero(township == k)
        n_villages = int(np.clip(round(len(idx) / GRIDS_PER_VILLAGE), lo, hi))
        village[idx] = _kmeans(centres[idx], n_villages, rng)
        offset = 0
        for v in range(village[idx].max() + 1):
            vidx = idx[village[idx] == v]
            labels = _kmeans(centres[vidx], max(2, round(len(vidx) / GRIDS_PER_NATURAL)), rng)
            natural[vidx] = labels + offset
            offset += labels.max() + 1
    lonlat = shapely.transform(cells, _to_lonlat)
    return CountyGeometry(shapely.transform(outline, _to_lonlat), lonlat, township, village, natural)


def _townships(centres: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each cell's township: compact groups, the three 街道 the ones nearest
    the seat, 城郊乡 next, the towns and the other townships around them."""
    labels = _kmeans(centres, len(TOWNSHIP_NAMES), rng, rounds=20)
    means = np.array([centres[labels == j].mean(0) for j in range(labels.max() + 1)])
    by_distance = list(np.argsort((means ** 2).sum(1)))
    inner = by_distance[:4]  # 3 街道 and 城郊乡
    outer = sorted(by_distance[4:], key=lambda j: math.atan2(means[j][1], means[j][0]))
    order = inner[:3] + outer[:8] + [inner[3]] + outer[8:]  # TOWNSHIP_NAMES' order
    remap = np.empty(len(order), dtype=int)
    for position, group in enumerate(order):
        remap[group] = position
    return remap[labels]


def village_name_pool(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` made-up village names, all different (王庄村, 东李楼村…)."""
    pool = [f"{p}{s}{x}村" for p in VILLAGE_PREFIXES for s in SURNAMES for x in VILLAGE_SUFFIXES]
    return [pool[int(i)] for i in rng.choice(len(pool), size=n, replace=False)]


# -- Townships -----------------------------------------------------------------------------------


def township_specs(seed: int, geometry: CountyGeometry, *, fraction: float = 1.0) -> list[dict]:
    """The identity of every township (its ``Township`` fields), in TOWNSHIP_NAMES' order."""
    rng = np.random.default_rng([seed, 1401])
    codes = township_codes()
    n_villages = [int(geometry.village[geometry.township == k].max()) + 1 for k in range(len(TOWNSHIP_NAMES))]
    names = iter(village_name_pool(rng, sum(n_villages)))
    total = len(geometry.cells)
    n_seqs = len(TOWNSHIP_NAMES)
    specs = []
    for k, name in enumerate(TOWNSHIP_NAMES):
        idx = np.flatnonzero(geometry.township == k)
        order = idx[np.lexsort((geometry.natural[idx], geometry.village[idx]))]
        cells = [Cell(int(geometry.village[i]), int(geometry.natural[i])) for i in order]
        polys = list(geometry.cells[order])
        centre = shapely.union_all(polys).centroid
        share = len(idx) / total
        code, synthetic = codes[name]
        specs.append(dict(
            seed=int(np.random.SeedSequence([seed, k]).generate_state(1)[0]),
            name=name, code=code, code_synthetic=synthetic,
            village_names=tuple(next(names) for _ in range(n_villages[k])),
            n_away=max(20, round(PEOPLE_AWAY * share * fraction)),
            n_returnees=max(20, round(RETURNEES * share * fraction)),
            geometry=(cells, polys), seat=(round(centre.y, 6), round(centre.x, 6)),
            grid_prefix=f"{code[-3:]}-", checkpoints=tuple(p.format(name) for p in CHECKPOINT_PATTERNS),
            unit_prefix=name, n_cadres=round(CADRES_PER_VILLAGE * n_villages[k]),
            id_seqs=tuple(range(k, 500, n_seqs)),  # each township its own ID sequence numbers
        ))
    return specs


def build_township(spec: dict, today: date = DEMO_TODAY) -> dict[str, pd.DataFrame]:
    """One township of the county: the generator on its identity, its
    sequence numbers made county-wide."""
    spec = dict(spec)
    t = Township.start(spec.pop("seed"), today, **spec)
    frames = build(t)
    prefix = f"{t.code[-3:]}-"
    for key, columns in NUMBERED.items():
        frame = frames.get(key)
        if frame is None:
            continue
        for col in columns:
            frame[col] = frame[col].map(lambda v: v if v is None or pd.isna(v) else prefix + str(v))
    return frames


def _build_one(args):
    spec, today = args
    return spec["name"], build_township(spec, today)


def build_county(db=None, *, seed: int = 20220407, today: date = DEMO_TODAY, fraction: float = 1.0,
                 workers: int | None = None, townships: int | None = None) -> dict:
    """Build the synthetic county into ``db`` (replacing what is there).

    ``fraction`` scales the people away and returnees (1: about 100,000 and
    20,000); ``townships`` builds only the first so many (for quick checks).
    Returns a summary: townships, villages, grids, away, returnees, seconds,
    and the rows written per ledger.
    """
    started = time.perf_counter()
    engine = store.get_engine(db)
    store.drop_all(engine)
    store.init_db(engine)
    geometry = build_county_geometry(seed)
    specs = township_specs(seed, geometry, fraction=fraction)[:townships]
    counts = dict.fromkeys(LEDGERS, 0)
    jobs = [(spec, today) for spec in specs]
    workers = workers or min(2, multiprocessing.cpu_count())
    if workers > 1:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            for name, frames in pool.imap(_build_one, jobs):
                _write(engine, name, frames, counts)
    else:
        for name, frames in map(_build_one, jobs):
            _write(engine, name, frames, counts)
    store.set_meta(engine, synthetic="1", scale="county", county=COUNTY_NAME, today=today.isoformat(),
                   seed=str(seed), five_in_one="、".join(five_in_one_roles()), policy_hash=policy_hash())
    return dict(townships=counts["townships"], villages=counts["villages"], grids=counts["grids"],
                away=counts["away"], returnees=counts["returnees"],
                seconds=round(time.perf_counter() - started, 1), counts=counts)


def _write(engine, name: str, frames: dict[str, pd.DataFrame], counts: dict[str, int]) -> None:
    note = f"{SYNTHETIC_NOTE}：{COUNTY_NAME}{name}"
    with store.writing_for(name):  # rows naming no village (donations, township units) are this township's
        for key in LEDGERS:
            frame = frames.get(key)
            if frame is not None and len(frame):
                counts[key] += store.write_ledger(engine, key, frame, user="demo", note=note)
