"""The daily briefing page's model (每日简报), no widgets.

Set ``day``, read ``preview_html``; call :meth:`BriefingModel.generate` and
read ``downloads_html``. The files travel to the browser as ``data:`` links,
never through a folder Voilà serves (``/voila/files`` has no token protection).
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Iterable

import traitlets as t

from ...outputs.briefing import MIME, Briefing, briefing_files, briefing_html, summarize_briefing
from ...views.html import html, join_html
from .base import PageModel


def download_links_html(files: Iterable[tuple[str, bytes]], *, note: str = "已脱敏") -> str:
    """``<a download>`` links with the files inlined as ``data:`` URIs."""
    links = []
    for name, content in files:
        suffix = name[name.rfind("."):].lower()
        href = f"data:{MIME.get(suffix, 'application/octet-stream')};base64,{base64.b64encode(content).decode()}"
        size = f"{len(content) / 1024:,.0f} KB" if len(content) < 1024 * 1024 else f"{len(content) / 1024 / 1024:.1f} MB"
        links.append(html('<a class="fk-download-link" data-suffix="{suffix}" download="{name}" href="{href}" '
                          'style="margin-right:16px">下载 {name}（{size}）</a>',
                          suffix=suffix, name=name, href=href, size=size))
    tail = html('<span class="fk-download-note">（{note}）</span>', note=note) if links and note else ""
    return str(join_html([*links, tail]))


def preview_html(b: Briefing) -> str:
    """The briefing document without the map image, in a sandboxed frame
    (its styles stay out of the page)."""
    return str(html('<iframe class="fk-briefing-preview" title="日报预览" sandbox="" '
                    'style="width:100%;height:900px;border:1px solid #d0d0d0;border-radius:4px;background:#fff" '
                    'srcdoc="{doc}"></iframe>', doc=briefing_html(b)))


class BriefingModel(PageModel):
    """State of the briefing page: a date in, a preview and files out."""

    filters = ("day",)

    day = t.Instance(date)
    summary = t.Unicode("")
    preview_html = t.Unicode("")
    downloads_html = t.Unicode("")
    busy = t.Bool(False)

    def __init__(self, data, **kwargs):
        self.briefing: Briefing | None = None
        kwargs.setdefault("day", data.today)
        super().__init__(data, **kwargs)

    def compute(self) -> str:
        """Recompute the figures for ``day``; old download links go away
        (they belong to another date)."""
        self.downloads_html = ""
        self.briefing, self.summary, self.preview_html = None, "", ""
        if self.day is None:
            raise ValueError("请选择日期")
        self.briefing = summarize_briefing(self.data, self.day)
        self.summary = self.briefing.summary
        self.preview_html = preview_html(self.briefing)
        return f"预览：{self.day.isoformat()}（态势图在生成的文件中）"

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
        except Exception as exc:  # shown: Voilà hides tracebacks
            self.status, self.error = f"生成失败：{exc}", True
            return {}
        finally:
            self.busy = False
        self.downloads_html = download_links_html(files.values(), note="个人信息已脱敏")
        self.status, self.error = f"已生成 {self.day.isoformat()} 日报：HTML、PDF、Excel 各一份", False
        return files
