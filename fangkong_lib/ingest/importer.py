"""Importing the villages' Excel/CSV ledgers: every row accounted for.

A file goes through: read (xlsx/xls/ods with python-calamine, csv in UTF-8
with or without BOM or GB18030) → find the header row below any title rows →
map the headers and their aliases → clean and validate every value
(:mod:`fangkong_lib.ingest.validate`, the same rules as the forms) → sort out
repeats inside the file (:func:`prepare_import`). Comparing with the store and
writing, in ONE transaction with the data derived from the rows (control
plans), is an action: :func:`fangkong_lib.actions.import_ledger`.

Every row read ends up ``inserted``, ``updated``, ``unchanged``,
``duplicates`` or ``rejected`` with a reason naming the row, the column and
the value; fully blank rows are skipped and not counted. Nothing is guessed:
two rows with the same key and different values are both rejected, each
naming the other. A file that cannot be used at all raises
:class:`LedgerFileError` with one sentence saying why.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from operator import itemgetter
from typing import Callable, Iterator


from .. import store
from ..ledgers import Ledger, get_ledger
from .columns import CleanColumns, ColumnValidator
from .normalize import clean_text

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
HEADER_SCAN_ROWS = 30
IGNORED_HEADERS = {"序号", "编号序号", "No", "no", "NO", "行号", "不符合项"}  # 不符合项: computed on export
CHUNK = 20000  # rows cleaned at a time
_HEADER_JUNK = re.compile(r"[\s*＊:：]|[（(]必填[）)]|[（(]选填[）)]")


class LedgerFileError(Exception):
    """The file cannot be used at all (unreadable, wrong ledger, no header)."""


@dataclass
class RejectedRow:
    row: int  # the row number as Excel shows it (1-based)
    values: list  # the original cells, as read
    reasons: list[str]


@dataclass
class ImportResult:
    """What happened to every row of one file."""

    ledger: str
    path: str
    header_row: int = 0
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejected: int = 0
    dry_run: bool = False
    report: str | None = None
    warnings: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rejected_rows: list[RejectedRow] = field(default_factory=list)
    derived: list[str] = field(default_factory=list)  # what the rows changed elsewhere (control plans)
    #: Rows kept that break a rule of the field (a gathering over the limits):
    #: (row number, what the row is, the rules broken), not input errors.
    flagged: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return self.read == self.inserted + self.updated + self.unchanged + self.duplicates + self.rejected

    def as_dict(self) -> dict:
        return {
            "ledger": self.ledger, "file": self.path, "read": self.read, "inserted": self.inserted,
            "updated": self.updated, "unchanged": self.unchanged, "duplicates": self.duplicates,
            "rejected": self.rejected, "report": self.report, "dry_run": self.dry_run,
            "header_row": self.header_row, "warnings": self.warnings, "derived": self.derived,
            "flagged": [{"row": n, "what": what, "breaches": text} for n, what, text in self.flagged],
        }

    def summary(self) -> str:
        verb = "预检（未写入）" if self.dry_run else "导入"
        text = (f"{verb} {get_ledger(self.ledger).label}：读取 {self.read} 行，新增 {self.inserted}，更新 {self.updated}，"
                f"未变 {self.unchanged}，重复 {self.duplicates}，拒收 {self.rejected}")
        return "；".join([text, *self.derived])

    @property
    def message(self) -> str:
        """The summary, for a status line."""
        return self.summary()


# -- Reading -------------------------------------------------------------------


def _read_excel(path: Path) -> Iterator[tuple[int, list[list], "Callable[[], list[list]]"]]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types
        raise LedgerFileError(f"无法读取 Excel 文件 {path.name}：{exc}") from None
    if not workbook.sheet_names:
        raise LedgerFileError(f"文件 {path.name} 中没有工作表")
    for index in range(len(workbook.sheet_names)):
        sheet = workbook.get_sheet_by_index(index)
        first = sheet.start[0] + 1 if sheet.start else 1  # the rows start at the sheet's first used row
        yield first, sheet.to_python(nrows=HEADER_SCAN_ROWS), sheet.to_python


def _decode(data: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LedgerFileError(f"无法识别文件 {name} 的编码（支持 UTF-8 与 GBK/GB18030）")


def _read_csv(path: Path) -> Iterator[tuple[int, list[list], "Callable[[], list[list]]"]]:
    text = _decode(path.read_bytes(), path.name)
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    yield 1, rows[:HEADER_SCAN_ROWS], lambda: rows


def read_sheets(path: Path) -> Iterator[tuple[int, list[list], "Callable[[], list[list]]"]]:
    """The sheets of the file in order (a CSV file is one sheet), each as
    (row number of its first row, its first :data:`HEADER_SCAN_ROWS` rows,
    a function returning all its rows)."""
    path = Path(path)
    if not path.exists():
        raise LedgerFileError(f"文件不存在：{path}")
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(path)
    if suffix in (".csv", ".txt"):
        return _read_csv(path)
    raise LedgerFileError(f"不支持的文件类型 {path.suffix!r}：请用 .xlsx、.xls 或 .csv")


# -- Headers -------------------------------------------------------------------


def normalize_header(text) -> str:
    return _HEADER_JUNK.sub("", clean_text(text))


def header_map(ledger: Ledger) -> dict[str, str]:
    """Normalised header or alias → field key."""
    out = {}
    for fld in ledger.tabular_fields:
        for h in fld.headers:
            out[normalize_header(h)] = fld.key
    return out


@dataclass
class Header:
    row: int
    columns: dict[int, str]  # column index → field key
    names: list[str]  # the headers as written in the file
    unknown: list[str]


def find_header(rows: list[tuple[int, list]], ledger: Ledger) -> Header | None:
    """The header row among the first rows: the one naming most fields."""
    known = header_map(ledger)
    best = None
    for number, cells in rows[:HEADER_SCAN_ROWS]:
        columns, unknown = {}, []
        for i, cell in enumerate(cells):
            name = normalize_header(cell)
            if not name:
                continue
            key = known.get(name)
            if key and key not in columns.values():
                columns[i] = key
            elif name not in IGNORED_HEADERS:
                unknown.append(clean_text(cell))
        if len(columns) >= 2 and (best is None or len(columns) > len(best.columns)):
            best = Header(number, columns, [clean_text(c) for c in cells], unknown)
    return best


# -- Importing -------------------------------------------------------------------


@dataclass
class PreparedImport:
    """A file read, cleaned, validated and sorted out, ready to be compared
    with the store and written (:func:`fangkong_lib.actions.import_ledger`).

    ``accepted`` holds one ``(row number, natural key, values, cells)`` per
    row to write, ``values`` in ``keys`` order; ``result`` counts what was
    read, repeated and rejected so far; ``villages`` is the village list the
    rows were checked against (None when not checked).
    """

    ledger: Ledger
    path: Path
    keys: list[str]
    accepted: list[tuple[int, tuple, tuple, list]]
    result: ImportResult
    villages: set[str] | None = None

    def reject(self, indexes, reason: str = "") -> None:
        """Move accepted rows (by index) to the rejected ones: ``indexes`` is a
        set of indexes sharing ``reason``, or a mapping index → reason."""
        reasons = indexes if isinstance(indexes, dict) else dict.fromkeys(indexes, reason)
        indexes = set(reasons)
        width = len(self.result.headers)
        for i in sorted(indexes):
            number, _nk, _values, cells = self.accepted[i]
            self.result.rejected_rows.append(RejectedRow(number, _pad(cells, width), [reasons[i]]))
        self.accepted = [row for i, row in enumerate(self.accepted) if i not in indexes]
        self.result.rejected = len(self.result.rejected_rows)
        self.result.rejected_rows.sort(key=lambda r: r.row)


def prepare_import(
    engine,
    ledger_key: str,
    path: Path | str,
    *,
    today: date,
    progress: bool = False,
) -> PreparedImport:
    """Read ``path`` as a ``ledger_key`` ledger: find the header, clean and
    validate every row (dates without a year take ``today``'s year), and
    sort out repeats inside the file. Nothing is written.

    Raises
    ------
    LedgerFileError
        When the file cannot be used at all.
    """
    ledger = get_ledger(ledger_key)
    path = Path(path)
    result = ImportResult(ledger=ledger_key, path=str(path))
    header, rows, first = _locate_header(read_sheets(path), ledger, path)
    _check_header(header, ledger, path, result)
    villages = _villages(engine, result) if "village" in header.columns.values() else None
    order = sorted(header.columns)
    keys = [header.columns[i] for i in order]
    validator = ColumnValidator(ledger, keys, villages=villages, today=today, default_year=today.year)
    sorter = _Sorter(ledger, keys, result)
    bar = _progress(progress, path)
    data = rows[header.row + 1 - first:]  # the rows below the header, on its sheet only
    if data and min(map(len, data)) <= order[-1]:  # short rows (CSV): padded to the last column read
        data = [cells if len(cells) > order[-1] else list(cells) + [None] * (order[-1] + 1 - len(cells))
                for cells in data]
    pick = itemgetter(*order)  # the header maps at least two columns: a tuple per row
    for start in range(0, len(data), CHUNK):
        chunk = data[start:start + CHUNK]
        sorter.consume(header.row + 1 + start, chunk, validator.clean(list(zip(*map(pick, chunk)))))
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()
    return PreparedImport(ledger, path, keys, sorter.finish(), result, villages)


def _locate_header(sheets, ledger: Ledger, path: Path) -> tuple[Header, list[list], int]:
    """The header, all the rows of its sheet and the row number of the
    first. Sheets are tried in order; within a sheet only the first
    :data:`HEADER_SCAN_ROWS` rows."""
    for first, head, everything in sheets:
        header = find_header(list(enumerate(head, start=first)), ledger)
        if header:
            return header, everything(), first
    examples = "、".join(f.label for f in ledger.fields if f.required)[:40]
    raise LedgerFileError(
        f"在 {path.name} 的前 {HEADER_SCAN_ROWS} 行中找不到「{ledger.label}」台账的表头（应有 {examples} 等列）"
    )


def _check_header(header: Header, ledger: Ledger, path: Path, result: ImportResult) -> None:
    """Refuse a header without the required columns; note unknown columns."""
    present = set(header.columns.values())
    missing = [f.label for f in ledger.fields if f.required and f.key not in present]
    if missing:
        raise LedgerFileError(
            f"{path.name} 缺少必填列：{'、'.join(missing)}。这份文件可能不是「{ledger.label}」台账，或列名写法不同"
        )
    result.header_row = header.row
    result.headers = header.names
    if header.unknown:
        result.warnings.append(f"以下列不属于「{ledger.label}」，已忽略：{'、'.join(header.unknown)}")


def _villages(engine, result: ImportResult) -> set[str] | None:
    """The village list to check the 村 column against, or None (with a
    warning) when the store has none yet."""
    names = set(store.load_ledger(engine, "villages", columns=["name"])["name"]) if store.has_data(engine) else set()
    if names:
        return names
    result.warnings.append("数据库中还没有村名单，未核对「村」列")
    return None


class _Sorter:
    """Sorts out the cleaned rows: rejected with their problems, repeats of
    an earlier row (duplicates), and rows sharing a key with different
    values (all of them rejected, each naming the others: nothing is guessed)."""

    def __init__(self, ledger: Ledger, keys: list[str], result: ImportResult):
        self.ledger, self.result = ledger, result
        self.key_pos = [keys.index(k) for k in ledger.natural_key]  # natural keys are required columns
        self.width = len(result.headers)
        self.accepted: list[tuple[int, tuple, tuple, list]] = []  # (row, natural key, values, cells)
        self.seen: dict[tuple, int] = {}  # natural key → index in accepted
        self.conflicts: dict[int, list[int]] = {}

    def consume(self, first: int, rows: list[list], clean: CleanColumns) -> None:
        """Sort out a chunk of rows (``first`` is the number of the first) and
        what :class:`ColumnValidator` found in them."""
        result, accepted, seen = self.result, self.accepted, self.seen
        problems, skip = clean.problems, clean.blank
        result.read += len(rows) - len(skip)
        for i, found in problems.items():
            result.rejected_rows.append(RejectedRow(first + i, _pad(rows[i], self.width),
                                                    [p.sentence() for p in found]))
        items = zip(range(first, first + len(rows)), zip(*(clean.values[p] for p in self.key_pos)),
                    zip(*clean.values), rows)
        if problems or skip:
            skip = skip | problems.keys()
            items = [item for i, item in enumerate(items) if i not in skip]
        else:
            items = list(items)
        keys = {item[1] for item in items}
        if len(keys) == len(items) and seen.keys().isdisjoint(keys):  # the common case: no key seen twice
            seen.update(zip((item[1] for item in items), range(len(accepted), len(accepted) + len(items))))
            accepted.extend(items)
            return
        for number, nk, values, cells in items:
            first_seen = seen.get(nk)
            if first_seen is None:
                seen[nk] = len(accepted)
                accepted.append((number, nk, values, cells))
            elif accepted[first_seen][2] == values:
                result.duplicates += 1
            else:
                self.conflicts.setdefault(first_seen, []).append(number)
                accepted.append((number, nk, values, cells))
                self.conflicts.setdefault(len(accepted) - 1, []).append(accepted[first_seen][0])

    def finish(self) -> list[tuple[int, tuple, tuple, list]]:
        """The rows to write; rejects the conflicting ones."""
        accepted, result = self.accepted, self.result
        if self.conflicts:
            key_labels = "、".join(self.ledger[k].label for k in self.ledger.natural_key)
            involved: dict[tuple, list[int]] = {}
            for idx in self.conflicts:
                involved.setdefault(accepted[idx][1], []).append(idx)
            keep = []
            for idx, (number, nk, values, cells) in enumerate(accepted):
                if nk in involved:
                    others = sorted(accepted[j][0] for j in involved[nk] if j != idx)
                    result.rejected_rows.append(RejectedRow(number, _pad(cells, self.width), [
                        f"与第 {'、'.join(map(str, others))} 行的{key_labels}相同但内容不同，无法判断哪一行正确"]))
                else:
                    keep.append((number, nk, values, cells))
            accepted = keep
        result.rejected = len(result.rejected_rows)
        result.rejected_rows.sort(key=lambda r: r.row)
        return accepted


def _pad(cells: list, width: int) -> list:
    return list(cells[:width]) + [None] * (width - len(cells))


def _progress(enabled: bool, path: Path):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(desc=f"读取 {path.name}", unit=" 行", file=sys.stderr, mininterval=0.5)
