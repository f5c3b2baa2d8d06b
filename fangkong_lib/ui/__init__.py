"""The dashboard pages: ipywidgets views on one page base (:mod:`.base`),
each wrapping a traitlets model from :mod:`.models` that never imports
ipywidgets. Notebooks import a page class and show it.

Each name is loaded from its module on first use.
"""

from importlib import import_module

#: public name → the module of this package that defines it (the keys are __all__)
_HOME = {
    "App": "app",
    "Scope": "app",
    "PublicityPage": "publicity",
    "GatheringsPage": "gatherings",
    "LeadsPage": "leads",
    "BriefingPage": "briefing",
    "CommandPage": "command",
    "CheckpointsPage": "checkpoints",
    "GridsPage": "grids",
    "ImportPage": "importer",
    "LedgerPage": "ledgers",
    "OverviewPage": "overview",
    "PlacesPage": "places",
    "ReturneePage": "returnees",
    "SentinelsPage": "sentinels",
    "SupervisionPage": "supervision",
    "SuppliesPage": "supplies",
    "VolunteersPage": "volunteers",
}

__all__ = [
    "App",
    "Scope",
    "PublicityPage",
    "GatheringsPage",
    "LeadsPage",
    "BriefingPage",
    "CommandPage",
    "CheckpointsPage",
    "GridsPage",
    "ImportPage",
    "LedgerPage",
    "OverviewPage",
    "PlacesPage",
    "ReturneePage",
    "SentinelsPage",
    "SupervisionPage",
    "SuppliesPage",
    "VolunteersPage",
]


def __getattr__(name):
    if name in _HOME:
        return getattr(import_module(f".{_HOME[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
