"""The donated supplies page's model (捐赠物资), no widgets.

Set the filter
traits (``donor``, ``item``, ``recipient``, ``start``, ``end``) and read
``kpis``, ``stock_html``, ``donors_html``, ``map_html`` and ``status``; call
:meth:`~SuppliesModel.receive` (入库) and :meth:`~SuppliesModel.issue` (出库,
refused when the stock cannot cover it) and
:meth:`~SuppliesModel.export_donor_list` (公示, xlsx). KPI cards open the rows they count (``open_kpi``).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import traitlets as t

from ... import actions
from ...domain import supplies as sup
from ...ingest.normalize import mask_frame
from ...ledgers import get_ledger
from ...policy.stock_levels import load_stock_policy
from ...views.html import html, join_html
from ...views.maps import map_iframe, render_map
from ...views.page_maps import make_supplies_map
from ...outputs.publicity import donor_list_workbook
from ...views.tables import frame_html
from .base import ALL, PageModel

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RECIPIENT_TYPES = ("卡点", "村", "隔离户", "志愿者")

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


class SuppliesModel(PageModel):
    """State of the supplies page: filters in, stock and lists out."""

    filters = ("donor", "item", "recipient", "start", "end")
    kpi_lists = ("donors", "receipts", "issues", "stock_items", "expiring", "below_minimum")

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
    stock_rows = t.List()  # (item, location, stock, unit) for the issue form

    def __init__(self, data, **kwargs):
        self.policy = load_stock_policy()
        self.lists: dict[str, pd.DataFrame] = {}  # what each KPI counts, as last computed
        self.issued_rows = data.ledgers["distributions"].iloc[0:0]
        kwargs.setdefault("end", data.today)
        super().__init__(data, **kwargs)

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

    @t.validate("donor")
    def _check_donor(self, proposal):
        return self.one_of(proposal["value"], {d for _, d in self.donor_options}, "捐赠方")

    @t.validate("item")
    def _check_item(self, proposal):
        return self.one_of(proposal["value"], {i for _, i in self.item_options}, "物资")

    @t.validate("recipient")
    def _check_recipient(self, proposal):
        return self.one_of(proposal["value"], {r for _, r in self.recipient_options}, "领用单位")

    # -- Figures --------------------------------------------------------------------

    def compute(self) -> str:
        """Recompute stock, flags, lists, KPIs and map."""
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
        self.kpis = self._kpis(rec, out, stock, lots, low)
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
        self.lists = {"donors": self._donors(rec), "receipts": rec, "issues": out, "expiring": lots,
                      "below_minimum": low, "stock_items": stock[stock["stock"] > 0]}
        return f"已更新：{scope} · {span} · 入库 {len(rec)} 批、出库 {len(out)} 次"

    @staticmethod
    def _kpis(rec, out, stock, lots, low) -> dict:
        return {
            "donors": int(rec["donor"].nunique()),
            "donated_value": float(round(rec["value"].sum(), 2)),
            "receipts": len(rec),
            "issues": len(out),
            "stock_items": int((stock.groupby("item")["stock"].sum() > 0).sum()) if len(stock) else 0,
            "stock_value": float(round(stock["stock_value"].sum(), 2)) if len(stock) else 0.0,
            "expiring": len(lots),
            "below_minimum": len(low),
        }

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
            items = join_html((html("{item}（结存 {stock}{unit}，最低 {minimum}）", item=r.item,
                                    stock=f"{r.item_stock:g}", unit=r.unit or "", minimum=f"{r.minimum:g}")
                               for r in low.itertuples()), sep="、")
            parts.append(str(html("<div class='fk-flag fk-low-stock'>低于最低库存：{items}</div>", items=items)))
        return "".join(parts) or "<div class='fk-ok'>没有临期、过期或低于最低库存的物资</div>"

    def _map_for(self, out: pd.DataFrame) -> str:
        by_village = sup.issued_by_village(out, self.data.ledgers["donations"], self.data.village_names)
        unit = str(out["unit"].dropna().iloc[0]) if self.item and out["unit"].notna().any() else ""
        key = (tuple(by_village["quantity"].round(2).items()), tuple(by_village["value"].round(2).items()),
               self.item, unit, len(out))
        return self.cached_map(key, lambda: map_iframe(render_map(make_supplies_map(
            self.data.villages, by_village, township=self.data.township, issues=len(out), item=self.item,
            unit=unit, note=self.data.source_note)), height=480, title=f"{self.data.township}捐赠物资发放去向"))

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
            voucher = actions.receive_supplies(self.data.engine, fields, user=self.operator, today=self.data.today)
            return f"已入库 {voucher.voucher_no}：{raw.get('donor')} 捐赠 {raw.get('item')} {raw.get('quantity'):g}{raw.get('unit') or ''}"
        return self.run(act, reload=self._RELOAD)

    def issue(self, raw: dict) -> bool:
        """出库: record an issue after checking the stock; a refusal (more than
        the stock) goes to ``status`` and nothing is written."""
        def act():
            fields = {"handler": self.operator, "date": self.data.today,
                      **{k: v for k, v in raw.items() if v not in ("", None)}}
            voucher = actions.issue_supplies(self.data.engine, fields, user=self.operator,
                                             villages=self.data.village_names, today=self.data.today)
            left = self.stock_of(fields["item"], fields["location"]) - float(fields["quantity"])
            return (f"已出库 {voucher.voucher_no}：{fields['item']} {float(fields['quantity']):g} 发往 "
                    f"{fields.get('recipient') or fields.get('village') or ''}，{fields['location']}结存 {left:g}")
        return self.run(act, reload=self._RELOAD)

    def export_donor_list(self) -> tuple[str, bytes]:
        """The public acknowledgement (公示) of the filtered receipts and issues as xlsx."""
        ledgers = self.data.ledgers
        rec, out = sup.filter_movements(ledgers["donations"], ledgers["distributions"], donor=self.donor,
                                        item=self.item, recipient=self.recipient, start=self.start, end=self.end)
        note = "合成演示数据" if self.data.synthetic else ""
        content = donor_list_workbook(sup.donor_list(rec), rec.sort_values("date"), out.sort_values("date"),
                                      township=self.data.township, day=self.day, note=note)
        return f"{self.data.township}捐赠物资公示-{self.day.isoformat()}.xlsx", content

    # -- KPI cards open their lists ------------------------------------------------------

    def kpi_list(self, key: str) -> tuple[str, str] | None:
        rows = self.lists.get(key)
        if rows is None:
            return None
        title = KPI_LABELS[key]
        if key == "donors":
            return title, frame_html(rows.rename(columns=DONOR_LABELS), css_class="fk-table fk-donors fk-kpi-rows",
                                     empty="没有记录")
        if key == "issues":
            shown = mask_frame(rows, get_ledger("distributions")).sort_values("date", ascending=False)
            return title, frame_html(shown[list(ISSUE_LABELS)].rename(columns=ISSUE_LABELS),
                                     css_class="fk-table fk-issues fk-kpi-rows", empty="没有记录")
        if key == "receipts":
            ledger = get_ledger("donations")
            shown = mask_frame(rows, ledger).sort_values("date", ascending=False)
            columns = [f.key for f in ledger.tabular_fields if f.key in shown.columns]
            return title, frame_html(shown[columns].rename(columns=ledger.labels),
                                     css_class="fk-table fk-kpi-rows", empty="没有记录")
        if key == "expiring":
            shown = rows.assign(expiry=pd.to_datetime(rows["expiry"])) if len(rows) else rows
            columns = [c for c in FLAG_LABELS if c in shown.columns]
            return title, frame_html(shown[columns].rename(columns=FLAG_LABELS),
                                     css_class="fk-table fk-expiry fk-kpi-rows", empty="没有记录")
        if key == "below_minimum":
            columns = [c for c in ("item", "unit", "item_stock", "minimum") if c in rows.columns]
            labels = {"item": "物资名称", "unit": "单位", "item_stock": "结存", "minimum": "最低库存"}
            return title, frame_html(rows[columns].rename(columns=labels), css_class="fk-table fk-kpi-rows",
                                     empty="没有记录")
        columns = [c for c in STOCK_LABELS if c in rows.columns]
        return title, frame_html(rows[columns].rename(columns=STOCK_LABELS), css_class="fk-table fk-stock fk-kpi-rows",
                                 empty="没有记录")
