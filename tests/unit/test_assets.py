"""The asset registry: folium maps render without loading anything remote."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import folium
import pytest
from folium import plugins
from folium.elements import JSCSSMixin

from fangkong_lib.views import assets
from fangkong_lib.views.assets import (
    UnknownAssetError,
    asset_names,
    asset_path,
    inline_css,
    inline_js,
    localize_assets,
)

FOLIUM_CLASSES = [
    folium.Map,
    plugins.MarkerCluster,
    plugins.FastMarkerCluster,
    plugins.HeatMap,
    plugins.Fullscreen,
]

# Anything that makes a browser fetch from another host.
REMOTE_SCRIPT = re.compile(r"""<script[^>]*\bsrc\s*=\s*["']?(https?:)?//""", re.I)
REMOTE_LINK = re.compile(r"""<link[^>]*\bhref\s*=\s*["']?(https?:)?//""", re.I)
REMOTE_CSS_URL = re.compile(r"""url\(\s*["']?(https?:)?//""", re.I)
CSS_URL = re.compile(r"""url\(\s*["']?([^"')]*)""")


def _folium_asset_names(kind: str) -> list[str]:
    return sorted({name for cls in FOLIUM_CLASSES for name, _ in getattr(cls, kind)})


def make_map() -> folium.Map:
    """A map with every kind of element the workbook uses."""
    # No tiles: a map without a tile layer needs maxZoom for MarkerCluster.
    m = folium.Map(location=[30.0, 120.0], zoom_start=11, tiles=None, maxZoom=18)
    folium.Marker([30.0, 120.0], icon=folium.Icon(icon="home", prefix="fa")).add_to(m)
    folium.Marker([30.01, 120.01], icon=folium.Icon()).add_to(m)
    folium.Marker([30.02, 120.02]).add_to(m)
    cluster = plugins.MarkerCluster().add_to(m)
    for i in range(5):
        folium.Marker([29.9 + i * 0.001, 120.0]).add_to(cluster)
    plugins.FastMarkerCluster([[30.1, 120.1], [30.1001, 120.1001]]).add_to(m)
    plugins.HeatMap([[30.0, 120.0, 1.0], [30.05, 120.05, 2.0]]).add_to(m)
    plugins.Fullscreen().add_to(m)
    return m


def assert_offline(html: str) -> None:
    assert not REMOTE_SCRIPT.search(html)
    assert not REMOTE_LINK.search(html)
    assert not REMOTE_CSS_URL.search(html)


@pytest.mark.parametrize("name", _folium_asset_names("default_js"))
def test_every_folium_js_name_has_a_local_file(name: str) -> None:
    assert asset_path(name).is_file()
    assert inline_js(name)


@pytest.mark.parametrize("name", _folium_asset_names("default_css"))
def test_every_folium_css_name_has_a_local_file(name: str) -> None:
    assert asset_path(name).is_file()
    assert inline_css(name)


def test_manifest_files_sit_in_listed_packages_with_a_licence() -> None:
    assets_dir = Path(assets.__file__).resolve().parent.parent / "assets"
    manifest = json.loads((assets_dir / "manifest.json").read_text(encoding="utf-8"))
    folders = {package["folder"]: package for package in manifest["packages"]}
    for name in asset_names():
        folder = asset_path(name).relative_to(assets_dir).parts[0]
        assert folder in folders, f"{name}: folder {folder} missing from packages"
        assert folders[folder]["version"] in folder
    for folder, package in folders.items():
        assert (assets_dir / folder).is_dir()
        assert package["licence"]
        if package["source"] != "written for this project":
            assert list((assets_dir / folder).glob("*LICEN[CS]E*")), folder


def test_git_ignores_no_vendored_file() -> None:
    # A root .gitignore entry such as dist/ once hid leaflet.js from commits.
    assets_dir = Path(assets.__file__).resolve().parent.parent / "assets"
    repo = assets_dir.parent.parent
    if shutil.which("git") is None or not (repo / ".git").exists():
        pytest.skip("not a git checkout")
    files = [
        str(path.relative_to(repo))
        for path in assets_dir.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]

    result = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        input="\n".join(files),
        cwd=repo,
        capture_output=True,
        text=True,
    )

    assert result.returncode in (0, 1), result.stderr
    assert result.stdout.split() == []


def test_localized_map_loads_nothing_remote(output_dir: Path) -> None:
    m = make_map()

    localize_assets(m)
    html = m.get_root().render()

    (output_dir / "offline_map.html").write_text(html, encoding="utf-8")
    assert_offline(html)
    for name in _folium_asset_names("default_js"):
        assert inline_js(name) in html, name
    for name in _folium_asset_names("default_css"):
        assert inline_css(name) in html, name


def test_unlocalized_map_does_load_from_cdn() -> None:
    # Guards the checks above: they must notice folium's CDN links.
    with pytest.raises(AssertionError):
        assert_offline(make_map().get_root().render())


def test_default_marker_icon_works_with_inlined_leaflet_css() -> None:
    m = folium.Map(tiles=None)
    folium.Marker([30.0, 120.0]).add_to(m)

    localize_assets(m)
    html = m.get_root().render()

    # Leaflet#4968: without an explicit image, the icon URL is derived from
    # the (missing) leaflet.css URL and the marker shows a broken image.
    assert 'L.Icon.Default.imagePath = "";' in html
    assert '"iconUrl": "data:image/png;base64,' in html
    assert '"shadowUrl": "data:image/png;base64,' in html


def test_localizing_leaves_class_lists_and_other_maps_alone() -> None:
    before = {
        cls: (copy.deepcopy(cls.default_js), copy.deepcopy(cls.default_css))
        for cls in FOLIUM_CLASSES
    }
    map_js_list = folium.Map.default_js

    m = make_map()
    localize_assets(m)
    m.get_root().render()

    assert m.default_js == [] and m.default_css == []
    assert folium.Map.default_js is map_js_list
    for cls, (js, css) in before.items():
        assert cls.default_js == js and cls.default_css == css, cls
    fresh = folium.Map(tiles=None)
    assert fresh.default_js == before[folium.Map][0]
    assert "cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in fresh.get_root().render()


def test_localizing_twice_adds_each_asset_once() -> None:
    m = make_map()

    localize_assets(m)
    localize_assets(m)
    html = m.get_root().render()

    assert html.count("/*! jQuery v3.7.1") == 1
    assert html.count("L.Icon.Default.mergeOptions(") == 1
    assert html.count(inline_css("markerclustercss")) == 1


def test_localizing_after_a_render_replaces_the_cdn_links() -> None:
    m = make_map()
    assert "cdnjs.cloudflare.com" in m.get_root().render()

    localize_assets(m)
    html = m.get_root().render()

    assert_offline(html)
    assert html.count("/*! jQuery v3.7.1") == 1


def test_plugin_added_after_localizing_is_picked_up_by_a_second_call() -> None:
    m = folium.Map(tiles=None, maxZoom=18)
    localize_assets(m)
    plugins.Fullscreen().add_to(m)

    localize_assets(m)
    html = m.get_root().render()

    assert_offline(html)
    assert inline_js("Control.Fullscreen.js") in html
    assert html.count("/*! jQuery v3.7.1") == 1


def test_map_without_figure_gets_one() -> None:
    m = folium.Map(tiles=None)
    m._parent = None  # as after folium's own Map._repr_html_ on a bare map

    localize_assets(m)

    assert isinstance(m.get_root(), folium.Figure)
    assert_offline(m.get_root().render())


def test_figure_with_two_maps_is_localized_whole() -> None:
    figure = folium.Figure()
    first = folium.Map(tiles=None).add_to(figure)
    second = folium.Map(tiles=None).add_to(figure)
    plugins.Fullscreen().add_to(second)

    localize_assets(first)
    html = figure.render()

    assert_offline(html)
    assert html.count("/*! jQuery v3.7.1") == 1


class _NoSuchPlugin(JSCSSMixin):
    default_js = [("no-such-lib", "https://example.invalid/no-such-lib.js")]


def test_unknown_asset_name_raises_and_changes_nothing() -> None:
    m = folium.Map(tiles=None)
    _NoSuchPlugin().add_to(m)

    with pytest.raises(UnknownAssetError) as info:
        localize_assets(m)

    assert isinstance(info.value, KeyError)
    assert "no-such-lib" in str(info.value)
    assert "manifest.json" in str(info.value)
    assert m.default_js == folium.Map.default_js
    assert "cdn.jsdelivr.net/npm/leaflet@1.9.3" in m.get_root().render()


def test_unknown_name_in_lookup_functions() -> None:
    for function in (asset_path, inline_js, inline_css):
        with pytest.raises(UnknownAssetError, match="no-such-lib"):
            function("no-such-lib")


def test_js_and_css_names_are_not_interchangeable() -> None:
    with pytest.raises(ValueError, match="inline_css"):
        inline_js("leaflet_css")
    with pytest.raises(ValueError, match="inline_js"):
        inline_css("leaflet")


@pytest.mark.parametrize("name", _folium_asset_names("default_css"))
def test_inline_css_has_only_embedded_urls(name: str) -> None:
    css = inline_css(name)

    for url in CSS_URL.findall(css):
        # data: URIs, or a same-document reference (leaflet's IE-only VML rule).
        assert url.startswith(("data:", "#")), (name, url[:80])


def test_icon_fonts_are_embedded_as_woff2() -> None:
    font_awesome = inline_css("awesome_markers_font_css")
    glyphicons = inline_css("glyphicons_css")

    assert "data:font/woff2;base64," in font_awesome
    assert '"Font Awesome 6 Free"' in font_awesome
    # The v4/v5 aliases would embed every font three times.
    assert "Font Awesome 5 Free" not in font_awesome
    assert font_awesome.count("data:font/woff2") == 3
    assert ".ttf" not in font_awesome
    assert "data:font/woff2;base64," in glyphicons


@pytest.fixture
def scratch_assets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A throw-away asset folder and manifest in place of the vendored one."""
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "evil.js").write_text(
        'var s = "</script><script>alert(1)</SCRIPT>";\n//# sourceMappingURL=evil.js.map'
    )
    (lib / "dot.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (lib / "style.css").write_text(
        '.a{background:url(dot.png?v=1)} .b:after{content:"</style>"}'
    )
    (lib / "remote.css").write_text(".a{background:url(https://example.invalid/x.png)}")
    (lib / "missing.css").write_text(".a{background:url('nowhere.png')}")
    manifest = {
        "assets": {
            "evil": {"type": "js", "path": "lib/evil.js"},
            "style": {"type": "css", "path": "lib/style.css"},
            "remote": {"type": "css", "path": "lib/remote.css"},
            "missing": {"type": "css", "path": "lib/missing.css"},
        },
        "packages": [],
    }
    monkeypatch.setattr(assets, "_ASSETS_DIR", tmp_path)
    monkeypatch.setattr(assets, "_manifest", lambda: manifest)
    for cached in (assets.inline_js, assets.inline_css, assets._data_uri):
        cached.cache_clear()
    yield tmp_path
    for cached in (assets.inline_js, assets.inline_css, assets._data_uri):
        cached.cache_clear()


def test_inline_js_cannot_close_its_script_element(scratch_assets: Path) -> None:
    js = inline_js("evil")

    assert "</script" not in js.lower()
    assert r'"<\/script><script>alert(1)<\/SCRIPT>"' in js
    assert "sourceMappingURL" not in js


def test_inline_css_embeds_files_and_cannot_close_its_style_element(
    scratch_assets: Path,
) -> None:
    css = inline_css("style")

    assert 'url("data:image/png;base64,iVBORw0KGgo=")' in css
    assert "</style" not in css.lower()


def test_inline_css_refuses_remote_and_missing_files(scratch_assets: Path) -> None:
    with pytest.raises(ValueError, match="example.invalid"):
        inline_css("remote")
    with pytest.raises(FileNotFoundError, match="nowhere.png"):
        inline_css("missing")
