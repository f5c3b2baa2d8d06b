"""Validating a whole file's columns at once: the rules of
:func:`fangkong_lib.ingest.validate.validate_record`, applied column by
column instead of record by record.

An import of 100,000 rows cannot afford a Python call per value: the values
that are already clean (an 18-digit ID number with its check digit right, an
11-digit mobile, a name in normal form) are recognised in bulk (numpy over
the characters, one Unicode normalisation of a whole column), repeated
values (villages, dates, categories) are cleaned once, and only the rest go
through the per-value cleaners of the forms (:func:`coerce_value`), which
give the reasons. The row checks (required fields, the village list, the
rules across fields) are done on columns too; a row that has a problem gets
its problems from the same code and in the same order as
:func:`validate_record`, so a file and a form say the same thing about the
same record (tests/unit/test_columns_validate.py holds the two side by side).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from itertools import repeat
from operator import is_, is_not

import numpy as np

from ..ledgers import Field, Ledger
from .normalize import ID_CHECK_CHARS, ID_WEIGHTS, _birth_error
from .validate import ROW_RULES, Problem, coerce_value, shown, text_coercer

_TODO = object()  # a value the bulk path left to the per-value cleaner
_SEP = "\x00"  # joins a column's texts: a starter that never composes (NFKC leaves the pieces apart)
_SPACES = re.compile(r"\s+")
_CHECK_CODES = np.array([ord(c) for c in ID_CHECK_CHARS], dtype=np.int64)
_WEIGHTS = np.array(ID_WEIGHTS, dtype=np.int64)
#: Caching a column's cleaned values stops after this many values when most are distinct.
_CACHE_SAMPLE = 2000


@dataclass
class CleanColumns:
    """What :func:`validate_columns` found.

    ``values`` holds one list of cleaned values per key (None where blank or
    invalid); ``problems`` maps the position of each row that cannot be
    stored to its problems (as :func:`validate_record` lists them);
    ``blank`` holds the positions of rows with nothing in them (skipped, not
    counted).
    """

    values: list[list]
    problems: dict[int, list[Problem]]
    blank: set[int]


class ColumnValidator:
    """Cleans and checks the columns ``keys`` of ``ledger``, a chunk of rows
    at a time (the caches of repeated values last across chunks)."""

    def __init__(self, ledger: Ledger, keys: list[str], *, villages=None, today: date | None = None,
                 default_year: int | None = None):
        self.ledger, self.keys = ledger, list(keys)
        self.fields: list[Field] = [ledger[k] for k in self.keys]
        self.villages = None if villages is None else set(villages)
        self.today, self.default_year = today, default_year
        self.caches: list[dict | None] = [{} for _ in self.keys]
        self.seen = [0] * len(self.keys)
        self.position = {k: j for j, k in enumerate(self.keys)}
        # validate_record's order: the ledger's fields
        self.in_order = sorted(range(len(self.keys)), key=lambda j: ledger.fields.index(self.fields[j]))
        self.required = [j for j in self.in_order if self.fields[j].required]
        self.rules = ROW_RULES.get(ledger.key, ())

    # -- one column -------------------------------------------------------------------

    def _coerce_one(self, fld: Field):
        if fld.type == "text":
            return text_coercer(fld)
        today, year = self.today, self.default_year
        return lambda raw: coerce_value(fld, raw, default_year=year, today=today)

    def _column(self, j: int, raws: list) -> tuple[list, dict[int, str]]:
        """Cleaned values of one column and the reasons of the bad ones."""
        fld = self.fields[j]
        if fld.type == "id_number":
            values = _clean_ids(raws, self.today)
        elif fld.type == "phone":
            values = _clean_mobiles(raws)
        elif fld.type == "text" and not fld.choices:
            values = _clean_texts(raws)
        else:
            values = None
        if values is None:
            return self._cached(j, raws)
        todo = [i for i, v in enumerate(values) if v is _TODO]
        reasons: dict[int, str] = {}
        if todo:
            coerce = self._coerce_one(fld)
            for i in todo:
                values[i], reason = coerce(raws[i])
                if reason is not None:
                    reasons[i] = reason
        return values, reasons

    def _cached(self, j: int, raws: list) -> tuple[list, dict[int, str]]:
        """Per value, through a cache of the values seen: villages, dates and
        categories repeat thousands of times in a file. A column whose values
        do not repeat stops caching after a first sample."""
        coerce, cache = self._coerce_one(self.fields[j]), self.caches[j]
        if cache is None:
            hits = [coerce(raw) for raw in raws]
        else:
            hits = []
            append = hits.append
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
            if self.seen[j] >= _CACHE_SAMPLE and len(cache) > 0.5 * self.seen[j]:
                self.caches[j] = None  # values do not repeat: caching only costs
        values = [h[0] for h in hits]
        reasons = {i: h[1] for i, h in enumerate(hits) if h[1] is not None}
        return values, reasons

    # -- the rows -------------------------------------------------------------------

    def clean(self, columns: list[list]) -> CleanColumns:
        """Clean and check the raw columns (one list per key, all as long)."""
        n = len(columns[0]) if columns else 0
        values, reasons = [], []
        for j, raws in enumerate(columns):
            v, r = self._column(j, list(raws))
            values.append(v)
            reasons.append(r)
        bad: set[int] = set().union(*reasons)
        filled = np.zeros(n, dtype=bool)
        for v in values:
            filled |= np.fromiter(map(is_not, v, repeat(None)), dtype=bool, count=n)
        blank = {int(i) for i in np.flatnonzero(~filled)} - bad
        for j in self.required:
            missing = np.fromiter(map(is_, values[j], repeat(None)), dtype=bool, count=n)
            if self.fields[j].type == "list":
                missing |= np.fromiter((v == [] for v in values[j]), dtype=bool, count=n)
            bad.update(i for i in np.flatnonzero(missing).tolist() if i not in reasons[j])
        village = self.position.get("village")
        if village is not None and self.villages is not None:
            known = self.villages
            bad.update(i for i, v in enumerate(values[village]) if v is not None and v not in known)
        bad -= blank
        if self.rules:
            suspects = set()
            get = (lambda key: values[self.position[key]] if key in self.position else [None] * n)
            for rule in self.rules:
                finder = getattr(rule, "rows", None)
                suspects.update(range(n) if finder is None else finder(get))
            bad.update(i for i in suspects - bad - blank if self._rule_problems(columns, values, i))
        problems = {i: self.row_problems(columns, values, reasons, i) for i in sorted(bad)}
        return CleanColumns(values, {i: p for i, p in problems.items() if p}, blank)

    def _rule_problems(self, columns, values, i: int) -> list[Problem]:
        record = {k: values[j][i] for j, k in enumerate(self.keys)}
        raw = {k: columns[j][i] for j, k in enumerate(self.keys)}
        ledger = self.ledger
        return [Problem(key, ledger[key].label, shown(raw.get(key, record.get(key))), reason)
                for rule in self.rules for key, reason in rule(record, raw)]

    def row_problems(self, columns, values, reasons, i: int) -> list[Problem]:
        """Every problem of row ``i``, as :func:`validate_record` gives them."""
        problems = [Problem(self.keys[j], self.fields[j].label, shown(columns[j][i]), reasons[j][i])
                    for j in self.in_order if i in reasons[j]]
        failed = {p.field for p in problems}
        for j in self.required:
            if self.keys[j] not in failed and values[j][i] in (None, "", []):
                problems.append(Problem(self.keys[j], self.fields[j].label, "", "必填项为空"))
        village = self.position.get("village")
        if village is not None and self.villages is not None:
            name = values[village][i]
            if name and name not in self.villages:
                problems.append(Problem("village", self.fields[village].label, name, "不是本乡的村"))
        if not problems and self.rules:
            problems = self._rule_problems(columns, values, i)
        return problems


def validate_columns(ledger: Ledger, columns: dict[str, list], *, villages=None, today: date | None = None,
                     default_year: int | None = None) -> CleanColumns:
    """Clean and check whole columns (field key → raw values) of ``ledger``."""
    validator = ColumnValidator(ledger, list(columns), villages=villages, today=today, default_year=default_year)
    return validator.clean(list(columns.values()))


# -- The bulk paths: values already clean -------------------------------------------------


def _codes(texts: list[str], width: int) -> np.ndarray:
    """The code points of equally long strings, one row each."""
    return np.array(texts, dtype=f"<U{width}").view(np.uint32).reshape(len(texts), width).astype(np.int64)


def _of_length(raws: list, width: int) -> tuple[list[int], list[str], np.ndarray]:
    """Positions, texts and code points of the strings exactly ``width`` long."""
    where = [i for i, v in enumerate(raws) if type(v) is str and len(v) == width]
    texts = [raws[i] for i in where]
    return where, texts, (_codes(texts, width) if where else np.empty((0, width), dtype=np.int64))


def _clean_ids(raws: list, today: date | None) -> list:
    """ID numbers already in their clean form (18 ASCII digits, or 17 and X,
    a possible birth date, the right check character) as they are; the
    rest left to :func:`~fangkong_lib.ingest.normalize.normalize_id_number`."""
    out = [_TODO] * len(raws)
    where, texts, codes = _of_length(raws, 18)
    if not where:
        return out
    digits = codes[:, :17] - 48
    last = codes[:, 17]
    ok = ((digits >= 0) & (digits <= 9)).all(axis=1) & (((last >= 48) & (last <= 57)) | (last == 88))
    ok &= _CHECK_CODES[(digits @ _WEIGHTS) % 11] == last  # other characters: refused by ok already
    good = np.flatnonzero(ok)
    births = (digits[good, 6:14] @ (10 ** np.arange(7, -1, -1))).tolist()  # yyyymmdd, as numbers
    impossible = {b for b in set(births) if _birth_error(f"{b:08d}", today) is not None}
    for k, born in zip(good.tolist(), births):
        if born not in impossible:
            out[where[k]] = texts[k]
    return out


def _clean_mobiles(raws: list) -> list:
    """11-digit mobiles (1, then 3 to 9, then 9 digits) as they are; the
    rest left to :func:`~fangkong_lib.ingest.normalize.normalize_phone`."""
    out = [_TODO] * len(raws)
    where, texts, codes = _of_length(raws, 11)
    if not where:
        return out
    ok = (codes[:, 0] == 49) & (codes[:, 1] >= 51) & (codes[:, 1] <= 57) & \
        ((codes[:, 2:] >= 48) & (codes[:, 2:] <= 57)).all(axis=1)
    for k in np.flatnonzero(ok).tolist():
        out[where[k]] = texts[k]
    return out


def _clean_texts(raws: list) -> list:
    """Free text cleaned as :func:`~fangkong_lib.ingest.normalize.clean_text`
    does (NFKC, white space folded), all the column's strings at once:
    joined by a character normalisation never merges, normalised once,
    split again. Non-strings are left to the per-value cleaner."""
    out = [_TODO] * len(raws)
    where = [i for i, v in enumerate(raws) if type(v) is str]
    if not where:
        return out
    texts = [raws[i] for i in where]
    joined = _SEP.join(texts)
    if joined.count(_SEP) != len(texts) - 1:
        return out  # a value holds the separator itself: one by one
    if not joined.isascii() and not unicodedata.is_normalized("NFKC", joined):
        joined = unicodedata.normalize("NFKC", joined)
        if joined.count(_SEP) != len(texts) - 1:
            return out
    if _SPACES.search(joined):
        joined = _SPACES.sub(" ", joined).replace(" " + _SEP, _SEP).replace(_SEP + " ", _SEP).strip(" ")
    for i, text in zip(where, joined.split(_SEP)):
        out[i] = text or None
    return out
