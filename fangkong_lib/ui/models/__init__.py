"""The pages' models: traitlets state that never imports ipywidgets.

Each page's model is in its own module here; the views in
:mod:`fangkong_lib.ui` wrap them. Tests drive these without a browser.

Each name is loaded from its module on first use.
"""

from importlib import import_module

#: public name → the module of this package that defines it (the keys are __all__)
_HOME = {
    "PublicityModel": "publicity",
    "GatheringsModel": "gatherings",
    "LeadsModel": "leads",
    "BriefingModel": "briefing",
    "CheckpointsModel": "checkpoints",
    "GridsModel": "grids",
    "ImportModel": "importer",
    "LedgerModel": "ledgers",
    "OverviewModel": "overview",
    "PageModel": "base",
    "PlacesModel": "places",
    "ReturneeModel": "returnees",
    "SentinelsModel": "sentinels",
    "SupervisionModel": "supervision",
    "SuppliesModel": "supplies",
}

__all__ = [
    "PublicityModel",
    "GatheringsModel",
    "LeadsModel",
    "BriefingModel",
    "CheckpointsModel",
    "GridsModel",
    "ImportModel",
    "LedgerModel",
    "OverviewModel",
    "PageModel",
    "PlacesModel",
    "ReturneeModel",
    "SentinelsModel",
    "SupervisionModel",
    "SuppliesModel",
]


def __getattr__(name):
    if name in _HOME:
        return getattr(import_module(f".{_HOME[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
