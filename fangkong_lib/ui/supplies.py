"""Donated supplies (捐赠物资): a traitlets model and its widget view.

The model (:class:`SuppliesModel`) never imports ipywidgets: set the filter
traits (``donor``, ``item``, ``recipient``, ``start``, ``end``) and read
``kpis``, ``stock_html``, ``donors_html``, ``map_html`` and ``status``; call
:meth:`~SuppliesModel.receive` (入库) and :meth:`~SuppliesModel.issue` (出库,
refused when the stock cannot cover it) and
:meth:`~SuppliesModel.export_donor_list` (公示, xlsx). The view
(:class:`SuppliesPage`) is a VBox linked to it.
"""

from __future__ import annotations

from datetime import date

import ipywidgets as w
import pandas as pd
import traitlets as t

from ..actions import records
from ..dataset import Dataset
from ..domain import supplies as sup
from ..ledgers import get_ledger
from ..ingest.normalize import mask_frame
from ..policy.stock_levels import load_stock_policy
from ..views.maps import (
    add_legend, add_notes, add_title, add_village_labels, add_village_values_layer, make_base_map, map_iframe,
    render_map, value_legend_entries,
)
from ..outputs.publicity import donor_list_workbook
from ..views.tables import frame_html, kpi_cards_html
from .exportbar import ExportBar, MapExportBar
from .common import page_header, status_html
from .forms import EXTRA_CSS, download_link, form_box, labelled, operator_field, row, section
from .state import LRUCache, PageState

ALL = ""
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RECIPIENT_TYPES = ("卡点", "村", "隔离户", "志愿者")
VALUE_BINS, VALUE_COLOURS = (0, 1, 1000, 3000, 6000), ("#f7f7f2", "#d8ecd3", "#9fd19a", "#4fa857", "#1f6f3a")
QTY_BINS = (0, 1, 20, 50, 100)

KPI_LABELS = {
    "donors": "捐赠方",
    "donated_value": "捐赠估值(元)",
    "receipts": "入库批次",
    "issues": "出库次数",
    "stock_items": "库存物资(种)",
    "stock_value": "库存估值(元)",
    "expiring": "临期/过期批次",
    "below_minimum": "低于最低库存(种)",
}
STOCK_LABELS = {"item": "物资名称", "location": "存放位置", "unit": "单位", "received": "入库", "issued": "出库",
                "stock": "结存", "stock_value": "估值(元)", "minimum": "最低库存", "flag": "提示"}
DONOR_LABELS = {"donor": "捐赠方", "donor_type": "类型", "receipts": "次数", "items": "捐赠物资",
                "value": "估值合计(元)", "first_date": "首次", "last_date": "最近"}
ISSUE_LABELS = {"date": "发放日期", "voucher_no": "出库单号", "item": "物资名称", "quantity": "数量", "unit": "单位",
                "location": "出库仓库", "recipient_type": "领用类型", "recipient": "领用单位", "village": "村",
                "taker": "领用人", "handler": "经手人"}
FLAG_LABELS = {"item": "物资名称", "location": "存放位置", "voucher_no": "凭证编号", "donor": "捐赠方",
               "expiry": "有效期", "remaining": "估计结存", "unit": "单位", "days_left": "剩余天数", "state": "提示"}


class SuppliesModel(PageState):
    """State of the supplies page: filters in, stock and lists out."""

    donor = t.Unicode(ALL)
    item = t.Unicode(ALL)
    recipient = t.Unicode(ALL)
    start = t.Instance(date, allow_none=True)
    end = t.Instance(date, allow_none=True)

    kpis = t.Dict()
    stock_html = t.Unicode("")
    flags_html = t.Unicode("")
    donors_html = t.Unicode("")
    issues_html = t.Unicode("")
    map_html = t.Unicode("")
    stock_rows = t.List()  # (item, location, stock, unit) for the issue form

    def __init__(self, data: Dataset, **kwargs):
        self.data = data
        self.policy = load_stock_policy()
        self._map_cache = LRUCache(16)
        kwargs.setdefault("end", data.today)
        super().__init__(**kwargs)
        self.refresh()

    @property
    def day(self) -> date:
        """The day stock is counted on: the end of the date range, else today."""
        return self.end or self.data.today

    # -- Options ------------------------------------------------------------------

    @property
    def donor_options(self):
        return [("全部捐赠方", ALL)] + [(d, d) for d in sorted(self.data.ledgers["donations"]["donor"].dropna().unique())]

    @property
    def item_options(self):
        return [("全部物资", ALL)] + [(i, i) for i in sorted(self.data.ledgers["donations"]["item"].dropna().unique())]

    @property
    def recipient_options(self):
        names = sorted(self.data.ledgers["distributions"]["recipient"].dropna().unique())
        return [("全部领用单位", ALL)] + [(r, r) for r in names]

    @property
    def locations(self) -> list[str]:
        return sorted(set(self.data.ledgers["donations"]["location"].dropna()) | {"乡政府物资库"})

    @t.observe("donor", "item", "recipient", "start", "end")
    def _on_filter(self, _change):
        self.refresh()

    # -- Figures --------------------------------------------------------------------

    def refresh(self) -> None:
        """Recompute stock, flags, lists, KPIs and map; errors go to ``status``."""
        try:
            if self.start and self.end and self.start > self.end:
                raise ValueError("开始日期晚于结束日期")
            ledgers = self.data.ledgers
            donations, issued = ledgers["donations"], ledgers["distributions"]
            rec, out = sup.filter_movements(donations, issued, donor=self.donor, item=self.item,
                                            recipient=self.recipient, start=self.start, end=self.end)
            stock = sup.stock_table(donations, issued, self.day, minimum=self.policy.minimum)
            flags = sup.flag_stock(donations, issued, self.day, minimum=self.policy.minimum,
                                   warning_days=self.policy.expiry_warning_days)
            if self.item:
                stock = stock[stock["item"] == self.item]
            lots = pd.concat([flags.expired.assign(state="已过期"), flags.expiring.assign(state="临期")],
                             ignore_index=True)
            if self.item and len(lots):
                lots = lots[lots["item"] == self.item]
            low = flags.below_minimum
            if self.item:
                low = low[low["item"] == self.item]
            self.kpis = {
                "donors": int(rec["donor"].nunique()),
                "donated_value": float(round(rec["value"].sum(), 2)),
                "receipts": len(rec),
                "issues": len(out),
                "stock_items": int((stock.groupby("item")["stock"].sum() > 0).sum()) if len(stock) else 0,
                "stock_value": float(round(stock["stock_value"].sum(), 2)) if len(stock) else 0.0,
                "expiring": len(lots),
                "below_minimum": len(low),
            }
            self.stock_html = self._stock_html(stock, lots)
            self.flags_html = self._flags_html(lots, low)
            self.donors_html = frame_html(self._donors(rec).rename(columns=DONOR_LABELS),
                                          css_class="fk-table fk-donors", empty="没有符合条件的捐赠")
            shown = mask_frame(out, get_ledger("distributions")).sort_values("date", ascending=False)
            self.issues_html = frame_html(shown[list(ISSUE_LABELS)].rename(columns=ISSUE_LABELS),
                                          css_class="fk-table fk-issues", empty="没有符合条件的发放")
            self.issued_rows = out
            self.map_html = self._map_for(out)
            full = sup.stock_table(donations, issued, None)
            self.stock_rows = [(r.item, r.location, float(r.stock), r.unit or "")
                               for r in full.itertuples() if r.stock > 0]
            scope = " · ".join(x for x in (self.donor, self.item, self.recipient) if x) or "全部"
            span = f"{self.start.isoformat() if self.start else '开始'} 至 {self.day.isoformat()}"
            self.status = f"已更新：{scope} · {span} · 入库 {len(rec)} 批、出库 {len(out)} 次"
            self.error = False
        except Exception as exc:  # shown to the user: Voilà hides tracebacks
            self.status, self.error = f"出错：{exc}", True

    def _donors(self, rec: pd.DataFrame) -> pd.DataFrame:
        return sup.donor_list(rec)

    def _stock_html(self, stock: pd.DataFrame, lots: pd.DataFrame) -> str:
        if stock.empty:
            return frame_html(stock, empty="没有库存记录")
        soon = set(zip(lots["item"], lots["location"])) if len(lots) else set()
        notes = []
        for r in stock.itertuples():
            parts = []
            if r.below_minimum:
                parts.append("低于最低库存")
            if (r.item, r.location) in soon:
                parts.append("有临期/过期")
            notes.append("、".join(parts))
        table = stock.assign(flag=notes)[list(STOCK_LABELS)].rename(columns=STOCK_LABELS)
        total = {c: "" for c in table.columns}
        total.update({"物资名称": "合计", "估值(元)": float(stock["stock_value"].sum())})
        table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
        return frame_html(table, css_class="fk-table fk-stock")

    def _flags_html(self, lots: pd.DataFrame, low: pd.DataFrame) -> str:
        parts = []
        if len(lots):
            shown = lots.assign(expiry=pd.to_datetime(lots["expiry"]))[list(FLAG_LABELS)].rename(columns=FLAG_LABELS)
            parts.append(frame_html(shown, css_class="fk-table fk-expiry"))
        if len(low):
            items = "、".join(f"{r.item}（结存 {r.item_stock:g}{r.unit or ''}，最低 {r.minimum:g}）" for r in low.itertuples())
            parts.append(f"<div class='fk-flag fk-low-stock'>低于最低库存：{items}</div>")
        return "".join(parts) or "<div class='fk-ok'>没有临期、过期或低于最低库存的物资</div>"

    def _map_for(self, out: pd.DataFrame) -> str:
        villages = self.data.villages
        by_village = sup.issued_by_village(out, self.data.ledgers["donations"], self.data.village_names)
        if self.item:
            unit = out["unit"].dropna().iloc[0] if out["unit"].notna().any() else ""
            values, bins, what = by_village["quantity"], QTY_BINS, f"{self.item}（{unit}）"
            suffix = f" {unit}"
        else:
            values, bins, what, suffix = by_village["value"], VALUE_BINS, "估值（元）", " 元"
        key = (tuple(values.round(2).items()), bins)
        cached = self._map_cache.get(key)
        if cached is not None:
            return cached
        m = make_base_map(villages.total_bounds)
        add_village_values_layer(m, villages, values, bins=bins, colours=VALUE_COLOURS, unit=suffix, name="发放到各村")
        add_village_labels(m, villages)
        title = f"{self.data.township}捐赠物资发放去向"
        add_title(m, title, f"{what} · 共 {len(out)} 次发放")
        add_legend(m, f"发放到各村：{what}", value_legend_entries(bins, VALUE_COLOURS, suffix))
        add_notes(m, self.data.source_note)
        doc = map_iframe(render_map(m), height=480, title=title)
        return self._map_cache.put(key, doc)

    def stock_of(self, item: str, location: str) -> float:
        """Current stock of ``item`` at ``location`` (all movements)."""
        ledgers = self.data.ledgers
        return sup.stock_on(ledgers["donations"], ledgers["distributions"], item, location)

    # -- Forms -----------------------------------------------------------------------

    _RELOAD = ("donations", "distributions")

    def receive(self, raw: dict) -> bool:
        """入库: record a receipt of donated supplies."""
        def act():
            fields = {"receiver": self.operator, **{k: v for k, v in raw.items() if v not in ("", None)}}
            voucher = records.receive_supplies(self.data.engine, fields, user=self.operator, today=self.data.today)
            return f"已入库 {voucher}：{raw.get('donor')} 捐赠 {raw.get('item')} {raw.get('quantity'):g}{raw.get('unit') or ''}"
        return self._act(act, reload=self._RELOAD)

    def issue(self, raw: dict) -> bool:
        """出库: record an issue after checking the stock; a refusal (more than
        the stock) goes to ``status`` and nothing is written."""
        def act():
            fields = {"handler": self.operator, "date": self.data.today,
                      **{k: v for k, v in raw.items() if v not in ("", None)}}
            voucher = records.issue_supplies(self.data.engine, fields, user=self.operator,
                                             villages=self.data.village_names, today=self.data.today)
            left = self.stock_of(fields["item"], fields["location"]) - float(fields["quantity"])
            return (f"已出库 {voucher}：{fields['item']} {float(fields['quantity']):g} 发往 "
                    f"{fields.get('recipient') or fields.get('village') or ''}，{fields['location']}结存 {left:g}")
        return self._act(act, reload=self._RELOAD)

    def export_donor_list(self) -> tuple[str, bytes]:
        """The public acknowledgement (公示) of the filtered receipts and issues as xlsx."""
        ledgers = self.data.ledgers
        rec, out = sup.filter_movements(ledgers["donations"], ledgers["distributions"], donor=self.donor,
                                        item=self.item, recipient=self.recipient, start=self.start, end=self.end)
        note = "合成演示数据" if self.data.synthetic else ""
        content = donor_list_workbook(sup.donor_list(rec), rec.sort_values("date"), out.sort_values("date"),
                                      township=self.data.township, day=self.day, note=note)
        return f"{self.data.township}捐赠物资公示-{self.day.isoformat()}.xlsx", content


# -- The view --------------------------------------------------------------------------------


class SuppliesPage(w.VBox):
    """The supplies dashboard: filters, KPIs, stock, flags, donors' list (公示,
    exportable), issues, map of where supplies went, forms 入库/出库."""

    def __init__(self, model: SuppliesModel | None = None, *, db=None, **kwargs):
        self.model = model or SuppliesModel(Dataset.load(db))
        m = self.model
        self._donor = labelled(w.Dropdown(options=m.donor_options, description="捐赠方"), "fk-filter-donor", "280px")
        self._item = labelled(w.Dropdown(options=m.item_options, description="物资"), "fk-filter-item", "220px")
        self._recipient = labelled(w.Dropdown(options=m.recipient_options, description="领用单位"),
                                   "fk-filter-recipient", "260px")
        self._start = labelled(w.DatePicker(description="从"), "fk-filter-start", "200px")
        self._end = labelled(w.DatePicker(description="至"), "fk-filter-end", "200px")
        self._operator = operator_field()
        for widget, trait in ((self._donor, "donor"), (self._item, "item"), (self._recipient, "recipient"),
                              (self._start, "start"), (self._end, "end"), (self._operator, "operator")):
            w.link((m, trait), (widget, "value"))

        self._status = w.HTML().add_class("fk-status")
        self._kpis = w.HTML().add_class("fk-kpis")
        self._stock = w.HTML().add_class("fk-stock-box")
        self._flags = w.HTML().add_class("fk-flags-box")
        self._donors = w.HTML().add_class("fk-donors-box")
        self._issues = w.HTML().add_class("fk-issues-box")
        self._map = w.HTML(layout=w.Layout(width="100%")).add_class("fk-map-box")
        self._export = w.Button(description="导出公示 Excel", icon="download").add_class("fk-export-donors")
        self._export.on_click(self._on_export)
        self._download = w.HTML().add_class("fk-download")

        # 入库 form.
        items = [i for _, i in m.item_options if i]
        donors = [d for _, d in m.donor_options if d]
        self._r = {
            "date": labelled(w.DatePicker(description="接收日期", value=m.data.today), "fk-recv-date", "230px"),
            "donor": labelled(w.Combobox(options=donors, description="捐赠方", ensure_option=False), "fk-recv-donor", "280px"),
            "donor_type": labelled(w.Dropdown(options=["单位", "个人"], description="类型"), "fk-recv-donor-type", "140px"),
            "contact": labelled(w.Text(description="联系人"), "fk-recv-contact", "180px"),
            "contact_phone": labelled(w.Text(description="联系电话"), "fk-recv-phone", "220px"),
            "directed": labelled(w.Dropdown(options=["非定向", "定向"], description="捐赠类型"), "fk-recv-directed", "180px"),
            "directed_to": labelled(w.Text(description="定向对象"), "fk-recv-directed-to", "220px"),
            "item": labelled(w.Combobox(options=items, description="物资名称", ensure_option=False), "fk-recv-item", "240px"),
            "spec": labelled(w.Text(description="规格"), "fk-recv-spec", "160px"),
            "unit": labelled(w.Text(description="单位"), "fk-recv-unit", "120px"),
            "quantity": labelled(w.FloatText(description="数量", value=0), "fk-recv-quantity", "160px"),
            "value": labelled(w.FloatText(description="估值(元)", value=0), "fk-recv-value", "180px"),
            "expiry": labelled(w.DatePicker(description="有效期"), "fk-recv-expiry", "220px"),
            "supervisor": labelled(w.Text(description="监督人", value="乡纪委"), "fk-recv-supervisor", "180px"),
            "location": labelled(w.Combobox(options=m.locations, value="乡政府物资库", description="存放位置",
                                            ensure_option=False), "fk-recv-location", "240px"),
        }
        self._receive = w.Button(description="入库", button_style="success", icon="sign-in").add_class("fk-receive-save")
        self._receive.on_click(self._on_receive)

        # 出库 form.
        self._i_item = labelled(w.Dropdown(description="物资"), "fk-issue-item", "220px")
        self._i_location = labelled(w.Dropdown(description="出库仓库"), "fk-issue-location", "240px")
        self._i_stock = w.HTML().add_class("fk-issue-stock")
        self._i = {
            "date": labelled(w.DatePicker(description="发放日期", value=m.data.today), "fk-issue-date", "230px"),
            "quantity": labelled(w.FloatText(description="数量", value=0), "fk-issue-quantity", "160px"),
            "recipient_type": labelled(w.Dropdown(options=list(RECIPIENT_TYPES), description="领用类型"),
                                       "fk-issue-recipient-type", "170px"),
            "recipient": labelled(w.Text(description="领用单位"), "fk-issue-recipient", "240px"),
            "village": labelled(w.Dropdown(options=[("（无）", "")] + [(v, v) for v in m.data.village_names],
                                           description="村"), "fk-issue-village", "190px"),
            "taker": labelled(w.Text(description="领用人"), "fk-issue-taker", "180px"),
        }
        self._issue = w.Button(description="出库", button_style="danger", icon="sign-out").add_class("fk-issue-save")
        self._issue.on_click(self._on_issue)
        self._i_item.observe(self._on_issue_item, names="value")
        self._i_location.observe(self._show_stock, names="value")

        m.observe(self._render, names=["kpis", "stock_html", "flags_html", "donors_html", "issues_html", "map_html",
                                       "status", "stock_rows"])
        self._render()

        r = self._r
        receive_form = form_box("入库（接收捐赠）", [
            row(r["date"], r["donor"], r["donor_type"], r["contact"], r["contact_phone"]),
            row(r["directed"], r["directed_to"], r["item"], r["spec"], r["unit"]),
            row(r["quantity"], r["value"], r["expiry"], r["supervisor"], r["location"]),
            self._receive,
        ], "fk-receive-form")
        i = self._i
        issue_form = form_box("出库（发放）", [
            row(i["date"], self._i_item, self._i_location, self._i_stock),
            row(i["quantity"], i["recipient_type"], i["recipient"], i["village"], i["taker"]),
            self._issue,
        ], "fk-issue-form")
        super().__init__(
            [
                w.HTML(page_header("捐赠物资", m.data) + EXTRA_CSS),
                row(self._operator, w.HTML("<span class='fk-note'>保存表单前请填写操作人（记为接收人/经手人）</span>")),
                row(self._donor, self._item, self._recipient, self._start, self._end),
                w.HBox([
                    ExportBar(lambda: ("distributions", getattr(m, "issued_rows", m.data.ledgers["distributions"].iloc[0:0])),
                              lambda: "物资发放", synthetic=m.data.synthetic),
                    MapExportBar(lambda: m.map_html, lambda: "物资去向图"),
                ]).add_class("fk-exports"),
                self._status,
                self._kpis,
                w.HBox([
                    w.VBox([section("库存（入库减出库，按物资与存放位置）"), self._stock,
                            section("临期、过期与低于最低库存"), self._flags],
                           layout=w.Layout(width="55%")),
                    w.VBox([self._map], layout=w.Layout(width="45%", padding="0 0 0 12px")),
                ]),
                section("捐赠公示（捐赠方与合计）"),
                row(self._export, self._download),
                self._donors,
                section("发放记录"),
                self._issues,
                section("入库与出库登记"),
                receive_form,
                issue_form,
            ],
            **kwargs,
        )
        self.add_class("fk-page")

    def _render(self, _change=None):
        m = self.model
        self._kpis.value = kpi_cards_html(m.kpis, KPI_LABELS)
        self._stock.value = m.stock_html
        self._flags.value = m.flags_html
        self._donors.value = m.donors_html
        self._issues.value = m.issues_html
        self._map.value = m.map_html
        self._status.value = status_html(m.status, m.error)
        items = sorted({r[0] for r in m.stock_rows})
        if list(self._i_item.options) != items:
            keep = self._i_item.value
            self._i_item.options = items
            self._i_item.value = keep if keep in items else (items[0] if items else None)
        self._on_issue_item()

    def _on_issue_item(self, _change=None):
        item = self._i_item.value
        locations = [r[1] for r in self.model.stock_rows if r[0] == item]
        if list(self._i_location.options) != locations:
            keep = self._i_location.value
            self._i_location.options = locations
            self._i_location.value = keep if keep in locations else (locations[0] if locations else None)
        self._show_stock()

    def _show_stock(self, _change=None):
        item, location = self._i_item.value, self._i_location.value
        match = [r for r in self.model.stock_rows if r[0] == item and r[1] == location]
        self._i_stock.value = (f"<span class='fk-issue-stock-value' data-stock='{match[0][2]:g}'>"
                               f"结存 {match[0][2]:g}{match[0][3]}</span>" if match else "")

    def _on_receive(self, _b=None):
        raw = {k: (v.value.strip() if isinstance(v.value, str) else v.value) for k, v in self._r.items()}
        if not raw["value"]:
            raw["value"] = None
        if self.model.receive(raw):
            for key in ("contact", "contact_phone", "directed_to", "spec"):
                self._r[key].value = ""
            self._r["quantity"].value = 0
            self._r["value"].value = 0

    def _on_issue(self, _b=None):
        raw = {k: (v.value.strip() if isinstance(v.value, str) else v.value) for k, v in self._i.items()}
        raw.update(item=self._i_item.value, location=self._i_location.value)
        if self.model.issue(raw):
            self._i["quantity"].value = 0

    def _on_export(self, _b=None):
        try:
            name, content = self.model.export_donor_list()
        except Exception as exc:
            self.model.status, self.model.error = f"导出失败：{exc}", True
            return
        self._download.value = download_link(name, content, XLSX, "fk-download-link", f"下载 {name}")
