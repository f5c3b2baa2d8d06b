"""The situation map as a file: one self-contained HTML document or a
print-resolution PNG drawn by headless Chromium with the network blocked.

The map is :func:`fangkong_lib.views.situation.make_situation_map`, the
map the overview dashboard shows: the page and its 导出地图 button call it
with the same filters.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Sequence

from ...dataset import Dataset
from ...views.maps import render_map
from ...views.situation import make_situation_map, situation_map
from ..render import Chromium, with_chromium

__all__ = ["map_document", "map_png", "export_map", "map_files", "map_file_name", "write_atomically",
           "PNG_SIZE", "PNG_SCALE"]

#: PNG size in CSS pixels and the device scale: 2400 × 1700 pixels by default.
PNG_SIZE, PNG_SCALE = (1200, 850), 2.0


def map_document(data: Dataset, day: date | None = None, **kwargs) -> str:
    """:func:`~fangkong_lib.views.situation.make_situation_map` as one
    self-contained HTML document (same keyword arguments)."""
    return render_map(make_situation_map(data, day, **kwargs))


def _png_of_document(browser: Chromium, document: str, ready: Sequence[str], size, scale) -> bytes:
    return browser.screenshot(
        document, selector=".folium-map", ready=(*ready, ".fk-panel"), width=size[0], height=size[1], scale=scale,
        ready_js="!document.querySelector('.leaflet-zoom-anim')",
    )


def map_png(data: Dataset, day: date | None = None, *, size: tuple[int, int] = PNG_SIZE,
            scale: float = PNG_SCALE, browser: Chromium | None = None, **kwargs) -> bytes:
    """The situation map as a PNG (``size`` CSS pixels × ``scale``), drawn by
    headless Chromium with every network request blocked."""
    basemap = kwargs.get("basemap", "none")
    if basemap != "none":  # drawn with the network blocked: online tiles would come out blank
        raise ValueError(f"PNG 在断网状态下绘制，不能加载在线底图 {basemap}：请用 --basemap none，或导出 .html")
    m, ready = situation_map(data, day, for_print=True, **kwargs)
    document = render_map(m)
    if browser is not None:
        return _png_of_document(browser, document, ready, size, scale)
    return with_chromium(lambda own: _png_of_document(own, document, ready, size, scale))


def dataset(db) -> Dataset:
    """``db`` as a Dataset (a Dataset, an engine or a database URL/path)."""
    return db if isinstance(db, Dataset) else Dataset.load(db)


def write_atomically(out: Path, content: bytes) -> None:
    """Write ``content`` to ``out`` through a ``.part`` file, so a failure
    never leaves a half-written file under the real name."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    tmp.write_bytes(content)
    tmp.replace(out)


def export_map(db, out: Path, *, layers: Sequence[str] | None = None, basemap: str = "none",
               title: str | None = None, day: date | None = None, village: str | None = None,
               measure: str | None = None, size: tuple[int, int] = PNG_SIZE, scale: float = PNG_SCALE) -> Path:
    """Write the situation map to ``out``: ``.html`` (self-contained,
    interactive) or ``.png`` (print resolution). ``db`` is a Dataset, an
    engine or a database URL/path."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".html", ".png"):
        raise ValueError(f"地图导出支持 .html 或 .png，收到 {out.suffix or '（无扩展名）'}")
    if suffix == ".png" and (min(size) < 200 or max(size) > 5000 or not 0.5 <= scale <= 4):
        raise ValueError("图片尺寸应在 200–5000 像素之间，缩放倍数在 0.5–4 之间")
    data = dataset(db)
    kwargs = dict(day=day, layers=layers, basemap=basemap, title=title, village=village, measure=measure)
    content = (map_png(data, size=size, scale=scale, **kwargs) if suffix == ".png"
               else map_document(data, **kwargs).encode("utf-8"))
    write_atomically(out, content)
    return out


def map_file_name(data: Dataset, day: date, village: str | None = None, measure: str | None = None) -> str:
    """``城郊乡_态势图_柳湾村_2022-04-07`` (filters included when set)."""
    parts = [data.township, "态势图", village, measure, day.isoformat()]
    return "_".join(p for p in parts if p)


def map_files(data: Dataset, day: date, *, village: str | None = None, measure: str | None = None,
              basemap: str = "none", layers: Sequence[str] | None = None,
              formats: Sequence[str] = (".html", ".png")) -> list[tuple[str, bytes]]:
    """The map as currently filtered, as ``[(file name, content)]`` in the
    order of ``formats`` (``.png`` needs Chromium: :class:`RenderError`).
    The same map as ``make_situation_map(data, day, village=..., measure=...,
    basemap=..., layers=...)`` shows on the overview page."""
    kwargs = dict(village=village or None, measure=measure or None, basemap=basemap, layers=layers)
    name = map_file_name(data, day, village, measure)
    files = []
    for suffix in formats:
        if suffix == ".html":
            files.append((f"{name}.html", map_document(data, day, **kwargs).encode("utf-8")))
        elif suffix == ".png":
            files.append((f"{name}.png", map_png(data, day, **kwargs)))
        else:
            raise ValueError(f"地图导出支持 .html 或 .png，收到 {suffix}")
    return files
