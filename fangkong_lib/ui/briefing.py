"""Daily briefing page (每日简报): the view of :class:`BriefingModel`.

Pick a date, preview, generate the files. The model lives in
:mod:`fangkong_lib.ui.models.briefing` (no widgets).
"""

from __future__ import annotations

import ipywidgets as w

from .base import PageView
from .models.briefing import BriefingModel, download_links_html

__all__ = ["BriefingModel", "BriefingPage", "download_links_html"]


class BriefingPage(PageView):
    """The briefing page: date picker, 生成简报 button, links, status, preview."""

    title = "每日简报"
    model_class = BriefingModel

    def build(self) -> None:
        m = self.model
        self._day = self.bind(w.DatePicker(description="日期", layout=w.Layout(width="230px")), "day",
                              "fk-filter-day")
        self._generate = w.Button(description="生成简报", icon="download", button_style="primary",
                                  tooltip="生成当日日报：HTML、PDF、Excel").add_class("fk-generate")
        self._generate.on_click(lambda _b: self.model.generate())
        self._downloads = self.html_view("downloads_html", "fk-download")
        self._preview = self.html_view("preview_html", "fk-briefing")
        self._preview.layout.width = "100%"
        m.observe(lambda _change: setattr(self._generate, "disabled", m.busy), names="busy")

    def filter_bar(self):
        return [w.HBox([self._day, self._generate], layout=w.Layout(flex_flow="row wrap"))]

    def body(self):
        return [self._downloads, self._preview]
