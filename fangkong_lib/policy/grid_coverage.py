"""Household coverage by party members (党员联户) as data:
``policy/grids/coverage.toml`` (households per member, the overload
threshold, the share below which a grid or village is behind)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import PolicyError

__all__ = ["COVERAGE_POLICY", "CoveragePolicy", "load_coverage_policy"]

COVERAGE_POLICY = Path(__file__).resolve().parent / "grids" / "coverage.toml"


@dataclass(frozen=True)
class CoveragePolicy:
    """``households_per_member``: what a member usually links;
    ``member_max_households``: above it a member is overloaded (超负荷);
    ``behind_below``: coverage under this share is 滞后."""

    households_per_member: int = 10
    member_max_households: int = 15
    behind_below: float = 0.9


def load_coverage_policy(path: Path | str = COVERAGE_POLICY) -> CoveragePolicy:
    """Read and check the coverage policy; errors name the file and entry."""
    return _load(str(Path(path).resolve()))


@lru_cache(maxsize=4)
def _load(path: str) -> CoveragePolicy:
    name = Path(path).name
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"联户政策文件 {name}：无法读取：{exc}") from None
    unknown = set(raw) - {"households_per_member", "member_max_households", "behind_below"}
    if unknown:
        raise PolicyError(f"联户政策文件 {name}：未知条目 {'、'.join(sorted(unknown))}")
    values = {}
    for key in ("households_per_member", "member_max_households"):
        value = raw.get(key, getattr(CoveragePolicy, key))
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise PolicyError(f"联户政策文件 {name}：{key} 应为正整数")
        values[key] = value
    if values["member_max_households"] < values["households_per_member"]:
        raise PolicyError(f"联户政策文件 {name}：member_max_households 不应小于 households_per_member")
    behind = raw.get("behind_below", CoveragePolicy.behind_below)
    if isinstance(behind, bool) or not isinstance(behind, (int, float)) or not 0 < behind <= 1:
        raise PolicyError(f"联户政策文件 {name}：behind_below 应为 0 到 1 之间的比例")
    return CoveragePolicy(values["households_per_member"], values["member_max_households"], float(behind))
