"""The workbench as one app: pages built once in one kernel, on one Dataset;
a write on one page shows on the others, and so does a write by another
kernel (driven by calling the app and setting traits; no browser)."""

from __future__ import annotations

from datetime import date

import pytest

from fangkong_lib import store
from fangkong_lib import actions
from fangkong_lib.dataset import Dataset
from fangkong_lib.ui.app import PAGE_VIEWS, App, Scope
from fangkong_lib.ui.common import ADMIN_PAGES, PAGES

DAY = date(2022, 4, 7)


@pytest.fixture
def app(writable_demo_db):
    return App(start="returnees.ipynb", data=Dataset.load(writable_demo_db, reload=True))


def _nav(app):
    return [(b.description, "fk-current" in b._dom_classes) for b in app._nav.children]


def _under_control_without_fever(m) -> str:
    m.person_status = "管控中"
    hot = set(m.summary.alerts["fevers"]["id_number"])
    return next(i for _, i in m.person_options if i not in hot)


def test_the_app_opens_on_its_start_page_with_every_page_in_the_nav(app):
    assert [f.removesuffix(".ipynb") for f, _ in PAGES] == list(PAGE_VIEWS)
    # single PC: no logins, so no 用户管理
    assert _nav(app) == [(title, title == "返乡人员管控") for f, title in PAGES if f not in ADMIN_PAGES]
    assert list(app.pages) == ["returnees"] and app._content.children == (app.pages["returnees"],)
    assert "<small>返乡人员管控</small>" in app._title.value and "fk-synthetic" in app._title.value
    assert "'returnees.ipynb'" in app._address.value.replace("&quot;", "'").replace('"', "'")
    view = app.pages["returnees"]
    assert view.embedded and view.title == "返乡人员管控"
    assert "<nav" not in view.children[0].value and "<h1>" not in view.children[0].value  # CSS only
    for name, (_module, _cls) in PAGE_VIEWS.items():  # every page's class has the title of PAGES
        assert app.view_class(name).title == app.titles[name], name


def test_switching_builds_a_page_once_and_keeps_it_on_the_same_data(app):
    returnees = app.pages["returnees"]
    app._nav_buttons["overview"].click()
    assert app.current == "overview" and app._content.children == (app.pages["overview"],)
    assert _nav(app)[0] == ("态势总览", True) and "<small>态势总览</small>" in app._title.value
    app.show("returnees")
    assert app.pages["returnees"] is returnees and app._content.children == (returnees,)
    assert app.pages["overview"].model.data is returnees.model.data is app.data
    with pytest.raises(ValueError, match="没有这个页面"):
        app.show("../etc")


def test_a_write_on_one_page_shows_on_the_others_when_shown(app):
    returnees = app.pages["returnees"].model
    app.show("overview")
    overview = app.pages["overview"].model
    fevers = overview.kpis["fevers"]
    app.show("returnees")
    returnees.operator = "李干事"
    returnees.selected = _under_control_without_fever(returnees)
    assert returnees.record_temperature({"date": DAY, "slot": "下午", "temperature": "38.1"})
    assert overview.stale and not returnees.stale  # the page that wrote is up to date already
    map_before = overview.map_html
    app.show("overview")
    assert not overview.stale and overview.kpis["fevers"] == fevers + 1
    assert overview.status.startswith("已更新") and not overview.error
    assert overview.map_html is not map_before  # the map is drawn again from the new data


def test_a_write_by_another_kernel_shows_on_the_next_page_switch(app, writable_demo_db):
    app.show("overview")
    overview = app.pages["overview"].model
    fevers, version = overview.kpis["fevers"], app.data.version
    # Another user's kernel: its own Dataset object on the same database.
    other = Dataset(app.data.url, {k: v.copy() for k, v in app.data.ledgers.items()}, dict(app.data.meta),
                    version=app.data.version)
    person = _under_control_without_fever(app.pages["returnees"].model)
    actions.record_temperature(other, person, {"date": DAY, "slot": "上午", "temperature": "38.5"},
                                user="王干事")
    assert store.data_version(store.get_engine(str(writable_demo_db))) > version == app.data.version
    app.show("returnees")  # a switch notices the store moved, re-reads, and the pages follow
    app.show("overview")
    assert app.data.version > version and overview.kpis["fevers"] == fevers + 1
    generation = app.data.generation
    app.show("returnees")  # nothing new: one query, nothing re-read
    assert app.data.generation == generation


def test_a_page_that_fails_to_open_says_so_and_the_app_stays(app, monkeypatch):
    def broken(*_a, **_k):
        raise RuntimeError("坏了")

    monkeypatch.setattr(App, "page_data", broken)
    app.show("places")
    assert "出错" in app._status.value and "重点场所" in app._status.value
    assert app.current == "returnees" and "places" not in app.pages


def test_a_new_scope_builds_pages_again(app):
    first = app.pages["returnees"]
    app.set_scope(Scope(township="城郊乡"))
    assert app.scope.township == "城郊乡" and app.pages["returnees"] is not first
    assert list(app.pages) == ["returnees"]
