"""Headless Chromium for files: map PNGs and briefing PDFs.

The system Chromium is driven through Playwright (never a downloaded
browser). Documents are written to a private temporary folder and opened
from ``file://``; every request that is not ``file:`` or ``data:`` is
aborted and recorded, so a rendered file can never depend on (or leak to)
the network.

Playwright's sync API refuses to run inside a running asyncio loop, which is
where a Jupyter/Voilà kernel runs widget callbacks; :func:`with_chromium`
then drives the browser from a worker thread.

Examples
--------
Needs a Chromium, so shown rather than run as a doctest::

    with Chromium() as browser:
        png = browser.screenshot(html, selector=".folium-map")
        pdf = browser.pdf(report_html)
    pdf = with_chromium(lambda browser: browser.pdf(report_html))
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import io
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")

#: Flags that keep Chromium's own background traffic out of the way.
CHROMIUM_ARGS = (
    "--no-sandbox",  # root (CI, some office PCs) cannot use Chromium's sandbox
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
#: CJK fonts embedded in PDFs (weight, fontconfig pattern): subset to the
#: document's characters, see :func:`print_font_css`.
PRINT_FONTS = ((400, "Noto Sans CJK SC:style=Regular"), (700, "Noto Sans CJK SC:style=Bold"))
#: Where the fonts are without fontconfig (a Windows office PC: 微软雅黑).
_FONT_FILES = {400: ("C:/Windows/Fonts/msyh.ttc", "/System/Library/Fonts/PingFang.ttc"),
               700: ("C:/Windows/Fonts/msyhbd.ttc",)}
PRINT_FAMILY = "FK Print Sans"
#: URL schemes a rendered document may load.
ALLOWED_SCHEMES = ("file:", "data:", "about:", "blob:")
TIMEOUT_MS = 60_000


class RenderError(RuntimeError):
    """Chromium is missing or could not render a document (message in Chinese)."""


#: Chromium-based browsers already on an office PC, in order of preference.
_BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome", "msedge")
_BROWSER_FILES = (
    "/usr/bin/chromium",
    "C:/Program Files/Google/Chrome/Application/chrome.exe",
    "C:/Program Files (x86)/Microsoft/Edge/Application/msedge.exe",
    "C:/Program Files/Microsoft/Edge/Application/msedge.exe",
)


def find_chromium() -> str:
    """Path of the browser that draws PNGs and PDFs: ``FANGKONG_CHROMIUM`` if
    set (and then only that), else the system Chromium, else Chrome or Edge
    (every Windows PC has Edge; Playwright drives it like Chromium).

    Raises
    ------
    RenderError
        If none is found.
    """
    configured = os.environ.get("FANGKONG_CHROMIUM")
    candidates = [configured] if configured else [
        _BROWSER_FILES[0], *(shutil.which(n) for n in _BROWSER_NAMES), *_BROWSER_FILES[1:]]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    where = f"（FANGKONG_CHROMIUM={configured}）" if configured else ""
    raise RenderError(
        f"找不到 Chromium 浏览器{where}：生成 PNG/PDF 需要它，请安装 chromium 和 fonts-noto-cjk"
        "（Windows 可用自带的 Edge），或用环境变量 FANGKONG_CHROMIUM 指定浏览器路径"
    )


def _font_file(weight: int, pattern: str) -> tuple[str, int] | None:
    """(file, index in a collection) of the font fontconfig picks for
    ``pattern``, else of a known system CJK font of that weight."""
    fc_match = shutil.which("fc-match")
    if not fc_match:
        windir = os.environ.get("WINDIR", "C:/Windows").replace("\\", "/")
        for path in _FONT_FILES.get(weight, ()):
            path = path.replace("C:/Windows", windir)
            if Path(path).is_file():
                return path, 0
        return None
    try:
        out = subprocess.run([fc_match, "-f", "%{file}:%{index}", pattern], capture_output=True, text=True,
                             timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    path, _, index = out.rpartition(":")
    return (path, int(index or 0)) if path and Path(path).is_file() else None


def _subset(path: str, index: int, codepoints: list[int]) -> bytes:
    """The font at ``path`` reduced to ``codepoints``, with TrueType outlines:
    Chromium embeds a TrueType web font as a CID font, a CFF one only as
    Type 3 glyph procedures."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(path, fontNumber=index, lazy=True)
    if 0x65E5 not in font.getBestCmap():  # 日: fontconfig fell back to a font without Chinese
        raise ValueError(f"{path} has no Chinese characters")
    options = subset.Options()
    options.layout_features, options.hinting, options.notdef_outline = [], False, True
    options.drop_tables += ["GPOS", "GSUB", "BASE", "VORG", "vmtx", "vhea", "DSIG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=codepoints)
    subsetter.subset(font)
    if "CFF " in font:
        _cff_to_truetype(font)
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


def _cff_to_truetype(font) -> None:
    """Replace CFF outlines by quadratic TrueType ones, in place (the recipe
    of fontTools' otf2ttf snippet)."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["loca"], font["glyf"] = newTable("loca"), glyf
    del font["CFF "]
    glyf.compile(font)
    hmtx = font["hmtx"]
    for name, glyph in glyf.glyphs.items():  # left side bearings follow the new outlines
        hmtx[name] = (hmtx[name][0], getattr(glyph, "xMin", 0))
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attr, 1 if attr == "maxZones" else 0)
    maxp.numGlyphs = len(order)
    font["maxp"] = maxp
    font["head"].indexToLocFormat = 0
    font["head"].glyphDataFormat = 0
    post = font["post"]
    post.formatType, post.extraNames, post.mapping = 2.0, [], {}
    post.glyphOrder = order
    font.sfntVersion = "\x00\x01\x00\x00"


def print_font_css(text: str) -> str:
    """``@font-face`` rules for :data:`PRINT_FAMILY`: the system CJK font
    subset to the characters of ``text``, as data URIs ("" when fontTools or
    the font is missing; Chromium then embeds the system font itself).

    Why: Noto Sans CJK (like most CJK fonts) maps a Kangxi radical and the
    ordinary ideograph to the same glyph, and Chromium's PDF text layer
    then gives 日 as ⽇ (U+2F47): the PDF looks right but searching or
    copying "日报" fails. A subset without the radicals maps every glyph to
    the character actually written.
    """
    try:
        import fontTools  # noqa: F401  (a dependency of matplotlib)
    except ImportError:  # pragma: no cover
        return ""
    codepoints = sorted({ord(c) for c in text if c.isprintable()} | set(range(0x20, 0x7F)))
    rules = []
    for weight, pattern in PRINT_FONTS:
        found = _font_file(weight, pattern)
        if found is None:
            continue
        try:
            data = _subset(found[0], found[1], codepoints)
        except Exception:  # an unreadable font: fall back to the system font
            continue
        rules.append(f'@font-face{{font-family:"{PRINT_FAMILY}";font-weight:{weight};'
                     f'src:url(data:font/ttf;base64,{base64.b64encode(data).decode("ascii")}) format("truetype")}}')
    return "".join(rules)


def with_chromium(fn: Callable[["Chromium"], T], executable: str | None = None) -> T:
    """``fn(browser)`` with a fresh :class:`Chromium`, closed afterwards.

    Called from inside a running asyncio loop (a Jupyter kernel's widget
    callback), the browser lives in a worker thread, as Playwright's sync API
    requires; the result or the exception comes back to the caller.
    """

    def job() -> T:
        with Chromium(executable) as browser:
            return fn(browser)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return job()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="fangkong-render") as pool:
        return pool.submit(job).result()


class Chromium:
    """One headless Chromium for several renderings (a context manager).

    ``blocked`` lists every URL that a document asked for and that was
    refused because it would have left the machine.
    """

    def __init__(self, executable: str | None = None):
        self.executable = executable or find_chromium()
        self.blocked: list[str] = []
        self._pw = None
        self._browser = None
        self._tmp: tempfile.TemporaryDirectory | None = None

    def __enter__(self) -> "Chromium":
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:  # pragma: no cover - a dependency of the package
            raise RenderError("缺少 Python 包 playwright：请运行 pip install playwright（无需下载浏览器）") from None
        self._tmp = tempfile.TemporaryDirectory(prefix="fangkong-render-")
        try:
            # Inside a running asyncio loop this refuses to start: use with_chromium() there.
            self._pw = sync_playwright().start()
            self._browser = self._pw.chromium.launch(executable_path=self.executable, args=list(CHROMIUM_ARGS))
        except Exception as exc:
            self.__exit__(None, None, None)
            raise RenderError(f"无法启动 Chromium（{self.executable}）：{_first_line(exc)}") from None
        return self

    def __exit__(self, *exc_info) -> None:
        if self._browser is not None:
            self._browser.close()
            self._browser = None
        if self._pw is not None:
            self._pw.stop()
            self._pw = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    @property
    def browser(self):
        """The Playwright ``Browser`` (for callers that drive pages themselves)."""
        if self._browser is None:
            raise RuntimeError("Chromium() must be used as a context manager")
        return self._browser

    # -- pages ----------------------------------------------------------------

    def _open(self, html: str, *, width: int, height: int, scale: float):
        """A new context and page showing ``html`` loaded from a private file."""
        context = self.browser.new_context(viewport={"width": width, "height": height},
                                            device_scale_factor=scale, locale="zh-CN")
        context.set_default_timeout(TIMEOUT_MS)
        context.route("**/*", self._route)
        fd, name = tempfile.mkstemp(suffix=".html", dir=self._tmp.name)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        try:
            page = context.new_page()
            page.goto(Path(name).as_uri(), wait_until="load")
        except Exception as exc:
            context.close()
            raise RenderError(f"Chromium 打不开文档：{_first_line(exc)}") from None
        return context, page

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(ALLOWED_SCHEMES):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")

    def screenshot(self, html: str, *, selector: str, ready: tuple[str, ...] = (), width: int = 1200,
                   height: int = 850, scale: float = 2.0, ready_js: str | None = None) -> bytes:
        """PNG of the element ``selector`` once every selector in ``ready``
        is present, fonts have loaded and ``ready_js`` (an expression) is true.

        The image is ``width*scale`` by ``height*scale`` pixels when the
        element fills the viewport.
        """
        context, page = self._open(html, width=width, height=height, scale=scale)
        try:
            for sel in (selector, *ready):
                page.wait_for_selector(sel, state="attached")
            page.wait_for_function(f"document.fonts.status === 'loaded' && ({ready_js or 'true'})")
            return page.locator(selector).first.screenshot(type="png", animations="disabled")
        except Exception as exc:
            raise RenderError(f"Chromium 截图失败：{_first_line(exc)}") from None
        finally:
            context.close()

    def pdf(self, html: str, *, header: str = "", footer: str = "", landscape: bool = False,
            embed_fonts: bool = True) -> bytes:
        """An A4 PDF of ``html`` (print CSS applies; fonts used are embedded).

        ``header``/``footer`` are Chromium print templates; they may use the
        classes ``pageNumber`` and ``totalPages``. ``embed_fonts`` puts the
        CJK font subset of :func:`print_font_css` first in every font stack,
        so the PDF's text can be searched and copied.
        """
        if embed_fonts:
            text = _DATA_URI.sub("", html + header + footer)
            css = print_font_css(_TAGS.sub(" ", text) + "第页共0123456789/")
            if css:
                style = (f"<style>{css}*{{font-family:\"{PRINT_FAMILY}\",'Noto Sans CJK SC','Microsoft YaHei',"
                         f"sans-serif !important}}</style>")
                html = html.replace("</head>", style + "</head>", 1) if "</head>" in html else style + html
                header, footer = (style + part if part else part for part in (header, footer))
        context, page = self._open(html, width=794, height=1123, scale=1)
        try:
            page.wait_for_function("document.fonts.status === 'loaded' && "
                                   "Array.from(document.images).every(i => i.complete)")
            return page.pdf(
                format="A4", landscape=landscape, print_background=True, prefer_css_page_size=True,
                display_header_footer=bool(header or footer),
                header_template=header or "<span></span>", footer_template=footer or "<span></span>",
                margin={"top": "16mm", "bottom": "16mm", "left": "14mm", "right": "14mm"},
            )
        except Exception as exc:
            raise RenderError(f"Chromium 生成 PDF 失败：{_first_line(exc)}") from None
        finally:
            context.close()


_DATA_URI = re.compile(r"data:[^\"')\s]+")
_TAGS = re.compile(r"<[^>]*>")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__
