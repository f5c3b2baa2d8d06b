"""Donated supplies (企业红色后援队): receipts worth about 100,000 yuan from
20+ donors, and what was issued from the township store."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from .context import Township
from .draws import pick, random_day

DONATION_ITEMS = (
    # item, unit, unit value (yuan)
    ("医用外科口罩", "盒", 25.0),
    ("N95口罩", "盒", 80.0),
    ("75%酒精", "瓶", 12.0),
    ("84消毒液", "桶", 30.0),
    ("矿泉水", "箱", 24.0),
    ("牛奶", "箱", 55.0),
    ("方便面", "箱", 45.0),
    ("防护服", "套", 35.0),
)
DONOR_FIRMS = (
    "郸城县某纺织有限公司", "城郊乡某面业有限公司", "郸城县某食品厂", "某乳业郸城经销处",
    "郸城县某建材公司", "城郊乡某养殖合作社", "郸城县某医药连锁", "某饮用水郸城分公司",
    "郸城县某商贸公司", "城郊乡某农机合作社", "郸城县某物流公司", "郸城县某服装厂",
    "郸城县某家具厂", "城郊乡某超市", "郸城县某农资公司", "郸城县某电动车商行",
    "郸城县某粮油公司", "城郊乡某砖厂", "郸城县某印刷厂", "郸城县某汽修厂",
    "郸城县某酒店", "城郊乡某果蔬合作社",
)


def add_supplies(t: Township) -> None:
    """捐赠物资 receipts and their issues (发放)."""
    donations = _donations(t)
    t.out["donations"] = pd.DataFrame(donations)
    t.out["distributions"] = pd.DataFrame(_distributions(t, donations))


def _donations(t: Township) -> list[dict]:
    rng, names, today = t.rng, t.names, t.today
    donations = []
    for i, donor in enumerate(DONOR_FIRMS):
        for k in range(int(rng.integers(1, 3))):
            item, unit, price = DONATION_ITEMS[int(rng.integers(len(DONATION_ITEMS)))]
            qty = float(int(rng.integers(20, 160)))
            donations.append(dict(
                voucher_no=f"JZ2022-{len(donations) + 1:03d}", date=random_day(rng, date(2022, 3, 12), today - timedelta(days=1)),
                donor=donor.replace("城郊乡", t.name), donor_type="单位", contact=names.person(), contact_phone=names.phone(),
                directed="非定向", directed_to="", item=item, spec="", unit=unit, quantity=qty,
                value=round(qty * price, 2),
                expiry=random_day(rng, today + timedelta(days=5), date(2023, 6, 30)) if item in ("牛奶", "方便面", "矿泉水") else None,
                receiver="乡党政办", supervisor="乡纪委", location="乡政府物资库",
            ))
    total_value = sum(d["value"] for d in donations)
    scale = 102_000 / total_value  # about 100,000 yuan in all
    for d in donations:
        d["quantity"] = float(max(5, round(d["quantity"] * scale)))
        price = next(p for it, _, p in DONATION_ITEMS if it == d["item"])
        d["value"] = round(d["quantity"] * price, 2)
        if d["item"] == "牛奶":  # keeps about six weeks: early deliveries are short-dated by the demo day
            d["expiry"] = d["date"] + timedelta(days=45)
    # A near-date batch sent straight to the health centre: the store issues
    # first-expired-first-out, so without it whether a short-dated lot is left
    # on the demo day would be chance, and the expiry warning might show nothing.
    donations.append(dict(
        voucher_no=f"JZ2022-{len(donations) + 1:03d}", date=today - timedelta(days=3), donor=DONOR_FIRMS[0].replace("城郊乡", t.name),
        donor_type="单位", contact=donations[0]["contact"], contact_phone=donations[0]["contact_phone"],
        directed="定向", directed_to="乡卫生院", item="牛奶", spec="临期", unit="箱", quantity=12.0,
        value=round(12.0 * next(p for it, _, p in DONATION_ITEMS if it == "牛奶"), 2),
        expiry=today + timedelta(days=14), receiver="乡卫生院", supervisor="乡纪委", location="乡卫生院",
    ))
    return donations


def _distributions(t: Township, donations: list[dict]) -> list[dict]:
    rng, names, today = t.rng, t.names, t.today
    dists = []
    stock: dict[str, float] = {}
    for d in sorted(donations, key=lambda r: r["date"]):
        stock[d["item"]] = stock.get(d["item"], 0) + d["quantity"]
    for item, qty in sorted(stock.items()):
        given = 0.0
        for j in range(int(rng.integers(2, 6))):
            q = float(int(qty * rng.uniform(0.05, 0.2)))
            if q <= 0 or given + q > qty:
                continue
            given += q
            v = int(rng.integers(t.n_villages))
            rtype = pick(rng, ("卡点", "村", "隔离户", "志愿者"))
            dists.append(dict(
                voucher_no=f"CK2022-{len(dists) + 1:03d}", date=random_day(rng, date(2022, 3, 20), today),
                item=item, quantity=q, unit=next(u for it, u, _ in DONATION_ITEMS if it == item),
                recipient_type=rtype,
                recipient=pick(rng, t.checkpoints) if rtype == "卡点" else t.village_names[v],
                village=t.village_names[v], taker=names.person(), handler="乡党政办", published=today,
                location="乡政府物资库",
            ))
    return dists
