"""Households and the party members who link them (党员联户, DOMAIN.md §1).

Every household of a grid cell is a row (the grids' 户数 add up to the
natural villages' and villages' 户数, so the rows do too), and most are
linked to a party member of their grid, about 10 households each. The
township is realistic rather than perfect: two villages are behind, a few
grids elsewhere miss a household or two, and some members carry more than
the policy allows.

Draws come from a generator of this section's own, so no other section of
the township changes.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .admin import apportion
from .context import Township
from .draws import Names

#: This section's stream: np.random.default_rng([seed, SECTION]).
SECTION = 1302
#: Villages whose linking is behind (滞后), by index in the township's villages.
BEHIND_VILLAGES = (13, 16)
#: Grids elsewhere that miss a household or two, and grids with an overloaded member.
SHORT_GRIDS, OVERLOADED_GRIDS = 12, 14


def add_households(t: Township) -> None:
    """The ``households`` and ``party_members`` ledgers, and each grid's
    已联户数 (``grids.linked``)."""
    rng = np.random.default_rng([t.seed, SECTION])
    names = Names(rng)
    grids = t.out["grids"]
    behind = {t.village_names[v] for v in BEHIND_VILLAGES}
    others = np.flatnonzero(~grids["village"].isin(behind).to_numpy())
    chosen = rng.choice(others, SHORT_GRIDS + OVERLOADED_GRIDS, replace=False)
    short, overloaded = set(chosen[:SHORT_GRIDS].tolist()), set(chosen[SHORT_GRIDS:].tolist())
    population = _household_sizes(t, rng)

    households, members, linked_per_grid = [], [], []
    house_no: dict[str, int] = {}
    for i, g in enumerate(grids.itertuples(index=False)):
        n = int(g.households)
        # The grid's own party member (第六级) links households too, first.
        k = max(1, math.ceil(n / 10))
        weights = [1.0] * k
        if i in overloaded:
            k = max(2, k - 2)
            weights = [1.5] + [1.0] * (k - 1)
        grid_members = [dict(member_no=f"DY{len(members) + 1:04d}", name=g.member, phone=g.member_phone,
                             village=g.village, natural_village=g.natural_village, grid=g.code,
                             identity="正式党员")]
        for _ in range(k - 1):
            grid_members.append(dict(
                member_no=f"DY{len(members) + len(grid_members) + 1:04d}", name=names.person(),
                phone=names.phone(), village=g.village, natural_village=g.natural_village, grid=g.code,
                identity="预备党员" if rng.random() < 0.08 else "正式党员"))
        members += grid_members
        if g.village in behind:
            unlinked = 0 if rng.random() < 0.35 else int(round(n * rng.uniform(0.15, 0.45)))
        elif i in short:
            unlinked = int(rng.integers(1, 4))
        else:
            unlinked = 0
        linked = n - min(unlinked, n)
        shares = apportion(linked, weights[:k]) if linked else [0] * k
        owners = [m for m, s in zip(grid_members, shares) for _ in range(s)]
        unlinked_at = set(rng.choice(n, n - linked, replace=False).tolist()) if n > linked else set()
        queue = iter(owners)
        for j in range(n):
            house_no[g.natural_village] = house_no.get(g.natural_village, 0) + 1
            owner = None if j in unlinked_at else next(queue)
            households.append(dict(
                household_no=f"{g.code}-{j + 1:03d}", head=names.person(), phone=names.phone(),
                village=g.village, natural_village=g.natural_village, grid=g.code,
                house_no=f"{g.natural_village}{house_no[g.natural_village]}号",
                population=population[g.natural_village].pop(),
                member_no=owner["member_no"] if owner else None, member=owner["name"] if owner else None,
            ))
        linked_per_grid.append(linked)
    t.out["grids"] = grids.assign(linked=linked_per_grid)
    t.out["households"] = pd.DataFrame(households)
    t.out["party_members"] = pd.DataFrame(members)
    t.out["grid_assignments"] = _past_changes(t, rng, names)


#: Posts that changed hands during the campaign: (level, a staff row's index
#: among that level's rows, days after 10 March, reason).
CHANGES = (("党员联户", 40, 6, "原联户党员外出务工"), ("自然村干部", 7, 11, "原自然村干部生病住院"),
           ("下沉乡干部", 12, 15, "工作调整，改派下沉"), ("党员联户", 201, 19, "原联户党员年老体弱"))


def _past_changes(t: Township, rng: np.random.Generator, names: Names) -> pd.DataFrame:
    """The history of the posts that changed hands: the person now on the
    post replaced someone (who is no longer on the roster)."""
    staff = t.out["staff"]
    rows = []
    for level, index, days, reason in CHANGES:
        person = staff[staff["level"] == level].iloc[index]
        scope = " · ".join(str(person[k]) for k in ("village", "natural_village", "grid") if isinstance(person[k], str))
        when = pd.Timestamp("2022-03-10") + pd.Timedelta(days=days, hours=int(rng.integers(8, 18)),
                                                         minutes=int(rng.integers(0, 60)))
        rows.append(dict(time=when, staff_no=person["staff_no"], level=level, scope=scope,
                         old_name=names.person(), old_phone=names.phone(), new_name=person["name"],
                         new_phone=person["phone"], reason=reason, operator="乡党政办"))
    return pd.DataFrame(rows)


def _household_sizes(t: Township, rng: np.random.Generator) -> dict[str, list[int]]:
    """Each natural village's population shared among its households (1–7
    people each, adding up to the natural village's 人口)."""
    sizes = {}
    for nat in t.nat_rows:
        weights = rng.choice([1, 2, 3, 4, 5, 6, 7], nat["households"], p=[.06, .16, .2, .25, .18, .1, .05])
        rest = apportion(max(0, nat["population"] - nat["households"]), weights.tolist())
        sizes[nat["name"]] = [1 + r for r in rest]
    return sizes
