"""The page model every dashboard page shares (never imports ipywidgets).

A page model holds its filters as traits, recomputes everything in one
template method (:meth:`PageModel.refresh` calls the page's
:meth:`~PageModel.compute`), caches rendered maps per filter key, runs form
actions through one adapter (:func:`run_action`) and says what happened in
``status``/``error``. A page declares only what differs: its filter traits
(listed in ``filters``), ``compute()``, and what each KPI card opens.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Hashable

import traitlets as t

from ...config import hub_user_name
from ...views.html import html
from ...views.maps import map_iframe, with_live_state

log = logging.getLogger(__name__)

ALL = ""  # the "全部" choice of every filter



def with_data_notes(message: str, notes) -> str:
    """A page's status with the rows it had to leave out named after it
    (unreadable values that got into the store): the page shows the rest."""
    notes = list(notes)
    if not notes:
        return message
    return f"{message}；数据问题（这些行未计入，请核实更正）：{'；'.join(notes)}"

class LRUCache:
    """A small most-recently-used cache (rendered maps per filter key: every
    filter change would otherwise re-render and re-send the whole map)."""

    def __init__(self, size: int = 16):
        self.size = size
        self._items: OrderedDict = OrderedDict()

    def get(self, key):
        """The cached value, or None."""
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        return None

    def put(self, key, value):
        """Store ``value`` (dropping the least recently used) and return it."""
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class ActionReport:
    """What a form action did, as the page tells it.

    Attributes
    ----------
    ok : bool
        The action was carried out (something may have been written).
    message : str
        One Chinese sentence for the status line.
    lines : tuple of str
        The problems, one per line, when the action was refused.
    """

    ok: bool
    message: str
    lines: tuple[str, ...] = ()


def report_of(result: Any) -> ActionReport:
    """Read what an action returned: a message ``str``, an object with
    ``.message`` (and ``.ok``: ``False`` means refused, ``.sentences()``
    gives the problems), or None (done, nothing to say)."""
    if result is None:
        return ActionReport(True, "")
    if isinstance(result, str):
        return ActionReport(True, result)
    message = str(getattr(result, "message", "") or "")
    if getattr(result, "ok", True) is False:
        sentences = getattr(result, "sentences", None)
        lines = tuple(sentences()) if callable(sentences) else ()
        return ActionReport(False, "；".join(lines) or message or "未保存", lines or ((message,) if message else ()))
    return ActionReport(True, message or str(result))


def run_action(action: Callable[[], Any]) -> ActionReport:
    """Run ``action`` and report it; nothing raised escapes (Voilà hides
    tracebacks). A ``ValueError`` (``ActionError``, ``RecordError``, a
    validation refusal) is the user's mistake and its text is the message;
    anything else is reported as an error of the workbook and logged."""
    try:
        return report_of(action())
    except ValueError as exc:
        return ActionReport(False, str(exc), (str(exc),))
    except Exception as exc:  # a fault, not a user mistake: keep the traceback in the log
        log.exception("form action failed")
        return ActionReport(False, f"出错：{exc}", (f"出错：{exc}",))


class PageModel(t.HasTraits):
    """Base of every page's model.

    Parameters
    ----------
    data : Dataset
        The loaded ledgers the page reads (and writes through actions).
    **kwargs
        Initial trait values (filters, ``operator``).

    Notes
    -----
    Subclasses declare ``filters`` (names of the traits whose change
    recomputes the page), implement :meth:`compute` (returns the status
    message) and, for clickable KPI cards, :meth:`kpi_list`.
    """

    #: Trait names that recompute the page when they change.
    filters: tuple[str, ...] = ("village",)
    #: Size of the rendered-map cache.
    map_cache_size = 16
    #: Size of the cache of figures computed once per data generation (:meth:`memo`).
    memo_size = 64
    #: KPI keys whose card opens a list (see :meth:`kpi_list`).
    kpi_lists: tuple[str, ...] = ()
    #: The page keeps one live map (:meth:`show_live_map`): its view shows
    #: ``map_html`` and posts ``map_update`` into it instead of replacing it.
    live_map = False

    village = t.Unicode(ALL)
    operator = t.Unicode("")  # 操作人: recorded as the audit user of every write
    status = t.Unicode("")
    error = t.Bool(False)
    kpis = t.Dict()
    map_html = t.Unicode("")
    #: The live map's last update (a views.maps.live_update with its ``version``).
    map_update = t.Dict()
    focus = t.Unicode("")  # the KPI whose list is open ("" = none)
    focus_title = t.Unicode("")
    focus_html = t.Unicode("")

    def __init__(self, data, **kwargs):
        self.data = data
        self._map_cache = LRUCache(self.map_cache_size)
        self._generation = self._data_generation()
        self._live_key, self._live_document, self._live_version = None, "", 0
        self._memo = LRUCache(self.memo_size)
        super().__init__(**kwargs)
        if hub_user_name():
            self.operator = hub_user_name()
        if self.filters:
            self.observe(self._on_filter, names=list(self.filters))
        self.refresh()

    # -- Options and validation of what the browser can set -----------------------

    @property
    def village_options(self) -> list[tuple[str, str]]:
        """Dropdown options for the village filter: 全部村 first ("" = all)."""
        return [("全部村", ALL)] + [(v, v) for v in self.data.village_names]

    @property
    def shown_area(self) -> str:
        """Where the figures are from, for status lines: the village chosen,
        else the scope's village (a village login), else 全乡."""
        return self.village or getattr(self.data.scope, "village", None) or "全乡"

    @staticmethod
    def one_of(value: str, allowed, what: str) -> str:
        """``value`` if it is empty or allowed; a TraitError naming ``what`` otherwise
        (widget messages can set any trait, so every choice is checked here)."""
        if value and value not in allowed:
            raise t.TraitError(f"未知的{what}：{value}")
        return value

    @t.validate("operator")
    def _check_operator(self, proposal):
        """Logged in through the hub, the operator is the login, whatever
        the browser sends."""
        return hub_user_name() or proposal["value"]

    @t.validate("village")
    def _check_village(self, proposal):
        return self.one_of(proposal["value"], self.data.village_names, "村")

    # -- Figures ------------------------------------------------------------------

    def _on_filter(self, _change) -> None:
        self.refresh()

    def compute(self) -> str:  # pragma: no cover - every page defines it
        """Recompute the page's figures; return the status line's message."""
        raise NotImplementedError

    def _data_generation(self) -> int:
        return getattr(self.data, "generation", 0)

    @property
    def stale(self) -> bool:
        """True when the shared data was re-read (a write on another page, or
        by another user) since this page last computed."""
        return self._generation != self._data_generation()

    def catch_up(self) -> bool:
        """Recompute if the data changed since the last computation (the app
        calls this when the page is shown again). Returns True if it did."""
        if not self.stale:
            return False
        self.refresh()
        return True

    def refresh(self) -> None:
        """Recompute everything for the current filters; errors go to ``status``.
        Maps drawn from older data are dropped first (their cache keys are
        filters, not data)."""
        if self.stale:
            self._map_cache = LRUCache(self.map_cache_size)
            self._live_key = None  # the geometry may have changed too: a new document
            self._memo = LRUCache(self.memo_size)
            self._generation = self._data_generation()
        try:
            message = self.compute()
            if self.focus:
                self._show_focus(self.focus)
        except Exception as exc:  # shown to the user: Voilà hides tracebacks
            log.debug("refresh failed", exc_info=True)
            self.status, self.error = f"出错：{exc}", True
            return
        self.status, self.error = message, False

    def memo(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """``build()`` once for ``key`` while the data stay the same (dropped
        when the data are re-read): the figures a filter change does not
        change (the township's on a day) are computed once and then only
        filtered. Pass it as the ``memo`` of the domain's figures."""
        marker = ("memo", key)
        cached = self._memo.get(marker)
        if cached is None:
            cached = self._memo.put(marker, (build(),))
        return cached[0]

    def cached_map(self, key: Hashable, build: Callable[[], str]) -> str:
        """The map document for ``key`` (the filters it depends on), built once."""
        cached = self._map_cache.get(key)
        return cached if cached is not None else self._map_cache.put(key, build())

    def show_live_map(self, key: Hashable, document: Callable[[], str], update: Callable[[], dict], *,
                      height: int = 560, title: str = "地图") -> None:
        """The live map: the map ``document`` (a rendered live map, see
        :func:`fangkong_lib.views.maps.add_live_updates`) is built only when
        ``key`` (what its geometry depends on: basemap, area) or the data
        changed; every call sets ``map_update`` to ``update()`` with a new
        ``version``, which the view posts into the map shown."""
        if key != self._live_key or not self.map_html:
            self._live_document = document()
            self.map_html = map_iframe(self._live_document, height=height, title=title)
            self._live_key = key
        self._live_version += 1
        self.map_update = {**update(), "version": self._live_version}

    def shown_map_html(self) -> str:
        """The map iframe as the page shows it now (what 导出地图 exports):
        a live map's document with its last update written in."""
        if not self.live_map or not self.map_update:
            return self.map_html
        return map_iframe(with_live_state(self._live_document, self.map_update))

    # -- KPI cards open their lists -------------------------------------------------

    def kpi_list(self, key: str) -> tuple[str, str] | None:
        """(title, HTML) of the rows KPI ``key`` counts, or None when the card
        opens no list. Pages override; the HTML comes from views (escaped)."""
        return None

    def open_kpi(self, key: str) -> None:
        """Show the list KPI ``key`` counts (a second click closes it)."""
        if key == self.focus or not key:
            self.focus, self.focus_title, self.focus_html = "", "", ""
            return
        if key not in self.kpis:
            raise t.TraitError(f"未知的指标：{key}")
        try:
            self._show_focus(key)
        except Exception as exc:  # shown to the user: Voilà hides tracebacks
            self.status, self.error = f"出错：{exc}", True

    def _show_focus(self, key: str) -> None:
        shown = self.kpi_list(key)
        if shown is None:
            self.focus, self.focus_title, self.focus_html = "", "", ""
            return
        title, body = shown
        self.focus_title = str(html("{title}（{count}）", title=title, count=self.kpis.get(key, "")))
        self.focus_html = str(body)
        self.focus = key

    # -- Form actions -------------------------------------------------------------

    def run(self, action: Callable[[], Any], *, reload: tuple[str, ...] = ()) -> bool:
        """Run a form action (see :func:`run_action`): on success reload the
        ``reload`` ledgers, recompute and show the action's message; on a
        refusal show it in red and change nothing. Returns success."""
        report = run_action(action)
        if not report.ok:
            message = report.message if report.message.startswith("出错") else f"操作未完成：{report.message}"
            self.status, self.error = message, True
            return False
        if reload:
            self.data.reload(*reload)
        self.refresh()
        if self.error:  # saved, but the figures could not be recomputed: say both
            self.status = f"{report.message}；{self.status}"
        elif report.message:
            self.status = report.message
        return True
