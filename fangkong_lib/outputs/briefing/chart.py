"""The 14-day chart of people under control (PNG, drawn with matplotlib's
Agg backend, a CJK font set for this figure only)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from ...domain.overview import CONTROL_MEASURES

__all__ = ["control_chart_png"]


def control_chart_png(history: pd.DataFrame, *, title: str = "") -> bytes:
    """Stacked bars of people under control per day and measure (PNG, Agg
    backend, a CJK font set in rcParams for this figure only)."""
    import matplotlib

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    colours = {"集中隔离": "#b8322a", "居家隔离": "#e4643c", "居家健康监测": "#f5a25d", "三天两检": "#8fb3d9"}
    rc = {
        "font.family": "sans-serif",
        "font.sans-serif": ["Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimHei",
                            "WenQuanYi Micro Hei", "PingFang SC", "DejaVu Sans"],
        "axes.unicode_minus": False,
        "font.size": 9,
    }
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(7.2, 3.0), dpi=200)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        x = np.arange(len(history))
        bottom = np.zeros(len(history))
        for m in CONTROL_MEASURES:
            values = history[m].to_numpy(dtype=float)
            ax.bar(x, values, bottom=bottom, color=colours.get(m), width=0.7, label=m)
            bottom += values
        for xi, total in zip(x, history["合计"]):
            ax.text(xi, total, f"{int(total)}", ha="center", va="bottom", fontsize=7, color="#243b53")
        ax.set_xticks(x, [pd.Timestamp(d).strftime("%m-%d") for d in history.index], fontsize=7)
        ax.set_ylabel("人数")
        if title:
            ax.set_title(title, fontsize=10)
        ax.set_ylim(0, max(5, float(history["合计"].max()) * 1.18))
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(ncol=4, fontsize=7, frameon=False, loc="upper left")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    return buf.getvalue()
