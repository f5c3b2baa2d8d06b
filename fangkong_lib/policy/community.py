"""Rules of the two community surfaces as data: gatherings (红白事报备,
``gatherings.toml``) and publicity work (宣传网, ``publicity.toml``).

Both files are validated when loaded; an error names the file and the entry.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from ..ledgers import PUBLICITY_CHANNELS
from . import POLICY_DIR, PolicyError

__all__ = [
    "GATHERINGS_POLICY", "PUBLICITY_POLICY", "FuneralRules", "GatheringRules", "PublicityPolicy", "PublicityTargets",
    "WeddingRules", "load_gathering_rules", "load_publicity_policy",
]

GATHERINGS_POLICY = POLICY_DIR / "gatherings.toml"
PUBLICITY_POLICY = POLICY_DIR / "publicity.toml"


@dataclass(frozen=True)
class WeddingRules:
    """红事缓办: reported ``report_days_ahead`` days before, at most
    ``max_people`` people and ``max_per_table`` per table."""

    kind: str
    report_days_ahead: int
    max_people: int
    max_per_table: int
    pledge: bool


@dataclass(frozen=True)
class FuneralRules:
    """白事简办: reported within ``report_within_hours`` of the death, at most
    ``max_people``, a village cadre supervising throughout, 分餐."""

    kind: str
    report_within_hours: int
    max_people: int
    supervised: bool
    separate_meals: bool
    pledge: bool


@dataclass(frozen=True)
class GatheringRules:
    wedding: WeddingRules
    funeral: FuneralRules

    def for_kind(self, kind: str) -> WeddingRules | FuneralRules | None:
        """The rules of a 类型 (红事 / 白事), None for another kind."""
        return next((r for r in (self.wedding, self.funeral) if r.kind == kind), None)


@dataclass(frozen=True)
class PublicityTargets:
    since: date
    window_days: int
    broadcasts_per_day: float
    leaflet_share: float
    door_visit_share: float
    wechat_member_share: float
    banners: int


@dataclass(frozen=True)
class PublicityPolicy:
    topics: tuple[str, ...]
    units: dict[str, str]
    targets: PublicityTargets


def _read(path: Path, what: str) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"{what}文件 {path.name}：无法读取：{exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{what}文件 {path.name}：不是有效的 TOML：{exc}") from None


def _number(raw: dict, key: str, where: str, *, integer: bool = True, positive: bool = True):
    value = raw.get(key)
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok or value < 0 or (positive and value == 0):
        kind = "正整数" if integer and positive else "非负整数" if integer else "正数" if positive else "非负数"
        raise PolicyError(f"{where}.{key} 应为{kind}（现为 {value!r}）")
    return value


def _flag(raw: dict, key: str, where: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise PolicyError(f"{where}.{key} 应为 true 或 false（现为 {value!r}）")
    return value


def _section(raw: dict, key: str, where: str) -> dict:
    body = raw.get(key)
    if not isinstance(body, dict):
        raise PolicyError(f"{where}：缺少 [{key}]")
    return body


def load_gathering_rules(path: Path | str = GATHERINGS_POLICY) -> GatheringRules:
    """Read and check ``gatherings.toml``; a :class:`PolicyError` names the file and entry."""
    return _gathering_rules(str(Path(path).resolve()))


@lru_cache(maxsize=4)
def _gathering_rules(path: str) -> GatheringRules:
    file = Path(path)
    raw = _read(file, "红白事规则")
    w = _section(raw, "wedding", f"红白事规则文件 {file.name}")
    f = _section(raw, "funeral", f"红白事规则文件 {file.name}")
    ww, fw = f"红白事规则文件 {file.name}：wedding", f"红白事规则文件 {file.name}：funeral"
    wedding = WeddingRules(w.get("kind", "红事"), _number(w, "report_days_ahead", ww, positive=False),
                           _number(w, "max_people", ww), _number(w, "max_per_table", ww), _flag(w, "pledge", ww))
    funeral = FuneralRules(f.get("kind", "白事"), _number(f, "report_within_hours", fw), _number(f, "max_people", fw),
                           _flag(f, "supervised", fw), _flag(f, "separate_meals", fw), _flag(f, "pledge", fw))
    if {wedding.kind, funeral.kind} != {"红事", "白事"}:
        raise PolicyError(f"红白事规则文件 {file.name}：kind 应分别为 红事 与 白事")
    return GatheringRules(wedding, funeral)


def load_publicity_policy(path: Path | str = PUBLICITY_POLICY) -> PublicityPolicy:
    """Read and check ``publicity.toml``; a :class:`PolicyError` names the file and entry."""
    return _publicity_policy(str(Path(path).resolve()))


@lru_cache(maxsize=4)
def _publicity_policy(path: str) -> PublicityPolicy:
    file = Path(path)
    where = f"宣传工作规则文件 {file.name}"
    raw = _read(file, "宣传工作规则")
    topics = raw.get("topics")
    if not isinstance(topics, list) or not topics or not all(isinstance(t, str) and t.strip() for t in topics):
        raise PolicyError(f"{where}：topics 应为非空的主题列表")
    if len(set(topics)) != len(topics):
        raise PolicyError(f"{where}：topics 中有重复的主题")
    units = raw.get("units", {})
    unknown = [k for k in units if k not in PUBLICITY_CHANNELS]
    if unknown:
        raise PolicyError(f"{where}：units 中有未知的宣传渠道：{'、'.join(unknown)}")
    t = _section(raw, "targets", where)
    tw = f"{where}：targets"
    since = t.get("since")
    if not isinstance(since, date):
        raise PolicyError(f"{tw}.since 应为日期（如 2022-03-10）")
    targets = PublicityTargets(
        since=since, window_days=_number(t, "window_days", tw),
        broadcasts_per_day=_number(t, "broadcasts_per_day", tw, integer=False, positive=False),
        leaflet_share=_number(t, "leaflet_share", tw, integer=False, positive=False),
        door_visit_share=_number(t, "door_visit_share", tw, integer=False, positive=False),
        wechat_member_share=_number(t, "wechat_member_share", tw, integer=False, positive=False),
        banners=_number(t, "banners", tw, positive=False),
    )
    return PublicityPolicy(tuple(t.strip() for t in topics), {str(k): str(v) for k, v in units.items()}, targets)
