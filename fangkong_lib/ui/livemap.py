"""The live map widget: one map document whose layers are updated in place.

The page shows the model's sandboxed map iframe
(:func:`fangkong_lib.views.maps.map_iframe`) from the ``document`` trait;
when only the figures change, the model sets ``update`` (a
:func:`fangkong_lib.views.maps.live_update` with a ``version``) and the
front end (``livemap.js``, shipped in the package: no network) posts it
into the iframe, whose listener (:func:`fangkong_lib.views.maps.add_live_updates`)
restyles the layers and answers with the version applied. A new document
(another township, another basemap, new data) replaces the iframe.
"""

from __future__ import annotations

from pathlib import Path

import anywidget
import traitlets as t

__all__ = ["LiveMap"]


class LiveMap(anywidget.AnyWidget):
    """The map box of a page whose model keeps one live map."""

    _esm = Path(__file__).with_name("livemap.js")
    document = t.Unicode("").tag(sync=True)
    update = t.Dict().tag(sync=True)
