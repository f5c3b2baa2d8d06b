"""The briefing as HTML: one self-contained document (styles inline,
images as data URIs, no script) that opens from a USB stick and prints on
A4, plus the PDF page header and footer. Every value reaches the page
through :func:`fangkong_lib.views.html.html`.
"""

from __future__ import annotations

import base64


from ...config import SYNTHETIC_NOTE
from ...domain.daily import REPORT_DEADLINE, REPORT_LATE, REPORT_MISSING, REPORT_ON_TIME, REPORT_ZERO
from ...views.html import Markup, html, join_html
from ...views.situation import weekday
from ...views.tables import ALERT_KPIS, frame_html
from .figures import ActionList, Briefing, village_table_with_total

__all__ = ["BRIEFING_CSS", "briefing_html", "pdf_header", "pdf_footer"]

BRIEFING_CSS = """
@page { size: A4; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: 'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', 'SimHei', sans-serif;
  color: #1f2933; font-size: 12px; line-height: 1.5; max-width: 1000px; margin: 0 auto; padding: 12px; }
@media print { body { padding: 0; max-width: none; } }
h1 { font-size: 22px; color: #8c1d18; text-align: center; margin: 4px 0 2px 0; letter-spacing: 2px; }
.fk-meta { text-align: center; color: #52606d; font-size: 12px; }
.fk-synthetic { text-align: center; margin: 4px auto; color: #7a4b00; background: #fff4d6; border: 1px solid #f0c36d;
  border-radius: 3px; padding: 2px 8px; width: fit-content; font-size: 12px; }
.fk-rule { border-bottom: 2px solid #b8322a; margin: 6px 0 8px 0; }
h2 { font-size: 15px; color: #243b53; margin: 14px 0 4px 0; border-left: 4px solid #b8322a; padding-left: 6px;
  break-after: avoid; }
h3 { font-size: 13px; color: #243b53; margin: 10px 0 3px 0; break-after: avoid; }
.fk-lead { text-indent: 2em; margin: 4px 0 6px 0; font-size: 13px; }
table { border-collapse: collapse; width: 100%; font-size: 11px; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th { background: #eef2f7; font-weight: bold; padding: 2px 3px; border: 1px solid #b9c4d0; }
td { padding: 2px 3px; border: 1px solid #cfd6de; text-align: right; white-space: nowrap; }
td:first-child { text-align: left; }
.fk-village th { white-space: normal; font-size: 10px; }
.fk-village td { font-size: 10.5px; }
.fk-village tr:last-child td { font-weight: bold; background: #f5f7fa; }
.fk-list td { text-align: left; white-space: normal; }
.fk-headline td.fk-label { text-align: left; min-width: 120px; }
.fk-headline td:nth-child(5) { border-left: 2px solid #8a97a6; }
.fk-up { color: #b8322a; } .fk-down { color: #2f6f3e; }
.st-ok { color: #2f6f3e; } .st-zero { color: #1d4f91; } .st-late, .st-missing { color: #b8322a; font-weight: bold; }
.fk-empty { color: #52606d; padding: 2px 0 4px 1em; }
.fk-rulenote { color: #52606d; font-size: 10.5px; margin: 0 0 2px 0; }
.fk-unavailable { color: #7a4b00; background: #fff4d6; padding: 2px 6px; }
.fk-figure { text-align: center; break-inside: avoid; }
.fk-figure img { max-width: 100%; border: 1px solid #d0d0d0; }
.fk-pagebreak { break-before: page; }
.fk-notes { color: #52606d; font-size: 10.5px; margin-top: 10px; border-top: 1px solid #d9e2ec; padding-top: 4px; }
"""

_STATUS_CLASS = {REPORT_ON_TIME: "st-ok", REPORT_ZERO: "st-zero", REPORT_LATE: "st-late", REPORT_MISSING: "st-missing"}
_HEADLINE_CELLS = '<td class="fk-label">{label}</td><td>{today}</td><td>{yesterday}</td><td class="{cls}">{change}</td>'
_EMPTY_CELLS = Markup('<td class="fk-label"></td><td></td><td></td><td></td>')


def _data_uri(content: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"


def _change(value: int) -> str:
    return "持平" if value == 0 else (f"+{value}" if value > 0 else f"−{-value}")


def _headline_html(b: Briefing) -> Markup:
    """Two halves side by side: people (away, arrivals, under control) and
    the day's work (tests, fevers, releases, problems)."""
    cells = []
    for r in b.headline.itertuples(index=False):
        # Colour only where a rise is bad news; more tests done is not.
        cls = ("fk-up" if r.较昨日 > 0 else "fk-down" if r.较昨日 < 0 else "") if r.key in ALERT_KPIS else ""
        cells.append(html(_HEADLINE_CELLS, label=r.指标, today=f"{r.今日:,}", yesterday=f"{r.昨日:,}", cls=cls,
                          change=_change(r.较昨日)))
    keys = b.headline["key"].tolist()
    split = keys.index("tests_due")  # the day's work starts with the tests
    extra = keys.index("open_problems") + 1  # then the other lines (places, command, community …)
    # the other lines go under the people first, so that the halves are even
    moved = max(0, min(len(cells) - extra, (len(cells) + 1) // 2 - split))
    left = cells[:split] + cells[extra:extra + moved]
    right = cells[split:extra] + cells[extra + moved:]
    left += [_EMPTY_CELLS] * (len(right) - len(left))
    right += [_EMPTY_CELLS] * (len(left) - len(right))
    rows = join_html(html("<tr>{a}{b}</tr>", a=a, b=b_) for a, b_ in zip(left, right))
    head = Markup("<th>指标</th><th>今日</th><th>昨日</th><th>较昨日</th>" * 2)
    return html('<table class="fk-headline"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>',
                head=head, rows=rows)


def _village_html(b: Briefing) -> Markup:
    table = village_table_with_total(b.villages)
    shown = table.astype(object).where(table.notna(), "—")  # a village that did not report its count
    return Markup(frame_html(shown, index=True, css_class="fk-village", max_rows=100_000,
                             cell_class=lambda col, value: _STATUS_CLASS.get(value) if col == "报告情况" else None))


def _data_notes(b: Briefing) -> Markup | str:
    """Rows the figures left out because a value could not be read."""
    if not b.notes:
        return ""
    items = join_html(html("<li>{note}</li>", note=note) for note in b.notes)
    return html("<div class='fk-note fk-bad-rows'><b>数据问题（以下行未计入，请核实更正）：</b><ul>{items}</ul></div>",
                items=items)


def _mismatch_note(b: Briefing) -> Markup | str:
    reported = b.villages["村报在管"]
    differ = b.villages[reported.notna() & (reported != b.villages["管控中"])]
    if differ.empty:
        return ""
    items = "、".join(f"{v}（村报 {int(r)}，台账 {int(c)}）" for v, r, c in zip(differ.index, differ["村报在管"], differ["管控中"]))
    return html('<p class="fk-rulenote">村报在管人数与管控台账不一致：{items}，请核实。</p>', items=items)


def _action_html(a: ActionList, number: int) -> Markup:
    head = html('<h3>{n}. {title}（{count}{unit}）</h3><p class="fk-rulenote">口径：{rule}</p>',
                n=number, title=a.title, count=a.count, unit=a.unit, rule=a.rule)
    if a.rows.empty:
        return head + Markup('<p class="fk-empty">无</p>')
    return head + Markup(frame_html(a.rows, css_class="fk-list", max_rows=100_000))


_DOCUMENT = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} {day}</title>
<style>{css}</style></head>
<body>
<h1>{title}</h1>
<div class="fk-meta">{date_cn}（{weekday}） · 数据截至 {day} {deadline} · 生成于 {generated}</div>
{synthetic}
<div class="fk-rule"></div>
<p class="fk-lead" data-section="summary">{summary}</p>
<h2>一、主要数据</h2>
{headline}
<h2>二、各村日报告情况</h2>
<p class="fk-rulenote">日报告、零报告：各村须于当日 {deadline} 前上报；{deadline} 后补报计为“{late}”，
无报告为“{missing}”。“村报在管”为村上报数，其余为台账统计数。</p>
{villages}
{mismatch}
<h2 class="fk-pagebreak">三、需处置事项</h2>
{actions}
<h2 data-section="places">四、重点场所与检查</h2>
{places}
<h2 class="fk-pagebreak">五、态势图</h2>
<div class="fk-figure">{map}</div>
<h2>六、近14日管控人数</h2>
<div class="fk-figure"><img alt="近14日管控人数" src="{chart}"></div>
<div class="fk-notes">{source_note}。个人信息已脱敏（姓名、身份证号）。统计口径与工作台“态势总览”一致。
 {township}疫情防控指挥部</div>
</body></html>
"""


def briefing_html(b: Briefing) -> str:
    """The briefing as one self-contained HTML document (styles inline,
    images as data URIs, no script): opens from a USB stick, prints on A4."""
    title = f"{b.township}疫情防控工作日报"
    synthetic = html('<div class="fk-synthetic">{note}</div>', note=SYNTHETIC_NOTE) if b.synthetic else ""
    map_part = (html('<img alt="态势图" src="{src}">', src=_data_uri(b.map_png, "image/png")) if b.map_png
                else Markup('<p class="fk-empty">（态势图在生成文件时绘制）</p>'))
    return str(html(
        _DOCUMENT, title=title, day=b.day.isoformat(), css=Markup(BRIEFING_CSS),
        date_cn=f"{b.day.year}年{b.day.month}月{b.day.day}日", weekday=weekday(b.day),
        deadline=f"{REPORT_DEADLINE:%H:%M}", generated=f"{b.generated_at:%Y-%m-%d %H:%M}", synthetic=synthetic,
        summary=b.summary, headline=_headline_html(b), late=REPORT_LATE, missing=REPORT_MISSING,
        villages=_village_html(b), mismatch=join_html([_mismatch_note(b), _data_notes(b)]),
        actions=join_html(_action_html(a, i) for i, a in enumerate(b.actions, start=1)),
        places=join_html(_action_html(a, i) for i, a in enumerate(b.places, start=1)),
        map=map_part, chart=_data_uri(b.chart_png, "image/png"), source_note=b.source_note, township=b.township,
    ))


_PDF_FONT = "font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif"


def pdf_footer(b: Briefing) -> str:
    """The PDF page footer: title, date, page n of N (Chromium fills the spans)."""
    return str(html('<div style="width:100%;font-size:8px;color:#52606d;text-align:center;{font}">'
                    '{township}疫情防控工作日报 · {day} · 第 <span class="pageNumber"></span> 页 / '
                    '共 <span class="totalPages"></span> 页</div>',
                    font=Markup(_PDF_FONT), township=b.township, day=b.day.isoformat()))


def pdf_header(b: Briefing) -> str:
    """The PDF page header: 合成演示数据 (if so) and 内部资料 注意保存."""
    return str(html('<div style="width:100%;font-size:8px;color:#8c1d18;text-align:right;padding-right:14mm;{font}">'
                    "{note}内部资料 注意保存</div>",
                    font=Markup(_PDF_FONT), note="合成演示数据 · " if b.synthetic else ""))
