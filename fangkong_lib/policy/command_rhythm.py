"""The command line's daily rhythm as data: ``policy/command/rhythm.toml``
(which meetings each kind of unit holds every day, at what time, and the
attendance below which a meeting is flagged)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import time
from functools import lru_cache
from pathlib import Path

from ..ledgers import get_ledger
from . import PolicyError

__all__ = ["RHYTHM_POLICY", "Rhythm", "RhythmMeeting", "load_rhythm"]

RHYTHM_POLICY = Path(__file__).resolve().parent / "command" / "rhythm.toml"


@dataclass(frozen=True)
class RhythmMeeting:
    """One meeting of the daily rhythm: its kind (会议类型), the kind of unit
    that holds it (指挥体系的类别) and its time of day."""

    kind: str
    units: str
    at: time


@dataclass(frozen=True)
class Rhythm:
    """The daily meetings, the minimum attendance (a share of those
    expected), the grace after a meeting's time before it counts as not
    held, and the default days a decision gets to be done."""

    meetings: tuple[RhythmMeeting, ...]
    min_attendance: float = 0.8
    grace_minutes: int = 60
    task_days: int = 1


def load_rhythm(path: Path | str = RHYTHM_POLICY) -> Rhythm:
    """Read and check the rhythm file; errors name the file and the entry."""
    return _load(str(Path(path).resolve()))


@lru_cache(maxsize=4)
def _load(path: str) -> Rhythm:
    name = Path(path).name
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"会议制度文件 {name}：无法读取：{exc}") from None
    share = raw.get("min_attendance", 0.8)
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 1:
        raise PolicyError(f"会议制度文件 {name}：min_attendance 应为 0 到 1 之间的比例（如 0.8）")
    numbers = {}
    for key, default in (("grace_minutes", 60), ("task_days", 1)):
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise PolicyError(f"会议制度文件 {name}：{key} 应为非负整数")
        numbers[key] = value
    kinds = get_ledger("meetings")["kind"].choices
    unit_kinds = get_ledger("command_units")["kind"].choices
    meetings = []
    for n, body in enumerate(raw.get("meeting", []), start=1):
        where = f"第 {n} 个 [[meeting]]"
        if not isinstance(body, dict):
            raise PolicyError(f"会议制度文件 {name}：{where} 应为表")
        if body.get("kind") not in kinds:
            raise PolicyError(f"会议制度文件 {name}：{where} 的 kind「{body.get('kind')}」应为 {'、'.join(kinds)} 之一")
        if body.get("units") not in unit_kinds:
            raise PolicyError(f"会议制度文件 {name}：{where} 的 units「{body.get('units')}」应为 "
                              f"{'、'.join(unit_kinds)} 之一")
        try:
            at = time.fromisoformat(str(body.get("at")))
        except ValueError:
            raise PolicyError(f"会议制度文件 {name}：{where} 的 at「{body.get('at')}」应为 HH:MM 时刻") from None
        meetings.append(RhythmMeeting(body["kind"], body["units"], at))
    if not meetings:
        raise PolicyError(f"会议制度文件 {name}：至少要有一个 [[meeting]]")
    return Rhythm(tuple(meetings), float(share), **numbers)
