"""Reading ledgers in: files, header detection, cleaning, validation.

Every row read ends as inserted, updated, unchanged, duplicate or rejected
with a reason (:class:`ImportResult`).
"""

from .importer import ImportResult, LedgerFileError, RejectedRow, import_file
from .normalize import mask_frame
from .validate import Problem, validate_record

__all__ = [
    "ImportResult",
    "LedgerFileError",
    "Problem",
    "RejectedRow",
    "import_file",
    "mask_frame",
    "validate_record",
]
