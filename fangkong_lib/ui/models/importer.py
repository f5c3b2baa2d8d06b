"""The import page's model (台账导入), no widgets.

Nothing is written until the user has seen the dry run and confirms; the
confirmation imports the same file again (the store may have changed in
between) and shows what really happened.
"""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path

import pandas as pd
import traitlets as t

from ...actions import ActionError
from ...ingest.importer import ImportResult, LedgerFileError
from ...outputs.reports import import_with_report
from ...ledgers import LEDGERS, get_ledger
from ...views.html import html, join_html
from ...views.tables import frame_html
from .base import PageModel

ACCEPT = ".xlsx,.xls,.xlsm,.ods,.csv"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def result_html(result: ImportResult) -> str:
    """The summary as KPI-like boxes; the counts always add up to 读取."""
    items = [("读取", result.read), ("新增", result.inserted), ("更新", result.updated),
             ("未变", result.unchanged), ("重复", result.duplicates), ("拒收", result.rejected)]
    boxes = join_html(
        html('<div class="{cls}" data-count="{k}"><div class="fk-kpi-value">{v}</div>'
             '<div class="fk-kpi-label">{k}</div></div>', cls="fk-kpi fk-alert" if k == "拒收" and v else "fk-kpi",
             k=k, v=v)
        for k, v in items
    )
    warn = join_html(html("<div class='fk-warning'>提示：{x}</div>", x=x) for x in result.warnings)
    return str(html("<div class='fk-import-result'><b>{head}</b>：{name}，表头在第 {row} 行"
                    "<div class='fk-kpi-row'>{boxes}</div>{warn}</div>",
                    head="预检结果（尚未写入）" if result.dry_run else "已导入", name=Path(result.path).name,
                    row=result.header_row, boxes=boxes, warn=warn))


def rejected_preview_html(result: ImportResult, limit: int = 20) -> str:
    if not result.rejected_rows:
        return ""
    rows = [{"原行号": r.row, "错误原因": "；".join(r.reasons)} for r in result.rejected_rows[:limit]]
    more = f"（共 {result.rejected} 行，下载错误报告查看全部）" if result.rejected > limit else ""
    return str(html("<h3 class='fk-h'>被拒收的行{more}</h3>", more=more)) + frame_html(pd.DataFrame(rows), css_class="fk-table fk-rejected")


class ImportModel(PageModel):
    """Upload (``upload``), dry-run (``check``) and write (``confirm``) one
    ledger file; read ``summary_html``, ``preview_html``, ``report_href``."""

    filters = ()  # a new ledger re-checks the file instead (``_on_ledger``)

    ledger = t.Unicode("returnees")
    summary_html = t.Unicode("")
    preview_html = t.Unicode("")
    report_href = t.Unicode("")
    can_confirm = t.Bool(False)

    def __init__(self, data, **kwargs):
        self._tmp = tempfile.TemporaryDirectory(prefix="fangkong-upload-")
        self._file: Path | None = None
        self._checked: tuple | None = None  # (ledger, file) of the last dry run
        super().__init__(data, **kwargs)

    @property
    def ledger_options(self) -> list[tuple[str, str]]:
        return [(led.label, key) for key, led in LEDGERS.items()]

    def compute(self) -> str:
        return "请选择台账类型并上传文件（xlsx、xls 或 csv）"

    def template(self) -> tuple[str, bytes]:
        """The chosen ledger's empty Excel template: (file name, content)."""
        from ...outputs.xlsx import write_template

        ledger = get_ledger(self.ledger)
        path = Path(self._tmp.name) / f"{ledger.label}模板.xlsx"
        if not path.exists():
            write_template(ledger.key, path)
        return path.name, path.read_bytes()

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
            result = import_with_report(self.data, self.ledger, self._file, user=self.operator.strip(),
                                        dry_run=dry_run, report=report, today=self.data.today)
        except (LedgerFileError, ActionError) as exc:
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


