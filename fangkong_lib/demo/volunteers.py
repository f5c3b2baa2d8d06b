"""One fist (党员志愿者): the cadre assault team, and where the volunteers
are posted (grids, households in home isolation).

The 376 volunteers of the service team (31 probationary members, 46
activists among them) are built with the community section; this section
names their team, adds the 党员干部突击队 (township cadres sent down to the
villages, each posted to the grids they look after), posts the service
volunteers to their village's grids, gives every household in home isolation
a 代购员 and a 守门员 from its village (two households on the demo day are
left short, as the duty officer would find them) and then names each
control's 五包一 volunteer from the roster, as the returnee workflow does.

Draws from a generator of its own, so the sections before it stay as they are.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from ..actions.plans import team_sources
from ..domain.plans import measure_on
from ..domain.returnees import UNASSIGNED
from ..domain.volunteers import DEFAULT_TEAM, GRID, HOUSEHOLD, TeamVolunteers
from ..policy import load_regimes
from ..policy.volunteers import load_volunteer_policy
from .context import START_RETURNS, Township

#: Constant of this section's own random stream.
STREAM = 13_03
ASSAULT_TEAM = "党员干部突击队"
#: Cadres of the assault team (of the 53 sent down to the villages).
N_ASSAULT = 32
#: Every how many-th village has a newly registered volunteer not yet posted.
UNPOSTED_EVERY = 4


def add_volunteer_postings(t: Township) -> None:
    """队伍, the assault team, and the ``volunteer_assignments`` ledger; the
    controls' 五包一 volunteers follow."""
    rng = np.random.default_rng([t.seed, STREAM])
    policy = load_volunteer_policy()
    service = t.out["volunteers"].assign(team=DEFAULT_TEAM)
    grids = t.out["grids"]
    postings: list[dict] = []

    def post(no, name, kind, role, village, grid, start, end=None, household_id=None, household=None):
        postings.append(dict(assign_no=f"PZ{len(postings) + 1:05d}", volunteer_no=no, name=name, kind=kind,
                             role=role, village=village, grid=grid, household_id=household_id,
                             household=household, start_date=start, end_date=end, note=""))

    # the assault team: cadres sent down, each posted to the grids they look after
    staff = t.out["staff"]
    cadres = staff[staff["level"] == "下沉乡干部"].reset_index(drop=True)
    chosen = sorted(int(i) for i in rng.choice(len(cadres), size=N_ASSAULT, replace=False))
    assault = []
    for k, i in enumerate(chosen):
        cadre = cadres.loc[i]
        no = f"TJ{k + 1:04d}"
        role = ("卡点", "核酸", "消杀员")[int(rng.integers(3))]
        assault.append(dict(volunteer_no=no, name=cadre["name"], identity="党员干部", village=cadre["village"],
                            post=role, phone=cadre["phone"], households="", hours=float(rng.integers(40, 200)),
                            team=ASSAULT_TEAM))
        for g in grids[grids["cadre"] == cadre["name"]].itertuples():
            post(no, cadre["name"], GRID, role, g.village, g.code, START_RETURNS)
    roster = pd.concat([service, pd.DataFrame(assault)], ignore_index=True)

    # the service team: each village's volunteers (checkpoint volunteers are on
    # the duty roster instead) to its grids in turn
    at_homes = service[service["post"] != "卡点"]
    for v, (village, group) in enumerate(at_homes.groupby("village", sort=True)):
        cells = grids[grids["village"] == village]["code"].tolist()
        people = group.sort_values("volunteer_no")
        if v % UNPOSTED_EVERY == 0:
            people = people.iloc[:-1]  # registered last week, not posted yet
        for j, row in enumerate(people.itertuples()):
            post(row.volunteer_no, row.name, GRID, row.post, village, cells[j % len(cells)], START_RETURNS)

    # households in home isolation: a volunteer in every post the policy requires
    regimes = load_regimes()
    controls = t.out["controls"]
    homes = []
    for c in controls.to_dict("records"):
        days = [c["start_date"] + timedelta(days=d) for d in range((c["end_date"] - c["start_date"]).days + 1)]
        if c.get("released_date") is not None and not pd.isna(c["released_date"]):
            days = [d for d in days if d < c["released_date"]]
        home = [d for d in days if measure_on(c["measure"], c["regime"], c["category"], c["start_date"], d,
                                              regimes) in policy.household_measures]
        if home and home[0] <= t.today + timedelta(days=1):
            homes.append((c, home[0], home[-1]))
    short_today = [c["id_number"] for c, a, b in sorted(homes, key=lambda h: h[0]["id_number"]) if a <= t.today <= b]
    left_off = {idn: role for idn, role in zip(short_today, policy.household_roles)}
    for c, first, last in homes:
        pool = at_homes[at_homes["village"] == c["village"]]
        for role in policy.household_roles:
            if left_off.get(c["id_number"]) == role:
                continue
            fits = pool[pool["post"] == role]
            fits = fits if len(fits) else pool
            row = fits.iloc[int(rng.integers(len(fits)))]
            post(row["volunteer_no"], row["name"], HOUSEHOLD, role, c["village"], c["grid"], first,
                 last if last < t.today else None, c["id_number"], c["name"])
    assignments = pd.DataFrame(postings)

    # 五包一: the team's volunteer comes from the roster, as in the workflow
    slot = next((i for i, s in enumerate(team_sources()) if s.kind == "volunteer"), None)
    if slot is not None:
        pick = TeamVolunteers(assignments, grids)
        teams = []
        for c in controls.to_dict("records"):
            team = list(c["team"])
            team[slot] = pick(c["id_number"], c["grid"], c["village"], c["natural_village"]) or UNASSIGNED
            teams.append(team)
        t.out["controls"] = controls.assign(team=teams)
    t.out["volunteers"] = roster
    t.out["volunteer_assignments"] = assignments
