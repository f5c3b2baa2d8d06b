"""The daily briefing's files: HTML, PDF (A4, via Chromium) and xlsx."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ...dataset import Dataset
from ..render import Chromium, with_chromium
from .figures import Briefing, summarize_briefing
from .html import briefing_html, pdf_footer, pdf_header
from .maps import dataset, map_png, write_atomically
from .xlsx import briefing_xlsx

__all__ = ["MIME", "briefing_file_name", "briefing_files", "write_briefing"]

MIME = {
    ".html": "text/html",
    ".png": "image/png",
    ".pdf": "application/pdf",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def briefing_file_name(b: Briefing) -> str:
    """``城郊乡疫情防控日报_2022-04-07`` (no suffix)."""
    return f"{b.township}疫情防控日报_{b.day.isoformat()}"


def briefing_files(data: Dataset, day: date, *, browser: Chromium | None = None) -> dict[str, tuple[str, bytes]]:
    """The briefing for ``day`` as ``{".html"|".pdf"|".xlsx": (file name, content)}``.

    One Chromium draws the map image and prints the PDF.
    """
    def render(chromium: Chromium) -> dict[str, tuple[str, bytes]]:
        b = summarize_briefing(data, day)
        b.map_png = map_png(data, day, browser=chromium)
        document = briefing_html(b)
        pdf = chromium.pdf(document, header=pdf_header(b), footer=pdf_footer(b))
        name = briefing_file_name(b)
        return {".html": (f"{name}.html", document.encode("utf-8")), ".pdf": (f"{name}.pdf", pdf),
                ".xlsx": (f"{name}.xlsx", briefing_xlsx(b))}

    return render(browser) if browser is not None else with_chromium(render)


def write_briefing(db, day: date, out_dir: Path) -> list[Path]:
    """Write the briefing for ``day`` into ``out_dir`` (HTML, PDF, xlsx);
    returns the paths. ``db`` is a Dataset, an engine or a database URL/path."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"输出位置 {out_dir} 不是文件夹")
    paths = []
    for name, content in briefing_files(dataset(db), day).values():
        path = out_dir / name
        write_atomically(path, content)
        paths.append(path)
    return paths
