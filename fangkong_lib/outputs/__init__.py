"""Files that leave the office: ledger exports, the daily briefing, map
HTML/PNG/PDF rendered by headless Chromium, the import error report, the
donors' list. Text stays text (no live formula), personal data is masked.

Each name is loaded from its module on first use.
"""

from importlib import import_module

#: public name → the module of this package that defines it (the keys are __all__)
_HOME = {
    "export_leads": "leads",
    "RenderError": "render",
    "donor_list_workbook": "publicity",
    "export_frame": "exports",
    "export_ledger": "exports",
    "export_map": "briefing",
    "import_with_report": "reports",
    "summarize_briefing": "briefing",
    "with_chromium": "render",
    "write_briefing": "briefing",
    "write_error_report": "reports",
    "write_template": "xlsx",
}

__all__ = [
    "export_leads",
    "RenderError",
    "donor_list_workbook",
    "export_frame",
    "export_ledger",
    "export_map",
    "import_with_report",
    "summarize_briefing",
    "with_chromium",
    "write_briefing",
    "write_error_report",
    "write_template",
]


def __getattr__(name):
    if name in _HOME:
        return getattr(import_module(f".{_HOME[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
