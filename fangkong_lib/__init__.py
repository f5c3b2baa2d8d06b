"""防控工作台 (fangkong workbook): the helper library behind the dashboards.

A short public surface; implementation modules may change behind it.

>>> from fangkong_lib import LEDGERS
>>> LEDGERS["returnees"].label
'返乡报备'
"""

from .config import database_url
from .ledgers import LEDGERS, get_ledger

__version__ = "0.1.0"

__all__ = [
    "LEDGERS",
    "Dataset",
    "database_url",
    "get_engine",
    "get_ledger",
    "load_ledger",
    "read_ledger",
    "__version__",
]


def __getattr__(name):
    # Heavier modules are imported on first use so `import fangkong_lib` stays light.
    if name in ("get_engine", "load_ledger", "load_ledgers"):
        from . import store

        return getattr(store, name)
    if name in ("Dataset", "read_ledger"):
        from . import dataset

        return getattr(dataset, name)
    raise AttributeError(name)
