"""The one escaping path from data to HTML.

Every value that reaches a page, a table, a board, a form's inline text, a map
or a briefing goes through :func:`escape_text`; HTML is built from data only
with :func:`html`, whose placeholders are escaped unless the value is itself
the output of :func:`html` (:class:`markupsafe.Markup`).

>>> html("<b>{name}</b>", name="<img src=x onerror=alert(1)>")
Markup('<b>&lt;img src=x onerror=alert(1)&gt;</b>')
>>> html("<p>{inner}</p>", inner=html("<i>{x}</i>", x="a&b"))
Markup('<p><i>a&amp;b</i></p>')
"""

from __future__ import annotations

import html as _html
import math
from collections.abc import Iterable

from markupsafe import Markup

__all__ = ["Markup", "escape_text", "html", "join_html"]


def escape_text(value) -> str:
    """Escape any value for HTML *and* for a JavaScript template literal.

    folium puts popup and tooltip text into innerHTML and into backtick
    strings, so besides ``<>&"'`` the backtick, ``$`` and backslash become
    entities too. ``None``, NaN and pandas' missing values become "".

    >>> escape_text('<img src=x onerror=alert(1)>')
    '&lt;img src=x onerror=alert(1)&gt;'
    >>> escape_text('${x}`\\\\')
    '&#36;{x}&#96;&#92;'
    >>> escape_text(None), escape_text(float("nan"))
    ('', '')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if type(value).__name__ in ("NAType", "NaTType"):
        return ""
    text = _html.escape(str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def _piece(value) -> str:
    return str(value) if isinstance(value, Markup) else escape_text(value)


def html(template: str, /, **values) -> Markup:
    """``template.format(**values)`` with every value escaped (Markup kept).

    The template is the code's own text, never data.
    """
    return Markup(template.format(**{key: _piece(v) for key, v in values.items()}))


def join_html(parts: Iterable, sep: str = "") -> Markup:
    """Concatenate fragments; plain strings among them are escaped. ``sep``
    is the code's own text (``Markup("<br>")`` stays a line break).

    >>> join_html([html("<b>{n}</b>", n="DC1"), "a<b"], sep=Markup("<br>"))
    Markup('<b>DC1</b><br>a&lt;b')
    """
    return Markup(str(sep).join(_piece(p) for p in parts))
