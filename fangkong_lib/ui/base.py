"""The page view every dashboard page shares.

:class:`PageView` is a VBox wired to a :class:`~fangkong_lib.ui.models.base.PageModel`:
header with the navigation, the 操作人 field, a filter bar, the status line,
clickable KPI cards with the list each one opens, the map frame (the model's
sandboxed iframe), export bars and forms. A page subclass declares its title,
its model class, its KPI labels and builds only its own filters, tables and
forms; it puts them in place by overriding :meth:`PageView.body`.

HTML built here from data goes through :mod:`fangkong_lib.views.html`
(:func:`safe_html` / :func:`html`): a template is the code's own text and
every value is escaped. Plain text goes into text widgets.
"""

from __future__ import annotations

from typing import Callable, Mapping

import ipywidgets as w

from ..actions.users import current_user
from ..config import hub_user_name
from ..views.html import html
from ..views.tables import kpi_cards_html
from .common import CSS, page_header, status_html
from .exportbar import ExportBar, MapExportBar
from .forms import EXTRA_CSS, operator_field, row

__all__ = ["KpiCards", "PageView", "safe_html"]

BASE_CSS = """
<style>
.fk-kpi-cards{display:flex;flex-wrap:wrap;gap:8px;margin:6px 0 10px 0}
.fk-kpi-card{position:relative;margin:0}
.fk-kpi-card .fk-kpi-row{margin:0}
.fk-kpi-card .widget-html{margin:0}
.fk-kpi-card .fk-kpi-open{position:absolute !important;top:0;left:0;width:100% !important;
  height:100% !important;margin:0 !important;opacity:0;cursor:pointer}
.fk-kpi-card.fk-clickable .fk-kpi:hover{border-color:#1d4f91;box-shadow:0 1px 4px rgba(29,79,145,.3)}
.fk-kpi-card.fk-open .fk-kpi{outline:2px solid #1d4f91}
.fk-kpi-list{border:1px solid #1d4f91;border-radius:6px;padding:4px 10px;margin:0 0 10px 0;background:#fbfcfd}
.fk-kpi-list-title{font-size:15px;color:#1d4f91;margin:4px 0;font-weight:bold}
</style>
"""


def safe_html(template: str, css: str = "", /, **values) -> w.HTML:
    """An HTML widget from ``template`` with every value escaped
    (see :func:`fangkong_lib.views.html.html`)."""
    widget = w.HTML(str(html(template, **values)))
    return widget.add_class(css) if css else widget


class KpiCards(w.Box):
    """The KPI cards; a card whose KPI opens a list is clickable.

    Parameters
    ----------
    model : PageModel
        Its ``kpis`` are shown; a click calls ``model.open_kpi(key)``.
    labels : mapping
        KPI key → Chinese label, in display order.
    """

    def __init__(self, model, labels: Mapping[str, str], **kwargs):
        self.model, self.labels = model, dict(labels)
        self._cards: dict[str, tuple[w.Box, w.HTML]] = {}
        super().__init__(**kwargs)
        self.add_class("fk-kpis")
        self.add_class("fk-kpi-cards")
        model.observe(self.render, names=["kpis", "focus"])
        self.render()
        if not self.labels:  # a page without figures (import, briefing)
            self.layout.display = "none"

    @property
    def value(self) -> str:
        """The cards' HTML, in display order."""
        return "".join(self._cards[k][1].value for k in self.labels if k in self._cards)

    def _card(self, key: str) -> tuple[w.Box, w.HTML]:
        body = w.HTML()
        children = [body]
        if key in self.model.kpi_lists:
            button = w.Button(tooltip=f"查看：{self.labels[key]}").add_class("fk-kpi-open")
            button.on_click(lambda _b, key=key: self.click(key))
            children.append(button)
        box = w.Box(children).add_class("fk-kpi-card")
        if key in self.model.kpi_lists:
            box.add_class("fk-clickable")
        return box, body

    def render(self, _change=None) -> None:
        kpis = self.model.kpis
        keys = [k for k in self.labels if k in kpis]
        for key in keys:
            if key not in self._cards:
                self._cards[key] = self._card(key)
            box, body = self._cards[key]
            body.value = kpi_cards_html({key: kpis[key]}, {key: self.labels[key]})
            (box.add_class if key == self.model.focus else box.remove_class)("fk-open")
        children = tuple(self._cards[k][0] for k in keys)
        if self.children != children:
            self.children = children

    def click(self, key: str) -> None:
        """What a click on a card does: open (or close) its list."""
        self.model.open_kpi(key)


class PageView(w.VBox):
    """Base of every page's view.

    Subclasses set ``title`` (as in :data:`~fangkong_lib.ui.common.PAGES`),
    ``model_class`` and ``kpi_labels``, and override :meth:`body` (the
    page's own widgets) and, when they have any, :meth:`filter_bar`,
    :meth:`export_bar` and :meth:`forms`.
    """

    title = ""
    model_class: type | None = None
    kpi_labels: Mapping[str, str] = {}
    #: The note next to the 操作人 field; None: the page writes nothing.
    operator_note: str | None = None
    extra_css = ""

    def __init__(self, model=None, *, db=None, data=None, embedded: bool = False, township: str | None = None,
                 village: str | None = None, **kwargs):
        if model is None:
            if data is None:
                from ..dataset import Dataset

                if township is None and village is None:  # a login's page reads its own scope
                    township, village = current_user(db).scope.values()
                data = Dataset.load(db, township=township, village=village)
            model = self.make_model(data)
        self.model = m = model
        #: Shown inside the app (:class:`~fangkong_lib.ui.app.App`), whose
        #: header holds the title and the navigation.
        self.embedded = embedded
        self._status = w.HTML().add_class("fk-status")
        self._operator = operator_field()
        w.link((m, "operator"), (self._operator, "value"))
        #: Who is working (hub login or single PC): signs writes, a viewer has no forms.
        self.user = current_user(m.data.engine) if hub_user_name() else current_user()
        if self.user.hub:
            self._operator.layout.display = "none"
        self._kpis = KpiCards(m, self.kpi_labels)
        self._focus_title = w.HTML().add_class("fk-kpi-list-title")
        self._focus_body = w.HTML().add_class("fk-kpi-list-body")
        close = w.Button(description="收起", icon="times").add_class("fk-kpi-list-close")
        close.on_click(lambda _b: m.open_kpi(""))
        self._focus = w.VBox([w.HBox([self._focus_title, close]), self._focus_body]).add_class("fk-kpi-list")
        m.observe(self._render_status, names=["status", "error"])
        m.observe(self._render_focus, names=["focus", "focus_html", "focus_title"])
        self.build()
        self._render_status()
        self._render_focus()
        super().__init__(self.layout_children(), **kwargs)
        self.add_class("fk-page")

    def make_model(self, data):
        """The page's model on freshly loaded data (override for extra arguments)."""
        return self.model_class(data)

    # -- What a page declares -----------------------------------------------------------

    def build(self) -> None:
        """Create the page's own widgets (called before the layout)."""

    def filter_bar(self) -> list[w.Widget]:
        """Rows of filter widgets."""
        return []

    def export_bar(self) -> list[w.Widget]:
        """Export bars (:meth:`rows_export`, :meth:`map_export`)."""
        return []

    def body(self) -> list[w.Widget]:
        """The page's figures and tables, under the KPI cards."""
        return []

    def forms(self) -> list[w.Widget]:
        """The page's forms, at the bottom."""
        return []

    # -- Pieces ---------------------------------------------------------------------------

    def header(self) -> w.HTML:
        """Title, navigation, synthetic-data banner and the CSS; inside the
        app only the CSS (the app's header shows the rest). In a hub session,
        the login and the hub's logout."""
        who = ""
        if self.user.hub:  # the login and the hub's logout (the hub serves /hub/ on the same origin)
            who = str(html("<div class='fk-who'>当前用户：<b>{who}</b>{ro} · <a href='/hub/logout' target='_top'>退出登录</a></div>",
                           who=self.user.label, ro="（只读）" if self.user.read_only else ""))
        top = CSS if self.embedded else page_header(self.title, self.model.data)
        return w.HTML(top + who + EXTRA_CSS + BASE_CSS + self.extra_css).add_class("fk-page-header")

    def bind(self, widget: w.Widget, trait: str, css: str = "") -> w.Widget:
        """Link ``widget.value`` both ways to the model's ``trait``."""
        w.link((self.model, trait), (widget, "value"))
        return widget.add_class(css) if css else widget

    def map_frame(self, trait: str = "map_html") -> w.DOMWidget:
        """The map box: shows the model's sandboxed iframe. A model with a
        live map (``live_map``) gets a :class:`~fangkong_lib.ui.livemap.LiveMap`:
        the iframe stays and a filter change updates its layers."""
        if self.model.live_map and trait == "map_html":
            from .livemap import LiveMap

            live = LiveMap(document=self.model.map_html, update=self.model.map_update,
                           layout=w.Layout(width="100%")).add_class("fk-map-box")
            w.dlink((self.model, "map_html"), (live, "document"))
            w.dlink((self.model, "map_update"), (live, "update"))
            return live
        frame = w.HTML(layout=w.Layout(width="100%")).add_class("fk-map-box")
        frame.value = getattr(self.model, trait)
        self.model.observe(lambda change: setattr(frame, "value", change["new"]), names=trait)
        return frame

    def html_view(self, trait: str, css: str) -> w.HTML:
        """An HTML widget showing model trait ``trait`` (built by views/, escaped)."""
        box = w.HTML(getattr(self.model, trait)).add_class(css)
        self.model.observe(lambda change: setattr(box, "value", change["new"]), names=trait)
        return box

    def rows_export(self, rows: Callable, name: Callable[[], str]) -> ExportBar:
        """导出 Excel / CSV of the rows as filtered (masked)."""
        return ExportBar(rows, name, synthetic=self.model.data.synthetic)

    def map_export(self, name: Callable[[], str], trait: str = "map_html", **kwargs) -> MapExportBar:
        """导出地图: the very document the map frame shows (HTML and PNG)."""
        if trait == "map_html":
            return MapExportBar(self.model.shown_map_html, name, **kwargs)
        return MapExportBar(lambda: getattr(self.model, trait), name, **kwargs)

    def say(self, message: str, error: bool = False) -> None:
        """Put a message of the view (an export, a download) in the status line."""
        self.model.status, self.model.error = message, error

    def layout_children(self) -> list[w.Widget]:
        children: list[w.Widget] = [self.header()]
        if self.operator_note is not None and not hub_user_name():  # logged in: the login signs
            children.append(row(self._operator, safe_html("<span class='fk-note'>{note}</span>", "",
                                                          note=self.operator_note)))
        children += self.filter_bar()
        exports = self.export_bar()
        if exports:
            children.append(w.HBox(exports).add_class("fk-exports"))
        forms = [] if self.user.read_only else self.forms()
        children += [self._status, self._kpis, self._focus, *self.body(), *forms]
        return children

    # -- Rendering ------------------------------------------------------------------------

    def _render_status(self, _change=None) -> None:
        self._status.value = status_html(self.model.status, self.model.error)

    def _render_focus(self, _change=None) -> None:
        m = self.model
        self._focus_title.value = m.focus_title
        self._focus_body.value = m.focus_html
        self._focus.layout.display = "" if m.focus else "none"
