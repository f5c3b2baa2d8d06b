"""What the volunteers must cover (党员志愿者, one fist) as data:
``policy/volunteers.toml``.

Every household under home isolation needs a volunteer in each of the
listed posts (代购员 and 守门员 in Chengjiao); volunteers on checkpoint
shifts are the duty roster's rows of the listed 身份. Validated on load; an
error names the file and the entry.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..ledgers import DUTY_POST_KINDS, DUTY_ROLES, MEASURES, VOLUNTEER_POSTS
from . import POLICY_DIR, PolicyError

__all__ = ["VOLUNTEER_POLICY", "VolunteerPolicy", "load_volunteer_policy"]

VOLUNTEER_POLICY = POLICY_DIR / "volunteers.toml"


@dataclass(frozen=True)
class VolunteerPolicy:
    """The rules of :file:`volunteers.toml`.

    ``household_measures``: the measures of the day that make a household
    one that must be covered; ``household_roles``: the posts each such
    household needs (岗位); ``checkpoint_kind``: the kind of duty post that is
    a checkpoint; ``shift_roles``: the 身份 of a volunteer on the duty roster;
    ``window_days``: a shift this many days before or after a day puts the
    volunteer on the rotation (posted) that day;
    ``max_hours``: the most hours one entry of service time may add.
    """

    household_measures: tuple[str, ...] = ("居家隔离",)
    household_roles: tuple[str, ...] = ("代购员", "守门员")
    checkpoint_kind: str = "卡口"
    shift_roles: tuple[str, ...] = ("志愿者",)
    window_days: int = 7
    max_hours: float = 24.0


def _fail(name: str, where: str, why: str):
    raise PolicyError(f"志愿者政策文件 {name}：{where} {why}")


def _names(name: str, where: str, value, allowed) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        _fail(name, where, "应为非空的文字列表")
    unknown = [v for v in value if v not in allowed]
    if unknown:
        _fail(name, where, f"未知取值 {'、'.join(unknown)}（应为 {'、'.join(allowed)} 之一）")
    if len(set(value)) != len(value):
        _fail(name, where, "有重复项")
    return tuple(value)


def load_volunteer_policy(path: Path | str = VOLUNTEER_POLICY) -> VolunteerPolicy:
    """Read and check the volunteer rules; errors name the file and entry."""
    return _load(str(Path(path).resolve()))


@lru_cache(maxsize=4)
def _load(path: str) -> VolunteerPolicy:
    name = Path(path).name
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"志愿者政策文件 {name}：无法读取：{exc}") from None
    household = raw.get("household")
    if not isinstance(household, dict):
        _fail(name, "[household]", "缺失：应写明居家隔离户的管控措施与必须配备的岗位")
    checkpoints = raw.get("checkpoints", {})
    hours = raw.get("hours", {})
    kind = checkpoints.get("kind", "卡口")
    if kind not in DUTY_POST_KINDS:
        _fail(name, "checkpoints.kind", f"{kind!r} 不是点位类型（应为 {'、'.join(DUTY_POST_KINDS)} 之一）")
    window = checkpoints.get("window_days", 7)
    if isinstance(window, bool) or not isinstance(window, int) or window < 0:
        _fail(name, "checkpoints.window_days", f"{window!r} 应为非负整数")
    most = hours.get("max_per_entry", 24)
    if isinstance(most, bool) or not isinstance(most, (int, float)) or not 0 < most <= 24:
        _fail(name, "hours.max_per_entry", f"{most!r} 应为 0 到 24 之间的小时数")
    return VolunteerPolicy(
        household_measures=_names(name, "household.measures", household.get("measures"), MEASURES),
        household_roles=_names(name, "household.roles", household.get("roles"), VOLUNTEER_POSTS),
        checkpoint_kind=kind,
        shift_roles=_names(name, "checkpoints.roles", checkpoints.get("roles", ["志愿者"]), DUTY_ROLES),
        window_days=window,
        max_hours=float(most),
    )
