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
- :mod:`.gatherings`: 红白事报备, its village and township approval, 联合执法;
- :mod:`.duty`: the duty roster (a person on a shift, off it);
- :mod:`.command`: meetings and the tasks their decisions become, villages' reports;
- :mod:`.leads`: leads kept in step with their sources, assigned and verified;
- :mod:`.grids`: the six-level tree's people and the households' party members;
- :mod:`.volunteers`: the volunteer roster, postings, checkpoint shifts, hours;
- :mod:`.records`: any other ledger's form (:func:`save_record`).
"""

from .base import ActionError, Opened, StageResult, Voucher
from .command import MeetingResult, record_meeting, record_village_report
from .duty import assign_duty, unassign_duty
from .gatherings import GatheringResult, log_enforcement, report_gathering, review_gathering
from .grids import Reassigned, link_households, reassign_post
from .imports import import_ledger
from .leads import add_lead, assign_lead, sync_leads, verify_lead
from .places import InspectionResult, record_inspection
from .plans import PlanRefresh, control_status, ensure_plans_current, plan_for, policy_hash, refresh_plans
from .records import save_record
from .problems import Step, apply_step, apply_steps, open_problem, recheck, record_supervision, set_accountability
from .returnees import record_arrival, record_preregistration, record_release, record_temperature, record_test
from .supplies import issue_supplies, receive_supplies
from .volunteers import assign_volunteer, assign_volunteer_shift, end_assignment, log_hours, save_volunteer

__all__ = [
    "ActionError",
    "GatheringResult",
    "add_lead",
    "assign_lead",
    "InspectionResult",
    "MeetingResult",
    "Opened",
    "PlanRefresh",
    "Reassigned",
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
    "link_households",
    "issue_supplies",
    "log_enforcement",
    "log_hours",
    "open_problem",
    "plan_for",
    "policy_hash",
    "reassign_post",
    "recheck",
    "receive_supplies",
    "record_arrival",
    "record_inspection",
    "record_meeting",
    "record_preregistration",
    "record_release",
    "record_supervision",
    "record_temperature",
    "record_test",
    "record_village_report",
    "refresh_plans",
    "report_gathering",
    "review_gathering",
    "save_record",
    "save_volunteer",
    "set_accountability",
    "sync_leads",
    "unassign_duty",
    "verify_lead",
]
