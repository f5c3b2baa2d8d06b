"""Printable venue codes (场所码): a QR code with the place's name and code,
drawn locally (``qrcode`` + Pillow, a CJK font from the system).

The QR code carries the township's register entry (code and name) as text,
so a phone shows which place it is; the official venue code of the
provincial platform (周口通) is issued there, not here.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import textwrap
from functools import lru_cache
from pathlib import Path
from typing import Mapping

#: Font families tried in order (Linux, Windows, macOS).
CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC", "Droid Sans Fallback",
)
FONT_HELP = "找不到中文字体，无法生成场所码图片：请安装 Noto Sans CJK 字体（Debian/Ubuntu：apt-get install fonts-noto-cjk）"

WIDTH, MARGIN = 720, 40
QR_SIDE, QR_TOP = 520, 150  # room for the QR code, and where it starts
RED, DARK = (184, 50, 42), (31, 41, 51)


def qr_payload(place: Mapping) -> str:
    """The text inside the QR code."""
    return f"城郊乡重点场所码\n编号：{place['code']}\n名称：{place['name']}"


def qr_matrix_code(place: Mapping):
    """The QR code of a place (``qrcode.QRCode``, made), medium error correction."""
    import qrcode

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=2)
    qr.add_data(qr_payload(place))
    qr.make(fit=True)
    return qr


@lru_cache(maxsize=1)
def find_cjk_font() -> tuple[str, int]:
    """(path, index in a .ttc collection) of a font that draws Chinese.

    Asks fontconfig (``fc-list :lang=zh``) on every call until a font is
    found, so a font installed after a first miss is found without
    restarting; only a found font is remembered. Without fontconfig (a
    Windows PC), matplotlib's font list is read, and rebuilt once on a miss,
    because matplotlib reads it from a cache written before the font came.

    Raises RuntimeError with what to install when there is none.
    """
    fc_list = _fc_list()
    found = _ask_fontconfig(fc_list) if fc_list else _ask_matplotlib()
    if found is None:
        raise RuntimeError(FONT_HELP)
    return found


def _fc_list() -> str | None:
    """Path of fontconfig's ``fc-list``, or None on a machine without it."""
    return shutil.which("fc-list")


def _ask_fontconfig(fc_list: str) -> tuple[str, int] | None:
    """The best font fontconfig lists as covering Chinese: the first of
    :data:`CJK_FAMILIES` present, regular before bold, else any such font."""
    try:
        out = subprocess.run([fc_list, ":lang=zh", "-f", "%{file}\t%{index}\t%{family}\t%{style}\n"],
                             capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return _ask_matplotlib()
    fonts = []
    for line in out.splitlines():
        path, index, families, style = (line.split("\t") + ["", "", ""])[:4]
        if Path(path).suffix.lower() in (".ttf", ".ttc", ".otf", ".otc") and Path(path).is_file():
            fonts.append((("Bold" in style, path, int(index or 0)), families.split(",")))
    fonts.sort()
    for family in CJK_FAMILIES:
        for (_bold, path, index), families in fonts:
            if family in families:
                return path, index
    return (fonts[0][0][1], fonts[0][0][2]) if fonts else None


def _ask_matplotlib() -> tuple[str, int] | None:
    """A CJK font from matplotlib's font list, rebuilt (and kept for
    matplotlib's own use) when the cached list has none."""
    from matplotlib import font_manager

    found = _pick_from(font_manager.fontManager.ttflist)
    if found is None:
        font_manager.fontManager = font_manager._load_fontmanager(try_read_cache=False)
        found = _pick_from(font_manager.fontManager.ttflist)
    return found


def _pick_from(ttflist) -> tuple[str, int] | None:
    """The first of :data:`CJK_FAMILIES` in matplotlib's ``ttflist``."""
    from PIL import ImageFont

    by_name: dict[str, list[str]] = {}
    for entry in ttflist:
        by_name.setdefault(entry.name, []).append(entry.fname)
    for family in CJK_FAMILIES:
        for path in sorted(set(by_name.get(family, ())), key=lambda p: ("Bold" in p, p)):
            for index in range(8 if path.lower().endswith(".ttc") else 1):
                try:
                    font = ImageFont.truetype(path, 20, index=index)
                except OSError:
                    break
                if family in font.getname()[0] or not path.lower().endswith(".ttc"):
                    return path, index
            return path, 0
    return None


def _font(size: int):
    from PIL import ImageFont

    path, index = find_cjk_font()
    return ImageFont.truetype(path, size, index=index)


def make_place_code_png(place: Mapping, *, township: str = "城郊乡") -> bytes:
    """A printable PNG of a place's venue code: header, QR code, the place's
    Chinese name, its code, village and category, and the entry rules.

    ``place`` needs ``code`` and ``name``; ``village`` and ``category`` are
    shown when present.

    Examples
    --------
    >>> png = make_place_code_png({"code": "ZKT2000001", "name": "柳湾王记超市"})
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    from PIL import Image, ImageDraw

    code, name = str(place.get("code") or "").strip(), str(place.get("name") or "").strip()
    if not code or not name:
        raise ValueError("场所码图片需要场所名称和场所码编号")
    qr = qr_matrix_code({"code": code, "name": name})
    # Whole pixels per module (no resampling), as large as fits.
    qr.box_size = QR_SIDE // (qr.modules_count + 2 * qr.border)
    qr_img = qr.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    side = qr_img.size[0]

    title_font, name_font, text_font, small_font = _font(44), _font(40), _font(28), _font(24)
    name_lines = textwrap.wrap(name, 15) or [name]
    height = 130 + 30 + side + 30 + 56 * len(name_lines) + 44 * 2 + 70 + 30
    img = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 0, WIDTH, 120], fill=RED)
    draw.text((WIDTH / 2, 60), f"{township}重点场所码", font=title_font, fill="white", anchor="mm")
    y = QR_TOP
    img.paste(qr_img, ((WIDTH - side) // 2, y))
    y += side + 30
    for line in name_lines:
        draw.text((WIDTH / 2, y + 24), line, font=name_font, fill=DARK, anchor="mm")
        y += 56
    draw.text((WIDTH / 2, y + 20), f"场所码编号：{code}", font=text_font, fill=DARK, anchor="mm")
    y += 44
    where = "　".join(str(place[k]) for k in ("village", "category") if place.get(k))
    if where:
        draw.text((WIDTH / 2, y + 20), where, font=text_font, fill=(82, 96, 109), anchor="mm")
    y += 44
    draw.line([MARGIN, y + 10, WIDTH - MARGIN, y + 10], fill=(217, 226, 236), width=2)
    draw.text((WIDTH / 2, y + 42), "进入请扫码登记 · 亮码 · 测温 · 佩戴口罩", font=small_font, fill=RED, anchor="mm")
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def place_code_filename(place: Mapping) -> str:
    """A file name for the printed code, e.g. ``场所码-ZKT2000001-柳湾王记超市.png``."""
    safe = "".join(ch for ch in str(place["name"]) if ch not in '\\/:*?"<>|').strip() or "场所"
    return f"场所码-{place['code']}-{safe}.png"


def font_path() -> Path:
    """The CJK font file used (for diagnostics)."""
    return Path(find_cjk_font()[0])
