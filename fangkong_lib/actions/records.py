"""Saving one record of any ledger from a form: the generic action.

Ledgers with a workflow of their own (returnee forms, inspections, the
rectification loop, supplies) have their own actions; every other form (a
village's 17:00 report, a volunteer, a gathering, a correction of a control
row) saves through :func:`save_record`, which validates exactly as an import
does and keeps the control plans in step when a returnee row changes, and the leads
when a row of a ledger that raises them changes (:mod:`.leads`).
"""

from __future__ import annotations

from datetime import date
from typing import Mapping

from ..ledgers import get_ledger
from .base import SUBJECTS, transaction
from .leads import LEAD_SOURCE_LEDGERS, sync_in
from .grids import COUNT_LEDGERS, recount_grids
from .plans import refresh_in

__all__ = ["save_record"]

_WORDS = {"inserted": "已新增", "updated": "已更新", "unchanged": "内容未变，未写入"}


def save_record(db, ledger_key: str, raw: Mapping, *, user: str, today: date | None = None) -> str:
    """Validate ``raw`` like an imported row of ``ledger_key`` and store it
    (insert or update by the natural key), audited, in one transaction.

    Returns the message to show; raises :class:`~.base.ActionError` naming
    every bad field, with nothing written.
    """
    ledger = get_ledger(ledger_key)
    with transaction(db, SUBJECTS.get(ledger_key, ledger_key), user=user) as tx:
        day = today or tx.today()
        record = tx.clean(ledger_key, raw, villages=tx.villages(), today=day)
        action = tx.upsert(ledger_key, record)
        if ledger_key == "returnees" and action != "unchanged":
            refresh_in(tx, day, ids=[record["id_number"]])
        leads = sync_in(tx, day) if ledger_key in LEAD_SOURCE_LEDGERS and action != "unchanged" else None
        if ledger_key in COUNT_LEDGERS and action != "unchanged":
            recount_grids(tx)  # 户数 and 已联户数 of every grid stay in step
    message = f"{ledger.label}：{_WORDS.get(action, action)}"
    return f"{message}；{leads.message}" if leads is not None and (leads.inserted or leads.updated) else message
