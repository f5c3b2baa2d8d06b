"""Every date field and every count field of every ledger, new ones
included, refuses what no form or import may store: a date in the year 3000
and a negative quantity. Forms and imports both validate through
:func:`fangkong_lib.ingest.validate.validate_record`, so this covers every
entry path's field checks at once."""

from __future__ import annotations

from datetime import date

import pytest

from fangkong_lib.ingest.validate import validate_record
from fangkong_lib.ledgers import LEDGERS

TODAY = date(2022, 4, 7)
DATES = [(k, f.key) for k, led in LEDGERS.items() for f in led.fields if f.type in ("date", "datetime")]
COUNTS = [(k, f.key) for k, led in LEDGERS.items() for f in led.fields
          if f.type in ("int", "float") and getattr(f, "min", None) == 0]


def _problems_for(ledger_key: str, field_key: str, value) -> list[str]:
    ledger = LEDGERS[ledger_key]
    _record, problems = validate_record(ledger, {field_key: value}, villages=None,
                                        default_year=TODAY.year, today=TODAY)
    return [p.reason for p in problems if p.field == field_key]


@pytest.mark.parametrize(("ledger_key", "field_key"), DATES, ids=[f"{k}.{f}" for k, f in DATES])
def test_a_date_in_the_year_3000_is_refused(ledger_key, field_key):
    assert _problems_for(ledger_key, field_key, "3000-01-01"), f"{ledger_key}.{field_key} took 3000-01-01"


@pytest.mark.parametrize(("ledger_key", "field_key"), COUNTS, ids=[f"{k}.{f}" for k, f in COUNTS])
def test_a_negative_quantity_is_refused(ledger_key, field_key):
    assert _problems_for(ledger_key, field_key, "-3"), f"{ledger_key}.{field_key} took -3"


def test_the_new_ledgers_are_covered():
    covered = {k for k, _ in DATES} | {k for k, _ in COUNTS}
    assert {"leads", "fever_reports", "duty_shifts", "meetings", "tasks", "households", "publicity",
            "enforcements", "volunteer_assignments", "gatherings"} <= covered
