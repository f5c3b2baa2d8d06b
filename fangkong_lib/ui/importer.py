"""Import page (台账导入): upload a village's file, check it, then confirm.

The view of :class:`ImportModel` (in :mod:`fangkong_lib.ui.models.importer`,
no widgets). Nothing is written until the user has seen the dry run and
confirms.
"""

from __future__ import annotations

import base64

import ipywidgets as w

from ..views.html import html
from .base import PageView, safe_html
from .models.importer import ACCEPT, XLSX_MIME, ImportModel, rejected_preview_html, result_html

__all__ = ["ImportModel", "ImportPage", "rejected_preview_html", "result_html"]


class ImportPage(PageView):
    """Choose the ledger, name the operator, upload, check, confirm."""

    title = "台账导入"
    model_class = ImportModel

    def build(self) -> None:
        m = self.model
        self._ledger = self.bind(w.Dropdown(options=m.ledger_options, description="台账",
                                            layout=w.Layout(width="260px")), "ledger", "fk-import-ledger")
        self._operator.placeholder = "姓名"
        self._operator.layout.width = "220px"
        self._upload = w.FileUpload(accept=ACCEPT, multiple=False, description="选择文件").add_class("fk-upload")
        self._upload.observe(self._on_upload, names="value")
        self._confirm = w.Button(description="确认导入", button_style="danger", disabled=True,
                                 icon="check").add_class("fk-import-confirm")
        self._confirm.on_click(lambda _b: self.model.confirm())
        self._template = w.HTML().add_class("fk-template-link")
        self._summary = self.html_view("summary_html", "fk-import-summary")
        self._preview = self.html_view("preview_html", "fk-import-preview")
        self._report = w.HTML().add_class("fk-import-report")
        m.observe(self._render, names=["report_href", "can_confirm", "ledger"])
        self._render()

    def filter_bar(self):
        return [
            safe_html("<div class='fk-help'>{text}</div>", text=(
                "先预检：系统逐行检查身份证号、手机号、日期、村名和可选值，不写入任何数据；核对结果后再点击「确认导入」。"
                "被拒收的行可下载错误报告，退回各村修改后重新导入。")),
            w.HBox([self._ledger, self._operator, self._upload, self._confirm]),
            self._template,
        ]

    def body(self):
        return [self._summary, self._report, self._preview]

    def _on_upload(self, change):
        files = change["new"]
        if not files:
            return
        item = files[0]
        self.model.upload(item["name"], item["content"])
        # forget the selection, so choosing the same file again (after fixing
        # it, or to re-check) is seen as a new upload
        self._upload.value = ()

    def _render(self, _change=None):
        m = self.model
        self._report.value = str(html('<a class="fk-report-link" download="错误报告.xlsx" href="{href}">'
                                      "下载错误报告（被拒收的行及原因）</a>", href=m.report_href)) if m.report_href else ""
        self._confirm.disabled = not m.can_confirm
        name, content = m.template()
        self._template.value = str(html('<a class="fk-template-download" download="{name}" href="{href}">'
                                        "下载「{label}」空白模板</a>", name=name, label=name[:-len("模板.xlsx")],
                                        href=f"data:{XLSX_MIME};base64,{base64.b64encode(content).decode()}"))
