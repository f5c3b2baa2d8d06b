"""Grid responsibility (网格责任, DOMAIN.md §1 网格线): the six-level tree,
household coverage by party members (党员联户) and what is flagged.

Pure functions on the ledgers' DataFrames (no I/O):

- :func:`grid_tree`: every node of 大网格长 → 网格长 → 党支部书记 → 下沉乡干部
  → 自然村干部 → 党员联户 with its person and phone; a scope without a
  person (or without a phone) is a vacant node.
- :func:`link_status`, :func:`coverage_by`, :func:`grid_coverage`: linked
  households ÷ households by grid, natural village and village.
- :func:`member_loads`: households per party member, overloaded ones flagged
  (the threshold is data: ``policy/grids/coverage.toml``).
- :func:`grid_responsibles`: the people at every level of each grid (the
  map's tooltip); :func:`coverage_summary`: the overview's and the
  briefing's figures.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ..ledgers import GRID_LEVELS
from ..policy.grid_coverage import CoveragePolicy

__all__ = [
    "BEHIND", "BEHIND_COLUMNS", "COMPLETE", "COVERAGE_STATES", "INCOMPLETE", "KPI_LABELS", "OVERVIEW_KPI_LABELS",
    "TOWNSHIP_SCOPE", "UNLINKED_COLUMNS", "coverage_by", "coverage_sentence", "coverage_state", "coverage_summary", "filter_tree",
    "grid_coverage", "grid_responsibles", "grid_tree", "incomplete_grids", "link_status", "member_loads",
    "overview_coverage", "unlinked_households", "vacant_nodes",
]

COMPLETE, INCOMPLETE, BEHIND = "已全覆盖", "未全覆盖", "滞后"
#: Coverage states (filter choices), best first.
COVERAGE_STATES = (COMPLETE, INCOMPLETE, BEHIND)
#: The scope of the two 大网格长 (乡党委书记 and 乡长 answer for the whole township).
TOWNSHIP_SCOPE = "全乡"
#: Why a household counts as not linked.
UNLINKED, UNKNOWN_MEMBER = "未联户", "联户党员不在名册"

#: KPI keys of the grids page in display order with their Chinese labels.
KPI_LABELS = {
    "coverage": "联户覆盖率(%)",
    "households": "农户(户)",
    "linked": "已联户(户)",
    "unlinked": "未联户(户)",
    "behind_grids": "滞后网格",
    "members": "联户党员",
    "overloaded": "超负荷党员",
    "vacant": "空缺/缺电话节点",
}


def _text(value) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    return str(value).strip()


# -- The tree ---------------------------------------------------------------------------


def _ordered(values) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        text = _text(v)
        if text:
            seen.setdefault(text, None)
    return list(seen)


def grid_tree(staff: pd.DataFrame, villages: pd.DataFrame, naturals: pd.DataFrame,
              grids: pd.DataFrame) -> pd.DataFrame:
    """Every node of the six-level tree, in reading order (a village, then
    its 下沉乡干部, each followed by the natural villages it covers and their
    grids).

    The scopes come from the ledgers (片区 from ``villages.area``, villages,
    natural villages, grid cells); the people from ``staff`` (its ``level``
    and scope columns). A 下沉乡干部 covers the natural villages whose grids
    name them (``grids.cadre``). A scope with nobody at its level is a vacant
    node (``vacant``); a person without a phone is flagged too
    (``no_phone``).

    Returns
    -------
    DataFrame
        ``node`` (staff_no, or ``空缺:level:scope``), ``level``, ``depth``
        (0–5), ``scope``, ``area``, ``village``, ``natural_village``,
        ``grid``, ``cadre`` (the 下沉乡干部 above a natural village or
        grid), ``staff_no``, ``name``, ``phone``, ``vacant``, ``no_phone``,
        ``parent_scope``.
    """
    rows: list[dict] = []
    staff = staff.copy()
    for col in ("staff_no", "name", "level", "phone", "area", "village", "natural_village", "grid"):
        if col not in staff:
            staff[col] = ""
        staff[col] = staff[col].map(_text)

    index: dict[tuple, list[dict]] = {}
    for person in staff.to_dict("records"):
        for col in ("", "area", "village", "natural_village", "grid"):
            index.setdefault((person["level"], col, person[col] if col else ""), []).append(person)

    def people(level: str, **scope) -> list[dict]:
        ((col, value),) = scope.items() if scope else (("", ""),)
        return index.get((level, col, value), [])

    def add(level: str, scope: str, parent: str, found: list[dict], **where) -> None:
        named = [p for p in found if p["name"]]
        if not named:
            rows.append(dict(node=f"空缺:{level}:{scope}", level=level, scope=scope, parent_scope=parent,
                             staff_no=found[0]["staff_no"] if found else "", name="", phone="", vacant=True,
                             no_phone=False, **where))
            return
        for p in named:
            rows.append(dict(node=p["staff_no"], level=level, scope=scope, parent_scope=parent,
                             staff_no=p["staff_no"], name=p["name"], phone=p["phone"], vacant=False,
                             no_phone=not p["phone"], **where))

    add("大网格长", TOWNSHIP_SCOPE, "", people("大网格长"))
    areas = _ordered(villages.get("area", pd.Series(dtype=object)))
    areas += [a for a in _ordered(staff.loc[staff["level"] == "网格长", "area"]) if a not in areas]
    for area in areas:
        add("网格长", area, TOWNSHIP_SCOPE, people("网格长", area=area), area=area)
    area_of = dict(zip(villages["name"].map(_text), villages.get("area", pd.Series([""] * len(villages))).map(_text)))
    nat_village = dict(zip(naturals["name"].map(_text), naturals["village"].map(_text)))
    grid_cols = grids.assign(code=grids["code"].map(_text), natural_village=grids["natural_village"].map(_text),
                             cadre=grids.get("cadre", pd.Series([""] * len(grids), index=grids.index)).map(_text))
    cadre_of_nat = {nat: _most_common(g["cadre"]) for nat, g in grid_cols.groupby("natural_village", sort=False)}
    for village in villages["name"].map(_text):
        area = area_of.get(village, "")
        where = dict(area=area, village=village)
        add("党支部书记", village, area, people("党支部书记", village=village), **where)
        nats = [n for n in _ordered(naturals.loc[naturals["village"].map(_text) == village, "name"])]
        cadres = people("下沉乡干部", village=village)
        covered: dict[str, list[str]] = {c["staff_no"]: [] for c in cadres}
        uncovered = []
        for nat in nats:
            match = [c for c in cadres if c["name"] and c["name"] == cadre_of_nat.get(nat, "")]
            (covered[match[0]["staff_no"]].append(nat) if match else uncovered.append(nat))
        groups = [([c], covered[c["staff_no"]]) for c in cadres]
        if uncovered:
            groups.append(([], uncovered))
        for found, group_nats in groups:
            scope = "、".join(group_nats) or village
            add("下沉乡干部", scope if found else f"{scope}（未指定下沉乡干部）", village, found, **where)
            below = dict(where, cadre=found[0]["name"] if found else "")  # the 下沉乡干部 above
            for nat in group_nats:
                add("自然村干部", nat, village, people("自然村干部", natural_village=nat), natural_village=nat,
                    **below)
                for code in grid_cols.loc[grid_cols["natural_village"] == nat, "code"]:
                    add("党员联户", code, nat, people("党员联户", grid=code), natural_village=nat, grid=code,
                        **below)
    places = ["area", "village", "natural_village", "grid", "cadre"]
    tree = pd.DataFrame(rows, columns=["node", "level", "scope", "parent_scope", *places, "staff_no", "name",
                                       "phone", "vacant", "no_phone"])
    tree[places] = tree[places].fillna("")
    tree.insert(2, "depth", tree["level"].map({lv: i for i, lv in enumerate(GRID_LEVELS)}).astype(int))
    return tree


def _most_common(values: pd.Series) -> str:
    values = values[values != ""]
    return values.value_counts().index[0] if len(values) else ""


def vacant_nodes(tree: pd.DataFrame) -> pd.DataFrame:
    """Nodes without a person or without a phone."""
    return tree[tree["vacant"] | tree["no_phone"]]


def filter_tree(tree: pd.DataFrame, *, village: str = "", natural_village: str = "", level: str = "") -> pd.DataFrame:
    """The nodes of one village (with the 网格长 of its 片区 and the 大网格长
    above it), one natural village, one level."""
    rows = tree
    if natural_village and not village:
        village = next(iter(tree.loc[tree["natural_village"] == natural_village, "village"]), "")
    if village:
        areas = set(tree.loc[tree["village"] == village, "area"])
        rows = rows[(rows["village"] == village) | (rows["level"] == "大网格长")
                    | ((rows["level"] == "网格长") & rows["area"].isin(areas))]
    if natural_village:
        covers = rows["scope"].str.split("（").str[0].str.split("、").map(lambda nats: natural_village in nats)
        rows = rows[(rows["natural_village"] == natural_village) | (rows["depth"] < 3)
                    | ((rows["level"] == "下沉乡干部") & covers)]
    if level:
        rows = rows[rows["level"] == level]
    return rows


def grid_responsibles(tree: pd.DataFrame) -> pd.DataFrame:
    """Per grid cell, the people answerable for it at every level (names
    joined with 、; 空缺 where nobody is), indexed by grid code, one column
    per level of :data:`~fangkong_lib.ledgers.GRID_LEVELS`."""
    def names(frame: pd.DataFrame) -> str:
        named = [n for n in frame["name"] if n]
        return "、".join(named) if named else "空缺"

    top = names(tree[tree["level"] == "大网格长"])
    by_area = {a: names(g) for a, g in tree[tree["level"] == "网格长"].groupby("area")}
    by_village = {v: names(g) for v, g in tree[tree["level"] == "党支部书记"].groupby("village")}
    by_nat = {n: names(g) for n, g in tree[tree["level"] == "自然村干部"].groupby("natural_village")}
    cells = tree[tree["level"] == "党员联户"]
    out = pd.DataFrame({
        "大网格长": top,
        "网格长": cells["area"].map(by_area).fillna("空缺").to_numpy(),
        "党支部书记": cells["village"].map(by_village).fillna("空缺").to_numpy(),
        "下沉乡干部": [c or "空缺" for c in cells["cadre"]],
        "自然村干部": cells["natural_village"].map(by_nat).fillna("空缺").to_numpy(),
        "党员联户": [n or "空缺" for n in cells["name"]],
    }, index=pd.Index(cells["grid"].to_numpy(), name="grid"))
    return out[~out.index.duplicated()]


# -- Coverage -----------------------------------------------------------------------------


def link_status(households: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """``households`` with ``linked`` (its 联户党员编号 names a member of the
    roster) and ``link_problem`` (未联户, 联户党员不在名册 or "")."""
    roster = set(members["member_no"].map(_text)) - {""} if len(members) else set()
    member_no = households["member_no"].map(_text) if "member_no" in households else pd.Series(
        "", index=households.index)
    linked = member_no.isin(roster) & (member_no != "")
    problem = pd.Series("", index=households.index, dtype=object)
    problem[member_no == ""] = UNLINKED
    problem[(member_no != "") & ~linked] = UNKNOWN_MEMBER
    return households.assign(linked=linked.astype(bool), link_problem=problem)


def coverage_state(coverage: float, policy: CoveragePolicy) -> str:
    """已全覆盖 at 100 %, 滞后 below the policy's share, 未全覆盖 in between
    (a scope without households counts as covered).

    >>> p = CoveragePolicy(10, 15, 0.9)
    >>> coverage_state(1.0, p), coverage_state(0.95, p), coverage_state(0.5, p)
    ('已全覆盖', '未全覆盖', '滞后')
    """
    if coverage != coverage or coverage >= 1:
        return COMPLETE
    return BEHIND if coverage < policy.behind_below else INCOMPLETE


def coverage_by(linked: pd.DataFrame, by: str, policy: CoveragePolicy) -> pd.DataFrame:
    """Households, linked, unlinked, coverage (0–1) and state per ``by``
    (``grid``, ``natural_village`` or ``village``) from :func:`link_status`'s rows."""
    frame = linked.assign(_key=linked[by].map(_text))
    table = frame.groupby("_key", sort=False).agg(households=("linked", "size"), linked=("linked", "sum"))
    table.index.name = by
    return _with_coverage(table, policy)


def _with_coverage(table: pd.DataFrame, policy: CoveragePolicy) -> pd.DataFrame:
    table = table.astype({"households": int, "linked": int})
    table["unlinked"] = table["households"] - table["linked"]
    table["coverage"] = (table["linked"] / table["households"].where(table["households"] > 0)).astype(float)
    table["state"] = table["coverage"].map(lambda c: coverage_state(c, policy))
    return table


def grid_coverage(grids: pd.DataFrame, households: pd.DataFrame, members: pd.DataFrame,
                  policy: CoveragePolicy) -> pd.DataFrame:
    """One row per grid cell: ``code``, ``village``, ``natural_village``,
    ``households`` (户数), ``linked`` (已联户数), ``unlinked``, ``coverage``,
    ``state``, ``members`` (party members of the grid) and ``overloaded``.

    With household rows, 户数 and 已联户数 are counted from them; a store
    without any (villages that keep only the grid table) uses the grid
    table's own 户数 and 已联户数.
    """
    base = grids[["code", "village", "natural_village"]].copy()
    base["code"] = base["code"].map(_text)
    if len(households):
        counts = coverage_by(link_status(households, members), "grid", policy)[["households", "linked"]]
        base = base.join(counts, on="code")
    else:
        base["households"] = pd.to_numeric(grids.get("households"), errors="coerce").to_numpy()
        base["linked"] = pd.to_numeric(grids.get("linked"), errors="coerce").to_numpy()
    base[["households", "linked"]] = base[["households", "linked"]].fillna(0).astype(int)
    table = _with_coverage(base.set_index("code"), policy).reset_index()
    loads = member_loads(households, members, policy) if len(members) else pd.DataFrame(
        columns=["grid", "overloaded"])
    per_grid = loads.groupby(loads["grid"].map(_text)).agg(members=("grid", "size"), overloaded=("overloaded", "sum"))
    table = table.join(per_grid, on="code")
    table[["members", "overloaded"]] = table[["members", "overloaded"]].fillna(0).astype(int)
    return table


def member_loads(households: pd.DataFrame, members: pd.DataFrame, policy: CoveragePolicy) -> pd.DataFrame:
    """The roster with ``load`` (households linked to each member) and
    ``overloaded`` (more than the policy's ``member_max_households``)."""
    counts = households["member_no"].map(_text).value_counts() if len(households) else pd.Series(dtype=int)
    out = members.copy()
    out["load"] = out["member_no"].map(_text).map(counts).fillna(0).astype(int)
    out["overloaded"] = out["load"] > policy.member_max_households
    return out


def coverage_summary(ledgers: Mapping[str, pd.DataFrame], policy: CoveragePolicy, *,
                     village: str | None = None) -> dict[str, float]:
    """The coverage figures of the overview and the daily briefing, from the
    grids' 户数 and 已联户数 (kept in step with the households by every write)
    and the tree: coverage (%), households, linked, unlinked, grids and
    villages behind, vacant nodes (for one village when given)."""
    grids = ledgers["grids"]
    if village:
        grids = grids[grids["village"] == village]
    table = grid_coverage(grids, pd.DataFrame(), pd.DataFrame(columns=["member_no"]), policy)
    total, linked = int(table["households"].sum()), int(table["linked"].sum())
    by_village = _with_coverage(table.groupby("village")[["households", "linked"]].sum(), policy)
    tree = grid_tree(ledgers["staff"], ledgers["villages"], ledgers["natural_villages"], ledgers["grids"])
    if village:
        tree = filter_tree(tree, village=village)
    return {
        "coverage": round(100 * linked / total, 1) if total else 100.0,
        "households": total,
        "linked": linked,
        "unlinked": total - linked,
        "behind_grids": int((table["state"] == BEHIND).sum()),
        "behind_villages": "、".join(by_village.index[by_village["state"] == BEHIND]),
        "vacant": len(vacant_nodes(tree)),
    }


#: The overview's coverage cards (key → label); keys distinct from the overview's own.
OVERVIEW_KPI_LABELS = {"grid_unlinked": "未联户(户)", "grid_incomplete": "联户未全覆盖网格"}
#: Columns of the grids not fully linked, as the overview and the briefing list them.
BEHIND_COLUMNS = {"code": "网格编号", "village": "村", "natural_village": "自然村", "households": "户数",
                  "linked": "已联户数", "unlinked": "未联户", "coverage_text": "覆盖率", "state": "状态"}
#: Columns of the unlinked households, as the overview lists them.
UNLINKED_COLUMNS = ("household_no", "head", "village", "natural_village", "grid", "house_no", "link_problem")


def overview_coverage(ledgers: Mapping[str, pd.DataFrame], policy: CoveragePolicy, *,
                      village: str | None = None, memo=None) -> tuple[dict[str, float], pd.DataFrame]:
    """The overview's coverage cards (:data:`OVERVIEW_KPI_LABELS`: households
    not linked, grids not fully linked) and those grids (columns of
    :data:`BEHIND_COLUMNS`, least covered first), from the grids' 户数 and
    已联户数 (the households themselves are not read). With ``memo`` (see
    :func:`~.overview.summarize_overview`) the township's grids are ranked
    once and one village's taken from them (each grid's figures are its own)."""
    if memo is None:
        grids = incomplete_grids(ledgers["grids"], policy, village=village)
    else:
        grids = memo(("incomplete_grids", policy), lambda: incomplete_grids(ledgers["grids"], policy))
        if village:
            grids = grids[grids["village"] == village].reset_index(drop=True)
    return {"grid_unlinked": int(grids["unlinked"].sum()), "grid_incomplete": len(grids)}, grids


def unlinked_households(households: pd.DataFrame, members: pd.DataFrame, *,
                        village: str | None = None) -> pd.DataFrame:
    """The households not linked to a party member of the roster (columns
    :data:`UNLINKED_COLUMNS`, ``link_problem`` saying why), by grid."""
    if village:
        households = households[households["village"] == village]
    rows = link_status(households, members)
    rows = rows[~rows["linked"]].sort_values(["grid", "household_no"])
    return rows[list(UNLINKED_COLUMNS)].reset_index(drop=True)


def incomplete_grids(grids: pd.DataFrame, policy: CoveragePolicy, *, village: str | None = None,
                     states: tuple[str, ...] = (INCOMPLETE, BEHIND)) -> pd.DataFrame:
    """Grids in ``states`` (not fully linked by default), least covered
    first, with the columns of :data:`BEHIND_COLUMNS` (coverage as text)."""
    if village:
        grids = grids[grids["village"] == village]
    table = grid_coverage(grids, pd.DataFrame(), pd.DataFrame(columns=["member_no"]), policy)
    table = table[table["state"].isin(states)].sort_values(["coverage", "code"])
    table["coverage_text"] = table["coverage"].map(lambda c: f"{c * 100:.1f}%")
    return table[list(BEHIND_COLUMNS)].reset_index(drop=True)


def coverage_sentence(ledgers: Mapping[str, pd.DataFrame], policy: CoveragePolicy) -> str:
    """One sentence for the briefing: the township's coverage, the villages
    behind and the vacant nodes of the tree."""
    s = coverage_summary(ledgers, policy)
    behind = f"，联户滞后（覆盖率低于{policy.behind_below:.0%}）的村：{s['behind_villages']}" if s["behind_villages"] else ""
    vacant = f"，六级网格空缺或缺电话节点 {s['vacant']} 个" if s["vacant"] else "，六级网格节点均已落实到人"
    return (f"全乡党员联户覆盖 {s['coverage']}%（已联 {s['linked']}/{s['households']} 户，未联 {s['unlinked']} 户）"
            f"{behind}{vacant}；下列为未全覆盖的网格，覆盖率最低的在前")
