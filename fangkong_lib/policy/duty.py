"""The duty roster's rules (值班值守) as data: ``policy/duty.toml``.

For each kind of staffed post (指挥部, 村指挥部, 卡口 …) the shifts it is
staffed in and the minimum people per shift, overall and by category of
person (a checkpoint shift needs a cadre, a police officer or medic, and a
volunteer). Validated on load; an error names the file and the entry.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

from ..ledgers import DUTY_POST_KINDS, DUTY_ROLES
from . import POLICY_DIR, PolicyError

__all__ = ["DUTY_POLICY", "DutyPolicy", "Need", "PostKind", "Shift", "load_duty_policy"]

DUTY_POLICY = POLICY_DIR / "duty.toml"


@dataclass(frozen=True)
class Shift:
    """One shift (班次): ``start`` and ``end`` are whole hours; a shift whose
    end is not after its start runs past midnight and belongs to the day it
    starts (夜班 23–7 of 4月7日 ends at 7:00 on 4月8日)."""

    name: str
    start: int
    end: int
    minimum: int | None = None

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    @property
    def hours(self) -> int:
        return (self.end - self.start) % 24 or 24

    def span(self, day: date) -> tuple[datetime, datetime]:
        """Start and end (exclusive) of this shift on ``day``."""
        begin = datetime.combine(day, time(self.start))
        return begin, begin + timedelta(hours=self.hours)

    @property
    def label(self) -> str:
        """``夜班 23:00–次日07:00``."""
        end = f"次日{self.end % 24:02d}:00" if self.crosses_midnight and self.end % 24 else f"{self.end:02d}:00"
        return f"{self.name} {self.start:02d}:00–{end}"


@dataclass(frozen=True)
class Need:
    """At least ``count`` people whose 身份 is one of ``roles``; ``label``
    names the group in a gap's reason (缺民警或医护)."""

    label: str
    roles: tuple[str, ...]
    count: int = 1


@dataclass(frozen=True)
class PostKind:
    """The rules of one kind of post."""

    kind: str
    shifts: tuple[Shift, ...]
    minimum: int
    needs: tuple[Need, ...] = ()

    def shift(self, name: str) -> Shift | None:
        return next((s for s in self.shifts if s.name == name), None)

    def minimum_of(self, shift: Shift) -> int:
        """People a shift needs at least: its own minimum, else the kind's,
        and never fewer than its groups together."""
        base = shift.minimum if shift.minimum is not None else self.minimum
        return max(base, sum(n.count for n in self.needs))


@dataclass(frozen=True)
class DutyPolicy:
    kinds: dict

    def kind(self, kind: str) -> PostKind:
        """The rules of ``kind``; a kind the file does not name has no shifts."""
        return self.kinds.get(kind) or PostKind(kind, (), 0)


def _fail(name: str, where: str, why: str):
    raise PolicyError(f"值班政策文件 {name}：{where} {why}")


def _count(name: str, where: str, value, *, positive: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (1 if positive else 0):
        _fail(name, where, f"{value!r} 应为{'正' if positive else '非负'}整数")
    return value


def _parse_kind(name: str, kind: str, body: dict) -> PostKind:
    where = f'kinds."{kind}"'
    if kind not in DUTY_POST_KINDS:
        _fail(name, where, f"未知点位类型（应为 {'、'.join(DUTY_POST_KINDS)} 之一）")
    if not isinstance(body, dict):
        _fail(name, where, "应为一个表")
    shifts = []
    for i, raw in enumerate(body.get("shifts", [])):
        at = f"{where}.shifts[{i}]"
        if not isinstance(raw, dict) or not str(raw.get("name", "")).strip():
            _fail(name, at, "应写明班次名 name")
        start, end = raw.get("start"), raw.get("end")
        if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start <= 23:
            _fail(name, at, f"start {start!r} 应为 0 至 23 的整点")
        if isinstance(end, bool) or not isinstance(end, int) or not 1 <= end <= 24:
            _fail(name, at, f"end {end!r} 应为 1 至 24 的整点")
        minimum = raw.get("minimum")
        if minimum is not None:
            minimum = _count(name, f"{at}.minimum", minimum)
        shifts.append(Shift(str(raw["name"]).strip(), start, end, minimum))
    names = [s.name for s in shifts]
    if len(set(names)) != len(names):
        _fail(name, f"{where}.shifts", f"班次名重复：{names}")
    covered: dict[int, str] = {}
    for s in shifts:
        for h in range(s.start, s.start + s.hours):
            if h % 24 in covered:
                _fail(name, f"{where}.shifts", f"班次 {covered[h % 24]} 与 {s.name} 在 {h % 24}:00 重叠")
            covered[h % 24] = s.name
    minimum = _count(name, f"{where}.minimum", body.get("minimum", 0))
    needs, seen = [], {}
    for i, raw in enumerate(body.get("need", [])):
        at = f"{where}.need[{i}]"
        roles = raw.get("roles") if isinstance(raw, dict) else None
        if not roles or not isinstance(roles, list):
            _fail(name, at, "应列出身份 roles")
        for role in roles:
            if role not in DUTY_ROLES:
                _fail(name, at, f"未知身份 {role!r}（应为 {'、'.join(DUTY_ROLES)} 之一）")
            if role in seen:
                _fail(name, at, f"身份 {role} 已在 {seen[role]} 中（各组不能共用身份）")
            seen[role] = raw.get("label") or "、".join(roles)
        label = str(raw.get("label") or "或".join(roles))
        needs.append(Need(label, tuple(roles), _count(name, f"{at}.count", raw.get("count", 1), positive=True)))
    return PostKind(kind, tuple(shifts), minimum, tuple(needs))


def load_duty_policy(path: Path | str = DUTY_POLICY) -> DutyPolicy:
    """Read and check the duty rules; errors name the file and entry."""
    return _load(str(Path(path).resolve()))


@lru_cache(maxsize=4)
def _load(path: str) -> DutyPolicy:
    name = Path(path).name
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"值班政策文件 {name}：无法读取：{exc}") from None
    kinds = raw.get("kinds")
    if not isinstance(kinds, dict) or not kinds:
        _fail(name, "kinds", "缺失：应按点位类型写明班次与最少人数")
    return DutyPolicy({kind: _parse_kind(name, kind, body) for kind, body in kinds.items()})
