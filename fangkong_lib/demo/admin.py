"""Villages, natural villages, grid cells and the six levels of staff
(DOMAIN.md §1, 网格线): the frame every other ledger of the demo hangs on."""

from __future__ import annotations

import numpy as np
import pandas as pd
from shapely import unary_union

from .context import N_AREAS, Township
from .draws import SURNAMES, Names, allocate, pick

SUFFIXES = ("庄", "楼", "寨", "营", "集", "湾", "庙", "店", "岗", "园", "屯", "坡")


def add_villages(t: Township, cells, polys) -> None:
    """Natural villages and administrative villages, with their boundaries."""
    rng, names = t.rng, t.names
    t.areas = [f"第{'一二三四五六七八九'[i]}片区" for i in range(N_AREAS)]
    t.village_area = [t.areas[min(v * N_AREAS // t.n_villages, N_AREAS - 1)] for v in range(t.n_villages)]
    per_nat = {}
    for cell, poly in zip(cells, polys):
        per_nat.setdefault(cell.natural, []).append(poly)
    used_nat_names: set[str] = set()
    for n, plist in sorted(per_nat.items()):
        v = next(c.village for c in cells if c.natural == n)
        t.nat_of_village.setdefault(v, []).append(n)
        while True:
            nm = pick(rng, SURNAMES[:30]) + pick(rng, SUFFIXES)
            if nm not in used_nat_names:
                used_nat_names.add(nm)
                break
        geom = unary_union(plist)
        pt = geom.representative_point()
        hh = int(rng.integers(80, 220))
        t.nat_rows.append(dict(
            code=f"{t.code}{v + 201:03d}{len(t.nat_of_village[v]):02d}",
            name=nm,
            village=t.village_names[v],
            cadre=names.person(),
            cadre_phone=names.phone(),
            households=hh,
            population=int(hh * rng.uniform(3.2, 4.1)),
            lon=round(pt.x, 6),
            lat=round(pt.y, 6),
            geometry=geom.wkt,
        ))
    t.out["natural_villages"] = pd.DataFrame(t.nat_rows)

    for v in range(t.n_villages):
        geom = unary_union([p for c, p in zip(cells, polys) if c.village == v])
        t.village_geoms.append(geom)
        nats = [t.nat_rows[n] for n in t.nat_of_village[v]]
        t.village_rows.append(
            dict(
                code=f"{t.code}{v + 201:03d}",
                name=t.village_names[v],
                township=t.name,
                area=t.village_area[v],
                secretary=names.person(),
                secretary_phone=names.phone(),
                households=sum(x["households"] for x in nats),
                population=sum(x["population"] for x in nats),
                geometry=geom.wkt,
            )
        )
    t.out["villages"] = pd.DataFrame(t.village_rows)
    t.out["townships"] = pd.DataFrame([dict(
        code=t.code, name=t.name, kind=township_kind(t.name),
        households=sum(r["households"] for r in t.village_rows),
        population=sum(r["population"] for r in t.village_rows),
        code_synthetic=t.code_synthetic, geometry=unary_union(t.village_geoms).wkt,
        note=SYNTHETIC_CODE_NOTE if t.code_synthetic else "",
    )])


#: What a township's row says when its code is made up for the demo.
SYNTHETIC_CODE_NOTE = "代码为合成（演示数据，非真实区划代码）"


def township_kind(name: str) -> str:
    """乡, 镇 or 街道, from the name (城郊乡 → 乡)."""
    return "街道" if name.endswith("街道") else name[-1]


def add_grids(t: Township, cells, polys) -> dict[int, list[str]]:
    """The 376 grid cells, each with its party member (党员联户) and cadre.

    Returns the township cadres sent down to each village (下沉乡干部).
    """
    rng, names = t.rng, t.names
    cadres_by_village = {v: [names.person() for _ in range(c)] for v, c in
                         enumerate(allocate(t.n_cadres, t.n_villages, 3, 4, rng))}
    grid_counter: dict[int, int] = {}
    for cell, poly in zip(cells, polys):
        grid_counter[cell.natural] = grid_counter.get(cell.natural, 0) + 1
        v = cell.village
        nat_no = t.nat_of_village[v].index(cell.natural) + 1
        cadres = cadres_by_village[v]
        t.grid_rows.append(
            dict(
                code=f"{t.grid_prefix}{v + 1:02d}-{nat_no:02d}-{grid_counter[cell.natural]}",
                village=t.village_names[v],
                natural_village=t.nat_rows[cell.natural]["name"],
                member=names.person(),
                member_phone=names.phone(),
                cadre=cadres[nat_no % len(cadres)],
                households=int(rng.integers(8, 13)),  # a weight until shared out below
                geometry=poly.wkt,
            )
        )
    _share_households(t)
    grids = pd.DataFrame(t.grid_rows)
    t.out["grids"] = grids
    t.grids_by_village = {v: grids[grids.village == t.village_names[v]].to_dict("records")
                          for v in range(t.n_villages)}
    return cadres_by_village


def _share_households(t: Township) -> None:
    """Share each natural village's households among its grid cells in
    proportion to the cells' weights, so grids add up to villages."""
    by_nat: dict[str, list[dict]] = {}
    for g in t.grid_rows:
        by_nat.setdefault(g["natural_village"], []).append(g)
    for nat in t.nat_rows:
        rows = by_nat[nat["name"]]
        for g, n in zip(rows, apportion(nat["households"], [g["households"] for g in rows])):
            g["households"] = n


def apportion(total: int, weights: list[int]) -> list[int]:
    """Whole shares of ``total`` in proportion to ``weights`` that add up to
    ``total`` (largest remainders first, ties to the earlier share).

    >>> apportion(100, [1, 1, 1])
    [34, 33, 33]
    >>> sum(apportion(217, [8, 12, 9, 10]))
    217
    """
    exact = [total * w / sum(weights) for w in weights]
    shares = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (shares[i] - exact[i], i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def add_staff(t: Township, cadres_by_village: dict[int, list[str]]) -> None:
    """Staff on the six levels, plus the village doctors and police of the
    五包一 teams."""
    names, staff = t.names, t.staff

    def add(level, name, duty, **scope):
        staff.append(dict(staff_no=f"S{len(staff) + 1:04d}", name=name, level=level, duty=duty,
                          phone=names.phone(), **scope))

    for duty in ("乡党委书记", "乡长"):
        add("大网格长", names.person(), duty)
    for a in t.areas:
        add("网格长", names.person(), "包片乡领导", area=a)
    for v, row in enumerate(t.village_rows):
        add("党支部书记", row["secretary"], "村党支部书记", area=row["area"], village=row["name"])
    for v, cadres in cadres_by_village.items():
        for c in cadres:
            add("下沉乡干部", c, "下沉乡干部", area=t.village_area[v], village=t.village_names[v])
    for n in t.nat_rows:
        add("自然村干部", n["cadre"], "自然村干部", village=n["village"], natural_village=n["name"])
    for g in t.grid_rows:
        add("党员联户", g["member"], "联户党员", village=g["village"],
            natural_village=g["natural_village"], grid=g["code"])

    t.doctors = {v: names.person() for v in range(t.n_villages)}
    # Village doctors and police (一村一警: one officer per village) serve on
    # the 五包一 teams, so they are staff too. Their phones, and the names of
    # the officers beyond the first nine, come from a stream of their own, so
    # that everyone generated after this point stays as they were when the
    # police were counted per 片区 (nine of them).
    first_nine = [names.person() for _ in t.areas]
    support = Names(np.random.default_rng(t.seed + 1))
    doctor_phones = [support.phone() for _ in range(t.n_villages)]
    t.police = {v: first_nine[v] if v < len(first_nine) else support.person() for v in range(t.n_villages)}
    for v in range(t.n_villages):
        staff.append(dict(staff_no=f"S{len(staff) + 1:04d}", name=t.doctors[v], level="村医", duty="村卫生室医生",
                          phone=doctor_phones[v], area=t.village_area[v], village=t.village_names[v]))
    for v in range(t.n_villages):
        staff.append(dict(staff_no=f"S{len(staff) + 1:04d}", name=t.police[v], level="民警/辅警",
                          duty="一村一警", phone=support.phone(), area=t.village_area[v], village=t.village_names[v]))
    t.out["staff"] = pd.DataFrame(staff)
