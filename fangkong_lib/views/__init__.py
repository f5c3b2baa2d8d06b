"""Views: folium map builders, HTML tables and boards. No widgets.

Every value from the data reaches HTML through :func:`escape_text` or
:func:`html` (``fangkong_lib.views.html``).
"""

from .html import Markup, escape_text, html, join_html

__all__ = ["Markup", "escape_text", "html", "join_html"]
