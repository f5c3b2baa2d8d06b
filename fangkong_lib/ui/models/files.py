"""Files the pages offer for download, as bytes (no widgets)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from ...outputs.exports import export_frame

MIME = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv",
}


def export_bytes(frame: pd.DataFrame, ledger_key: str, suffix: str, *, synthetic: bool) -> bytes:
    """The rows as a masked file's bytes (the template's headers, so a file
    can go back and forth)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"export{suffix}"
        export_frame(frame, ledger_key, path, masked=True, synthetic=synthetic)
        return path.read_bytes()
