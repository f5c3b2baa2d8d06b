"""The briefing's volunteer lists (党员志愿者): households in home isolation
short of a 代购员 or 守门员, and checkpoint shifts short of people, from
:func:`fangkong_lib.domain.volunteers.volunteer_gap_figures` (the overview's
figures). Masked with every kind of personal data (they leave the office)."""

from __future__ import annotations

from datetime import date

from ...dataset import Dataset
from ...domain.volunteers import volunteer_gap_figures
from ...ingest.normalize import mask_frame, mask_name
from ...ledgers import OUTBOUND_PII_KINDS, get_ledger
from ...policy.volunteers import load_volunteer_policy

__all__ = ["volunteer_action_lists"]

#: The shift list's columns (no names: who is on duty stays in the office).
SHIFT_COLUMNS = {"post": "卡口", "shift": "班次", "required": "应到人数", "assigned": "已排人数", "reason": "缺员情况"}


def volunteer_action_lists(data: Dataset, day: date, action_list) -> list:
    """Two lists to act on (``action_list`` is the briefing's ActionList class)."""
    policy = load_volunteer_policy()
    roles = list(policy.household_roles)
    gaps = volunteer_gap_figures(data.ledgers, day, policy=policy)
    homes = gaps["volunteer_households"]
    labels = {"name": "隔离人员", "village": "村", "grid": "网格", "id_number": "身份证号", **{r: r for r in roles},
              "reason": "缺岗"}
    homes = mask_frame(homes[[c for c in labels if c in homes.columns]], get_ledger("controls"),
                       kinds=OUTBOUND_PII_KINDS)
    for role in roles:  # the volunteers' names too
        homes[role] = homes[role].map(lambda n: "、".join(mask_name(x) for x in str(n).split("、") if x) if n else "")
    shifts = gaps["checkpoint_short_shifts"][list(SHIFT_COLUMNS)].rename(columns=SHIFT_COLUMNS)
    return [
        action_list("volunteer_households", f"居家隔离户缺{'、'.join(roles)}", homes.rename(columns=labels),
                    f"当日居家隔离的每一户须有{'、'.join(roles)}（policy/volunteers.toml），缺岗的户", "户"),
        action_list("checkpoint_short_shifts", "卡口缺员班次", shifts.reset_index(drop=True),
                    "当日卡口各班次人数或人员类别未达值班政策要求（policy/duty.toml）", "班次"),
    ]
