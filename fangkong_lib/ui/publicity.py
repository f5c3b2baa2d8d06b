"""Publicity work (宣传网, surface 1): the view of :class:`PublicityModel`.

Filters, KPI cards (each opens the rows it counts), the map of villages
coloured by coverage, the per-village coverage against the targets (villages
behind flagged), the work recorded, and the form for a day's work. The model
lives in :mod:`fangkong_lib.ui.models.publicity` (no widgets). The donors'
public list (捐赠公示) is elsewhere: :mod:`fangkong_lib.outputs.publicity`.
"""

from __future__ import annotations

import ipywidgets as w

from ..domain.publicity_work import KPI_LABELS
from ..ledgers import PUBLICITY_CHANNELS
from .base import PageView, safe_html
from .forms import form_box, labelled, row, section
from .models.publicity import PublicityModel

__all__ = ["PublicityModel", "PublicityPage"]


class PublicityPage(PageView):
    """The publicity dashboard: filters, KPIs, coverage map and table, work
    recorded, form."""

    title = "宣传"
    model_class = PublicityModel
    kpi_labels = KPI_LABELS
    operator_note = "保存表单前请填写操作人"
    extra_css = ("<style>.fk-publicity td{text-align:left}"
                 ".fk-coverage td:nth-child(2){white-space:normal;min-width:200px;text-align:left}</style>")

    def build(self) -> None:
        m = self.model
        self._village = self.bind(labelled(w.Dropdown(options=m.village_options, description="村"),
                                           "fk-filter-village", "200px"), "village")
        self._channel = self.bind(labelled(w.Dropdown(options=m.channel_options, description="渠道"),
                                           "fk-filter-channel", "200px"), "channel")
        self._topic = self.bind(labelled(w.Dropdown(options=m.topic_options, description="主题"),
                                         "fk-filter-topic", "240px"), "topic")
        self._start = self.bind(labelled(w.DatePicker(description="从"), "fk-filter-start", "200px"), "start")
        self._end = self.bind(labelled(w.DatePicker(description="至"), "fk-filter-end", "200px"), "end")
        self._behind = self.bind(labelled(w.Checkbox(description="只看宣传滞后村", indent=False),
                                          "fk-filter-behind", "150px"), "behind_only")
        self._map = self.map_frame()
        self._coverage = self.html_view("coverage_html", "fk-coverage-table")
        self._rows = self.html_view("rows_html", "fk-publicity-table")
        self._form = self._build_form()

    def filter_bar(self):
        return [row(self._village, self._channel, self._topic, self._start, self._end, self._behind)]

    def export_bar(self):
        m = self.model
        return [self.rows_export(lambda: ("publicity", m.rows),
                                 lambda: f"宣传工作{'-' + m.village if m.village else ''}"),
                self.map_export(lambda: f"宣传覆盖图_{m.day.isoformat()}")]

    def body(self):
        t = self.model.policy.targets
        rule = (f"目标（policy/publicity.toml）：村村通广播近{t.window_days}日日均 ≥ {t.broadcasts_per_day:g} 次；"
                f"宣传单到户 ≥ {t.leaflet_share:.0%} 户；入户宣传 ≥ {t.door_visit_share:.0%} 户；"
                f"微信群成员每户 ≥ {t.wechat_member_share:g} 人；横幅标语 ≥ {t.banners} 条（自 {t.since.isoformat()} 起）")
        return [
            w.HBox([
                w.VBox([self._map], layout=w.Layout(width="45%")),
                w.VBox([section("各村宣传覆盖（未达标即为宣传滞后）"),
                        safe_html("<div class='fk-note'>{rule}</div>", "", rule=rule), self._coverage],
                       layout=w.Layout(width="55%", padding="0 0 0 12px")),
            ]),
            section("宣传工作记录"),
            self._rows,
        ]

    def forms(self):
        return [section("登记宣传工作"), self._form]

    def _build_form(self) -> w.VBox:
        m = self.model
        topics = list(m.policy.topics)
        self._f = f = {
            "date": labelled(w.DatePicker(description="日期", value=m.data.today), "fk-pub-date", "220px"),
            "village": labelled(w.Dropdown(options=m.data.village_names, description="村"), "fk-pub-village",
                                "180px"),
            "channel": labelled(w.Dropdown(options=list(PUBLICITY_CHANNELS), description="渠道"), "fk-pub-channel",
                                "200px"),
            "topic": labelled(w.Dropdown(options=topics, description="主题"), "fk-pub-topic", "240px"),
            "quantity": labelled(w.IntText(description="数量", value=0), "fk-pub-quantity", "150px"),
            "households": labelled(w.IntText(description="覆盖户数", value=0), "fk-pub-households", "170px"),
            "groups": labelled(w.IntText(description="微信群数", value=0), "fk-pub-groups", "170px"),
            "members": labelled(w.IntText(description="群成员数", value=0), "fk-pub-members", "170px"),
            "reporter": labelled(w.Text(description="填报人"), "fk-pub-reporter", "180px"),
            "note": labelled(w.Text(description="备注"), "fk-pub-note", "260px"),
        }
        self._unit = w.HTML().add_class("fk-pub-unit")
        f["channel"].observe(self._on_channel, names="value")
        self._on_channel()
        self._save = w.Button(description="保存", button_style="danger", icon="save").add_class("fk-pub-save")
        self._save.on_click(self._on_save)
        return form_box("宣传工作（一村一日一渠道一主题一行；再次保存同一行即更正）", [
            row(f["date"], f["village"], f["channel"], f["topic"]),
            row(f["quantity"], self._unit, f["households"], f["groups"], f["members"]),
            row(f["reporter"], f["note"]),
            self._save,
        ], "fk-publicity-form")

    def _on_channel(self, _change=None):
        channel = self._f["channel"].value
        self._unit.value = str(safe_html("<span class='fk-note'>{u}</span>", "", u=self.model.unit_of(channel)).value)
        self._f["households"].layout.display = "" if channel in ("宣传单", "入户宣传") else "none"
        for key in ("groups", "members"):
            self._f[key].layout.display = "" if channel == "微信群" else "none"

    def _on_save(self, _b=None):
        f = self._f
        channel = f["channel"].value
        raw = {k: (v.value.strip() if isinstance(v.value, str) else v.value) for k, v in f.items()}
        if channel not in ("宣传单", "入户宣传"):
            raw["households"] = None
        if channel != "微信群":
            raw["groups"] = raw["members"] = None
        if not raw["reporter"]:
            raw["reporter"] = self.model.operator
        if self.model.record(raw):
            f["note"].value = ""
