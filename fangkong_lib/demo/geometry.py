"""Geometry of the demo township: a ring around the county seat, cut into 17
administrative villages, about 112 natural villages and exactly 376 grid cells.

The cells are built as rectangles in (angle, radius) space whose shared edges
carry the same vertices, then warped smoothly, so the polygons tile the ring
without gaps or overlaps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from shapely import Polygon
from shapely.geometry import Point

from ..config import COUNTY_SEAT
from .draws import allocate

N_VILLAGES = 17
N_GRIDS = 376
N_NATURAL = 112


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


def _cells(rng: np.random.Generator, r_in=2.3, r_out=5.3) -> list[_Cell]:
    nat_counts = allocate(N_NATURAL, N_VILLAGES, 5, 8, rng)
    grid_counts = allocate(N_GRIDS, N_NATURAL, 2, 5, rng)
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


def random_point_in(geom, rng) -> Point:
    """A uniformly drawn point inside ``geom``."""
    minx, miny, maxx, maxy = geom.bounds
    while True:
        pt = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if geom.contains(pt):
            return pt
