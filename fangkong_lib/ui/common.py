"""What every dashboard page shows: the header with the navigation, the
status line and the CSS (built through :mod:`fangkong_lib.views.html`)."""

from __future__ import annotations

from ..config import NOTEBOOKS_DIR, SYNTHETIC_NOTE, TOWNSHIP_NAME
from ..dataset import Dataset
from ..views.html import html, join_html

#: The dashboard pages: (notebook file, Chinese title). One place. The
#: navigation shows those whose notebook exists.
PAGES = (
    ("overview.ipynb", "态势总览"),
    # the command line and who answers for every grid
    ("command.ipynb", "指挥调度"),
    ("grids.ipynb", "网格责任"),
    # people: returnees and the leads that find them (gates 5 and 6)
    ("returnees.ipynb", "返乡人员管控"),
    ("leads.ipynb", "线索核查"),
    ("checkpoints.ipynb", "卡口值守"),
    ("sentinels.ipynb", "医疗哨点"),
    # places, gatherings and the closed loop of supervision
    ("places.ipynb", "重点场所"),
    ("gatherings.ipynb", "聚集管控"),
    ("supervision.ipynb", "督查整改"),
    # the one fist, supplies and publicity
    ("volunteers.ipynb", "党员志愿者"),
    ("supplies.ipynb", "捐赠物资"),
    ("publicity.ipynb", "宣传"),
    # outputs and ledgers
    ("briefing.ipynb", "每日简报"),
    ("import.ipynb", "台账导入"),
    ("ledgers.ipynb", "台账查询与导出"),
    # the county server's accounts (county logins only)
    ("users.ipynb", "用户管理"),
)
#: Pages the navigation shows only to a county login on the hub (the single
#: PC has no logins; other logins may not manage accounts).
ADMIN_PAGES = frozenset({"users.ipynb"})


def available_pages(*, admin: bool = False) -> list[tuple[str, str]]:
    """The pages the navigation shows (``admin``: a county login on the hub)."""
    return [(f, t) for f, t in PAGES if (NOTEBOOKS_DIR / f).exists() and (admin or f not in ADMIN_PAGES)]

CSS = """
<style>
.fk-page{font-family:'Noto Sans CJK SC','Microsoft YaHei','PingFang SC',sans-serif;color:#1f2933;max-width:1500px}
.fk-header{display:flex;align-items:center;gap:18px;flex-wrap:wrap;border-bottom:2px solid #b8322a;padding:4px 0 8px 0;margin-bottom:8px}
.fk-header h1{font-size:22px;margin:0;color:#8c1d18}
.fk-header h1 small{font-size:15px;color:#52606d;margin-left:8px}
.fk-nav a{margin-right:12px;color:#1d4f91;text-decoration:none;font-size:14px}
.fk-nav a.fk-current{font-weight:bold;color:#8c1d18;border-bottom:2px solid #8c1d18}
.fk-synthetic{background:#fff4d6;color:#7a4b00;border:1px solid #f0c36d;border-radius:3px;padding:2px 8px;font-size:13px}
.fk-kpi-row{display:flex;flex-wrap:wrap;gap:8px;margin:6px 0 10px 0}
.fk-kpi{background:#f5f7fa;border:1px solid #d9e2ec;border-radius:6px;padding:6px 12px;min-width:92px;text-align:center}
.fk-kpi-value{font-size:24px;font-weight:bold;color:#102a43}
.fk-kpi-label{font-size:12px;color:#52606d}
.fk-kpi.fk-alert{background:#fff1f0;border-color:#f5a9a3}.fk-kpi.fk-alert .fk-kpi-value{color:#b8322a}
.fk-table-wrap{max-height:540px;max-width:100%;overflow:auto;border:1px solid #e4e7eb}
.fk-page .widget-html-content{min-width:0}
.fk-table{border-collapse:collapse;font-size:13px;width:100%}
.fk-table th{position:sticky;top:0;background:#eef2f7;padding:4px 6px;border-bottom:1px solid #cbd2d9;white-space:nowrap}
.fk-table td{padding:3px 6px;border-bottom:1px solid #f0f2f5;text-align:right;white-space:nowrap}
.fk-table td:first-child{text-align:left}
.fk-village tr:last-child td{font-weight:bold}
.fk-rejected td{white-space:normal;text-align:left;vertical-align:top}
.fk-rejected td:first-child{width:5em}
.fk-page a[download]{display:inline-block;margin:4px 8px 4px 0;padding:3px 10px;border:1px solid #1d4f91;
  border-radius:4px;color:#1d4f91;text-decoration:none;font-size:13px;background:#f4f8fd}
.fk-page a[download]:hover{background:#e1ecfa}
.fk-help{font-size:13px;color:#52606d;margin:2px 0 6px 0}
.fk-warning{color:#7a4b00;font-size:13px}
.fk-h{font-size:16px;margin:10px 0 4px 0;color:#243b53}
.fk-status{font-size:13px;margin:2px 0}
.fk-status .ok{color:#2f6f3e}.fk-status .err{color:#b8322a;font-weight:bold}
.fk-empty,.fk-more{color:#52606d;font-size:13px;padding:4px}
</style>
"""


def page_header(title: str, data: Dataset | None = None, current: str | None = None) -> str:
    """Title, navigation to the other pages and the synthetic-data banner."""
    current = current or next((f for f, t in PAGES if t == title), None)
    links = join_html(html('<a href="{href}" class="{css}">{text}</a>', href=f,
                           css="fk-current" if f == current else "", text=t)
                      for f, t in available_pages())
    banner = ""
    if data is not None and data.synthetic:
        banner = html('<span class="fk-synthetic">{note}</span>', note=SYNTHETIC_NOTE)
    township = data.township if data else TOWNSHIP_NAME
    return CSS + str(html('<div class="fk-header"><h1>{township}疫情防控工作台<small>{title}</small></h1>'
                          '<nav class="fk-nav">{links}</nav>{banner}</div>',
                          township=township, title=title, links=links, banner=banner))


def status_html(message: str, error: bool = False) -> str:
    """The status line: the message in green, or in red when it is an error."""
    if not message:
        return ""
    return str(html('<span class="{cls}">{message}</span>', cls="err" if error else "ok", message=message))
