"""HTML and maps of the returnee page (返乡人员管控): escaped, masked, no widgets.

Personal data (ID numbers, phones) is masked with
:func:`fangkong_lib.ingest.normalize.mask_frame` before anything reaches a table;
the map only ever shows counts per grid cell, never a person.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import folium
import geopandas as gpd
import pandas as pd

from ..domain.alerts import ALERT_COLUMNS, ALERT_LABELS
from ..domain.returnees import DAY_STATES, PEOPLE_COLUMNS
from ..ledgers import get_ledger
from ..ingest.normalize import mask_frame, mask_id, mask_phone
from .html import Markup, html, join_html
from .maps import make_overview_map
from .tables import frame_html

_PERSON_LEDGER = get_ledger("returnees")
_VILLAGE_LEDGER = get_ledger("villages")


def mask_people(frame: pd.DataFrame) -> pd.DataFrame:
    """ID numbers and phones masked (any column named like the ledgers' fields)."""
    return mask_frame(mask_frame(frame, _PERSON_LEDGER), _VILLAGE_LEDGER)


def person_label(row: Mapping) -> str:
    """How a person appears in a choice list: name, village, grid, status and
    the masked ID number (to tell namesakes apart)."""
    parts = [row.get("name"), row.get("village"), row.get("grid"), row.get("status"), mask_id(row.get("id_number"))]
    return " · ".join(str(p) for p in parts if isinstance(p, str) and p)


def returnee_table_html(people: pd.DataFrame, *, max_rows: int = 200) -> str:
    """The filtered people, masked, with Chinese headers; overdue rows marked."""
    if people.empty:
        return frame_html(people, empty="没有符合条件的人员")
    shown = mask_people(people[list(PEOPLE_COLUMNS)]).rename(columns=PEOPLE_COLUMNS)
    return frame_html(shown, css_class="fk-table fk-rt fk-returnee-list", max_rows=max_rows,
                      empty="没有符合条件的人员")


def alerts_html(alerts: Mapping[str, pd.DataFrame], *, max_rows: int = 50) -> str:
    """Every alert list under its name with its count; empty lists fold into
    one line at the end. Each list is a ``div.fk-alert-list[data-alert=key]``."""
    blocks, empty = [], []
    for key, label in ALERT_LABELS.items():
        frame = alerts.get(key)
        if frame is None or frame.empty:
            empty.append(label)
            continue
        # who and where first; the masked contact details last
        last = [c for c in ("phone", "id_number") if c in frame.columns]
        shown = mask_people(frame[[c for c in frame.columns if c not in last] + last]).rename(columns=ALERT_COLUMNS)
        if "体温(℃)" in shown:
            shown["体温(℃)"] = shown["体温(℃)"].map(lambda v: f"{v:.1f}")
        if "发热标准(℃)" in shown:
            shown["发热标准(℃)"] = shown["发热标准(℃)"].map(lambda v: f"≥{v:.1f}")
        blocks.append(html(
            '<div class="fk-alert-list" data-alert="{key}">'
            '<div class="fk-alert-title">{label}<span class="fk-count">{n}</span></div>{table}</div>',
            key=key, label=label, n=len(frame), table=Markup(frame_html(shown, css_class="fk-table fk-rt", max_rows=max_rows)),
        ))
    if empty:
        blocks.append(html('<div class="fk-alert-none">无：{names}</div>', names="、".join(empty)))
    return str(join_html(blocks))


def _cell(state: str, text: str) -> Markup:
    return html('<td class="fk-d fk-d-{state}" data-state="{state}" title="{title}">{text}</td>',
                state=state, title=DAY_STATES.get(state, ""), text=text)


def days_grid_html(days: pd.DataFrame, *, today=None) -> str:
    """Days × (核酸, 上午体温, 下午体温), each cell coloured by its state."""
    if days.empty:
        return '<div class="fk-empty">无管控日程</div>'
    rows = []
    for r in days.itertuples(index=False):
        current = Markup(' class="fk-today"') if today is not None and r.date == today else ""
        rows.append(html("<tr{current}><th>{day}</th><th>第{n}天</th>{test}{am}{pm}</tr>",
                         current=current, day=f"{r.date:%m-%d}", n=r.day_no, test=_cell(r.test_state, r.test_text),
                         am=_cell(r.am_state, r.am_text), pm=_cell(r.pm_state, r.pm_text)))
    legend = join_html(html('<span class="fk-d fk-d-{k}">{v}</span>', k=k, v=v)
                       for k, v in DAY_STATES.items() if k in ("done", "due", "late", "abnormal", "planned", "absent"))
    return str(html('<table class="fk-days"><thead><tr><th>日期</th><th>天数</th><th>核酸</th><th>上午体温</th>'
                    '<th>下午体温</th></tr></thead><tbody>{rows}</tbody></table>'
                    '<div class="fk-days-legend">{legend}</div>', rows=join_html(rows), legend=legend))


def _date(value) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def _dl(pairs: Sequence[tuple[str, str]]) -> Markup:
    return join_html(html("<dt>{k}</dt><dd>{v}</dd>", k=k, v=v) for k, v in pairs if v not in (None, ""))


def person_detail_html(
    person: Mapping,
    *,
    control: Mapping | None = None,
    days: pd.DataFrame | None = None,
    team: Sequence[tuple[str, str]] = (),
    regime: str = "",
    today=None,
) -> str:
    """One person: who (masked), where in the workflow, the plan, the 五包一
    team and the day grid."""
    flags = person.get("flags") or ""
    head = html('<div class="fk-person-head"><b>{name}</b><span class="fk-badge" data-status="{status}">{status}</span>'
                "{flags}</div>", name=person.get("name"), status=person.get("status"),
                flags=html('<span class="fk-flags">{f}</span>', f=flags) if flags else "")
    labels = _PERSON_LEDGER.labels
    who = _dl([
        (labels["id_number"], mask_id(person.get("id_number"))),
        (labels["phone"], mask_phone(person.get("phone")) if person.get("phone") else ""),
        ("住址", " · ".join(str(x) for x in (person.get("village"), person.get("natural_village"), person.get("grid"))
                          if isinstance(x, str) and x)),
        ("风险类别", person.get("category") or ""),
        (labels["origin"], person.get("origin") or ""),
        (labels["report_date"], _date(person.get("report_date"))),
        ("预计到达", _date(person.get("expected"))),
        ("实际到达", _date(person.get("arrival"))),
    ])
    parts = [head, html('<dl class="fk-dl">{who}</dl>', who=who)]
    if control is not None and control.get("measure") not in (None, "无"):
        tests = "、".join(d[5:] for d in str(control.get("test_dates") or "").split(";") if d)
        plan = _dl([
            ("管控措施", control.get("measure")),
            ("执行政策", regime),
            ("开始日期（第1天）", _date(control.get("start_date"))),
            ("应解除日期", _date(control.get("end_date"))),
            ("实际解除日期", _date(control.get("released_date"))),
            ("核酸日期", tests or "无"),
        ])
        team_rows = join_html(html("<tr><td>{r}</td><td>{n}</td></tr>", r=r, n=n) for r, n in team)
        parts.append(html(
            '<div class="fk-plan"><div class="fk-sub">管控方案</div><dl class="fk-dl">{plan}</dl></div>'
            '<div class="fk-team"><div class="fk-sub">五包一责任人</div>'
            '<table class="fk-table fk-rt fk-team-table"><tbody>{team}</tbody></table></div>',
            plan=plan, team=team_rows))
        if days is not None:
            parts.append(html('<div class="fk-sub">每日核酸与体温</div>{grid}', grid=Markup(days_grid_html(days, today=today))))
    elif person.get("status") in ("已报备", "在外"):
        parts.append(Markup('<div class="fk-empty">尚未到达：到达后按风险类别自动生成管控方案。</div>'))
    else:
        parts.append(Markup('<div class="fk-empty">按现行政策无需管控。</div>'))
    return str(html('<div class="fk-person">{parts}</div>', parts=join_html(parts)))


def make_returnee_map(
    grids: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    naturals: gpd.GeoDataFrame,
    counts: pd.Series,
    *,
    village: str | None = None,
    basemap: str = "none",
    title: str = "",
    subtitle: str = "",
    note: str = "",
    count_label: str = "筛选人数",
) -> folium.Map:
    """Grid cells coloured by how many of the filtered people live there,
    with village boundaries and natural villages: people only as counts."""
    return make_overview_map(grids, villages, naturals, counts, village=village, basemap=basemap, title=title,
                             subtitle=subtitle, note=note, count_label=count_label,
                             legend_title=f"{count_label}（按网格）")
