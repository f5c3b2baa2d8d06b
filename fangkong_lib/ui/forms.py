"""Pieces the working pages (重点场所, 督查整改, 捐赠物资) share: the operator
field, form rows, section titles, extra CSS, and a guard that turns any
error of a form action into the status line (Voilà hides tracebacks)."""

from __future__ import annotations

import base64
import ipywidgets as w

from ..views.html import html

ALL = ""  # the "全部" choice of a filter

EXTRA_CSS = """
<style>
.fk-section{font-size:16px;margin:14px 0 4px 0;color:#243b53;border-left:4px solid #b8322a;padding-left:8px}
.fk-form{border:1px solid #d9e2ec;border-radius:6px;padding:6px 10px;margin:4px 0;background:#fbfcfd}
.fk-form .widget-label{min-width:0}
.fk-board{display:flex;gap:8px;align-items:flex-start}
.fk-board-col{flex:1;min-width:170px;background:#f5f7fa;border:1px solid #d9e2ec;border-radius:6px;padding:4px}
.fk-board-col h4{margin:2px 4px 6px 4px;font-size:14px;color:#243b53}
.fk-board-col .fk-board-list{max-height:420px;overflow:auto}
.fk-card{background:#fff;border:1px solid #d9e2ec;border-left:4px solid #7b8794;border-radius:4px;padding:4px 6px;margin:0 2px 6px 2px;font-size:12px;line-height:1.45}
.fk-card b{font-size:13px}
.fk-card.fk-overdue{border-left-color:#b8322a;background:#fff1f0}
.fk-card .fk-tag{display:inline-block;background:#b8322a;color:#fff;border-radius:3px;padding:0 4px;margin-left:4px;font-size:11px}
.fk-flag{color:#b8322a;font-weight:bold}
.fk-ok{color:#2f6f3e}
.fk-stage-info{font-size:13px;margin:4px 0}
.fk-code-preview img{max-width:260px;border:1px solid #d9e2ec}
.fk-note{color:#52606d;font-size:12px}
.fk-row{gap:4px 12px}.fk-gap{gap:12px}
.fk-places td,.fk-issues td,.fk-donors td,.fk-history td,.fk-overdue-list td,.fk-expiry td,.fk-team-weekly td{text-align:left}
.fk-places tr:last-child td,.fk-issues tr:last-child td,.fk-donors tr:last-child td,.fk-history tr:last-child td,
.fk-overdue-list tr:last-child td,.fk-expiry tr:last-child td,.fk-team-weekly tr:last-child td,
.fk-workload tr:last-child td{font-weight:normal}
.fk-checklist{display:grid;grid-template-columns:repeat(2,max-content);gap:2px 18px}
.fk-check-label{display:inline-block;min-width:120px;font-size:13px;line-height:28px}
.fk-check button.mod-active:first-of-type{background:#2f8f4e;color:#fff}
.fk-check button.mod-active:last-of-type{background:#b8322a;color:#fff}
</style>
"""


def section(title: str) -> w.HTML:
    return w.HTML(str(html("<h3 class='fk-section'>{title}</h3>", title=title)))


def operator_field() -> w.Text:
    """The 操作人 field: whoever saves a form is recorded as the audit user."""
    field = w.Text(description="操作人", placeholder="姓名（记入操作日志）", layout=w.Layout(width="260px"))
    field.add_class("fk-operator")
    return field


def labelled(widget: w.Widget, css: str, width: str | None = None) -> w.Widget:
    """Give a form control its CSS class (for tests) and a width."""
    widget.add_class(css)
    if width:
        widget.layout.width = width
    widget.style.description_width = "initial"
    return widget


def row(*children: w.Widget) -> w.HBox:
    return w.HBox(list(children), layout=w.Layout(flex_flow="row wrap")).add_class("fk-row")


def form_box(title: str, children, css: str) -> w.VBox:
    box = w.VBox([w.HTML(str(html("<b>{title}</b>", title=title))), *children])
    box.add_class("fk-form")
    box.add_class(css)
    return box


def download_link(name: str, content: bytes, mime: str, css: str, text: str) -> str:
    href = f"data:{mime};base64,{base64.b64encode(content).decode()}"
    return str(html('<a class="{css}" download="{name}" href="{href}">{text}（{kb} KB）</a>',
                    css=css, name=name, href=href, text=text, kb=len(content) // 1024 + 1))
