"""Importing a ledger file is a save like any form: the rows and what they
change elsewhere (the control plans of imported returnees) are written in
ONE transaction, audited, under the ledger's lock.

Reading, cleaning, validating and sorting out the file is
:func:`fangkong_lib.ingest.prepare_import`; this module compares the rows
with the store and writes them.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa

from .. import store
from ..ingest.importer import ImportResult, PreparedImport, prepare_import
from ..ingest.validate import check_issue_rows
from .base import SUBJECTS, Tx, bulk_insert, engine_of, transaction
from .grids import COUNT_LEDGERS, recount_grids
from .leads import LEAD_SOURCE_LEDGERS, sync_in
from .plans import refresh_in, stored_rows

#: Ledgers whose imported rows change the control plans (arrivals, categories).
PLAN_LEDGERS = ("returnees",)


def import_ledger(
    db,
    ledger_key: str,
    path: Path | str,
    *,
    user: str,
    dry_run: bool = False,
    progress: bool = False,
    today: date | None = None,
) -> ImportResult:
    """Import one file into ``ledger_key``.

    Every row read ends up inserted, updated, unchanged, duplicate or
    rejected with a reason (``read == inserted + updated + unchanged +
    duplicates + rejected``). The rows are written in one transaction with
    the control plans of the returnees they add or change (an arrival date
    or a risk category corrected by a re-import updates the plan, audited);
    a re-import of the same file changes nothing. ``dry_run`` counts
    without writing. ``today`` (for dates without a year, 4月10日) defaults to
    the data's today (:func:`fangkong_lib.store.data_today`), as on the
    import page. A distributions file is held to the issue form's stock
    rule, row by row, against the stock in the store (read in the import's
    transaction) and the file's earlier rows. The error report is an output:
    :func:`fangkong_lib.outputs.reports.import_with_report`.

    Raises
    ------
    fangkong_lib.ingest.LedgerFileError
        When the file cannot be used at all (nothing is written).
    """
    with _collector_paused():
        return _import(db, ledger_key, path, user=user, dry_run=dry_run, progress=progress, today=today)


@contextmanager
def _collector_paused():
    """Python's cycle collector paused: an import makes a few hundred
    thousand small objects that live until it ends, and the collector would
    walk all of them again and again (a third of a big import's time).
    Nothing an import makes is cyclic garbage it needs collected early."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _import(db, ledger_key: str, path: Path | str, *, user: str, dry_run: bool, progress: bool,
            today: date | None) -> ImportResult:
    engine = engine_of(db)
    store.init_db(engine)
    today = today or store.data_today(store.get_meta(engine))
    # The file is read before the lock is taken: reading a big file takes
    # seconds, and other kernels must not wait for it.
    prepared = prepare_import(engine, ledger_key, path, today=today, progress=progress)
    result = prepared.result
    _flag_breaches(prepared)
    result.dry_run = dry_run
    if dry_run:
        with engine.connect() as conn:
            _check_stock(conn, prepared)
            _compare(conn, prepared)
    else:
        with transaction(db, SUBJECTS.get(ledger_key, ledger_key), user=user) as tx:
            _recheck_villages(tx, prepared)
            _check_stock(tx.conn, prepared)
            inserts, updates = _compare(tx.conn, prepared)
            _write(tx, prepared, inserts, updates)
            if ledger_key in PLAN_LEDGERS and (inserts or updates):
                _refresh_plans(tx, prepared, inserts, updates, today)
            if ledger_key in LEAD_SOURCE_LEDGERS and (inserts or updates):
                result.derived.append(sync_in(tx, today).message)  # a lead per pushed person, in this transaction
            if ledger_key in COUNT_LEDGERS and (inserts or updates) and recount_grids(tx):
                result.derived.append("各网格户数、已联户数已按农户联户台账重算")
    assert result.balanced, result.as_dict()
    return result


def _refresh_plans(tx: Tx, prepared: PreparedImport, inserts: list[tuple], updates: list[tuple],
                   today: date) -> None:
    """The plans of the returnees the file added or changed, in the import's
    transaction. New rows are planned from the file's values (they are the
    whole stored row); changed rows are read back whole."""
    keys = prepared.keys
    people = [dict(zip(keys, values)) for values in inserts]
    if updates:
        people += stored_rows(tx, "returnees", {nk[0] for nk, *_ in updates})
    plans = refresh_in(tx, today, people=people)
    if plans.changed or plans.errors:
        prepared.result.derived.append(plans.summary())


#: Ledgers whose rows can break a rule of the field and still be true:
#: imported, and named in the result and the report (see ImportResult.flagged).
FLAG_RULES = {"gatherings": "gatherings"}
_SHOWN_FLAGS = 10


def _flag_breaches(prepared: PreparedImport) -> None:
    """Gatherings that break the rules (红事缓办, 白事简办) are imported (they
    happened, or are planned, and must be acted on) and named, row by row."""
    if prepared.ledger.key not in FLAG_RULES:
        return
    from ..domain.gatherings import breach_text, gathering_breaches, gathering_label

    result = prepared.result
    for number, _nk, values, _cells in prepared.accepted:
        record = dict(zip(prepared.keys, values))
        breaches = gathering_breaches(record)
        if breaches:
            result.flagged.append((number, gathering_label(record), breach_text(breaches)))
    if result.flagged:
        shown = "；".join(f"第{n}行 {what}：{text}" for n, what, text in result.flagged[:_SHOWN_FLAGS])
        more = f"；另有 {len(result.flagged) - _SHOWN_FLAGS} 行" if len(result.flagged) > _SHOWN_FLAGS else ""
        result.warnings.append(f"{len(result.flagged)} 行不符合防控规定（照常导入，须劝导整改，不能批准）：{shown}{more}")


def _check_stock(conn, prepared: PreparedImport) -> None:
    """Issues the stock cannot cover are rejected, as the issue form refuses them."""
    if prepared.ledger.key != "distributions" or not prepared.accepted:
        return
    records = [dict(zip(prepared.keys, values)) for _n, _nk, values, _c in prepared.accepted]
    refused = check_issue_rows(records, store.load_ledger(conn, "donations"),
                               store.load_ledger(conn, "distributions"))
    if refused:
        prepared.reject({i: problem.sentence() for i, problem in refused.items()})


def _recheck_villages(tx: Tx, prepared: PreparedImport) -> None:
    """Rows were checked against the village list before the lock; a
    village removed since then rejects its rows now."""
    if prepared.villages is None or "village" not in prepared.keys:
        return
    current = set(tx.villages() or ())
    if current >= prepared.villages:
        return
    pos = prepared.keys.index("village")
    gone = {i for i, (_n, _nk, values, _c) in enumerate(prepared.accepted)
            if values[pos] is not None and values[pos] not in current}
    if gone:
        prepared.reject(gone, f"{prepared.ledger['village'].label}：不是本乡的村（村名单已改）")


def _compare(conn, prepared: PreparedImport) -> tuple[list[tuple], list[tuple]]:
    """Split the accepted rows into inserts (value tuples) and updates
    ``(natural key, record, before, after)``; counts unchanged rows."""
    ledger, keys, result = prepared.ledger, prepared.keys, prepared.result
    table = store.TABLES[ledger.key]
    fields = [ledger[k] for k in keys]
    existing: dict[tuple, dict] = {}
    query = sa.select(*(table.c[k] for k in ledger.natural_key),
                      *(table.c[k] for k in keys if k not in ledger.natural_key))
    for row in conn.execute(query).mappings():
        existing[tuple(row[k] for k in ledger.natural_key)] = dict(row)
    inserts, updates = [], []
    list_pos = [i for i, f in enumerate(fields) if f.type == "list"]
    for _number, nk, values, _cells in prepared.accepted:
        stored = existing.get(nk)
        if stored is None:
            inserts.append(values)  # kept as tuples; made into rows column-wise below
            continue
        record = dict(zip(keys, values))
        for i in list_pos:  # lists are stored as "a;b"
            record[keys[i]] = store.to_db_value(fields[i], values[i])
        differ = [f.key for f in fields if not _same(f, stored.get(f.key), record[f.key])]
        if not differ:
            result.unchanged += 1
        else:
            updates.append((nk, record, {k: stored.get(k) for k in differ}, {k: record[k] for k in differ}))
    result.inserted, result.updated = len(inserts), len(updates)
    return inserts, updates


def _write(tx: Tx, prepared: PreparedImport, inserts: list[tuple], updates: list[tuple]) -> None:
    """Write the rows inside ``tx``: updates audited one by one with before
    and after, inserts in bulk audited as one entry naming every key."""
    if not (inserts or updates):
        return
    ledger, keys = prepared.ledger, prepared.keys
    table = store.TABLES[ledger.key]
    nk_cols = [table.c[k] for k in ledger.natural_key]
    bulk_insert(tx.conn, table, [ledger[k] for k in keys], inserts)
    for db_key, record, before, after in updates:
        cond = sa.and_(*(c == v for c, v in zip(nk_cols, db_key)))
        tx.conn.execute(table.update().where(cond).values(**record))
        store.audit(tx.conn, user=tx.user, ledger=ledger.key, action="update",
                    row_key=dict(zip(ledger.natural_key, db_key)), before=before, after=after)
    if inserts:
        nk_index = [keys.index(k) for k in ledger.natural_key]
        store.audit(tx.conn, user=tx.user, ledger=ledger.key, action="import_insert",
                    after={"file": prepared.path.name, "rows": len(inserts),
                           "keys": [[str(v[i]) for i in nk_index] for v in inserts]})
    tx.touched.add(ledger.key)


def _same(fld, stored, new) -> bool:
    if stored is None or new is None:
        return stored is None and new is None
    if fld.type == "float":
        return abs(float(stored) - float(new)) < 1e-9
    if fld.type == "date" and isinstance(stored, datetime):
        stored = stored.date()
    if fld.type == "bool":
        return bool(stored) == bool(new)
    return stored == new
