"""Daily briefing page (每日简报): pick a date, preview, generate the files.

The model (:class:`BriefingModel`) never imports ipywidgets: set ``day``,
read ``preview_html``; call :meth:`BriefingModel.generate` and read
``downloads_html``. The files travel to the browser as ``data:`` links, never
through a folder Voilà serves (``/voila/files`` has no token protection).
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Iterable

import ipywidgets as w
import traitlets as t

from ..outputs.briefing import MIME, Briefing, RenderError, briefing_files, briefing_html, map_files, summarize_briefing
from ..dataset import Dataset
from ..views.maps import escape_text
from .common import page_header, status_html


def download_links_html(files: Iterable[tuple[str, bytes]], *, note: str = "已脱敏") -> str:
    """``<a download>`` links with the files inlined as ``data:`` URIs."""
    links = []
    for name, content in files:
        suffix = name[name.rfind("."):].lower()
        href = f"data:{MIME.get(suffix, 'application/octet-stream')};base64,{base64.b64encode(content).decode()}"
        size = f"{len(content) / 1024:,.0f} KB" if len(content) < 1024 * 1024 else f"{len(content) / 1024 / 1024:.1f} MB"
        links.append(f'<a class="fk-download-link" data-suffix="{escape_text(suffix)}" download="{escape_text(name)}" '
                     f'href="{href}" style="margin-right:16px">下载 {escape_text(name)}（{size}）</a>')
    tail = f'<span class="fk-download-note">（{escape_text(note)}）</span>' if links and note else ""
    return "".join(links) + tail


def map_download_links(data: Dataset, day: date, *, village: str | None = None, measure: str | None = None,
                       basemap: str = "none") -> tuple[str, str]:
    """Download links for the map as filtered (HTML, and PNG when Chromium
    is there) and a problem to report ("" when none). Filters and data
    errors raise."""
    kwargs = dict(village=village or None, measure=measure or None, basemap=basemap)
    files = map_files(data, day, formats=(".html",), **kwargs)
    problem = ""
    try:
        files += map_files(data, day, formats=(".png",), **kwargs)
    except (RenderError, ValueError) as exc:  # no Chromium, or an online basemap
        problem = f"PNG 未生成：{exc}"
    return download_links_html(files, note="个人信息已脱敏"), problem


def _preview(b: Briefing) -> str:
    """The briefing document without the map image, in a sandboxed frame
    (its styles stay out of the page)."""
    doc = briefing_html(b)
    return (f'<iframe class="fk-briefing-preview" title="日报预览" sandbox="" '
            f'style="width:100%;height:900px;border:1px solid #d0d0d0;border-radius:4px;background:#fff" '
            f'srcdoc="{escape_text(doc)}"></iframe>')


class BriefingModel(t.HasTraits):
    """State of the briefing page: a date in, a preview and files out."""

    day = t.Instance(date)

    summary = t.Unicode("")
    preview_html = t.Unicode("")
    downloads_html = t.Unicode("")
    status = t.Unicode("")
    error = t.Bool(False)
    busy = t.Bool(False)

    def __init__(self, data: Dataset, **kwargs):
        self.data = data
        self.briefing: Briefing | None = None
        kwargs.setdefault("day", data.today)
        super().__init__(**kwargs)
        self.refresh()

    @t.observe("day")
    def _on_day(self, _change):
        self.refresh()

    def refresh(self) -> None:
        """Recompute the figures for ``day``; old download links go away
        (they belong to another date)."""
        self.downloads_html = ""
        try:
            if self.day is None:
                raise ValueError("请选择日期")
            self.briefing = summarize_briefing(self.data, self.day)
            self.summary = self.briefing.summary
            self.preview_html = _preview(self.briefing)
            self.status, self.error = f"预览：{self.day.isoformat()}（态势图在生成的文件中）", False
        except Exception as exc:  # shown to the user: Voilà hides tracebacks
            self.briefing = None
            self.summary, self.preview_html = "", ""
            self.status, self.error = f"出错：{exc}", True

    def generate(self) -> dict[str, tuple[str, bytes]]:
        """HTML, PDF and xlsx for ``day`` (needs Chromium); the links land in
        ``downloads_html``, errors in ``status``. Returns the files."""
        self.busy = True
        self.downloads_html = ""
        self.status, self.error = f"正在生成 {self.day.isoformat()} 日报（约需数秒）…", False
        try:
            if self.day is None:
                raise ValueError("请选择日期")
            files = briefing_files(self.data, self.day)
        except Exception as exc:
            self.status, self.error = f"生成失败：{exc}", True
            return {}
        finally:
            self.busy = False
        self.downloads_html = download_links_html(files.values(), note="个人信息已脱敏")
        self.status, self.error = f"已生成 {self.day.isoformat()} 日报：HTML、PDF、Excel 各一份", False
        return files


class BriefingPage(w.VBox):
    """The briefing page: date picker, 生成简报 button, links, status, preview."""

    def __init__(self, model: BriefingModel | None = None, *, db=None, **kwargs):
        self.model = model or BriefingModel(Dataset.load(db))
        m = self.model
        self._day = w.DatePicker(description="日期", layout=w.Layout(width="230px")).add_class("fk-filter-day")
        w.link((m, "day"), (self._day, "value"))
        self._generate = w.Button(description="生成简报", icon="download", button_style="primary",
                                  tooltip="生成当日日报：HTML、PDF、Excel").add_class("fk-generate")
        self._generate.on_click(lambda _b: self.model.generate())
        self._downloads = w.HTML().add_class("fk-download")
        self._status = w.HTML().add_class("fk-status")
        self._preview = w.HTML(layout=w.Layout(width="100%")).add_class("fk-briefing")
        m.observe(self._render, names=["preview_html", "downloads_html", "status", "error", "busy"])
        self._render()
        super().__init__(
            [
                w.HTML(page_header("每日简报", m.data)),
                w.HBox([self._day, self._generate], layout=w.Layout(flex_flow="row wrap")),
                self._status,
                self._downloads,
                self._preview,
            ],
            **kwargs,
        )
        self.add_class("fk-page")

    def _render(self, _change=None):
        m = self.model
        self._preview.value = m.preview_html
        self._downloads.value = m.downloads_html
        self._status.value = status_html(m.status, m.error)
        self._generate.disabled = m.busy
