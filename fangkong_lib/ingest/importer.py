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
from typing import Iterator


from .. import store
from ..ledgers import Ledger, get_ledger
from .normalize import clean_text
from .validate import ROW_RULES, Problem, coerce_value, shown, text_coercer

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
HEADER_SCAN_ROWS = 30
IGNORED_HEADERS = {"序号", "编号序号", "No", "no", "NO", "行号", "不符合项"}  # 不符合项: computed on export
CHUNK = 5000
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


def _read_excel(path: Path) -> Iterator[tuple[int, list]]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types
        raise LedgerFileError(f"无法读取 Excel 文件 {path.name}：{exc}") from None
    names = workbook.sheet_names
    if not names:
        raise LedgerFileError(f"文件 {path.name} 中没有工作表")
    # the first sheet that has a header of this ledger is chosen by the caller;
    # here every sheet is offered in order
    for index, _name in enumerate(names):
        sheet = workbook.get_sheet_by_index(index)
        first_row = sheet.start[0] if sheet.start else 0
        yield from enumerate(sheet.iter_rows(), start=first_row + 1)
        yield (-1, [_name])  # sheet separator


def _decode(data: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LedgerFileError(f"无法识别文件 {name} 的编码（支持 UTF-8 与 GBK/GB18030）")


def _read_csv(path: Path) -> Iterator[tuple[int, list]]:
    text = _decode(path.read_bytes(), path.name)
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    for i, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
        yield i, row


def read_rows(path: Path) -> Iterator[tuple[int, list]]:
    """Rows of the file as (row number, cells). Sheets are separated by a
    ``(-1, [sheet name])`` marker."""
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


def _cache_key(value):
    try:
        hash(value)
    except TypeError:
        return None
    return (type(value), value)


class _Validator:
    """Cleans rows a chunk at a time, column by column. Each column has a
    cache of cleaned values: village names, dates and categories repeat
    thousands of times in a file. A column whose values do not repeat (ID
    numbers, phones, names) stops caching after a first sample."""

    SAMPLE = 2000

    def __init__(self, ledger: Ledger, keys: list[str], villages: set[str] | None, today: date,
                 default_year: int):
        self.ledger, self.keys, self.villages = ledger, keys, villages
        self.fields = [ledger[k] for k in keys]
        self.caches: list[dict | None] = [{} for _ in keys]
        self.seen = [0] * len(keys)
        self.coercers = [self._coercer(f, today, default_year) for f in self.fields]
        self.required = [j for j, f in enumerate(self.fields) if f.required]
        self.village_pos = keys.index("village") if "village" in keys else None
        self.rules = ROW_RULES.get(ledger.key, ())
        wanted = {k for rule in self.rules for k in getattr(rule, "reads", keys)}
        self.rule_inputs = [(k, j) for j, k in enumerate(keys) if k in wanted]

    @staticmethod
    def _coercer(fld, today, default_year):
        if fld.type == "text":
            return text_coercer(fld)
        return lambda raw: coerce_value(fld, raw, default_year=default_year, today=today)

    def _column(self, j: int, raws) -> list[tuple]:
        coerce, cache = self.coercers[j], self.caches[j]
        if cache is None:
            return [coerce(raw) for raw in raws]
        out = []
        append = out.append
        for raw in raws:
            key = raw if type(raw) is str else (type(raw), raw)
            try:
                hit = cache.get(key)
            except TypeError:  # unhashable
                hit, key = None, None
            if hit is None:
                hit = coerce(raw)
                if key is not None:
                    cache[key] = hit
            append(hit)
        self.seen[j] += len(raws)
        if self.seen[j] >= self.SAMPLE and len(cache) > 0.5 * self.seen[j]:
            self.caches[j] = None  # values do not repeat: caching only costs
        return out

    def clean_chunk(self, rows: list[list]) -> Iterator[tuple[int, tuple, list[Problem]]]:
        """For each row of the chunk: (index in chunk, values, problems).
        Rows whose every mapped cell is blank are left out.

        Work is done column by column (list comprehensions); rows are only
        looked at one by one where a check needs a row."""
        if not rows:
            return
        columns = [self._column(j, raws) for j, raws in enumerate(zip(*rows))]
        width = len(columns)
        bad = set()
        for col in columns:
            bad.update([i for i, h in enumerate(col) if h[1] is not None])
        value_rows = list(zip(*[[h[0] for h in col] for col in columns]))
        required, rules = self.required, self.rules
        vpos, villages = self.village_pos, self.villages
        check_village = vpos is not None and villages is not None
        for i, values in enumerate(value_rows):
            if i not in bad:
                if values.count(None) == width:
                    continue  # blank, or only a pre-filled 序号: not a row of data
                if not (any(values[j] is None or values[j] == [] for j in required)
                        or (check_village and values[vpos] is not None and values[vpos] not in villages)
                        or (rules and self._breaks_a_rule(values))):
                    yield i, values, []
                    continue
            yield i, values, self._row_problems(rows[i], [col[i] for col in columns], values)

    def _breaks_a_rule(self, values: tuple) -> bool:
        record = {k: values[j] for k, j in self.rule_inputs}  # only what the rules read
        for rule in self.rules:
            for _ in rule(record, record):
                return True
        return False

    def _row_problems(self, raws: list, hits: list, values: tuple) -> list[Problem]:
        """Every problem of one row (the slow path, for rows that have one)."""
        problems = [Problem(f.key, f.label, shown(raw), h[1])
                    for f, h, raw in zip(self.fields, hits, raws) if h[1] is not None]
        if all(h == (None, None) for h in hits):
            return problems
        for j in self.required:
            v = values[j]
            if (v is None or v == "" or v == []) and hits[j][1] is None:
                problems.append(Problem(self.keys[j], self.fields[j].label, "", "必填项为空"))
        if self.village_pos is not None and self.villages is not None:
            village = values[self.village_pos]
            if village and village not in self.villages:
                problems.append(Problem("village", self.fields[self.village_pos].label, village, "不是本乡的村"))
        if not problems and self.rules:
            record = dict(zip(self.keys, values))
            for rule in self.rules:
                for key, reason in rule(record, record):
                    problems.append(Problem(key, self.ledger[key].label, shown(record.get(key)), reason))
        return problems


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
    rows = read_rows(path)
    header, head, sheet_ended = _locate_header(rows, ledger, path)
    _check_header(header, ledger, path, result)
    villages = _villages(engine, result) if "village" in header.columns.values() else None
    order = sorted(header.columns)
    keys = [header.columns[i] for i in order]
    validator = _Validator(ledger, keys, villages, today, default_year=today.year)
    sorter = _Sorter(ledger, keys, result)
    bar = _progress(progress, path)
    pick = _picker(order)
    chunk: list[tuple[int, list]] = []
    for item in _data_rows(head, rows, header.row, sheet_ended):
        chunk.append(item)
        if len(chunk) >= CHUNK:
            sorter.consume(chunk, validator.clean_chunk([pick(cells) for _, cells in chunk]))
            if bar is not None:
                bar.update(len(chunk))
            chunk = []
    sorter.consume(chunk, validator.clean_chunk([pick(cells) for _, cells in chunk]))
    if bar is not None:
        bar.update(len(chunk))
        bar.close()
    return PreparedImport(ledger, path, keys, sorter.finish(), result, villages)


def _locate_header(rows: Iterator[tuple[int, list]], ledger: Ledger,
                   path: Path) -> tuple[Header, list[tuple[int, list]], bool]:
    """The header, the rows read so far, and whether the header's sheet has
    been read to its end. Sheets are tried in order; within a sheet only the
    first :data:`HEADER_SCAN_ROWS` rows."""
    head: list[tuple[int, list]] = []
    header = None
    for number, cells in rows:
        if number == -1:  # end of a sheet: try the header on it
            header = find_header(head, ledger)
            if header:
                return header, head, True
            head = []
            continue
        head.append((number, cells))
        if len(head) >= HEADER_SCAN_ROWS:
            header = find_header(head, ledger)
            if header:
                return header, head, False
    header = find_header(head, ledger)
    if header is None:
        examples = "、".join(f.label for f in ledger.fields if f.required)[:40]
        raise LedgerFileError(
            f"在 {path.name} 的前 {HEADER_SCAN_ROWS} 行中找不到「{ledger.label}」台账的表头（应有 {examples} 等列）"
        )
    return header, head, True


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


def _data_rows(head: list[tuple[int, list]], rows: Iterator[tuple[int, list]], header_row: int,
               sheet_ended: bool) -> Iterator[tuple[int, list]]:
    """The rows below the header, on the header's sheet only."""
    for number, cells in head:
        if number > header_row:
            yield number, cells
    if sheet_ended:
        return
    for number, cells in rows:
        if number == -1:
            break  # only the sheet that had the header
        yield number, cells


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

    def consume(self, chunk: list[tuple[int, list]], cleaned) -> None:
        result, accepted, seen = self.result, self.accepted, self.seen
        for i, values, problems in cleaned:
            number, cells = chunk[i]
            result.read += 1
            if problems:
                result.rejected_rows.append(RejectedRow(number, _pad(cells, self.width),
                                                        [p.sentence() for p in problems]))
                continue
            nk = tuple(values[p] for p in self.key_pos)
            first = seen.get(nk)
            if first is None:
                seen[nk] = len(accepted)
                accepted.append((number, nk, values, cells))
            elif accepted[first][2] == values:
                result.duplicates += 1
            else:
                self.conflicts.setdefault(first, []).append(number)
                accepted.append((number, nk, values, cells))
                self.conflicts.setdefault(len(accepted) - 1, []).append(accepted[first][0])

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


def _picker(order: list[int]):
    """Cells of the mapped columns, in order (short rows padded with None)."""
    last = max(order)

    def pick(cells):
        if len(cells) <= last:
            cells = list(cells) + [None] * (last + 1 - len(cells))
        return [cells[i] for i in order]

    return pick


def _pad(cells: list, width: int) -> list:
    return list(cells[:width]) + [None] * (width - len(cells))


def _progress(enabled: bool, path: Path):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(desc=f"读取 {path.name}", unit=" 行", file=sys.stderr, mininterval=0.5)
