"""Views: folium map builders, HTML tables and boards. No widgets.

Every value from the data reaches HTML through :func:`escape_text` or
:func:`html` (``fangkong_lib.views.html``).
"""

from .html import Markup, escape_text, html, join_html
from .maps import (
    add_grid_layer, add_legend, add_points_layer, add_village_layer, control_legend_entries, make_base_map,
    make_map_frame, render_map, show_map,
)

__all__ = [
    "Markup", "add_grid_layer", "add_legend", "add_points_layer", "add_village_layer", "control_legend_entries",
    "escape_text", "html", "join_html", "make_base_map", "make_map_frame", "render_map", "show_map",
]
