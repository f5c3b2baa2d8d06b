"""Briefing outputs: the situation map as a file, and the daily report (日报).

Maps
    :data:`MAP_LAYERS` is the one registry of layers a briefing map can show
    (the ``--layer`` choices of ``fangkong map``); :func:`make_situation_map`
    composes the chosen layers with title, date, legend, scale bar, north
    arrow and source note; :func:`export_map` writes it as one self-contained
    HTML file or as a print-resolution PNG drawn by headless Chromium.

Daily briefing
    :func:`summarize_briefing` computes what the report says for one date
    with the dashboards' own functions (so its figures are theirs);
    :func:`briefing_files` renders it as HTML (self-contained), PDF (A4, via
    the same Chromium) and xlsx; :func:`write_briefing` saves them.

Personal data in every output is masked (names, ID numbers, phones); all
text that reaches HTML is escaped.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Mapping, Sequence

import folium
import numpy as np
import pandas as pd
from branca.element import Element, MacroElement

from ..config import SYNTHETIC_NOTE
from ..policy import fever_threshold
from ..dataset import Dataset
from ..domain.daily import (
    REPORT_DEADLINE, REPORT_LATE, REPORT_MISSING, REPORT_ON_TIME, REPORT_ZERO, arrivals_on,
    control_history, per_village, releases_on, report_cutoff, village_report_status,
)
from ..domain.overview import CONTROL_MEASURES, Overview, stock_by_item, summarize_overview
from ..ledgers import get_ledger
from ..views.layers import MAP_LAYERS, MapContext, MapLayer, check_layers, default_layers, register_map_layer
from ..ingest.normalize import mask_frame
from .render import Chromium, RenderError, with_chromium
from ..views.maps import add_north_arrow, add_notes, add_title, escape_text, make_base_map, render_map
from ..views.tables import ALERT_KPIS, frame_html

# The returnees, supervision and supplies modules own their lists' rules;
# without them the briefing falls back to the same rules written out here.
try:
    from ..domain import alerts as _alerts
except ImportError:  # pragma: no cover - depends on which modules are installed
    _alerts = None
try:
    from ..domain import problems as _problems
    from ..domain.problems import OVERDUE_COLUMNS as PROBLEM_COLUMNS
except ImportError:  # pragma: no cover
    _problems = None
    PROBLEM_COLUMNS = {
        "problem_no": "问题编号", "team": "督查组", "village": "村", "target": "被督查单位",
        "category": "问题类别", "description": "问题描述", "unit": "责任单位", "person": "责任人",
        "deadline": "整改时限", "days_overdue": "逾期天数", "stage": "阶段",
    }
try:
    from ..domain import supplies as _supplies
    from ..policy.stock_levels import load_stock_policy
except ImportError:  # pragma: no cover
    _supplies = None

__all__ = [
    "MAP_LAYERS", "MapLayer", "register_map_layer", "default_layers", "check_layers", "make_situation_map",
    "map_document", "map_png", "export_map", "map_files", "RenderError",
    "HEADLINE", "ActionList", "Briefing", "summarize_briefing", "overdue_tests", "fever_readings",
    "overdue_pushes", "overdue_problems",
    "supply_alerts", "control_chart_png", "briefing_html", "briefing_xlsx", "briefing_files", "write_briefing",
]

MIME = {
    ".html": "text/html",
    ".png": "image/png",
    ".pdf": "application/pdf",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: Every personal-data kind is masked in briefing outputs: they leave the
#: command centre (USB stick, the county), names included.
BRIEFING_PII_KINDS = frozenset({"name", "id", "phone", "address"})

# ---------------------------------------------------------------------------
# The situation map as a file
# ---------------------------------------------------------------------------


class _Legend(MacroElement):
    """The legend of the chosen layers, inside the map container (so it is
    part of a screenshot), styled like the other map panels."""

    _css = ("<style>.fk-lg-line{display:inline-block;width:16px;height:0;border-top:2px solid;"
            "vertical-align:middle;margin-right:5px}.fk-lg-dot{display:inline-block;width:7px;height:7px;"
            "border:1.5px solid;border-radius:50%;background:#fff;margin:0 8px 0 3px;vertical-align:middle}</style>")

    def __init__(self, rows: list[str]):
        super().__init__()
        self._name = "BriefingLegend"
        self.rows = rows

    def render(self, **kwargs):
        figure = self.get_root()
        figure.header.add_child(Element(self._css), name="fk_legend_css")
        body = f'<div class="fk-panel fk-bottomright">{"".join(self.rows)}</div>'
        script = (f"(function(){{var d=document.createElement('div');d.innerHTML={json.dumps(body)};"
                  f"{self._parent.get_name()}.getContainer().appendChild(d.firstElementChild);}})();")
        figure.script.add_child(Element(script), name=self.get_name())


def _validate_filters(data: Dataset, village: str | None, measure: str | None) -> None:
    if village and village not in data.village_names:
        raise ValueError(f"未知的村：{village}")
    if measure and measure not in CONTROL_MEASURES:
        raise ValueError(f"未知的管控措施：{measure}（可选：{'、'.join(CONTROL_MEASURES)}）")


def map_subtitle(day: date, village: str | None = None, measure: str | None = None) -> str:
    return " · ".join(x for x in (village or "全乡", measure, f"{day.isoformat()}（{_weekday(day)}）") if x)


def _situation_map(
    data: Dataset,
    day: date | None = None,
    *,
    village: str | None = None,
    measure: str | None = None,
    layers: Sequence[str] | None = None,
    basemap: str = "none",
    title: str | None = None,
    overview: Overview | None = None,
    for_print: bool = False,
) -> tuple[folium.Map, tuple[str, ...]]:
    """The map and the selectors that show its layers are drawn."""
    day = day or data.today
    _validate_filters(data, village, measure)
    keys = check_layers(layers)
    ov = overview or summarize_overview(data.ledgers, day, village=village, measure=measure)
    ctx = MapContext(data, ov, village, basemap)
    villages = ctx.frame("villages")
    focus = villages[villages["name"] == village] if village else villages
    m = make_base_map((focus if len(focus) else villages).total_bounds, basemap=basemap)
    if for_print:
        m.options.update(zoom_control=False, zoom_animation=False, fade_animation=False,
                         marker_zoom_animation=False)
    drawn = [key for key in keys if MAP_LAYERS[key].add(m, ctx) is not False]
    add_title(m, title or f"{data.township}疫情防控态势图", map_subtitle(day, village, measure))
    rows = [row for key in keys for row in MAP_LAYERS[key].legend(ctx)]
    if rows:
        _Legend(rows).add_to(m)
    datum = "GCJ-02" if basemap == "amap" else "WGS-84"
    add_notes(m, f"{data.source_note} · 坐标系 {datum} · 制图：{data.township}疫情防控指挥部")
    add_north_arrow(m)
    return m, tuple(MAP_LAYERS[key].ready for key in drawn)


def make_situation_map(data: Dataset, day: date | None = None, **kwargs) -> folium.Map:
    """The situation map for a date and filter, with the chosen layers.

    Parameters
    ----------
    day : date, optional
        Defaults to the data's today.
    village, measure : str, optional
        The overview's filters: one administrative village (zoomed to, its
        cells outlined) and one control measure (the counts colouring the
        grid cells).
    layers : sequence of str, optional
        Keys of :data:`~fangkong_lib.views.layers.MAP_LAYERS`; the defaults
        when not given.
    basemap : {"none", "osm", "amap", "tianditu"}
    title : str, optional
    overview : Overview, optional
        Figures already computed for the same date and filters.
    for_print : bool
        No zoom buttons and no animations (a screenshot shows the final state).

    Title, date, legend, metric scale bar, north arrow and the data-source
    note are always drawn.
    """
    return _situation_map(data, day, **kwargs)[0]


def map_document(data: Dataset, day: date | None = None, **kwargs) -> str:
    """:func:`make_situation_map` as one self-contained HTML document."""
    return render_map(make_situation_map(data, day, **kwargs))


#: PNG size in CSS pixels and the device scale: 2400 × 1700 pixels by default.
PNG_SIZE, PNG_SCALE = (1200, 850), 2.0


def _png_of_document(browser: Chromium, document: str, ready: Sequence[str], size, scale) -> bytes:
    ready = (*ready, ".fk-panel")
    return browser.screenshot(
        document, selector=".folium-map", ready=ready, width=size[0], height=size[1], scale=scale,
        ready_js="!document.querySelector('.leaflet-zoom-anim')",
    )


def map_png(data: Dataset, day: date | None = None, *, size: tuple[int, int] = PNG_SIZE,
            scale: float = PNG_SCALE, browser: Chromium | None = None, **kwargs) -> bytes:
    """The situation map as a PNG (``size`` CSS pixels × ``scale``), drawn by
    headless Chromium with every network request blocked."""
    basemap = kwargs.get("basemap", "none")
    if basemap != "none":  # drawn with the network blocked: online tiles would come out blank
        raise ValueError(f"PNG 在断网状态下绘制，不能加载在线底图 {basemap}：请用 --basemap none，或导出 .html")
    m, ready = _situation_map(data, day, for_print=True, **kwargs)
    document = render_map(m)
    if browser is not None:
        return _png_of_document(browser, document, ready, size, scale)
    return with_chromium(lambda own: _png_of_document(own, document, ready, size, scale))


def _dataset(db) -> Dataset:
    return db if isinstance(db, Dataset) else Dataset.load(db)


def export_map(db, out: Path, *, layers: Sequence[str] | None = None, basemap: str = "none",
               title: str | None = None, day: date | None = None, village: str | None = None,
               measure: str | None = None, size: tuple[int, int] = PNG_SIZE, scale: float = PNG_SCALE) -> Path:
    """Write the situation map to ``out``: ``.html`` (self-contained,
    interactive) or ``.png`` (print resolution). ``db`` is a Dataset, an
    engine or a database URL/path."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".html", ".png"):
        raise ValueError(f"地图导出支持 .html 或 .png，收到 {out.suffix or '（无扩展名）'}")
    if suffix == ".png" and (min(size) < 200 or max(size) > 5000 or not 0.5 <= scale <= 4):
        raise ValueError("图片尺寸应在 200–5000 像素之间，缩放倍数在 0.5–4 之间")
    data = _dataset(db)
    kwargs = dict(day=day, layers=layers, basemap=basemap, title=title, village=village, measure=measure)
    content = (map_png(data, size=size, scale=scale, **kwargs) if suffix == ".png"
               else map_document(data, **kwargs).encode("utf-8"))
    _write_atomically(out, content)
    return out


def map_file_name(data: Dataset, day: date, village: str | None = None, measure: str | None = None) -> str:
    parts = [data.township, "态势图", village, measure, day.isoformat()]
    return "_".join(p for p in parts if p)


def map_files(data: Dataset, day: date, *, village: str | None = None, measure: str | None = None,
              basemap: str = "none", layers: Sequence[str] | None = None,
              formats: Sequence[str] = (".html", ".png")) -> list[tuple[str, bytes]]:
    """The map as currently filtered, as ``[(file name, content)]`` in the
    order of ``formats`` (``.png`` needs Chromium: :class:`RenderError`)."""
    kwargs = dict(village=village or None, measure=measure or None, basemap=basemap, layers=layers)
    name = map_file_name(data, day, village, measure)
    files = []
    for suffix in formats:
        if suffix == ".html":
            files.append((f"{name}.html", map_document(data, day, **kwargs).encode("utf-8")))
        elif suffix == ".png":
            files.append((f"{name}.png", map_png(data, day, **kwargs)))
        else:
            raise ValueError(f"地图导出支持 .html 或 .png，收到 {suffix}")
    return files


def _write_atomically(out: Path, content: bytes) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    tmp.write_bytes(content)
    tmp.replace(out)  # never leave a half-written file under the real name


# ---------------------------------------------------------------------------
# The daily briefing: figures
# ---------------------------------------------------------------------------

#: Headline figures in reading order: (key, Chinese label). One place.
HEADLINE = (
    ("away", "在外人员"),
    ("arriving_3d", "3日内预计返乡"),
    ("arrived_today", "今日返乡"),
    ("under_control", "管控中"),
    *((m, f"　其中：{m}" if i == 0 else f"　　　　{m}") for i, m in enumerate(CONTROL_MEASURES)),
    ("tests_due", "今日应检（人次）"),
    ("tests_done_today", "今日已检（人次）"),
    ("tests_overdue", "逾期未检（人次）"),
    ("fevers", "发热"),
    ("releases", "今日解除管控"),
    ("open_problems", "未销号督查问题"),
)
#: Unverified big-data pushes become overdue after this long (DOMAIN.md §3).
PUSH_LIMIT = timedelta(hours=24)
#: Fallback rule for supplies (without the supplies module): low when the
#: stock lasts fewer than this many days at the recent daily issue.
LOW_STOCK_DAYS, ISSUE_WINDOW_DAYS = 7, 14
#: Donations that expire within this many days (with stock left) are flagged.
EXPIRY_WARNING_DAYS = 30

#: Columns of each list to act on with their Chinese headers (one place).
TEST_COLUMNS = {"name": "姓名", "village": "村", "grid": "网格", "id_number": "身份证号", "measure": "当前措施",
                "planned": "计划采样日", "days_late": "逾期天数"}
FEVER_COLUMNS = {"name": "姓名", "village": "村", "grid": "网格", "id_number": "身份证号", "measure": "当前措施",
                 "slot": "时段", "temperature": "体温(℃)", "symptoms": "症状"}
PUSH_COLUMNS = {"batch": "推送批次", "pushed_at": "推送时间", "source": "推送来源", "name": "姓名",
                "id_number": "身份证号", "village": "村", "risk_category": "风险类别", "hours": "已推送(小时)"}
SUPPLY_COLUMNS = {"kind": "预警", "item": "物资名称", "quantity": "数量", "unit": "单位", "minimum": "最低储备",
                  "expiry": "有效期", "detail": "说明"}


@dataclass
class ActionList:
    """One list to act on: rows already masked, with Chinese headers.

    ``count`` is the figure in the heading (rows, or people when a person
    has several rows); ``available`` is False when the ledger behind the
    list is missing, and ``note`` then says so instead of an empty (and
    misleading) list.
    """

    key: str
    title: str
    rows: pd.DataFrame
    rule: str
    unit: str = "项"
    count: int | None = None
    available: bool = True
    note: str = ""

    def __post_init__(self):
        if self.count is None:
            self.count = len(self.rows)


@dataclass
class Briefing:
    """What the daily briefing says for one date."""

    day: date
    township: str
    synthetic: bool
    source_note: str
    kpis: dict[str, float]
    kpis_yesterday: dict[str, float]
    headline: pd.DataFrame
    villages: pd.DataFrame
    reports: pd.DataFrame
    actions: list[ActionList]
    history: pd.DataFrame
    chart_png: bytes
    map_png: bytes | None = None
    generated_at: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))

    @property
    def cutoff(self) -> pd.Timestamp:
        return report_cutoff(self.day)

    def action(self, key: str) -> ActionList:
        return next(a for a in self.actions if a.key == key)

    @property
    def summary(self) -> str:
        """The lead paragraph a meeting reads first."""
        k = self.kpis
        measures = "、".join(f"{m}{int(k[m])}" for m in CONTROL_MEASURES if k[m])
        reports = self.reports["status"]
        on_time = int(reports.isin([REPORT_ON_TIME, REPORT_ZERO]).sum())
        zero = int((reports == REPORT_ZERO).sum())
        missing = reports.index[~reports.isin([REPORT_ON_TIME, REPORT_ZERO])].tolist()
        text = (
            f"截至{self.day.month}月{self.day.day}日{REPORT_DEADLINE:%H:%M}，全乡在外人员{int(k['away'])}人，"
            f"3日内预计返乡{int(k['arriving_3d'])}人，今日返乡{int(k['arrived_today'])}人；"
            f"管控中{int(k['under_control'])}人" + (f"（{measures}）" if measures else "") +
            f"，今日解除管控{int(k['releases'])}人；今日应检{int(k['tests_due'])}人次、已检{int(k['tests_done_today'])}人次，"
            f"逾期未检{int(k['tests_overdue'])}人次；发热{int(k['fevers'])}人。"
            f"{len(reports)}个村中{on_time}个按时报告（其中零报告{zero}个）"
        )
        text += f"，{len(missing)}个未按时报告：{'、'.join(missing)}。" if missing else "，全部按时报告。"
        return text


def _masked(frame: pd.DataFrame, ledger_key: str, columns: Mapping[str, str]) -> pd.DataFrame:
    """``frame[columns]`` with every kind of personal data masked and Chinese headers."""
    out = frame[[c for c in columns if c in frame.columns]].copy()
    out = mask_frame(out, get_ledger(ledger_key), kinds=BRIEFING_PII_KINDS)
    return out.rename(columns=dict(columns)).reset_index(drop=True)


def overdue_tests(data: Mapping[str, pd.DataFrame], day: date, overview: Overview | None = None) -> pd.DataFrame:
    """Planned tests missed by people still under control (逾期未检), one row
    per missed test: the overview's rule, via the returnees module
    (:mod:`fangkong_lib.domain.alerts`) when installed. Columns: the keys of
    :data:`TEST_COLUMNS`."""
    if _alerts is not None:
        return _alerts.tests_overdue(data["controls"], data["tests"], day)
    ov = overview or summarize_overview(data, day)
    rows = ov.tests_overdue.merge(ov.controls[["id_number", "current_measure"]], on="id_number", how="left")
    rows = rows.rename(columns={"current_measure": "measure"}).assign(planned=lambda f: pd.to_datetime(f["planned"]))
    rows = rows.assign(days_late=(pd.Timestamp(day) - rows["planned"]).dt.days)
    return rows.sort_values(["village", "grid", "name", "planned"]).reset_index(drop=True)


def fever_readings(data: Mapping[str, pd.DataFrame], day: date, overview: Overview | None = None) -> pd.DataFrame:
    """Temperatures at or above the fever threshold on ``day`` of people under
    control, one row per reading (上午/下午), via the returnees module when
    installed. Columns: the keys of :data:`FEVER_COLUMNS`."""
    if _alerts is not None:
        return _alerts.fevers(data["controls"], data["daily_checks"], day)
    ov = overview or summarize_overview(data, day)
    people = ov.fevers.merge(ov.controls[["id_number", "grid", "current_measure"]], on="id_number", how="left")
    parts = []
    for slot, column in (("上午", "temp_am"), ("下午", "temp_pm")):
        hot = people[(people[column] >= fever_threshold(day)).fillna(False).to_numpy(dtype=bool)]
        parts.append(hot.assign(slot=slot, temperature=hot[column]))
    rows = pd.concat(parts, ignore_index=True).rename(columns={"current_measure": "measure"})
    return rows.sort_values(["village", "grid", "name", "slot"]).reset_index(drop=True)


def overdue_pushes(data: Mapping[str, pd.DataFrame], day: date) -> pd.DataFrame:
    """Big-data pushes (大数据推送) not verified at the day's cut-off (17:00)
    although pushed more than 24 hours before it, oldest first, with
    ``hours`` since the push.

    A push counts as verified once it has a result other than 待核查 and its
    verification time (when recorded) is not after the cut-off, so a past
    day's briefing shows what was open then.
    """
    pushes = data["pushes"]
    cutoff = report_cutoff(day)
    pushed = pd.to_datetime(pushes["pushed_at"])
    verified = (pushes["result"].fillna("待核查") != "待核查") & (
        pushes["verified_at"].isna() | (pd.to_datetime(pushes["verified_at"]) <= cutoff))
    late = pushes[(~verified & (pushed <= cutoff - PUSH_LIMIT)).to_numpy(dtype=bool)]
    hours = ((cutoff - pd.to_datetime(late["pushed_at"])).dt.total_seconds() // 3600).astype(int)
    return late.assign(hours=hours).sort_values("pushed_at").reset_index(drop=True)


def overdue_problems(data: Mapping[str, pd.DataFrame], day: date) -> pd.DataFrame:
    """Supervision problems past their rectification deadline (整改时限 before
    ``day``), found by ``day`` and not closed (阶段 ≠ 销号), most overdue
    first, with ``days_overdue``: the supervision module's rule
    (:mod:`fangkong_lib.domain.problems`) when installed. Columns: the keys
    of :data:`PROBLEM_COLUMNS`."""
    if _problems is not None:
        return _problems.overdue_problems(data["problems"], day)
    problems = data["problems"]
    ts = pd.Timestamp(day)
    late = problems[(problems["stage"] != "销号") & (problems["date"] <= ts) & (problems["deadline"] < ts)]
    late = late.assign(days_overdue=(ts - late["deadline"]).dt.days.astype(int))
    late = late.sort_values(["days_overdue", "problem_no"], ascending=[False, True])
    return late[[c for c in PROBLEM_COLUMNS if c in late.columns]].reset_index(drop=True)


def supply_alerts(data: Mapping[str, pd.DataFrame], day: date) -> pd.DataFrame:
    """Supplies below their minimum level (最低库存), expired or expiring
    within the warning period while still in stock. Columns: the keys of
    :data:`SUPPLY_COLUMNS`.

    With the supplies module (:mod:`fangkong_lib.domain.supplies`): its
    minimum levels (policy data) and its first-expired-first-out lots.
    Without it: low means lasting fewer than :data:`LOW_STOCK_DAYS` days at
    the average daily issue of the last :data:`ISSUE_WINDOW_DAYS` days, and
    a donation counts as expiring while its item has stock left.
    """
    rows: list[dict] = []
    if (data["donations"]["date"] > pd.Timestamp(day)).all():  # nothing received yet: nothing to flag
        return pd.DataFrame(rows, columns=list(SUPPLY_COLUMNS))
    if _supplies is not None:
        policy = load_stock_policy()
        flags = _supplies.flag_stock(data["donations"], data["distributions"], day, minimum=policy.minimum,
                                     warning_days=policy.expiry_warning_days)
        for r in flags.below_minimum.itertuples(index=False):
            rows.append(dict(kind="低于最低储备", item=r.item, quantity=r.item_stock, unit=r.unit, minimum=r.minimum,
                             expiry=pd.NaT, detail=f"需补充 {r.minimum - r.item_stock:g}{r.unit or ''}"))
        for kind, lots in (("已过期", flags.expired), ("临近过期", flags.expiring)):
            for r in lots.itertuples(index=False):
                days = int(r.days_left)
                when = f"{days} 天后到期" if days >= 0 else f"已过期 {-days} 天"
                rows.append(dict(kind=kind, item=r.item, quantity=r.remaining, unit=r.unit, minimum=np.nan,
                                 expiry=r.expiry, detail=f"{r.donor} 捐赠（{r.voucher_no}，{r.location}），{when}"))
        return pd.DataFrame(rows, columns=list(SUPPLY_COLUMNS))
    ts = pd.Timestamp(day)
    stock = stock_by_item(data["donations"], data["distributions"], day).set_index("item")
    dist = data["distributions"]
    recent = dist[(dist["date"] <= ts) & (dist["date"] > ts - pd.Timedelta(days=ISSUE_WINDOW_DAYS))]
    daily = (recent.groupby("item")["quantity"].sum() / ISSUE_WINDOW_DAYS).reindex(stock.index).fillna(0.0)
    units = data["donations"].dropna(subset=["unit"]).groupby("item")["unit"].first()
    for item, s in stock.iterrows():
        cover = s["stock"] / daily[item] if daily[item] > 0 else np.inf
        if s["received"] > 0 and (s["stock"] <= 0 or cover < LOW_STOCK_DAYS):
            rows.append(dict(kind="库存不足", item=item, quantity=s["stock"], unit=units.get(item, ""), minimum=np.nan,
                             expiry=pd.NaT, detail="已用完" if s["stock"] <= 0 else f"按近{ISSUE_WINDOW_DAYS}日发放约可用 {cover:.1f} 天"))
    don = data["donations"]
    soon = don[(don["date"] <= ts) & don["expiry"].notna()
               & (don["expiry"] <= ts + pd.Timedelta(days=EXPIRY_WARNING_DAYS))]
    for _, d in soon.sort_values("expiry").iterrows():
        left = float(stock["stock"].get(d["item"], 0.0))
        if left > 0:
            days = (d["expiry"] - ts).days
            rows.append(dict(kind="临近过期" if days >= 0 else "已过期", item=d["item"], quantity=left,
                             unit=d["unit"] or "", minimum=np.nan, expiry=d["expiry"],
                             detail=f"{d['donor']} 捐赠 {d['quantity']:g}{d['unit'] or ''}，"
                                    + (f"{days} 天后到期" if days >= 0 else f"已过期 {-days} 天")))
    return pd.DataFrame(rows, columns=list(SUPPLY_COLUMNS))


def _action_lists(data: Dataset, ov: Overview, day: date) -> list[ActionList]:
    """The five lists, each with the rule it follows (shown under it)."""
    ledgers = data.ledgers
    fevers = fever_readings(ledgers, day, ov)
    specs = [
        ("tests_overdue", "逾期未检", "人次", ("controls", "tests"),
         lambda: _masked(overdue_tests(ledgers, day, ov), "controls", TEST_COLUMNS), None,
         "管控人员计划核酸日期已过、截至当日仍未采样，每次漏检一行（与“态势总览”的逾期未检同口径）"),
        ("fevers", "发热人员", "人", ("controls", "daily_checks"),
         lambda: _masked(fevers, "controls", FEVER_COLUMNS), fevers["id_number"].nunique(),
         f"管控人员当日上午或下午体温 ≥ {fever_threshold(day)} ℃，每次读数一行"),
        ("pushes", "大数据推送超24小时未核查", "条", ("pushes",),
         lambda: _masked(overdue_pushes(ledgers, day), "pushes", PUSH_COLUMNS), None,
         f"截至当日 {REPORT_DEADLINE:%H:%M}，推送已超过 24 小时仍未核查反馈"),
        ("problems", "超期未整改问题", "个", ("problems",),
         lambda: _masked(overdue_problems(ledgers, day), "problems", PROBLEM_COLUMNS), None,
         "整改时限已过、尚未销号的督查问题，逾期最久的在前"),
        ("supplies", "物资预警", "项", ("donations", "distributions"),
         lambda: supply_alerts(ledgers, day).rename(columns=SUPPLY_COLUMNS), None,
         "低于最低储备、已过期或 30 天内到期且仍有库存的捐赠物资" if _supplies is not None else
         f"按近 {ISSUE_WINDOW_DAYS} 日发放速度库存不足 {LOW_STOCK_DAYS} 天，或 {EXPIRY_WARNING_DAYS} 天内到期且仍有库存"),
    ]
    out = []
    for key, title, unit, needs, build, count, rule in specs:
        missing = [k for k in needs if k not in ledgers]
        if missing:
            note = f"本项暂无数据来源（未导入台账：{'、'.join(get_ledger(k).label for k in missing)}）"
            out.append(ActionList(key, title, pd.DataFrame(), rule, unit, 0, available=False, note=note))
        else:
            out.append(ActionList(key, title, build(), rule, unit, count))
    return out


def _headline(today: Mapping[str, float], yesterday: Mapping[str, float]) -> pd.DataFrame:
    rows = []
    for key, label in HEADLINE:
        a, b = int(today.get(key, 0)), int(yesterday.get(key, 0))
        rows.append({"key": key, "指标": label, "今日": a, "昨日": b, "较昨日": a - b})
    return pd.DataFrame(rows)


def _village_table(data: Dataset, ov: Overview, day: date, reports: pd.DataFrame) -> pd.DataFrame:
    names = data.village_names
    t = ov.by_village
    table = pd.DataFrame(index=pd.Index(names, name="村"))
    table["报告情况"] = reports["status"]
    table["上报时间"] = reports["reported_at"].dt.strftime("%H:%M").fillna("—")
    table["在外人员"] = t["在外人员"]
    table["3日内预计返乡"] = t["3日内预计返乡"]
    table["今日返乡"] = per_village(arrivals_on(data.ledgers, day), names)
    table["管控中"] = t["管控中"]
    for m in CONTROL_MEASURES:
        table[m] = t[m]
    table["今日应检"] = t["今日应检"]
    table["今日已检"] = t["今日应检"] - t["今日待检"]
    table["逾期未检"] = t["逾期未检"]
    table["发热"] = t["发热"]
    table["今日解除"] = per_village(releases_on(data.ledgers, day), names)
    table["未销号问题"] = t["未销号问题"]
    table["村报在管"] = reports["reported_under_control"].astype("Int64")
    return table


def control_chart_png(history: pd.DataFrame, *, title: str = "") -> bytes:
    """Stacked bars of people under control per day and measure (PNG, Agg
    backend, a CJK font set in rcParams for this figure only)."""
    import matplotlib

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    colours = {"集中隔离": "#b8322a", "居家隔离": "#e4643c", "居家健康监测": "#f5a25d", "三天两检": "#8fb3d9"}
    rc = {
        "font.family": "sans-serif",
        "font.sans-serif": ["Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimHei",
                            "WenQuanYi Micro Hei", "PingFang SC", "DejaVu Sans"],
        "axes.unicode_minus": False,
        "font.size": 9,
    }
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(7.2, 3.0), dpi=200)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        x = np.arange(len(history))
        bottom = np.zeros(len(history))
        for m in CONTROL_MEASURES:
            values = history[m].to_numpy(dtype=float)
            ax.bar(x, values, bottom=bottom, color=colours.get(m), width=0.7, label=m)
            bottom += values
        for xi, total in zip(x, history["合计"]):
            ax.text(xi, total, f"{int(total)}", ha="center", va="bottom", fontsize=7, color="#243b53")
        ax.set_xticks(x, [pd.Timestamp(d).strftime("%m-%d") for d in history.index], fontsize=7)
        ax.set_ylabel("人数")
        if title:
            ax.set_title(title, fontsize=10)
        ax.set_ylim(0, max(5, float(history["合计"].max()) * 1.18))
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(ncol=4, fontsize=7, frameon=False, loc="upper left")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    return buf.getvalue()


def summarize_briefing(data: Dataset, day: date) -> Briefing:
    """The figures, tables and lists of the briefing for ``day`` (no map
    image yet: that needs Chromium, see :func:`briefing_files`).

    Figures come from :func:`~fangkong_lib.domain.overview.summarize_overview`,
    the function behind the overview dashboard, for ``day`` and the day
    before. A date without data gives an all-zero briefing.
    """
    ov = summarize_overview(data.ledgers, day)
    ov_before = summarize_overview(data.ledgers, day - timedelta(days=1))
    kpis = dict(ov.kpis, releases=len(releases_on(data.ledgers, day)))
    kpis_before = dict(ov_before.kpis, releases=len(releases_on(data.ledgers, day - timedelta(days=1))))
    reports = village_report_status(data.ledgers, day)
    history = control_history(data.ledgers, day)
    return Briefing(
        day=day, township=data.township, synthetic=data.synthetic, source_note=data.source_note,
        kpis=kpis, kpis_yesterday=kpis_before, headline=_headline(kpis, kpis_before),
        villages=_village_table(data, ov, day, reports), reports=reports,
        actions=_action_lists(data, ov, day), history=history, chart_png=control_chart_png(history),
    )


# ---------------------------------------------------------------------------
# The daily briefing: HTML, PDF, xlsx
# ---------------------------------------------------------------------------

_WEEKDAYS = "一二三四五六日"


def _weekday(day: date) -> str:
    return f"星期{_WEEKDAYS[day.weekday()]}"


def _data_uri(content: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"


def _change(value: int) -> str:
    return "持平" if value == 0 else (f"+{value}" if value > 0 else f"−{-value}")


BRIEFING_CSS = """
@page { size: A4; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: 'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', 'SimHei', sans-serif;
  color: #1f2933; font-size: 12px; line-height: 1.5; max-width: 1000px; margin: 0 auto; padding: 12px; }
@media print { body { padding: 0; max-width: none; } }
h1 { font-size: 22px; color: #8c1d18; text-align: center; margin: 4px 0 2px 0; letter-spacing: 2px; }
.fk-meta { text-align: center; color: #52606d; font-size: 12px; }
.fk-synthetic { text-align: center; margin: 4px auto; color: #7a4b00; background: #fff4d6; border: 1px solid #f0c36d;
  border-radius: 3px; padding: 2px 8px; width: fit-content; font-size: 12px; }
.fk-rule { border-bottom: 2px solid #b8322a; margin: 6px 0 8px 0; }
h2 { font-size: 15px; color: #243b53; margin: 14px 0 4px 0; border-left: 4px solid #b8322a; padding-left: 6px;
  break-after: avoid; }
h3 { font-size: 13px; color: #243b53; margin: 10px 0 3px 0; break-after: avoid; }
.fk-lead { text-indent: 2em; margin: 4px 0 6px 0; font-size: 13px; }
table { border-collapse: collapse; width: 100%; font-size: 11px; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th { background: #eef2f7; font-weight: bold; padding: 2px 3px; border: 1px solid #b9c4d0; }
td { padding: 2px 3px; border: 1px solid #cfd6de; text-align: right; white-space: nowrap; }
td:first-child { text-align: left; }
.fk-village th { white-space: normal; font-size: 10px; }
.fk-village td { font-size: 10.5px; }
.fk-village tr:last-child td { font-weight: bold; background: #f5f7fa; }
.fk-list td { text-align: left; white-space: normal; }
.fk-headline td.fk-label { text-align: left; min-width: 120px; }
.fk-headline td:nth-child(5) { border-left: 2px solid #8a97a6; }
.fk-up { color: #b8322a; } .fk-down { color: #2f6f3e; }
.st-ok { color: #2f6f3e; } .st-zero { color: #1d4f91; } .st-late, .st-missing { color: #b8322a; font-weight: bold; }
.fk-empty { color: #52606d; padding: 2px 0 4px 1em; }
.fk-rulenote { color: #52606d; font-size: 10.5px; margin: 0 0 2px 0; }
.fk-unavailable { color: #7a4b00; background: #fff4d6; padding: 2px 6px; }
.fk-figure { text-align: center; break-inside: avoid; }
.fk-figure img { max-width: 100%; border: 1px solid #d0d0d0; }
.fk-pagebreak { break-before: page; }
.fk-notes { color: #52606d; font-size: 10.5px; margin-top: 10px; border-top: 1px solid #d9e2ec; padding-top: 4px; }
"""

_STATUS_CLASS = {REPORT_ON_TIME: "st-ok", REPORT_ZERO: "st-zero", REPORT_LATE: "st-late", REPORT_MISSING: "st-missing"}


def _headline_html(b: Briefing) -> str:
    """Two halves side by side: people (away, arrivals, under control) and
    the day's work (tests, fevers, releases, problems)."""
    cells = []
    for r in b.headline.itertuples(index=False):
        # Colour only where a rise is bad news; more tests done is not.
        cls = ("fk-up" if r.较昨日 > 0 else "fk-down" if r.较昨日 < 0 else "") if r.key in ALERT_KPIS else ""
        cells.append(f'<td class="fk-label">{escape_text(r.指标)}</td><td>{r.今日:,}</td><td>{r.昨日:,}</td>'
                     f'<td class="{cls}">{escape_text(_change(r.较昨日))}</td>')
    split = b.headline["key"].tolist().index("tests_due")  # the day's work starts with the tests
    left, right = cells[:split], cells[split:]
    empty = '<td class="fk-label"></td><td></td><td></td><td></td>'
    rows = "".join(f"<tr>{a}{b_}</tr>" for a, b_ in zip(left + [empty] * (len(right) - len(left)),
                                                       right + [empty] * (len(left) - len(right))))
    head = "<th>指标</th><th>今日</th><th>昨日</th><th>较昨日</th>" * 2
    return f'<table class="fk-headline"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def village_table_with_total(table: pd.DataFrame) -> pd.DataFrame:
    """The village table with a 合计 row (counts summed; report columns
    summarised as "n/N 按时")."""
    numeric = table.select_dtypes("number")
    total = numeric.sum().to_frame("合计").T.astype("Int64")
    on_time = int(table["报告情况"].isin([REPORT_ON_TIME, REPORT_ZERO]).sum())
    total.insert(0, "上报时间", "")
    total.insert(0, "报告情况", f"{on_time}/{len(table)} 按时")
    out = pd.concat([table, total[table.columns]])
    out.index.name = table.index.name
    return out


def _village_html(b: Briefing) -> str:
    table = village_table_with_total(b.villages)
    head = "".join(f"<th>{escape_text(c)}</th>" for c in [table.index.name, *table.columns])
    body = []
    for name, row in table.iterrows():
        cells = [f"<td>{escape_text(name)}</td>"]
        for col, value in row.items():
            text = "—" if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) else value
            cls = f' class="{_STATUS_CLASS[value]}"' if col == "报告情况" and value in _STATUS_CLASS else ""
            cells.append(f"<td{cls}>{escape_text(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f'<table class="fk-village"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _mismatch_note(b: Briefing) -> str:
    reported = b.villages["村报在管"]
    differ = b.villages[reported.notna() & (reported != b.villages["管控中"])]
    if differ.empty:
        return ""
    items = "、".join(f"{v}（村报 {int(r)}，台账 {int(c)}）" for v, r, c in zip(differ.index, differ["村报在管"], differ["管控中"]))
    return f'<p class="fk-rulenote">村报在管人数与管控台账不一致：{escape_text(items)}，请核实。</p>'


def _action_html(a: ActionList, number: int) -> str:
    count = f"（{a.count}{a.unit}）" if a.available else ""
    head = f"<h3>{number}. {escape_text(a.title)}{count}</h3><p class=\"fk-rulenote\">口径：{escape_text(a.rule)}</p>"
    if not a.available:
        return head + f'<p class="fk-unavailable">{escape_text(a.note)}</p>'
    if a.rows.empty:
        return head + '<p class="fk-empty">无</p>'
    return head + frame_html(a.rows, css_class="fk-list", max_rows=100_000)


def briefing_html(b: Briefing) -> str:
    """The briefing as one self-contained HTML document (styles inline,
    images as data URIs, no script): opens from a USB stick, prints on A4."""
    title = f"{b.township}疫情防控工作日报"
    synthetic = f'<div class="fk-synthetic">{escape_text(SYNTHETIC_NOTE)}</div>' if b.synthetic else ""
    actions = "".join(_action_html(a, i) for i, a in enumerate(b.actions, start=1))
    map_part = (f'<img alt="态势图" src="{_data_uri(b.map_png, "image/png")}">' if b.map_png
                else '<p class="fk-empty">（态势图在生成文件时绘制）</p>')
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape_text(title)} {b.day.isoformat()}</title>
<style>{BRIEFING_CSS}</style></head>
<body>
<h1>{escape_text(title)}</h1>
<div class="fk-meta">{b.day.year}年{b.day.month}月{b.day.day}日（{_weekday(b.day)}） · 数据截至 {b.day.isoformat()} {REPORT_DEADLINE:%H:%M}
 · 生成于 {b.generated_at:%Y-%m-%d %H:%M}</div>
{synthetic}
<div class="fk-rule"></div>
<p class="fk-lead" data-section="summary">{escape_text(b.summary)}</p>
<h2>一、主要数据</h2>
{_headline_html(b)}
<h2>二、各村日报告情况</h2>
<p class="fk-rulenote">日报告、零报告：各村须于当日 {REPORT_DEADLINE:%H:%M} 前上报；{REPORT_DEADLINE:%H:%M} 后补报计为“{REPORT_LATE}”，
无报告为“{REPORT_MISSING}”。“村报在管”为村上报数，其余为台账统计数。</p>
{_village_html(b)}
{_mismatch_note(b)}
<h2 class="fk-pagebreak">三、需处置事项</h2>
{actions}
<h2 class="fk-pagebreak">四、态势图</h2>
<div class="fk-figure">{map_part}</div>
<h2>五、近14日管控人数</h2>
<div class="fk-figure"><img alt="近14日管控人数" src="{_data_uri(b.chart_png, "image/png")}"></div>
<div class="fk-notes">{escape_text(b.source_note)}。个人信息已脱敏（姓名、身份证号）。统计口径与工作台“态势总览”一致。
 {escape_text(b.township)}疫情防控指挥部</div>
</body></html>
"""


def _pdf_footer(b: Briefing) -> str:
    return ('<div style="width:100%;font-size:8px;color:#52606d;text-align:center;'
            "font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif\">"
            f"{escape_text(b.township)}疫情防控工作日报 · {b.day.isoformat()} · "
            '第 <span class="pageNumber"></span> 页 / 共 <span class="totalPages"></span> 页</div>')


def _pdf_header(b: Briefing) -> str:
    note = "合成演示数据 · " if b.synthetic else ""
    return ('<div style="width:100%;font-size:8px;color:#8c1d18;text-align:right;padding-right:14mm;'
            f"font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif\">{note}内部资料 注意保存</div>")


def briefing_xlsx(b: Briefing) -> bytes:
    """The briefing as a workbook: headline figures, the village table, each
    list to act on, the 14-day series (a title row above each header)."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    from .xlsx import write_title_and_header

    wb = Workbook()
    wb.remove(wb.active)
    suffix = f"（{SYNTHETIC_NOTE}；已脱敏）" if b.synthetic else "（已脱敏）"

    def sheet(name: str, title: str, frame: pd.DataFrame, note: str = "") -> None:
        ws = wb.create_sheet(name[:31])
        headers = [str(c) for c in frame.columns]
        write_title_and_header(ws, f"{title} {b.day.isoformat()}{suffix}", headers, size=13, align="left",
                               wrap=True)
        for row in frame.itertuples(index=False, name=None):
            ws.append([_xlsx_value(v) for v in row])
        if note:
            ws.append([])
            ws.append([note])
        for i, header in enumerate(headers, start=1):
            width = max([len(header) * 2 + 2] + [len(str(_xlsx_value(v) or "")) * 2 for v in frame.iloc[:, i - 1]])
            ws.column_dimensions[get_column_letter(i)].width = max(8, min(50, width))
            if frame.shape[0] and pd.api.types.is_datetime64_any_dtype(frame.iloc[:, i - 1]):
                for (cell,) in ws.iter_rows(min_row=3, max_row=2 + len(frame), min_col=i, max_col=i):
                    cell.number_format = "yyyy-mm-dd hh:mm" if frame.iloc[:, i - 1].dt.hour.any() else "yyyy-mm-dd"
        ws.freeze_panes = "A3"

    headline = b.headline.drop(columns=["key"]).assign(指标=lambda f: f["指标"].str.strip("　"))
    sheet("主要数据", f"{b.township}疫情防控工作日报·主要数据", headline, b.summary)
    villages = village_table_with_total(b.villages).reset_index()
    sheet("各村报告", f"{b.township}各村疫情防控日报告", villages,
          f"{REPORT_DEADLINE:%H:%M} 前上报为按时；零报告为当日无新增情况的报告。")
    for a in b.actions:
        frame = a.rows if a.available else pd.DataFrame({"说明": [a.note]})
        sheet(a.title.split("（")[0], a.title, frame, f"口径：{a.rule}")
    history = b.history.reset_index().assign(日期=lambda f: pd.to_datetime(f["日期"]))
    sheet("近14日管控", "近14日管控人数", history)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xlsx_value(value):
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):
        return value.item()
    return value


def briefing_file_name(b: Briefing) -> str:
    return f"{b.township}疫情防控日报_{b.day.isoformat()}"


def briefing_files(data: Dataset, day: date, *, browser: Chromium | None = None) -> dict[str, tuple[str, bytes]]:
    """The briefing for ``day`` as ``{".html"|".pdf"|".xlsx": (file name, content)}``.

    One Chromium draws the map image and prints the PDF.
    """
    def render(chromium: Chromium) -> dict[str, tuple[str, bytes]]:
        b = summarize_briefing(data, day)
        b.map_png = map_png(data, day, browser=chromium)
        html = briefing_html(b)
        pdf = chromium.pdf(html, header=_pdf_header(b), footer=_pdf_footer(b))
        name = briefing_file_name(b)
        return {".html": (f"{name}.html", html.encode("utf-8")), ".pdf": (f"{name}.pdf", pdf),
                ".xlsx": (f"{name}.xlsx", briefing_xlsx(b))}

    return render(browser) if browser is not None else with_chromium(render)


def write_briefing(db, day: date, out_dir: Path) -> list[Path]:
    """Write the briefing for ``day`` into ``out_dir`` (HTML, PDF, xlsx);
    returns the paths. ``db`` is a Dataset, an engine or a database URL/path."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"输出位置 {out_dir} 不是文件夹")
    files = briefing_files(_dataset(db), day)
    paths = []
    for name, content in files.values():
        path = out_dir / name
        _write_atomically(path, content)
        paths.append(path)
    return paths

