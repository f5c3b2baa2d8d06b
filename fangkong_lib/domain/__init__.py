"""Domain rules and metrics: pure pandas/geopandas functions, no widgets, no
folium, no I/O.

The names below are the public surface (what dashboards' analysts import);
each is loaded from its module on first use, so importing one domain module
does not import them all.
"""

from importlib import import_module

#: public name → the module of this package that defines it (the keys are __all__)
_HOME = {
    "on_duty": "duty",
    "make_plan": "plans",
    "place_table": "places",
    "points_from_lonlat": "geo",
    "roster": "duty",
    "roster_gaps": "duty",
    "shift_at": "duty",
    "shifts_for": "duty",
    "summarize_overview": "overview",
    "household_cover": "volunteers",
    "volunteer_roster": "volunteers",
}

__all__ = [
    "household_cover", "make_plan", "on_duty", "place_table", "points_from_lonlat", "roster", "roster_gaps",
    "shift_at", "shifts_for", "summarize_overview", "volunteer_roster",
]


def __getattr__(name):
    if name in _HOME:
        return getattr(import_module(f".{_HOME[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
