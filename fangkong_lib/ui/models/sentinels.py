"""The medical sentinels page's model (医疗哨点, gate 5), no widgets.

Set the filter traits (``start``, ``end``, ``village``, ``outlet``,
``drug_class``, ``followup``) and read ``kpis``, ``map_html``, the tables'
HTML and ``status``; :meth:`SentinelsModel.record_purchase` saves a
four-class drug purchase.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pandas as pd
import traitlets as t

from ...actions import save_record
from ...domain.sentinels import (
    FOLLOWUP_DONE, FOLLOWUP_PENDING, FOLLOWUP_STATES, SENTINEL_CATEGORIES, buyers_by_day_and_class, filter_buyers,
    sentinel_places, sentinel_table, with_lead_status,
)
from ...domain.leads import OPEN_STATUSES, OVERDUE, data_now, lead_status
from ...ingest.normalize import mask_frame
from ...ledgers import DRUG_CLASSES, get_ledger
from ...views.maps import map_iframe, render_map
from ...views.sentinel_maps import make_sentinels_map
from ...views.tables import frame_html
from .base import ALL, PageModel

KPI_LABELS = {
    "sentinels": "医疗哨点", "buyers": "购药登记", "pending": "待核酸", "overdue": "逾期未核酸",
    "abnormal": "核酸异常", "done": "已核酸", "fevers": "发热报告", "fevers_open": "发热未核酸",
}
#: Days shown by default (the week up to the data's today).
DEFAULT_DAYS = 7
BUYER_COLUMNS = {
    "date": "日期", "outlet": "药店/诊所", "name": "购药人", "id_number": "身份证号", "phone": "手机号",
    "village": "住址村", "drug": "药品", "drug_class": "类别", "temperature": "体温", "test_date": "核酸时间",
    "test_result": "核酸结果", "followup": "随访状态", "lead_status": "线索状态", "deadline": "核酸时限",
    "checker": "核查人",
}
FEVER_COLUMNS = {
    "reported_at": "报告时间", "clinic": "报告单位", "name": "姓名", "id_number": "身份证号", "phone": "手机号",
    "village": "住址村", "temperature": "体温", "symptoms": "症状", "handling": "处置情况", "test_time": "核酸采样时间",
    "test_result": "核酸结果", "lead_status": "线索状态", "deadline": "核酸时限", "doctor": "接诊医生",
}
#: Fever-report fields the form offers.
FEVER_FIELDS = ("reported_at", "clinic", "name", "sex", "id_number", "phone", "village", "temperature", "symptoms",
                "onset_date", "handling", "test_time", "test_result", "doctor", "note")
SENTINEL_COLUMNS = {
    "name": "哨点", "category": "类别", "village": "村", "manager": "负责人", "manager_phone": "负责人电话",
    "buyers": "购药登记", "pending": "待核酸", "fevers": "发热报告",
}
#: Purchase fields the form offers.
PURCHASE_FIELDS = ("date", "outlet", "name", "id_number", "phone", "village", "drug", "drug_class", "temperature",
                   "test_date", "test_result", "checker", "status")


def _day(value) -> str:
    return "" if value is None or pd.isna(value) else f"{pd.Timestamp(value):%Y-%m-%d}"


def _minute(value) -> str:
    return "" if value is None or pd.isna(value) else f"{pd.Timestamp(value):%m-%d %H:%M}"


class SentinelsModel(PageModel):
    """State of the sentinels page: filters in, figures out."""

    filters = ("start", "end", "village", "outlet", "drug_class", "followup")
    kpi_lists = tuple(KPI_LABELS)

    start = t.Instance(date)
    end = t.Instance(date)
    outlet = t.Unicode(ALL)
    drug_class = t.Unicode(ALL)
    followup = t.Unicode(ALL)

    sentinels_html = t.Unicode("")
    by_day_html = t.Unicode("")
    buyers_html = t.Unicode("")
    fevers_html = t.Unicode("")

    def __init__(self, data, **kwargs):
        self.buyers = pd.DataFrame()
        self.sentinels = pd.DataFrame()
        self.fevers = pd.DataFrame()
        kwargs.setdefault("end", data.today)
        kwargs.setdefault("start", kwargs["end"] - timedelta(days=DEFAULT_DAYS - 1))
        super().__init__(data, **kwargs)

    # -- Options -------------------------------------------------------------------------------

    def _places(self) -> pd.DataFrame:
        return sentinel_places(self.data.ledgers["places"])

    @property
    def outlet_options(self):
        places = self._places()
        return [("全部哨点", ALL)] + [(f"{n}（{c}）", n) for n, c in zip(places["name"], places["category"])]

    @property
    def class_options(self):
        return [("全部类别", ALL)] + [(c, c) for c in DRUG_CLASSES]

    @property
    def followup_options(self):
        return [("全部随访状态", ALL)] + [(s, s) for s in FOLLOWUP_STATES]

    @t.validate("outlet")
    def _check_outlet(self, proposal):
        return self.one_of(proposal["value"], list(self._places()["name"]), "哨点")

    @t.validate("drug_class")
    def _check_class(self, proposal):
        return self.one_of(proposal["value"], DRUG_CLASSES, "药品类别")

    @t.validate("followup")
    def _check_followup(self, proposal):
        return self.one_of(proposal["value"], FOLLOWUP_STATES, "随访状态")

    # -- Figures ------------------------------------------------------------------------------

    def compute(self) -> str:
        if self.start is None or self.end is None:
            raise ValueError("请选择起止日期")
        if self.start > self.end:
            raise ValueError("开始日期晚于结束日期")
        ledgers = self.data.ledgers
        leads = lead_status(ledgers["leads"], self._lead_moment())
        buyers = filter_buyers(ledgers["drug_buyers"], self.start, self.end, outlet=self.outlet,
                               drug_class=self.drug_class, village=self.village, followup=self.followup)
        self.buyers = with_lead_status(buyers, leads, source="哨点购药", when="date", by_day=True)
        self.fevers = with_lead_status(self._fevers(), leads, source="哨点发热", when="reported_at")
        table = sentinel_table(ledgers["places"], self.buyers, self.fevers)
        if self.village:
            table = table[table["village"] == self.village]
        if self.outlet:
            table = table[table["name"] == self.outlet]
        self.sentinels = table.reset_index(drop=True)
        states = self.buyers["followup"]
        self.kpis = {
            "sentinels": len(self.sentinels), "buyers": len(self.buyers),
            "pending": int((states == FOLLOWUP_PENDING).sum()),
            "overdue": int((self.buyers["lead_status"] == OVERDUE).sum()),
            "abnormal": int((states == "异常").sum()), "done": int((states == FOLLOWUP_DONE).sum()),
            "fevers": len(self.fevers), "fevers_open": int(self.fevers["lead_status"].isin(OPEN_STATUSES).sum()),
        }
        self.fevers_html = self._fevers_html(self.fevers)
        self.sentinels_html = self._sentinels_html(self.sentinels)
        self.by_day_html = frame_html(buyers_by_day_and_class(self.buyers, self.start, self.end), index=True,
                                      css_class="fk-table fk-buyers-by-day", max_rows=400)
        self.buyers_html = self._buyers_html(self.buyers)
        self.map_html = self._map_for(self.sentinels)
        return (f"已更新：{self._scope()} · {self.start.isoformat()} 至 {self.end.isoformat()} · "
                f"购药登记 {len(self.buyers)} 人，待核酸 {self.kpis['pending']} 人")

    def _lead_moment(self) -> datetime:
        """Leads as they stand at the data's now, or at the end of a past ``end`` day."""
        return min(data_now(self.data.today), datetime.combine(self.end, time(23, 59)))

    def _fevers(self) -> pd.DataFrame:
        rows = self.data.ledgers["fever_reports"]
        days = pd.to_datetime(rows["reported_at"]).dt.date
        keep = (days >= self.start) & (days <= self.end)
        if self.outlet:
            keep &= rows["clinic"] == self.outlet
        if self.village:
            keep &= rows["village"] == self.village
        return rows[keep].sort_values("reported_at", ascending=False, kind="stable").reset_index(drop=True)

    def _fevers_html(self, rows: pd.DataFrame, empty: str = "所选期间没有发热报告") -> str:
        if rows.empty:
            return frame_html(rows, empty=empty)
        shown = mask_frame(rows, get_ledger("fever_reports")).assign(
            reported_at=rows["reported_at"].map(_minute), test_time=rows["test_time"].map(_minute),
            deadline=rows["deadline"].map(_minute))
        return frame_html(shown[list(FEVER_COLUMNS)].rename(columns=FEVER_COLUMNS), css_class="fk-table fk-fevers",
                          max_rows=300, empty=empty,
                          cell_class=lambda col, v: "fk-gap-cell" if col == "线索状态" and v == OVERDUE else None)

    def _scope(self) -> str:
        return " · ".join(p for p in (self.shown_area, self.outlet, self.drug_class, self.followup) if p)

    def _sentinels_html(self, rows: pd.DataFrame) -> str:
        shown = mask_frame(rows, get_ledger("places"))
        return frame_html(shown[list(SENTINEL_COLUMNS)].rename(columns=SENTINEL_COLUMNS) if len(shown) else shown,
                          css_class="fk-table fk-sentinels", max_rows=200, empty="没有符合条件的哨点")

    def _buyers_html(self, rows: pd.DataFrame, empty: str = "没有符合条件的购药登记") -> str:
        if rows.empty:
            return frame_html(rows, empty=empty)
        shown = mask_frame(rows, get_ledger("drug_buyers"))
        shown = shown.assign(date=shown["date"].map(_day), test_date=shown["test_date"].map(_day),
                             deadline=shown["deadline"].map(_minute))
        return frame_html(shown[list(BUYER_COLUMNS)].rename(columns=BUYER_COLUMNS), css_class="fk-table fk-buyers",
                          max_rows=300, empty=empty,
                          cell_class=lambda col, v: ("fk-gap-cell" if (col == "随访状态" and v != FOLLOWUP_DONE)
                                                     or (col == "线索状态" and v == OVERDUE) else None))

    def _map_for(self, rows: pd.DataFrame) -> str:
        key = (tuple(map(tuple, rows[["name", "buyers", "pending", "fevers"]].astype(str).to_numpy())),
               self._scope(), self.start, self.end)
        return self.cached_map(key, lambda: self._build_map(rows))

    def _build_map(self, rows: pd.DataFrame) -> str:
        m = make_sentinels_map(self.data.villages, rows, township=self.data.township, day=self.end,
                               scope=f"{self._scope()} · {self.start:%m-%d} 至 {self.end:%m-%d}",
                               village=self.village or None, note=self.data.source_note)
        return map_iframe(render_map(m), height=520, title=f"{self.data.township}医疗哨点")

    def kpi_list(self, key: str) -> tuple[str, str] | None:
        if key not in self.kpi_lists:
            return None
        if key == "sentinels":
            return KPI_LABELS[key], self._sentinels_html(self.sentinels)
        if key == "fevers":
            return KPI_LABELS[key], self._fevers_html(self.fevers)
        if key == "fevers_open":
            return KPI_LABELS[key], self._fevers_html(self.fevers[self.fevers["lead_status"].isin(OPEN_STATUSES)])
        if key == "overdue":
            return KPI_LABELS[key], self._buyers_html(self.buyers[self.buyers["lead_status"] == OVERDUE])
        states = {"pending": FOLLOWUP_PENDING, "abnormal": "异常", "done": FOLLOWUP_DONE}
        rows = self.buyers if key == "buyers" else self.buyers[self.buyers["followup"] == states[key]]
        return KPI_LABELS[key], self._buyers_html(rows)

    # -- Forms ----------------------------------------------------------------------------------

    def record_purchase(self, raw: dict) -> bool:
        """Save one four-class drug purchase (四类药品购买登记), validated like an import."""
        record = {k: v for k, v in raw.items() if k in PURCHASE_FIELDS}
        record.setdefault("status", FOLLOWUP_DONE if record.get("test_result") else FOLLOWUP_PENDING)
        return self.run(lambda: save_record(self.data.engine, "drug_buyers", record, user=self.operator,
                                            today=self.data.today), reload=("drug_buyers", "leads"))

    def record_fever(self, raw: dict) -> bool:
        """Save one fever report of a sentinel (发热病人报告), validated like an import; it raises a lead."""
        record = {k: v for k, v in raw.items() if k in FEVER_FIELDS}
        return self.run(lambda: save_record(self.data.engine, "fever_reports", record, user=self.operator,
                                            today=self.data.today), reload=("fever_reports", "leads"))

    @property
    def sentinel_names(self) -> list[str]:
        return list(self._places()["name"])


__all__ = ["KPI_LABELS", "SENTINEL_CATEGORIES", "SentinelsModel"]
