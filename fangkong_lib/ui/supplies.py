"""Donated supplies (捐赠物资): the view of :class:`SuppliesModel`.

Filters, KPI cards (each opens the rows it counts), stock, flags, the donors'
list (公示, exportable), issues, the map of where supplies went, and the
forms 入库/出库. The model lives in :mod:`fangkong_lib.ui.models.supplies`.
"""

from __future__ import annotations

import ipywidgets as w

from ..views.html import html
from .base import PageView
from .forms import download_link, form_box, labelled, row, section
from .models.supplies import KPI_LABELS, RECIPIENT_TYPES, XLSX, SuppliesModel

__all__ = ["SuppliesModel", "SuppliesPage", "stock_line_html"]


def stock_line_html(item_stock: float | None, unit: str) -> str:
    """The issue form's stock line (结存 of the chosen item and store); the
    unit is data from a village's file, so it is escaped."""
    if item_stock is None:
        return ""
    return str(html("<span class='fk-issue-stock-value' data-stock='{stock}'>结存 {stock}{unit}</span>",
                    stock=f"{item_stock:g}", unit=unit))


class SuppliesPage(PageView):
    """The supplies dashboard: filters, KPIs, stock, flags, donors' list (公示,
    exportable), issues, map of where supplies went, forms 入库/出库."""

    title = "捐赠物资"
    model_class = SuppliesModel
    kpi_labels = KPI_LABELS
    operator_note = "保存表单前请填写操作人（记为接收人/经手人）"

    def build(self) -> None:
        m = self.model
        self._donor = self.bind(labelled(w.Dropdown(options=m.donor_options, description="捐赠方"),
                                         "fk-filter-donor", "280px"), "donor")
        self._item = self.bind(labelled(w.Dropdown(options=m.item_options, description="物资"),
                                        "fk-filter-item", "220px"), "item")
        self._recipient = self.bind(labelled(w.Dropdown(options=m.recipient_options, description="领用单位"),
                                             "fk-filter-recipient", "260px"), "recipient")
        self._start = self.bind(labelled(w.DatePicker(description="从"), "fk-filter-start", "200px"), "start")
        self._end = self.bind(labelled(w.DatePicker(description="至"), "fk-filter-end", "200px"), "end")
        self._stock = self.html_view("stock_html", "fk-stock-box")
        self._flags = self.html_view("flags_html", "fk-flags-box")
        self._donors = self.html_view("donors_html", "fk-donors-box")
        self._issues = self.html_view("issues_html", "fk-issues-box")
        self._map = self.map_frame()
        self._export = w.Button(description="导出公示 Excel", icon="download").add_class("fk-export-donors")
        self._export.on_click(self._on_export)
        self._download = w.HTML().add_class("fk-download")
        self._receive_form = self._build_receive_form()
        self._issue_form = self._build_issue_form()
        m.observe(self._sync_issue_choices, names=["stock_rows"])
        self._sync_issue_choices()

    def filter_bar(self):
        return [row(self._donor, self._item, self._recipient, self._start, self._end)]

    def export_bar(self):
        m = self.model
        return [self.rows_export(lambda: ("distributions", m.issued_rows), lambda: "物资发放"),
                self.map_export(lambda: "物资去向图")]

    def body(self):
        return [
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
        ]

    def forms(self):
        return [section("入库与出库登记"), self._receive_form, self._issue_form]

    # -- Forms ------------------------------------------------------------------------------

    def _build_receive_form(self) -> w.VBox:
        m = self.model
        items = [i for _, i in m.item_options if i]
        donors = [d for _, d in m.donor_options if d]
        self._r = r = {
            "date": labelled(w.DatePicker(description="接收日期", value=m.data.today), "fk-recv-date", "230px"),
            "donor": labelled(w.Combobox(options=donors, description="捐赠方", ensure_option=False),
                              "fk-recv-donor", "280px"),
            "donor_type": labelled(w.Dropdown(options=["单位", "个人"], description="类型"), "fk-recv-donor-type",
                                   "140px"),
            "contact": labelled(w.Text(description="联系人"), "fk-recv-contact", "180px"),
            "contact_phone": labelled(w.Text(description="联系电话"), "fk-recv-phone", "220px"),
            "directed": labelled(w.Dropdown(options=["非定向", "定向"], description="捐赠类型"), "fk-recv-directed",
                                 "180px"),
            "directed_to": labelled(w.Text(description="定向对象"), "fk-recv-directed-to", "220px"),
            "item": labelled(w.Combobox(options=items, description="物资名称", ensure_option=False), "fk-recv-item",
                             "240px"),
            "spec": labelled(w.Text(description="规格"), "fk-recv-spec", "160px"),
            "unit": labelled(w.Text(description="单位"), "fk-recv-unit", "120px"),
            "quantity": labelled(w.FloatText(description="数量", value=0), "fk-recv-quantity", "160px"),
            "value": labelled(w.FloatText(description="估值(元)", value=0), "fk-recv-value", "180px"),
            "expiry": labelled(w.DatePicker(description="有效期"), "fk-recv-expiry", "220px"),
            "supervisor": labelled(w.Text(description="监督人", value="乡纪委"), "fk-recv-supervisor", "180px"),
            "location": labelled(w.Combobox(options=m.locations, value="乡政府物资库", description="存放位置",
                                            ensure_option=False), "fk-recv-location", "240px"),
        }
        self._receive = w.Button(description="入库", button_style="success", icon="sign-in").add_class(
            "fk-receive-save")
        self._receive.on_click(self._on_receive)
        return form_box("入库（接收捐赠）", [
            row(r["date"], r["donor"], r["donor_type"], r["contact"], r["contact_phone"]),
            row(r["directed"], r["directed_to"], r["item"], r["spec"], r["unit"]),
            row(r["quantity"], r["value"], r["expiry"], r["supervisor"], r["location"]),
            self._receive,
        ], "fk-receive-form")

    def _build_issue_form(self) -> w.VBox:
        m = self.model
        self._i_item = labelled(w.Dropdown(description="物资"), "fk-issue-item", "220px")
        self._i_location = labelled(w.Dropdown(description="出库仓库"), "fk-issue-location", "240px")
        self._i_stock = w.HTML().add_class("fk-issue-stock")
        self._i = i = {
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
        return form_box("出库（发放）", [
            row(i["date"], self._i_item, self._i_location, self._i_stock),
            row(i["quantity"], i["recipient_type"], i["recipient"], i["village"], i["taker"]),
            self._issue,
        ], "fk-issue-form")

    def _sync_issue_choices(self, _change=None):
        items = sorted({r[0] for r in self.model.stock_rows})
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
        self._i_stock.value = stock_line_html(match[0][2], match[0][3]) if match else ""

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
        except Exception as exc:  # shown: Voilà hides tracebacks
            self.say(f"导出失败：{exc}", True)
            return
        self._download.value = download_link(name, content, XLSX, "fk-download-link", f"下载 {name}")
