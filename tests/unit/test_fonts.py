"""Fonts installed after a first run are found without restarting.

The sequence a user goes through: ``make test`` (or a venue-code download)
on a machine without a Chinese font fails with a message saying what to
install; they install it and try again in the same kernel. Both font
lookups must then find it: the venue-code PNG (views/place_code.py) and the
briefing's embedded print font (outputs/render.py).
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from fangkong_lib.views import place_code
from fangkong_lib.views.place_code import find_cjk_font, font_path, make_place_code_png

PLACE = {"code": "ZKT2000001", "name": "柳湾王记超市", "village": "柳湾村", "category": "超市"}


@pytest.fixture(scope="module")
def system_cjk_font() -> Path:
    """The system's Noto Sans CJK file (what ``apt-get install fonts-noto-cjk`` puts there)."""
    fc_match = shutil.which("fc-match")
    if not fc_match:
        pytest.skip("fontconfig not installed (Debian: apt-get install fontconfig)")
    out = subprocess.run([fc_match, "-f", "%{file}", "Noto Sans CJK SC"], capture_output=True, text=True).stdout
    if "CJK" not in out or not Path(out).is_file():
        pytest.skip("fonts-noto-cjk not installed")
    return Path(out)


@pytest.fixture
def fresh_lookup():
    find_cjk_font.cache_clear()
    yield
    find_cjk_font.cache_clear()


def test_venue_code_png_finds_a_font_installed_after_the_error(no_cjk_font, system_cjk_font, fresh_lookup):
    with pytest.raises(RuntimeError, match="apt-get install fonts-noto-cjk"):
        make_place_code_png(PLACE)
    no_cjk_font.mkdir()
    shutil.copy(system_cjk_font, no_cjk_font)  # the user installs the font
    png = make_place_code_png(PLACE)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert font_path() == no_cjk_font / system_cjk_font.name


def test_without_fontconfig_a_stale_matplotlib_font_list_is_rebuilt(monkeypatch, system_cjk_font, fresh_lookup):
    from matplotlib import font_manager

    # A PC without fontconfig whose matplotlib cache was written before the
    # font was installed.
    monkeypatch.setattr(place_code, "_fc_list", lambda: None)
    stale = font_manager.fontManager
    monkeypatch.setattr(font_manager, "fontManager", stale)  # restored after the test
    monkeypatch.setattr(stale, "ttflist", [e for e in stale.ttflist if "CJK" not in e.name])
    path, _index = find_cjk_font()
    assert "CJK" in Path(path).name
    assert any("CJK" in e.name for e in font_manager.fontManager.ttflist)  # matplotlib's list is current too


def test_briefing_print_font_is_found_after_the_install(no_cjk_font, system_cjk_font):
    from fangkong_lib.outputs.render import print_font_css

    assert print_font_css("城郊乡日报") == ""  # no Chinese font: Chromium falls back to its own
    no_cjk_font.mkdir()
    shutil.copy(system_cjk_font, no_cjk_font)
    assert "@font-face" in print_font_css("城郊乡日报")
