"""Medical sentinels (医疗哨点, gate 5): the view of :class:`SentinelsModel`.

Filters (dates, village, sentinel, drug class, follow-up), KPI cards (each
opens the rows it counts), the map of the health centre, clinics and
pharmacies, the sentinels' table, buyers by day and class, the buyers'
list with their follow-up status, and the form to record a purchase. The
model lives in :mod:`fangkong_lib.ui.models.sentinels`.
"""

from __future__ import annotations

import ipywidgets as w

from ..ledgers import DRUG_CLASSES, SEXES, TEST_RESULTS, get_ledger
from .base import PageView
from .forms import form_box, labelled, row, section
from .models.sentinels import KPI_LABELS, SentinelsModel

__all__ = ["SentinelsModel", "SentinelsPage"]

CSS = """
<style>
.fk-buyers td,.fk-sentinels td,.fk-fevers td{text-align:left}
.fk-buyers td.fk-gap-cell,.fk-fevers td.fk-gap-cell{color:#b8322a;font-weight:bold}
</style>
"""


def _choice(options):
    return [("（未填）", "")] + [(o, o) for o in options]


class SentinelsPage(PageView):
    """The medical sentinels dashboard."""

    title = "医疗哨点"
    model_class = SentinelsModel
    kpi_labels = KPI_LABELS
    operator_note = "登记前请填写操作人"
    extra_css = CSS

    def build(self) -> None:
        m = self.model
        self._start = self.bind(labelled(w.DatePicker(description="从"), "fk-filter-start", "200px"), "start")
        self._end = self.bind(labelled(w.DatePicker(description="至"), "fk-filter-end", "200px"), "end")
        self._village = self.bind(labelled(w.Dropdown(options=m.village_options, description="村"),
                                           "fk-filter-village", "190px"), "village")
        self._outlet = self.bind(labelled(w.Dropdown(options=m.outlet_options, description="哨点"),
                                          "fk-filter-outlet", "280px"), "outlet")
        self._class = self.bind(labelled(w.Dropdown(options=m.class_options, description="药品类别"),
                                         "fk-filter-class", "200px"), "drug_class")
        self._followup = self.bind(labelled(w.Dropdown(options=m.followup_options, description="随访"),
                                            "fk-filter-followup", "200px"), "followup")
        self._map = self.map_frame()
        self._sentinels = self.html_view("sentinels_html", "fk-sentinels-box")
        self._by_day = self.html_view("by_day_html", "fk-by-day-box")
        self._buyers = self.html_view("buyers_html", "fk-buyers-box")
        self._fevers = self.html_view("fevers_html", "fk-fevers-box")
        self._purchase_form = self._build_purchase_form()
        self._fever_form = self._build_fever_form()

    def filter_bar(self):
        return [row(self._start, self._end, self._village, self._outlet, self._class, self._followup)]

    def export_bar(self):
        m = self.model

        def buyers():
            return "drug_buyers", m.buyers

        def fevers():
            return "fever_reports", m.fevers[get_ledger("fever_reports").columns] if len(m.fevers) else m.fevers

        period = lambda: f"{m.start.isoformat()}至{m.end.isoformat()}"  # noqa: E731
        return [self.rows_export(buyers, lambda: f"四类药品购买登记_{period()}"),
                self.rows_export(fevers, lambda: f"发热病人报告_{period()}"),
                self.map_export(lambda: f"医疗哨点分布图_{m.end.isoformat()}")]

    def body(self):
        return [
            w.HBox([
                w.VBox([self._map], layout=w.Layout(width="55%")),
                w.VBox([section("购药人数（按日与类别）"), self._by_day],
                       layout=w.Layout(width="45%", padding="0 0 0 12px")),
            ]),
            section("购药登记与随访核酸（线索状态与核酸时限见线索核查）"), self._buyers,
            section("发热病人报告（当日完成核酸）"), self._fevers,
            section("哨点（卫生院、诊所、药店）"), self._sentinels,
        ]

    def forms(self):
        return [section("登记"), self._purchase_form, self._fever_form]

    def _build_purchase_form(self) -> w.VBox:
        m = self.model
        self._p = p = {
            "date": labelled(w.DatePicker(description="日期", value=m.data.today), "fk-buy-date", "220px"),
            "outlet": labelled(w.Dropdown(options=m.outlet_options[1:], description="药店/诊所"), "fk-buy-outlet",
                               "300px"),
            "name": labelled(w.Text(description="购药人"), "fk-buy-name", "180px"),
            "id_number": labelled(w.Text(description="身份证号"), "fk-buy-id", "300px"),
            "phone": labelled(w.Text(description="手机号"), "fk-buy-phone", "220px"),
            "village": labelled(w.Dropdown(options=_choice(m.data.village_names), description="住址村"),
                                "fk-buy-village", "200px"),
            "drug": labelled(w.Text(description="药品"), "fk-buy-drug", "220px"),
            "drug_class": labelled(w.Dropdown(options=_choice(DRUG_CLASSES), description="类别"), "fk-buy-class",
                                   "170px"),
            "temperature": labelled(w.Text(description="体温", placeholder="36.5"), "fk-buy-temperature", "150px"),
            "test_date": labelled(w.DatePicker(description="核酸时间"), "fk-buy-test-date", "230px"),
            "test_result": labelled(w.Dropdown(options=_choice(TEST_RESULTS), description="核酸结果"),
                                    "fk-buy-test-result", "190px"),
            "checker": labelled(w.Text(description="核查人", placeholder="默认为操作人"), "fk-buy-checker", "200px"),
        }
        self._p_save = w.Button(description="保存购药登记", button_style="danger", icon="save").add_class("fk-buy-save")
        self._p_save.on_click(self._on_purchase)
        return form_box("四类药品购买登记（实名：购药人须在规定时限内完成核酸）", [
            row(p["date"], p["outlet"], p["name"], p["id_number"], p["phone"]),
            row(p["village"], p["drug"], p["drug_class"], p["temperature"]),
            row(p["test_date"], p["test_result"], p["checker"]),
            self._p_save,
        ], "fk-purchase-form")

    def _build_fever_form(self) -> w.VBox:
        m = self.model
        self._f = f = {
            "reported_at": labelled(w.Text(description="报告时间", placeholder="2022-04-07 09:30"), "fk-fever-time",
                                    "260px"),
            "clinic": labelled(w.Dropdown(options=m.outlet_options[1:], description="报告单位"), "fk-fever-clinic",
                               "300px"),
            "name": labelled(w.Text(description="姓名"), "fk-fever-name", "180px"),
            "sex": labelled(w.Dropdown(options=_choice(SEXES), description="性别"), "fk-fever-sex", "140px"),
            "id_number": labelled(w.Text(description="身份证号"), "fk-fever-id", "300px"),
            "phone": labelled(w.Text(description="手机号"), "fk-fever-phone", "220px"),
            "village": labelled(w.Dropdown(options=_choice(m.data.village_names), description="住址村"),
                                "fk-fever-village", "200px"),
            "temperature": labelled(w.Text(description="体温", placeholder="38.2"), "fk-fever-temperature", "150px"),
            "symptoms": labelled(w.Text(description="症状"), "fk-fever-symptoms", "240px"),
            "handling": labelled(w.Dropdown(options=_choice(("留观", "转诊", "居家观察", "集中隔离")),
                                            description="处置情况"), "fk-fever-handling", "200px"),
            "test_time": labelled(w.Text(description="核酸采样时间", placeholder="2022-04-07 10:00"),
                                  "fk-fever-test-time", "280px"),
            "test_result": labelled(w.Dropdown(options=_choice(TEST_RESULTS), description="核酸结果"),
                                    "fk-fever-test-result", "190px"),
            "doctor": labelled(w.Text(description="接诊医生", placeholder="默认为操作人"), "fk-fever-doctor", "200px"),
        }
        self._f_save = w.Button(description="保存发热报告", button_style="danger", icon="save").add_class(
            "fk-fever-save")
        self._f_save.on_click(self._on_fever)
        return form_box("发热病人报告（报告即生成线索：当日完成核酸）", [
            row(f["reported_at"], f["clinic"], f["name"], f["sex"], f["id_number"], f["phone"]),
            row(f["village"], f["temperature"], f["symptoms"], f["handling"]),
            row(f["test_time"], f["test_result"], f["doctor"]),
            self._f_save,
        ], "fk-fever-form")

    def _on_fever(self, _b=None):
        raw = {k: (v.value.strip() if isinstance(v.value, str) else v.value) for k, v in self._f.items()}
        raw = {k: v for k, v in raw.items() if v not in ("", None)}
        raw.setdefault("doctor", self.model.operator)
        if self.model.record_fever(raw):
            for key in ("name", "id_number", "phone", "temperature", "symptoms"):
                self._f[key].value = ""

    def _on_purchase(self, _b=None):
        raw = {k: (v.value.strip() if isinstance(v.value, str) else v.value) for k, v in self._p.items()}
        raw = {k: v for k, v in raw.items() if v not in ("", None)}
        raw.setdefault("checker", self.model.operator)
        if self.model.record_purchase(raw):
            for key in ("name", "id_number", "phone", "drug", "temperature"):
                self._p[key].value = ""
