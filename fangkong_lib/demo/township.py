"""A synthetic but faithful Chengjiao township (DOMAIN.md §5).

Everything here is invented — village names, people, boundaries — and labelled
as synthetic; the region codes and the county-seat coordinate are real. The
build is deterministic for a given seed.

The build runs in sections, one module each, in a fixed order (they all draw
from one random generator, so the order is part of the township):
geometry → villages and grids → staff → people away → returnees and controls
→ places and inspections → supervision → supplies → checkpoints, sentinels and
pushes → gatherings and volunteers → village reports and supervision visits;
then, each from a generator of its own: gatherings' trail and publicity, the
duty roster, the command line, the township health centre, leads, households
and their party members, the volunteers' postings and the assault team.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from .. import store
from ..actions.plans import policy_hash
from ..config import DEMO_TODAY, SYNTHETIC_NOTE
from ..ledgers import LEDGERS
from ..policy import five_in_one_roles
from .admin import add_grids, add_staff, add_villages
from .campaign import add_campaign
from .command import add_command
from .community import add_gatherings, add_village_reports, add_volunteers
from .context import Township
from .duty import add_duty_roster
from .field import add_checkpoint_logs, add_drug_buyers, add_pushes
from .geometry import build_geometry
from .leads import add_leads
from .households import add_households
from .places import add_inspections, add_places
from .returns import add_people_away, add_returnees
from .sentinels import add_health_centre
from .supervision import add_problems, add_supervision_visits
from .supplies import add_supplies
from .volunteers import add_volunteer_postings


def generate(seed: int = 20220407, today: date = DEMO_TODAY, **identity) -> dict[str, pd.DataFrame]:
    """Return every ledger of the synthetic township as DataFrames.

    Parameters
    ----------
    seed : int
        Seed of the one random generator; the same seed gives the same township.
    today : date
        The demo day (2022-04-07, the township's report).
    **identity
        The township's identity and size (name, code, village names, people
        away and returnees, geometry…; see :class:`~.context.Township`);
        Chengjiao's when not given.

    Returns
    -------
    dict of str to DataFrame
        One frame per ledger key (plus ``problem_events``, ``supervisions``,
        ``village_reports``).
    """
    return build(Township.start(seed, today, **identity))


def build(t: Township) -> dict[str, pd.DataFrame]:
    """Run every section on ``t`` and return its ledgers as DataFrames."""
    cells, polys = t.geometry if t.geometry is not None else build_geometry(t.rng)
    add_villages(t, cells, polys)
    cadres_by_village = add_grids(t, cells, polys)
    add_staff(t, cadres_by_village)
    add_people_away(t)
    add_returnees(t)
    add_places(t)
    add_inspections(t)
    add_problems(t)
    add_supplies(t)
    add_checkpoint_logs(t)
    add_drug_buyers(t)
    add_pushes(t)
    add_gatherings(t)
    add_volunteers(t)
    add_village_reports(t)
    add_supervision_visits(t)
    add_campaign(t)  # gatherings' trail, weddings, enforcement, publicity (own generator)
    add_duty_roster(t)
    add_command(t)  # 指挥调度: 1+17+N, meetings, assigned tasks (its own random stream)
    add_health_centre(t)
    add_leads(t)  # leads (线索核查) and clinics' fever reports, own generator
    add_households(t)
    add_volunteer_postings(t)
    return t.out


def build_demo(db=None, *, seed: int = 20220407, today: date = DEMO_TODAY) -> dict[str, int]:
    """Build the synthetic township into ``db`` (replacing what is there).

    Returns the number of rows written per ledger.
    """
    engine = store.get_engine(db)
    store.drop_all(engine)
    store.init_db(engine)
    frames = generate(seed, today)
    counts = {}
    for key in LEDGERS:
        frame = frames.get(key, pd.DataFrame())
        counts[key] = store.write_ledger(engine, key, frame, replace=True, user="demo", note=SYNTHETIC_NOTE)
    store.set_meta(engine, synthetic="1", scale="township", today=today.isoformat(), seed=str(seed),
                   five_in_one="、".join(five_in_one_roles()), policy_hash=policy_hash())
    return counts
