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
