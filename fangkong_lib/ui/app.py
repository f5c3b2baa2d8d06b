"""The workbench as one app: every dashboard page in one kernel.

:class:`App` shows the header (township, the current page's title, the
synthetic-data banner), a navigation bar of the pages of
:data:`~fangkong_lib.ui.common.PAGES` (same titles, same order) and the
current page. A page's view is built the first time it is opened and kept;
every page reads the same :class:`~fangkong_lib.dataset.Dataset`, so the
ledgers are read once per kernel and switching pages starts no kernel.

A write on one page re-reads its ledgers in the shared Dataset
(``Dataset.reload``), which makes every other built page stale: it
recomputes when it is shown again. Writes by other kernels (another user, a
command-line import) are noticed on every page switch through the store's
data version (``Dataset.catch_up``: one query when nothing changed).

Each notebook of ``notebooks/`` is ``App(start="<page>")``, so the README's
page URLs still open their page; switching rewrites the address bar to the
page's notebook URL (``history.replaceState``), so a reload or a bookmark
keeps the page.
"""

from __future__ import annotations

import json
from importlib import import_module

import ipywidgets as w

from .. import store
from ..views.html import html
from .common import CSS, PAGES, available_pages, status_html

__all__ = ["App", "Scope", "PAGE_VIEWS"]

#: Page name (its notebook without ``.ipynb``) → (module of this package, view class).
PAGE_VIEWS = {
    "overview": ("overview", "OverviewPage"),
    "command": ("command", "CommandPage"),
    "grids": ("grids", "GridsPage"),
    "returnees": ("returnees", "ReturneePage"),
    "leads": ("leads", "LeadsPage"),
    "checkpoints": ("checkpoints", "CheckpointsPage"),
    "sentinels": ("sentinels", "SentinelsPage"),
    "places": ("places", "PlacesPage"),
    "gatherings": ("gatherings", "GatheringsPage"),
    "supervision": ("supervision", "SupervisionPage"),
    "volunteers": ("volunteers", "VolunteersPage"),
    "supplies": ("supplies", "SuppliesPage"),
    "publicity": ("publicity", "PublicityPage"),
    "briefing": ("briefing", "BriefingPage"),
    "import": ("importer", "ImportPage"),
    "ledgers": ("ledgers", "LedgerPage"),
    "users": ("users", "UsersPage"),
}
#: Pages about the whole server, not one township: shown as they are at county level.
COUNTY_WIDE = frozenset({"users"})

APP_CSS = """
<style>
.fk-app-bar{display:flex;align-items:center;gap:12px;flex-wrap:wrap;margin:0 0 8px 0}
.fk-app .fk-header{margin-bottom:4px}
.fk-nav{display:flex;flex-wrap:wrap;gap:2px 4px}
.fk-nav .fk-nav-item{width:auto;height:28px;padding:0 8px;background:transparent;color:#1d4f91;font-size:14px;
  border:0;border-bottom:2px solid transparent;box-shadow:none}
.fk-nav .fk-nav-item:hover{background:#eef2f7}
.fk-nav .fk-nav-item.fk-current{font-weight:bold;color:#8c1d18;border-bottom-color:#8c1d18}
.fk-address{display:none}
</style>
"""


#: What part of the county the pages show: the one object the app hands to
#: every page (see :meth:`App.page_data`); ``Scope()`` is everything.
Scope = store.Scope


def page_name(name: str) -> str:
    """``"returnees"`` from ``"returnees"`` or ``"returnees.ipynb"``; ValueError
    for a page the app does not have."""
    name = name.removesuffix(".ipynb")
    if name not in PAGE_VIEWS:
        raise ValueError(f"没有这个页面：{name}")
    return name


class App(w.VBox):
    """The workbench: header, navigation and the current page.

    Parameters
    ----------
    start : str
        The page shown first (``"overview"`` or ``"overview.ipynb"``).
    db : str, optional
        The database (default: ``FANGKONG_DB``); ignored when ``data`` is given.
    data : Dataset, optional
        The loaded ledgers every page reads.
    scope : Scope, optional
        What part of the county the pages show.

    Attributes
    ----------
    pages : dict
        The views built so far, by page name.
    header_extra : ipywidgets.Box
        A slot in the header bar, next to the navigation (a scope selector).
    """

    def __init__(self, start: str = "overview", *, db=None, data=None, scope: Scope | None = None, **kwargs):
        from ..actions.users import current_user

        #: Who is working (a hub login, or the single PC's operator): their
        #: township or village is the scope every page reads, in SQL.
        self.user = current_user(db if data is None else data.url)
        if scope is None and (self.user.township or self.user.village):
            scope = Scope(self.user.township or None, self.user.village or None)
        if data is None:
            from ..dataset import Dataset

            data = Dataset.load(db)
        self.data = data
        self.scope = scope or Scope()
        #: The townships of a county database (none for a one-township one):
        #: the scope bar lets a county user go into one of them and back.
        county_user = not (self.user.township or self.user.village)
        self.townships = (store.townships(data.engine)
                          if data.meta.get("scale") == "county" and county_user else [])
        self.pages: dict = {}
        self.current = ""
        self.titles = {f.removesuffix(".ipynb"): t for f, t in PAGES}
        admin = self.user.hub and self.user.role == "county"  # 用户管理 in the nav: county logins only
        shown = [f.removesuffix(".ipynb") for f, _ in available_pages(admin=admin)]
        self._title = w.HTML().add_class("fk-app-title")
        self._nav_buttons: dict[str, w.Button] = {}
        for name in shown:
            button = w.Button(description=self.titles[name], tooltip=self.titles[name]).add_class("fk-nav-item")
            button.add_class(f"fk-nav-{name}")
            button.on_click(lambda _b, name=name: self.show(name))
            self._nav_buttons[name] = button
        self._nav = w.Box(list(self._nav_buttons.values())).add_class("fk-nav")
        self.header_extra = w.Box().add_class("fk-header-extra")
        if self.townships:
            self._township = w.Dropdown(options=[("全县", "")] + [(t, t) for t in self.townships],
                                        value=self.scope.township or "", description="乡镇")
            self._township.add_class("fk-scope-township")
            self._township.observe(lambda change: self.set_scope(Scope(change["new"] or None)), names="value")
            self.header_extra.children = (self._township,)
        self._status = w.HTML().add_class("fk-app-status")
        self._address = w.HTML().add_class("fk-address")
        self._content = w.Box(layout=w.Layout(display="block")).add_class("fk-app-content")
        super().__init__([self._title, w.Box([self._nav, self.header_extra]).add_class("fk-app-bar"),
                          self._status, self._address, self._content], **kwargs)
        self.add_class("fk-app")
        self.show(start)

    # -- Pages -------------------------------------------------------------------

    def page_data(self, scope: Scope):
        """The data the pages read for ``scope``: the one place a page gets
        its Dataset. A township (village) scope reads only its rows, through
        SQL; the whole database is the Dataset the app was opened on."""
        if scope.everything:
            return self.data
        from ..dataset import Dataset

        return Dataset.load(self.data.url, township=scope.township, village=scope.village)

    @property
    def at_county(self) -> bool:
        """A county database shown whole: the overview compares townships and
        the other pages wait for a township."""
        return bool(self.townships) and not self.scope.township

    def view_class(self, name: str):
        module, cls = PAGE_VIEWS[name]
        return getattr(import_module(f".{module}", __package__), cls)

    def build(self, name: str):
        """The view of page ``name`` (built on first use, then kept)."""
        if name not in self.pages:
            if name in COUNTY_WIDE:
                self.pages[name] = self.view_class(name)(data=self.data, embedded=True)
            elif self.at_county:
                self.pages[name] = self._county_page() if name == "overview" else self._choose_first()
            else:
                self.pages[name] = self.view_class(name)(data=self.page_data(self.scope), embedded=True)
        return self.pages[name]

    def _county_page(self):
        from .county import CountyPage

        page = CountyPage(data=self.data, embedded=True)
        page.model.observe(lambda change: self._township.set_trait("value", change["new"]) if change["new"] else None,
                           names="township")
        return page

    def _choose_first(self):
        """What a page other than the overview shows for the whole county."""
        box = w.VBox([w.HTML(str(html(
            '<div class="fk-help">本页按乡镇查看：请先在上方「乡镇」中选择一个乡镇'
            '（全县对比见「态势总览」）。</div>')))]).add_class("fk-choose-township")
        box.model = None
        return box

    def show(self, name: str) -> None:
        """Show page ``name``: built on first use; a page built before
        recomputes if the data changed since (here or in another kernel)."""
        name = page_name(name)
        message = ""
        try:
            self._catch_up_data()  # writes by other kernels: one cheap query when there were none
        except Exception as exc:  # shown to the user: Voilà hides tracebacks
            message = f"出错：无法读取最新数据（{exc}）"
        try:
            fresh = name not in self.pages
            view = self.build(name)
            if not fresh and getattr(view, "model", None) is not None:
                view.model.catch_up()
        except Exception as exc:
            self._status.value = status_html(f"出错：无法打开{self.titles.get(name, name)}（{exc}）", True)
            return
        self._status.value = status_html(message, True) if message else ""
        self.current = name
        self._content.children = (view,)  # only the current page is in the page (its selectors stay unique)
        for other, button in self._nav_buttons.items():
            (button.add_class if other == name else button.remove_class)("fk-current")
        self._render_title()
        self._set_address(name)

    def _catch_up_data(self) -> None:
        data = self.page_data(self.scope)
        data.catch_up()
        if data is not self.data:
            self.data.catch_up()

    def catch_up(self) -> bool:
        """Re-read what was written since the pages were drawn and recompute
        the page shown (a preheated kernel calls this when its visitor
        arrives). Returns True when the page changed."""
        self._catch_up_data()
        view = self.pages.get(self.current)
        model = getattr(view, "model", None)
        return bool(model is not None and model.catch_up())

    def catch_up_on_arrival(self) -> None:
        """In a kernel Voilà preheated (the page drawn before anyone asked),
        wait for the visitor, then :meth:`catch_up`; elsewhere (a plain
        Voilà page, JupyterLab) this returns at once. Returns nothing, so
        the notebook cell shows nothing."""
        from voila.utils import wait_for_request

        wait_for_request()
        self.catch_up()

    def set_scope(self, scope: Scope) -> None:
        """Show ``scope``: pages are built again on their data when next shown."""
        if scope == self.scope:
            return
        self.scope, self.pages = scope, {}
        if self.townships and self._township.value != (scope.township or ""):
            self._township.value = scope.township or ""
        self.show(self.current)

    # -- Header ------------------------------------------------------------------

    def _render_title(self) -> None:
        banner = ""
        if self.data.synthetic:
            from ..config import SYNTHETIC_NOTE

            banner = html('<span class="fk-synthetic">{note}</span>', note=SYNTHETIC_NOTE)
        if self.at_county:
            from ..config import COUNTY_NAME

            place, title = COUNTY_NAME, ("全县态势" if self.current == "overview" else self.titles[self.current])
        elif self.current in COUNTY_WIDE:
            place, title = self.data.township, self.titles[self.current]
        else:
            place, title = self.page_data(self.scope).township, self.titles[self.current]
        if self.scope.village:
            place = f"{place}{self.scope.village}"
        self._title.value = CSS + APP_CSS + str(html(
            '<div class="fk-header"><h1>{place}疫情防控工作台<small>{title}</small></h1>{banner}</div>',
            place=place, title=title, banner=banner))

    def _set_address(self, name: str) -> None:
        """Put the page's notebook URL in the address bar (same folder, same
        query string, so a token stays), without navigating. An HTML widget
        does not run <script>; an image that fails to load runs its handler."""
        script = f"history.replaceState(history.state,'',{json.dumps(name + '.ipynb')}+location.search)"
        self._address.value = str(html('<img src="data:," alt="" data-page="{name}" onerror="{script}">',
                                       name=name, script=script))
