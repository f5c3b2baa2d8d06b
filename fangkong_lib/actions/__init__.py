"""The write side: every form and every import is one action.

An action is ``fn(db, ..., *, user)``, ``db`` an Engine or a Dataset. It
validates (the same rules whatever the entry path), locks what it changes,
writes with audit and keeps derived data (control plans, stock, leads) in
step, in ONE transaction, reading what it checks inside that transaction.
It returns the message to show (or a small result with ``.message``), or
raises :class:`ActionError` and writes nothing. Given a Dataset, it re-reads
the ledgers it changed so pages show them at once.

- :mod:`.base`: ActionError, the transaction and its locks;
- :mod:`.returnees`: pre-registration, arrival, tests, temperatures, release;
- :mod:`.plans`: control plans kept in step with the data and the rules;
- :mod:`.problems`: supervision and the rectification loop;
- :mod:`.places`: inspections of key places;
- :mod:`.supplies`: receipts and issues of donated supplies;
- :mod:`.imports`: importing a ledger file;
- :mod:`.duty`: the duty roster (a person on a shift, off it);
- :mod:`.volunteers`: the volunteer roster, postings, checkpoint shifts, hours;
- :mod:`.records`: any other ledger's form (:func:`save_record`).
"""

from .base import ActionError, Opened, StageResult, Voucher
from .duty import assign_duty, unassign_duty
from .imports import import_ledger
from .places import InspectionResult, record_inspection
from .plans import PlanRefresh, control_status, ensure_plans_current, plan_for, policy_hash, refresh_plans
from .records import save_record
from .problems import Step, apply_step, apply_steps, open_problem, recheck, record_supervision, set_accountability
from .returnees import record_arrival, record_preregistration, record_release, record_temperature, record_test
from .supplies import issue_supplies, receive_supplies
from .volunteers import assign_volunteer, assign_volunteer_shift, end_assignment, log_hours, save_volunteer

__all__ = [
    "ActionError",
    "InspectionResult",
    "Opened",
    "PlanRefresh",
    "StageResult",
    "Step",
    "Voucher",
    "apply_step",
    "apply_steps",
    "assign_duty",
    "assign_volunteer",
    "assign_volunteer_shift",
    "control_status",
    "end_assignment",
    "ensure_plans_current",
    "import_ledger",
    "issue_supplies",
    "log_hours",
    "open_problem",
    "plan_for",
    "policy_hash",
    "recheck",
    "receive_supplies",
    "record_arrival",
    "record_inspection",
    "record_preregistration",
    "record_release",
    "record_supervision",
    "record_temperature",
    "record_test",
    "refresh_plans",
    "save_record",
    "save_volunteer",
    "set_accountability",
    "unassign_duty",
]
