"""The export buttons every dashboard carries: the rows as currently
filtered, as xlsx (the template's headers, so a file can go back and forth)
or csv, masked. Offered as data: downloads — never written where Voilà
serves files without a token."""

from __future__ import annotations

import base64
from typing import Callable

import ipywidgets as w
import pandas as pd

from ..ledgers import get_ledger
from ..views.html import html
from .common import status_html
from .models.files import MIME, export_bytes

def download_link(name: str, content: bytes, mime: str, note: str = "") -> str:
    href = f"data:{mime};base64,{base64.b64encode(content).decode()}"
    suffix = name[name.rfind("."):].lower() if "." in name else ""
    return str(html('<a class="fk-download-link" data-suffix="{suffix}" download="{name}" href="{href}">'
                    '下载 {name}（{kb} KB{extra}）</a>',
                    suffix=suffix, name=name, href=href, kb=len(content) // 1024 + 1, extra=f"，{note}" if note else ""))


class ExportBar(w.HBox):
    """Two buttons (Excel, CSV) and the download link they produce.

    Parameters
    ----------
    rows : callable
        Returns ``(ledger key, DataFrame of that ledger's rows)`` as filtered now.
    name : callable
        Returns the file name stem (e.g. ``返乡报备-柳湾村``).
    synthetic : bool
        Label the file as synthetic demo data.
    """

    def __init__(self, rows: Callable[[], tuple[str, pd.DataFrame]], name: Callable[[], str], *,
                 synthetic: bool = False, **kwargs):
        self._rows, self._name, self._synthetic = rows, name, synthetic
        self._xlsx = w.Button(description="导出 Excel", icon="download").add_class("fk-export-xlsx")
        self._csv = w.Button(description="导出 CSV", icon="download").add_class("fk-export-csv")
        self._xlsx.on_click(lambda _b: self.export(".xlsx"))
        self._csv.on_click(lambda _b: self.export(".csv"))
        self.link = w.HTML().add_class("fk-download")
        super().__init__([self._xlsx, self._csv, self.link], **kwargs)
        self.add_class("fk-export-bar")

    def clear(self) -> None:
        self.link.value = ""

    def export(self, suffix: str) -> str:
        """Build the file; show the link (or the error). Returns the link HTML."""
        try:
            ledger_key, frame = self._rows()
            get_ledger(ledger_key)
            content = export_bytes(frame, ledger_key, suffix, synthetic=self._synthetic)
            self.link.value = download_link(f"{self._name()}{suffix}", content, MIME[suffix], "已脱敏")
        except Exception as exc:  # shown: Voilà hides tracebacks
            self.link.value = status_html(f"导出失败：{exc}", True)
        return self.link.value


def document_of(iframe_html: str) -> str:
    """The map document inside a :func:`fangkong_lib.views.maps.map_iframe`."""
    import html
    import re

    match = re.search(r'srcdoc="([^"]*)"', iframe_html)
    if not match:
        raise ValueError("当前没有地图可导出")
    return html.unescape(match.group(1))


class MapExportBar(w.HBox):
    """「导出地图」: the page's map as currently filtered, as one
    self-contained HTML file and, when Chromium is there, a PNG at print
    resolution (drawn with the network blocked)."""

    def __init__(self, map_html: Callable[[], str], name: Callable[[], str], *,
                 report: Callable[[str, bool], None] | None = None, note: str = "", **kwargs):
        self._map_html, self._name, self._report, self._note = map_html, name, report, note
        self._button = w.Button(description="导出地图", icon="download").add_class("fk-export-map")
        self._button.on_click(lambda _b: self.export())
        self.link = w.HTML().add_class("fk-map-download")
        super().__init__([self._button, self.link], **kwargs)

    def clear(self) -> None:
        self.link.value = ""

    def export(self) -> str:
        from ..outputs.render import RenderError, with_chromium

        try:
            document = document_of(self._map_html())
        except Exception as exc:
            self.link.value = status_html(f"导出地图失败：{exc}", True)
            self._tell(f"导出地图失败：{exc}", True)
            return self.link.value
        parts = [download_link(f"{self._name()}.html", document.encode("utf-8"), "text/html", self._note)]
        problem = ""
        try:
            png = with_chromium(lambda browser: browser.screenshot(
                document, selector=".folium-map", ready=(".leaflet-overlay-pane svg",), width=1200, height=850,
                scale=2, ready_js="!document.querySelector('.leaflet-zoom-anim')"))
            parts.append(download_link(f"{self._name()}.png", png, "image/png", self._note))
        except (RenderError, Exception) as exc:  # no Chromium on this PC: the HTML still works
            problem = f"PNG 未生成：{exc}"
            parts.append(status_html(problem, True))
        self.link.value = " ".join(parts)
        self._tell(problem or "已导出地图（HTML、PNG）", bool(problem))
        return self.link.value

    def _tell(self, message: str, error: bool) -> None:
        if self._report is not None:
            self._report(message, error)
