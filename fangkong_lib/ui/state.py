"""State shared by the working pages' models (never imports ipywidgets):
the status line, the operator, and running a form action so that its
refusal or error lands in the status line and nothing else changes."""

from __future__ import annotations

from typing import Callable

import traitlets as t


class PageState(t.HasTraits):
    """Base of the working pages' models: ``status``/``error`` for the status
    line, ``operator`` (操作人) for the audit log."""

    operator = t.Unicode("")
    status = t.Unicode("")
    error = t.Bool(False)

    def refresh(self) -> None:  # pragma: no cover - every page defines it
        raise NotImplementedError

    def _act(self, action: Callable[[], str], reload: tuple[str, ...] = ()) -> bool:
        """Run ``action`` (returns the success message); reload ``reload``
        ledgers and refresh the figures when it succeeded. Returns success."""
        try:
            message = action()
        except Exception as exc:  # shown to the user: Voilà hides tracebacks
            self.error = True
            self.status = f"操作未完成：{exc}"
            return False
        if reload:
            self.data.reload(*reload)
        self.refresh()
        if self.error:  # saved, but the figures could not be recomputed: say both
            self.status = f"{message}；{self.status}"
            return True
        self.status = message
        return True


class LRUCache:
    """A small most-recently-used cache (rendered maps per filter key: every
    filter change would otherwise re-render and re-send the whole map)."""

    def __init__(self, size: int = 16):
        from collections import OrderedDict

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
