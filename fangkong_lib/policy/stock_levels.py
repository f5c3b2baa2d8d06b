"""Minimum stock levels of donated supplies (最低库存) and the expiry warning
period, as data: ``policy/stock/minimum_stock.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from . import PolicyError

STOCK_POLICY = Path(__file__).resolve().parent / "stock" / "minimum_stock.toml"


@dataclass(frozen=True)
class StockPolicy:
    """Minimum quantity per item (``minimum``), its unit (``units``) and the
    days ahead within which stock is flagged as expiring."""

    minimum: dict[str, float] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    expiry_warning_days: int = 30


def load_stock_policy(path: Path | str = STOCK_POLICY) -> StockPolicy:
    """Read and check the stock policy file; errors name the file and entry."""
    return _load(str(Path(path).resolve()))


@lru_cache(maxsize=4)
def _load(path: str) -> StockPolicy:
    name = Path(path).name
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"库存政策文件 {name}：无法读取：{exc}") from None
    days = raw.get("expiry_warning_days", 30)
    if not isinstance(days, int) or days < 0:
        raise PolicyError(f"库存政策文件 {name}：expiry_warning_days 应为非负整数")
    minimum, units = {}, {}
    for item, body in raw.get("minimum", {}).items():
        quantity = body.get("quantity") if isinstance(body, dict) else body
        if isinstance(quantity, bool) or not isinstance(quantity, (int, float)) or quantity < 0:
            raise PolicyError(f"库存政策文件 {name}：minimum.{item} 的 quantity 应为非负数")
        minimum[item] = float(quantity)
        if isinstance(body, dict) and body.get("unit"):
            units[item] = str(body["unit"])
    return StockPolicy(minimum, units, days)
