"""Import page (台账导入): upload a village's file, check it, then confirm.

Nothing is written until the user has seen the dry run and confirms; the
confirmation imports the same file again (the store may have changed in
between) and shows what really happened.
"""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path

import ipywidgets as w
import traitlets as t

from ..dataset import Dataset
from ..ingest.importer import ImportResult, LedgerFileError
from ..outputs.reports import import_with_report
from ..ledgers import LEDGERS, get_ledger
from ..views.maps import escape_text
from ..views.tables import frame_html
from .common import page_header, status_html

ACCEPT = ".xlsx,.xls,.xlsm,.ods,.csv"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def result_html(result: ImportResult) -> str:
    """The summary as KPI-like boxes; the counts always add up to 读取."""
    items = [("读取", result.read), ("新增", result.inserted), ("更新", result.updated),
             ("未变", result.unchanged), ("重复", result.duplicates), ("拒收", result.rejected)]
    boxes = "".join(
        f'<div class="fk-kpi{" fk-alert" if k == "拒收" and v else ""}" data-count="{k}">'
        f'<div class="fk-kpi-value">{v}</div><div class="fk-kpi-label">{k}</div></div>'
        for k, v in items
    )
    head = "预检结果（尚未写入）" if result.dry_run else "已导入"
    warn = "".join(f"<div class='fk-warning'>提示：{escape_text(x)}</div>" for x in result.warnings)
    return (f"<div class='fk-import-result'><b>{head}</b>：{escape_text(Path(result.path).name)}，"
            f"表头在第 {result.header_row} 行<div class='fk-kpi-row'>{boxes}</div>{warn}</div>")


def rejected_preview_html(result: ImportResult, limit: int = 20) -> str:
    import pandas as pd

    if not result.rejected_rows:
        return ""
    rows = [{"原行号": r.row, "错误原因": "；".join(r.reasons)} for r in result.rejected_rows[:limit]]
    more = f"（共 {result.rejected} 行，下载错误报告查看全部）" if result.rejected > limit else ""
    return f"<h3 class='fk-h'>被拒收的行{more}</h3>" + frame_html(pd.DataFrame(rows), css_class="fk-table fk-rejected")


class ImportModel(t.HasTraits):
    ledger = t.Unicode("returnees")
    operator = t.Unicode("")

    summary_html = t.Unicode("")
    preview_html = t.Unicode("")
    report_href = t.Unicode("")
    can_confirm = t.Bool(False)
    status = t.Unicode("请选择台账类型并上传文件（xlsx、xls 或 csv）")
    error = t.Bool(False)

    def __init__(self, data: Dataset, **kwargs):
        self.data = data
        self._tmp = tempfile.TemporaryDirectory(prefix="fangkong-upload-")
        self._file: Path | None = None
        self._checked: tuple | None = None  # (ledger, file) of the last dry run
        super().__init__(**kwargs)

    @t.validate("ledger")
    def _check_ledger(self, proposal):
        if proposal["value"] not in LEDGERS:
            raise t.TraitError(f"未知台账：{proposal['value']}")
        return proposal["value"]

    @t.observe("ledger")
    def _on_ledger(self, _change):
        self.can_confirm = False
        self._checked = None
        if self._file is not None:
            self.check()

    def upload(self, name: str, content: bytes) -> None:
        """Keep the uploaded file (outside any served folder) and dry-run it."""
        safe = Path(name).name or "upload"
        path = Path(self._tmp.name) / safe
        path.write_bytes(bytes(content))
        self._file = path
        self.check()

    def check(self) -> ImportResult | None:
        """The dry run: everything but the write."""
        return self._run(dry_run=True)

    def confirm(self) -> ImportResult | None:
        """Write the checked file. Refused unless this file was checked for
        this ledger and the operator is named (checked here, not by hiding
        the button: widget messages can set anything)."""
        if self._file is None or self._checked != (self.ledger, str(self._file)):
            self.status, self.error = "请先上传并预检文件，再确认导入", True
            return None
        if not self.operator.strip():
            self.status, self.error = "请先填写操作人（写入审计记录）", True
            return None
        result = self._run(dry_run=False)
        if result is not None:
            self.data.reload(self.ledger)
            self.can_confirm = False
            self._checked = None
        return result

    def _run(self, *, dry_run: bool) -> ImportResult | None:
        if self._file is None:
            self.status, self.error = "请先上传文件", True
            return None
        report = Path(self._tmp.name) / "错误报告.xlsx"
        report.unlink(missing_ok=True)
        try:
            result = import_with_report(self.data.engine, self.ledger, self._file, user=self.operator.strip() or "import",
                                 dry_run=dry_run, report=report, today=self.data.today)
        except LedgerFileError as exc:
            self.summary_html = self.preview_html = self.report_href = ""
            self.can_confirm, self.status, self.error = False, str(exc), True
            return None
        except Exception as exc:  # shown, never hidden: Voilà hides tracebacks
            self.can_confirm, self.status, self.error = False, f"导入出错：{exc}", True
            return None
        self.summary_html = result_html(result)
        self.preview_html = rejected_preview_html(result)
        self.report_href = (
            f"data:{XLSX_MIME};base64,{base64.b64encode(report.read_bytes()).decode()}" if result.report else ""
        )
        label = get_ledger(self.ledger).label
        if dry_run:
            self._checked = (self.ledger, str(self._file))
            self.can_confirm = (result.inserted + result.updated) > 0
            self.status = (f"预检完成：{label} 可写入 {result.inserted + result.updated} 行，请核对后点击「确认导入」"
                           if self.can_confirm else f"预检完成：{label} 没有需要写入的行")
        else:
            self.status = result.summary()
        self.error = False
        return result


class ImportPage(w.VBox):
    def __init__(self, model: ImportModel | None = None, *, db=None, **kwargs):
        self.model = model or ImportModel(Dataset.load(db))
        m = self.model
        self._ledger = w.Dropdown(options=[(led.label, key) for key, led in LEDGERS.items()],
                                  description="台账", layout=w.Layout(width="260px")).add_class("fk-import-ledger")
        w.link((m, "ledger"), (self._ledger, "value"))
        self._operator = w.Text(description="操作人", placeholder="姓名",
                                layout=w.Layout(width="220px")).add_class("fk-operator")
        w.link((m, "operator"), (self._operator, "value"))
        self._upload = w.FileUpload(accept=ACCEPT, multiple=False, description="选择文件").add_class("fk-upload")
        self._upload.observe(self._on_upload, names="value")
        self._confirm = w.Button(description="确认导入", button_style="danger", disabled=True,
                                 icon="check").add_class("fk-import-confirm")
        self._confirm.on_click(lambda _b: self.model.confirm())
        self._template = w.HTML().add_class("fk-template-link")
        self._summary = w.HTML().add_class("fk-import-summary")
        self._preview = w.HTML().add_class("fk-import-preview")
        self._report = w.HTML().add_class("fk-import-report")
        self._status = w.HTML().add_class("fk-status")
        m.observe(self._render, names=["summary_html", "preview_html", "report_href", "can_confirm", "status", "error",
                                       "ledger"])
        self._render()
        super().__init__(
            [
                w.HTML(page_header("台账导入", m.data)),
                w.HTML("<div class='fk-help'>先预检：系统逐行检查身份证号、手机号、日期、村名和可选值，"
                       "不写入任何数据；核对结果后再点击「确认导入」。被拒收的行可下载错误报告，退回各村修改后重新导入。</div>"),
                w.HBox([self._ledger, self._operator, self._upload, self._confirm]),
                self._template,
                self._status,
                self._summary,
                self._report,
                self._preview,
            ],
            **kwargs,
        )
        self.add_class("fk-page")

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
        self._summary.value = m.summary_html
        self._preview.value = m.preview_html
        self._report.value = (f'<a class="fk-report-link" download="错误报告.xlsx" href="{m.report_href}">'
                              f"下载错误报告（被拒收的行及原因）</a>" if m.report_href else "")
        self._confirm.disabled = not m.can_confirm
        self._status.value = status_html(m.status, m.error)
        self._template.value = self._template_link()

    def _template_link(self) -> str:
        from ..outputs.xlsx import write_template

        ledger = get_ledger(self.model.ledger)
        path = Path(self.model._tmp.name) / f"{ledger.label}模板.xlsx"
        if not path.exists():
            write_template(ledger.key, path)
        href = f"data:{XLSX_MIME};base64,{base64.b64encode(path.read_bytes()).decode()}"
        return (f'<a class="fk-template-download" download="{escape_text(path.name)}" href="{href}">'
                f"下载「{escape_text(ledger.label)}」空白模板</a>")
