"""Reading ledgers in: files, header detection, cleaning, validation.

Every row read ends as inserted, updated, unchanged, duplicate or rejected
with a reason (:class:`ImportResult`). Writing an import is an action:
:func:`fangkong_lib.actions.import_ledger`.
"""

from .importer import ImportResult, LedgerFileError, PreparedImport, RejectedRow, prepare_import
from .normalize import mask_frame
from .validate import Problem, validate_record

__all__ = [
    "ImportResult",
    "LedgerFileError",
    "Problem",
    "RejectedRow",
    "PreparedImport",
    "prepare_import",
    "mask_frame",
    "validate_record",
]
