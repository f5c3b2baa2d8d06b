"""The single registry of front-end assets that folium maps need offline.

folium loads Leaflet, jQuery, Bootstrap, Font Awesome and its plugins from
CDNs, listed per class in ``default_js`` / ``default_css`` as
``(name, url)`` pairs. The command centre has no internet, so every such
*name* is mapped to a vendored file under ``fangkong_lib/assets/`` by
``fangkong_lib/assets/manifest.json`` (see ``fangkong_lib/assets/README.md``
for versions, licences and how to refresh them).

:func:`localize_assets` turns a folium map into one self-contained document:
scripts and stylesheets are inlined, and every font or image a stylesheet
refers to becomes a ``data:`` URI. Such a document works from a USB stick
and inside a sandboxed ``srcdoc`` iframe, whose origin is opaque and which
therefore cannot load anything relative to the page.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from branca.element import Element, Figure
from jinja2 import Template

__all__ = [
    "UnknownAssetError",
    "asset_names",
    "asset_path",
    "inline_css",
    "inline_js",
    "localize_assets",
]

_ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
_MANIFEST_PATH = _ASSETS_DIR / "manifest.json"

_MIME_TYPES = {
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".png": "image/png",
    ".gif": "image/gif",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}

# A url(...) token: double-quoted, single-quoted or bare.
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]*))\s*\)""")
_CSS_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}")
_CSS_FONT_FAMILY = re.compile(r"""font-family\s*:\s*(?:"([^"]*)"|'([^']*)'|([^;}]*))""")
_CSS_SRC = re.compile(r"(src\s*:\s*)([^;}]*)")
# Commas that separate src entries, not commas inside url(...) or format(...).
_CSS_TOP_LEVEL_COMMA = re.compile(r",(?![^()]*\))")
_JS_SOURCE_MAP = re.compile(r"^[ \t]*//[#@][ \t]*sourceMappingURL=.*$", re.MULTILINE)
_CSS_SOURCE_MAP = re.compile(r"/\*[#@][ \t]*sourceMappingURL=[^*]*\*/")
_SCRIPT_END = re.compile(r"</(script)", re.IGNORECASE)
_STYLE_END = re.compile(r"</(style)", re.IGNORECASE)


class UnknownAssetError(KeyError):
    """An asset name that has no vendored local copy.

    Raised for names that folium elements list in ``default_js`` /
    ``default_css`` (or that callers pass) but that
    ``fangkong_lib/assets/manifest.json`` does not map to a file.

    Parameters
    ----------
    name : str
        The asset name, e.g. ``"leaflet"`` or ``"Control.Fullscreen.js"``.
    url : str, optional
        The CDN address folium would have loaded, to help find the file.
    """

    def __init__(self, name: str, url: str | None = None):
        self.name = name
        self.url = url
        wanted = f" (folium would load {url})" if url else ""
        message = (
            f"no local copy of the front-end asset {name!r}{wanted}. "
            f"Vendor the file under {_ASSETS_DIR}/<package>-<version>/ and map "
            f"the name to it in {_MANIFEST_PATH} (see the README.md there)."
        )
        super().__init__(message)

    def __str__(self) -> str:
        # KeyError would show the message in quotes.
        return str(self.args[0])


@functools.lru_cache(maxsize=1)
def _manifest() -> dict[str, Any]:
    with _MANIFEST_PATH.open(encoding="utf-8") as f:
        return json.load(f)


def _entry(name: str, url: str | None = None) -> dict[str, Any]:
    try:
        return _manifest()["assets"][name]
    except KeyError:
        raise UnknownAssetError(name, url) from None


def asset_names() -> list[str]:
    """Names of all assets that have a local copy.

    Returns
    -------
    list of str
        The names, sorted, as folium spells them in ``default_js`` /
        ``default_css``.

    Examples
    --------
    >>> "leaflet" in asset_names()
    True
    """
    return sorted(_manifest()["assets"])


def asset_path(name: str) -> Path:
    """Absolute path of the vendored file for an asset name.

    Parameters
    ----------
    name : str
        An asset name as folium spells it, e.g. ``"leaflet_css"``.

    Returns
    -------
    pathlib.Path
        The file under ``fangkong_lib/assets/``.

    Raises
    ------
    UnknownAssetError
        If there is no local copy for ``name``.

    Examples
    --------
    >>> asset_path("leaflet").name
    'leaflet.js'
    """
    return _ASSETS_DIR / _entry(name)["path"]


def _check_type(name: str, expected: str) -> dict[str, Any]:
    entry = _entry(name)
    if entry["type"] != expected:
        other = "inline_css" if entry["type"] == "css" else "inline_js"
        raise ValueError(
            f"asset {name!r} is {entry['type']}, not {expected}; use {other}()"
        )
    return entry


@functools.lru_cache(maxsize=None)
def _data_uri(path: Path) -> str:
    mime = _MIME_TYPES.get(path.suffix.lower())
    if mime is None:
        raise ValueError(f"no MIME type known for {path.name}; add it to _MIME_TYPES")
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"data:{mime};base64,{encoded}"


def _local_file(path: str) -> Path:
    return (_ASSETS_DIR / path).resolve()


def _leaflet_default_icon_js(images: dict[str, str]) -> str:
    # Leaflet finds its marker images through the URL of leaflet.css
    # (Leaflet#4968); inlined, that URL is gone and the default
    # folium.Marker icon would be a broken image. Give it data URIs instead.
    options = {key: _data_uri(_local_file(path)) for key, path in images.items()}
    return (
        "\n// Default marker images as data URIs: inlined CSS has no URL to"
        " derive them from.\n"
        'L.Icon.Default.imagePath = "";\n'
        f"L.Icon.Default.mergeOptions({json.dumps(options)});\n"
    )


@functools.lru_cache(maxsize=None)
def inline_js(name: str) -> str:
    """Text of a JS asset, ready to sit inside an inline ``<script>``.

    Source-map comments are removed (the maps are not vendored) and every
    ``</script`` is written as ``<\\/script`` so it cannot close the
    element early. For ``"leaflet"``, a few lines are appended that give the
    default marker icon data-URI images (Leaflet#4968).

    Parameters
    ----------
    name : str
        A JS asset name, e.g. ``"leaflet"``.

    Returns
    -------
    str
        The script text, without the ``<script>`` tags.

    Raises
    ------
    UnknownAssetError
        If there is no local copy for ``name``.
    ValueError
        If ``name`` is a CSS asset.

    Examples
    --------
    >>> "</script" in inline_js("jquery")
    False
    """
    entry = _check_type(name, "js")
    text = asset_path(name).read_text(encoding="utf-8")
    text = _JS_SOURCE_MAP.sub("", text).rstrip() + "\n"
    if "default_icon" in entry:
        text += _leaflet_default_icon_js(entry["default_icon"])
    return _SCRIPT_END.sub(r"<\\/\1", text)


def _drop_font_faces(css: str, families: set[str]) -> str:
    def keep(match: re.Match[str]) -> str:
        family = _CSS_FONT_FAMILY.search(match.group(0))
        name = next((g for g in family.groups() if g), "").strip() if family else ""
        return "" if name in families else match.group(0)

    return _CSS_FONT_FACE.sub(keep, css)


def _woff2_sources_only(css: str) -> str:
    # Every browser we support reads woff2; embedding the ttf/woff/eot
    # fallbacks as well would multiply the size of each page.
    def trim_src(match: re.Match[str]) -> str:
        sources = _CSS_TOP_LEVEL_COMMA.split(match.group(2))
        woff2 = [s.strip() for s in sources if "woff2" in s]
        return match.group(1) + ",".join(woff2) if woff2 else match.group(0)

    def trim_face(match: re.Match[str]) -> str:
        return _CSS_SRC.sub(trim_src, match.group(0))

    return _CSS_FONT_FACE.sub(trim_face, css)


def _embed_urls(css: str, css_file: Path) -> str:
    def embed(match: re.Match[str]) -> str:
        url = next((g for g in match.groups() if g is not None), "")
        if url.startswith("data:") or url.startswith("#"):
            # Already inline, or a same-document reference: nothing to load.
            return match.group(0)
        if re.match(r"^([a-z][a-z0-9+.-]*:|//)", url, re.IGNORECASE):
            raise ValueError(
                f"{css_file} refers to {url}, which would need the network; "
                "vendor that file too and make the reference relative"
            )
        relative = re.split(r"[?#]", url, maxsplit=1)[0]
        target = (css_file.parent / relative).resolve()
        if not target.is_relative_to(_ASSETS_DIR.resolve()) or not target.is_file():
            raise FileNotFoundError(
                f"{css_file} refers to {url}, but {target} is not a vendored file"
            )
        return f'url("{_data_uri(target)}")'

    return _CSS_URL.sub(embed, css)


@functools.lru_cache(maxsize=None)
def inline_css(name: str) -> str:
    """Text of a CSS asset with every font and image embedded as a data URI.

    The result needs nothing but itself: it works in a file opened from a
    USB stick and in a sandboxed iframe with an opaque origin. To keep pages
    small, ``@font-face`` rules keep only their woff2 source, and font
    families listed under ``drop_font_families`` in the manifest (Font
    Awesome's v4/v5 compatibility aliases, which would embed each font three
    times) are left out. Source-map comments are removed and ``</style`` is
    escaped so it cannot close the element early.

    Parameters
    ----------
    name : str
        A CSS asset name, e.g. ``"leaflet_css"``.

    Returns
    -------
    str
        The stylesheet text, without the ``<style>`` tags.

    Raises
    ------
    UnknownAssetError
        If there is no local copy for ``name``.
    ValueError
        If ``name`` is a JS asset, or the stylesheet refers to a network URL.
    FileNotFoundError
        If the stylesheet refers to a file that is not vendored.

    Examples
    --------
    >>> "url(images/" in inline_css("leaflet_css")
    False
    """
    entry = _check_type(name, "css")
    path = asset_path(name)
    text = path.read_text(encoding="utf-8")
    text = _CSS_SOURCE_MAP.sub("", text)
    text = _drop_font_faces(text, set(entry.get("drop_font_families", ())))
    text = _woff2_sources_only(text)
    text = _embed_urls(text, path)
    return _STYLE_END.sub(r"<\\/\1", text)


class _InlineAsset(Element):
    """A ``<script>`` or ``<style>`` element holding a vendored file's text.

    The text goes through a fixed template as a value, never as template
    source: minified JS is full of ``{{`` and ``{#`` that Jinja would parse.
    """

    _template = Template("{{ this.html }}")

    def __init__(self, html: str):
        super().__init__()
        self._name = "InlineAsset"
        self.html = html


def _walk(element: Element) -> Iterator[Element]:
    """The element and all its descendants, parent before child, in order."""
    stack = [element]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(current._children.values())))


def _root_figure(element: Element) -> Figure:
    root = element.get_root()
    if isinstance(root, Figure):
        return root
    import folium  # folium is a dependency; imported here to keep imports light

    if isinstance(root, folium.Map):
        # A map taken out of its Figure: give it one, as folium itself does.
        Figure().add_child(root)
        return root.get_root()
    raise TypeError(
        f"{type(element).__name__} is not part of a folium.Map or a branca "
        "Figure; add it to a map before localizing its assets"
    )


def localize_assets(element: Element) -> None:
    """Make a folium document load its JS and CSS from inline local copies.

    Walks the whole document ``element`` belongs to (from its root Figure,
    parent before child), collects the asset names of every element's
    ``default_js`` and ``default_css`` (first-seen order, no duplicates),
    gives each element instance new empty lists so that rendering adds no
    CDN links, and puts one inline ``<style>`` / ``<script>`` per asset in
    the Figure's header (stylesheets first). The class-level lists are never
    touched, so other maps in the process are unaffected.

    Calling it again is safe: header entries are keyed by asset name, so an
    asset is never added twice, and CDN links left by an earlier render are
    replaced in place. Elements added after the call still carry their CDN
    lists: localize last, just before rendering.

    Parameters
    ----------
    element : branca.element.Element
        A ``folium.Map``, a branca ``Figure``, or any element inside one. A
        Map that is not in a Figure is put into a new one.

    Raises
    ------
    UnknownAssetError
        If an element lists an asset that has no local copy. Nothing is
        changed in that case.
    TypeError
        If ``element`` belongs to neither a Map nor a Figure.

    Examples
    --------
    >>> import folium
    >>> m = folium.Map(tiles=None)
    >>> localize_assets(m)
    >>> "cdn.jsdelivr.net" in m.get_root().render()
    False
    """
    figure = _root_figure(element)
    with_lists = [
        el
        for el in _walk(figure)
        if hasattr(el, "default_js") or hasattr(el, "default_css")
    ]
    js: dict[str, str] = {}
    css: dict[str, str] = {}
    for el in with_lists:
        for name, url in getattr(el, "default_js", ()):
            js.setdefault(name, url)
        for name, url in getattr(el, "default_css", ()):
            css.setdefault(name, url)

    # Build everything before changing anything, so a missing asset leaves
    # the document as it was.
    for name, url in {**css, **js}.items():
        _entry(name, url)
    styles = {name: f"<style>\n{inline_css(name)}</style>" for name in css}
    scripts = {name: f"<script>\n{inline_js(name)}</script>" for name in js}

    for el in with_lists:
        el.default_js = []
        el.default_css = []
    for name, html in {**styles, **scripts}.items():
        figure.header.add_child(_InlineAsset(html), name=name)
