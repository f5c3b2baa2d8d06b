"""Grid responsibility (网格责任): the six-level tree as indented tables, one
per village, and the map of grid cells coloured by household coverage whose
tooltip names the people answerable at every level. Escaped through
:mod:`fangkong_lib.views.html`, no widgets."""

from __future__ import annotations

from typing import Callable

import folium
import geopandas as gpd
import pandas as pd

from ..ledgers import GRID_LEVELS
from .html import Markup, html, join_html
from .maps import (  # _features: the one GeoJSON builder (rounded coordinates)
    _features, add_natural_village_layer, add_village_labels, add_village_layer, legend_rows,
    make_map_frame,
)

__all__ = ["STATE_COLOURS", "GRIDS_CSS", "add_grid_coverage_layer", "coverage_legend_entries",
           "make_grids_map", "percent", "tree_html"]

#: Coverage state (domain.grids.COVERAGE_STATES) → colour: behind red, complete green.
STATE_COLOURS = {"已全覆盖": "#4fa857", "未全覆盖": "#f6c75b", "滞后": "#c8372d"}
NO_FIGURES = "#d9dde3"

GRIDS_CSS = """
<style>
.fk-tree{margin:4px 0 12px 0;max-height:760px;overflow:auto;border:1px solid #e4e7eb;padding:0 6px}
.fk-tree .fk-table-wrap{max-height:none;border:none}
.fk-tree-village{font-size:15px;color:#243b53;margin:8px 0 2px 0;font-weight:bold}
.fk-tree-village small{font-weight:normal;color:#52606d;margin-left:8px}
.fk-tree table td{text-align:left}
.fk-tree td.fk-num{text-align:right}
.fk-depth-2 td:first-child{padding-left:4px;font-weight:bold}
.fk-depth-3 td:first-child{padding-left:22px}
.fk-depth-4 td:first-child{padding-left:40px}
.fk-depth-5 td:first-child{padding-left:58px;color:#52606d}
.fk-vacant{color:#b8322a;font-weight:bold}
.fk-export-label{font-size:13px;color:#52606d;margin:6px 4px 0 8px;white-space:nowrap}
.fk-state-滞后{color:#b8322a;font-weight:bold}.fk-state-未全覆盖{color:#a66300}.fk-state-已全覆盖{color:#2f6f3e}
</style>
"""


def percent(value) -> str:
    """A coverage share as 97.5% ("" when there is none).

    >>> percent(0.975), percent(1.0), percent(0.9), percent(float("nan"))
    ('97.5%', '100%', '90%', '')
    """
    if value is None or value != value:
        return ""
    return "100%" if value >= 1 else f"{min(value * 100, 99.9):.1f}".removesuffix(".0") + "%"


def coverage_legend_entries(behind_below: float) -> list[tuple[str, str]]:
    """(colour, label) pairs of the coverage states, with the policy's
    threshold (``behind_below``, a share) in words."""
    limit = percent(behind_below)
    return [(STATE_COLOURS["已全覆盖"], "已全覆盖（100%）"), (STATE_COLOURS["未全覆盖"], f"未全覆盖（{limit}–100%）"),
            (STATE_COLOURS["滞后"], f"滞后（低于{limit}）"), (NO_FIGURES, "无户数数据")]


def _person(name: str, phone: str, mask_phone: Callable[[str], str]) -> tuple[str, str]:
    return (name or "（空缺）", mask_phone(phone) if phone else ("" if not name else "（缺电话）"))


def tree_html(tree: pd.DataFrame, coverage: dict[str, pd.DataFrame], *, mask_phone: Callable[[str], str],
              max_rows: int = 1200) -> str:
    """The tree as one indented table per village (支部书记 → 下沉乡干部 →
    自然村干部 → 联户党员), headed by the village's 片区, 网格长 and the
    大网格长; each row with its person, phone (masked by ``mask_phone``) and
    the coverage of its scope. ``coverage`` holds the
    :func:`~fangkong_lib.domain.grids.coverage_by` tables for ``village``,
    ``natural_village`` and ``grid``."""
    if tree.empty:
        return str(html('<div class="fk-empty">{t}</div>', t="没有符合条件的网格节点"))
    top = "、".join(n for n in tree.loc[tree["level"] == "大网格长", "name"] if n) or "（空缺）"
    area_heads = {a: "、".join(n for n in g["name"] if n) or "（空缺）"
                  for a, g in tree[tree["level"] == "网格长"].groupby("area")}
    blocks, shown = [], 0
    lower = tree[tree["depth"] >= 2]
    if lower.empty:  # only the upper levels chosen: one table of them
        return _flat_table(tree, mask_phone)
    for village, nodes in lower.groupby("village", sort=False):
        if shown >= max_rows:
            break
        area = nodes["area"].iloc[0]
        cov = coverage["village"].loc[village] if village in coverage["village"].index else None
        head = html('<div class="fk-tree-village">{v}<small>{area} · 网格长 {gl} · 大网格长 {top}{cov}</small></div>',
                    v=village, area=area or "未分片", gl=area_heads.get(area, "（空缺）"), top=top,
                    cov=f" · 联户覆盖 {percent(cov['coverage'])}（{int(cov['linked']):,}/{int(cov['households']):,} 户）"
                    if cov is not None else "")
        rows = []
        for node in nodes.itertuples():
            shown += 1
            scope_cov = _scope_coverage(node, coverage)
            name, phone = _person(node.name, node.phone, mask_phone)
            state = scope_cov["state"] if scope_cov is not None else ""
            rows.append(html(
                '<tr class="fk-depth-{d}" data-node="{key}"><td>{level}</td><td>{scope}</td>'
                '<td class="{vcls}">{name}</td><td>{phone}</td><td class="fk-num">{hh}</td>'
                '<td class="fk-num">{linked}</td><td class="fk-num">{pct}</td><td class="fk-state-{state}">{state}</td></tr>',
                d=int(node.depth), key=node.node, level=node.level, scope=node.scope,
                vcls="fk-vacant" if node.vacant or node.no_phone else "", name=name, phone=phone,
                hh="" if scope_cov is None else f"{int(scope_cov['households']):,}",
                linked="" if scope_cov is None else f"{int(scope_cov['linked']):,}",
                pct="" if scope_cov is None else percent(scope_cov["coverage"]), state=state))
        blocks.append(head + html(
            '<div class="fk-table-wrap"><table class="fk-table fk-tree-table"><thead><tr><th>层级</th><th>负责范围</th>'
            '<th>责任人</th><th>电话</th><th>户数</th><th>已联户</th><th>覆盖率</th><th>状态</th></tr></thead>'
            '<tbody>{rows}</tbody></table></div>', rows=join_html(rows)))
    more = (html('<div class="fk-more">仅显示前 {n} 个节点，共 {total} 个（请按村筛选）</div>', n=shown, total=len(lower))
            if shown < len(lower) else "")
    return str(html('<div class="fk-tree">{blocks}{more}</div>', blocks=join_html(blocks), more=more))


def _scope_coverage(node, coverage: dict[str, pd.DataFrame]):
    kind, key = {"党支部书记": ("village", node.village), "自然村干部": ("natural_village", node.natural_village),
                 "党员联户": ("grid", node.grid)}.get(node.level, ("", ""))
    table = coverage.get(kind)
    if table is None or key not in table.index:
        return None
    return table.loc[key]


def _flat_table(tree: pd.DataFrame, mask_phone) -> str:
    rows = [html('<tr data-node="{key}"><td>{level}</td><td>{scope}</td><td class="{vcls}">{name}</td>'
                 '<td>{phone}</td></tr>', key=n.node, level=n.level, scope=n.scope,
                 vcls="fk-vacant" if n.vacant or n.no_phone else "", name=_person(n.name, n.phone, mask_phone)[0],
                 phone=_person(n.name, n.phone, mask_phone)[1]) for n in tree.itertuples()]
    return str(html('<div class="fk-tree"><div class="fk-table-wrap"><table class="fk-table fk-tree-table"><thead><tr>'
                    '<th>层级</th><th>负责范围</th><th>责任人</th><th>电话</th></tr></thead><tbody>{rows}</tbody>'
                    '</table></div></div>', rows=join_html(rows)))


def add_grid_coverage_layer(m: folium.Map, grids: gpd.GeoDataFrame, coverage: pd.DataFrame,
                            people: pd.DataFrame, *, name_of: Callable[[str], str] = str,
                            highlight_village: str | None = None, name: str = "网格（联户覆盖）") -> folium.Map:
    """Grid cells filled by household coverage (``coverage``: rows of
    :func:`~fangkong_lib.domain.grids.grid_coverage` indexed by grid code),
    each tooltip naming the people answerable at every level (``people``:
    :func:`~fangkong_lib.domain.grids.grid_responsibles`; every name shown
    through ``name_of``, which masks them in files that leave the office).
    Cells without coverage figures are left grey; no cells, no layer."""
    if grids.empty:
        return m
    cov = coverage.reindex(grids["code"])
    fills, tips = [], []
    for code, village, nat, row in zip(grids["code"], grids["village"], grids["natural_village"], cov.itertuples()):
        value = row.coverage
        fills.append(NO_FIGURES if value != value else STATE_COLOURS.get(row.state, NO_FIGURES))
        who = people.loc[code] if code in people.index else pd.Series(dtype=object)
        levels = join_html(html("<br>{level}：{names}", level=level,
                                names="、".join(name_of(n) if n != "空缺" else n
                                               for n in str(who.get(level, "空缺")).split("、")))
                           for level in GRID_LEVELS)
        figures = ("" if value != value else
                   html("<br>户数 {hh} · 已联户 {linked} · 覆盖率 {pct}{state}", hh=int(row.households),
                        linked=int(row.linked), pct=percent(value), state=f"（{row.state}）"))
        tips.append(html("<b>{code}</b> {v} · {nat}{figures}{levels}", code=code, v=village, nat=nat,
                         figures=figures, levels=levels))
    data = _features(grids, {
        "fill": fills,
        "hl": [bool(highlight_village) and v == highlight_village for v in grids["village"]],
        "tip": [Markup(t) for t in tips],
    })
    folium.GeoJson(
        data, name=name,
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "fillOpacity": 0.85,
                                  "color": "#1f4e79" if f["properties"]["hl"] else "#8a8a8a",
                                  "weight": 1.6 if f["properties"]["hl"] else 0.5},
        highlight_function=lambda f: {"weight": 2.5, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
        smooth_factor=0.5,
    ).add_to(m)
    return m


def make_grids_map(grids: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, naturals: gpd.GeoDataFrame,
                   coverage: pd.DataFrame, people: pd.DataFrame, *, township: str, behind_below: float,
                   subtitle: str = "", village: str | None = None, note: str = "", name_of: Callable[[str], str] = str) -> folium.Map:
    """The grid-responsibility map: cells coloured by coverage, village
    boundaries and labels, natural villages; see :func:`add_grid_coverage_layer`."""
    m = make_map_frame(villages, focus=village or None, title=f"{township}网格责任与党员联户覆盖",
                       subtitle=subtitle, notes=note,
                       legend=legend_rows("党员联户覆盖（按网格）", coverage_legend_entries(behind_below)))
    add_grid_coverage_layer(m, grids, coverage, people, name_of=name_of, highlight_village=village)
    add_village_layer(m, villages)
    add_natural_village_layer(m, naturals)
    add_village_labels(m, villages)
    return m
