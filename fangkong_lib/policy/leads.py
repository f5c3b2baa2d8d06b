"""Deadlines of leads (线索核查时限) per source, as data: ``policy/leads.toml``.

Each rule names its source, either a number of hours from receipt or "by the
end of the day received", and optionally the risk categories it is for (a
pushed close contact: 2 h to be under control). The file is checked on
load; an error names the file and the entry.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

from ..ledgers import LEAD_SOURCES, RISK_CATEGORIES
from . import PolicyError

__all__ = ["LEAD_POLICY", "LeadPolicy", "LeadRule", "load_lead_policy"]

LEAD_POLICY = Path(__file__).resolve().parent / "leads.toml"
#: Longest deadline a rule may give (a month): more is a typing error.
MAX_HOURS = 24 * 31
#: The last minute of a day, for rules "by the end of the day received".
END_OF_DAY = time(23, 59)
_KEYS = {"source", "hours", "end_of_day", "risk_categories", "task", "recent_negative_hours"}


@dataclass(frozen=True)
class LeadRule:
    """The deadline of one kind of lead.

    ``hours`` counts from receipt; with ``end_of_day`` the deadline is 23:59
    of the day received. ``risk_categories`` (empty: all) narrows the rule.
    ``recent_negative_hours``: a drug buyer with a negative test taken at
    most this long before the purchase raises no lead.
    """

    key: str
    source: str
    hours: float | None
    end_of_day: bool
    task: str
    risk_categories: tuple[str, ...] = ()
    recent_negative_hours: float | None = None

    def deadline(self, received: datetime) -> datetime:
        """The deadline of a lead received at ``received``."""
        if self.end_of_day:
            return datetime.combine(received.date(), END_OF_DAY)
        return received + timedelta(hours=self.hours)

    @property
    def limit_text(self) -> str:
        """The limit in words (24 小时, 当日)."""
        if self.end_of_day:
            return "当日"
        hours = self.hours
        return f"{hours:g} 小时"


@dataclass(frozen=True)
class LeadPolicy:
    """Every rule of the file, by key."""

    rules: tuple[LeadRule, ...]
    source_file: str = ""

    def rule_for(self, source: str, risk_category: str | None = None) -> LeadRule:
        """The rule of a lead: the source's rule for its risk category if
        there is one, else the source's general rule."""
        general = None
        for rule in self.rules:
            if rule.source != source:
                continue
            if rule.risk_categories and risk_category in rule.risk_categories:
                return rule
            if not rule.risk_categories:
                general = rule
        if general is None:
            raise PolicyError(f"线索时限文件没有来源「{source}」的时限")
        return general

    def deadline(self, source: str, risk_category: str | None, received: datetime) -> datetime:
        return self.rule_for(source, risk_category).deadline(received)

    def recent_negative_hours(self, source: str = "哨点购药") -> float:
        """How recent a negative test spares a drug buyer a lead (0: never)."""
        return self.rule_for(source).recent_negative_hours or 0.0


def _fail(name: str, where: str, why: str):
    raise PolicyError(f"线索时限文件 {name}：{where} {why}")


def _number(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float))


def _parse_rule(name: str, key: str, body) -> LeadRule:
    where = f"rules.{key}"
    if not isinstance(body, dict):
        _fail(name, where, "应为一个表（[rules.键]）")
    unknown = set(body) - _KEYS
    if unknown:
        _fail(name, where, f"未知的项：{'、'.join(sorted(unknown))}")
    source = body.get("source")
    if source not in LEAD_SOURCES:
        _fail(name, where, f"来源 {source!r} 未知（应为 {'、'.join(LEAD_SOURCES)} 之一）")
    hours, end_of_day = body.get("hours"), body.get("end_of_day", False)
    if not isinstance(end_of_day, bool):
        _fail(name, where, "end_of_day 应为 true 或 false")
    if (hours is None) == (not end_of_day):
        _fail(name, where, "应有且只有 hours 或 end_of_day = true 之一")
    if hours is not None and (not _number(hours) or not 0 < hours <= MAX_HOURS):
        _fail(name, where, f"hours {hours!r} 应为 0 至 {MAX_HOURS} 之间的小时数")
    categories = body.get("risk_categories", [])
    if not isinstance(categories, list) or any(c not in RISK_CATEGORIES for c in categories):
        _fail(name, where, f"risk_categories {categories!r} 应为风险类别列表（{'、'.join(RISK_CATEGORIES)}）")
    recent = body.get("recent_negative_hours")
    if recent is not None and (not _number(recent) or not 0 <= recent <= MAX_HOURS):
        _fail(name, where, f"recent_negative_hours {recent!r} 应为 0 至 {MAX_HOURS} 之间的小时数")
    task = body.get("task", "")
    if not isinstance(task, str) or not task.strip():
        _fail(name, where, "task（要做什么）不能为空")
    return LeadRule(key, source, None if hours is None else float(hours), end_of_day, task.strip(),
                    tuple(categories), None if recent is None else float(recent))


def load_lead_policy(path: Path | str = LEAD_POLICY) -> LeadPolicy:
    """Read and check the lead deadlines; errors name the file and entry."""
    return _load(str(Path(path).resolve()))


@lru_cache(maxsize=4)
def _load(path: str) -> LeadPolicy:
    name = Path(path).name
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"线索时限文件 {name}：无法读取：{exc}") from None
    rules = raw.get("rules")
    if not isinstance(rules, dict) or not rules:
        _fail(name, "rules", "缺失（应有 [rules.键] 若干）")
    parsed = tuple(_parse_rule(name, key, body) for key, body in rules.items())
    for source in LEAD_SOURCES:
        general = [r.key for r in parsed if r.source == source and not r.risk_categories]
        if len(general) != 1:
            _fail(name, "rules", f"来源「{source}」应有且只有一条不限风险类别的时限（现有 {len(general)} 条）")
        seen: set[str] = set()
        for rule in parsed:
            if rule.source == source:
                twice = seen & set(rule.risk_categories)
                if twice:
                    _fail(name, f"rules.{rule.key}", f"风险类别 {'、'.join(sorted(twice))} 在来源「{source}」下重复")
                seen |= set(rule.risk_categories)
    return LeadPolicy(parsed, name)
