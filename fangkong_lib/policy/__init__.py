"""Control-rule regimes (管控政策) as dated data files.

Each ``*.toml`` file in this folder (except ``five_in_one.toml``) is one
regime: a validity period, a jurisdiction, and for each origin risk category
(来源地风险类别) the measure(s), their length, the test days and the number of
temperature checks a day. Files are validated on load; an error names the
file and the entry. Changing a rule is editing a file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from ..ledgers import MEASURES, RISK_CATEGORIES

POLICY_DIR = Path(__file__).resolve().parent
LEVELS = {"national": 0, "province": 1, "city": 2, "county": 3}


class PolicyError(ValueError):
    """A regime file that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Step:
    measure: str
    days: int


@dataclass(frozen=True)
class Rule:
    category: str
    steps: tuple[Step, ...]
    test_days: tuple[int, ...]
    health_code: str = ""
    note: str = ""

    @property
    def total_days(self) -> int:
        return sum(s.days for s in self.steps)

    @property
    def measure(self) -> str:
        """The measure label, e.g. ``集中隔离`` or ``集中隔离+居家隔离``; ``无``."""
        return "+".join(s.measure for s in self.steps) if self.steps else "无"

    def measure_on_day(self, day_no: int) -> str:
        """The measure in force on day ``day_no`` (1-based) of the plan."""
        end = 0
        for step in self.steps:
            end += step.days
            if 1 <= day_no <= end:
                return step.measure
        return "无"


@dataclass(frozen=True)
class Regime:
    key: str
    name: str
    jurisdiction: str
    level: str
    valid_from: date
    valid_to: date | None
    temperature_checks_per_day: int
    fever_threshold: float
    rules: dict
    source: str = ""

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def rule(self, category: str) -> Rule:
        try:
            return self.rules[category]
        except KeyError:
            raise PolicyError(f"{self.name}: 没有风险类别 {category!r} 的规定") from None


def _fail(path: Path, where: str, why: str):
    raise PolicyError(f"政策文件 {path.name}：{where} {why}")


def parse_regime(path: Path) -> Regime:
    """Read and validate one regime file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        _fail(path, "", f"不是有效的 TOML：{exc}")
    for key in ("key", "name", "jurisdiction", "level", "valid_from", "rules"):
        if key not in raw:
            _fail(path, key, "缺失")
    if raw["level"] not in LEVELS:
        _fail(path, "level", f"应为 {', '.join(LEVELS)} 之一")
    valid_from, valid_to = raw["valid_from"], raw.get("valid_to")
    if not isinstance(valid_from, date) or (valid_to is not None and not isinstance(valid_to, date)):
        _fail(path, "valid_from/valid_to", "应为日期，如 2022-03-22")
    if valid_to is not None and valid_to < valid_from:
        _fail(path, "valid_to", "早于 valid_from")
    rules = {}
    for category, body in raw["rules"].items():
        where = f"rules.{category}"
        if category not in RISK_CATEGORIES:
            _fail(path, where, f"未知风险类别（应为 {'、'.join(RISK_CATEGORIES)} 之一）")
        steps = []
        for step in body.get("steps", []):
            measure, days = step.get("measure"), step.get("days")
            if measure not in MEASURES or measure == "无":
                _fail(path, where, f"管控措施 {measure!r} 未知")
            if not isinstance(days, int) or days <= 0:
                _fail(path, where, f"天数 {days!r} 应为正整数")
            steps.append(Step(measure, days))
        total = sum(s.days for s in steps)
        tests = body.get("test_days", [])
        if any(not isinstance(d, int) or d < 1 or d > max(total, 1) for d in tests):
            _fail(path, where, f"核酸日 {tests} 应在第 1 至第 {total} 天之间")
        if list(tests) != sorted(set(tests)):
            _fail(path, where, "核酸日应递增且不重复")
        rules[category] = Rule(category, tuple(steps), tuple(tests), body.get("health_code", ""), body.get("note", ""))
    missing = set(RISK_CATEGORIES) - set(rules)
    if missing:
        _fail(path, "rules", f"缺少风险类别：{'、'.join(sorted(missing))}")
    return Regime(
        key=raw["key"],
        name=raw["name"],
        jurisdiction=raw["jurisdiction"],
        level=raw["level"],
        valid_from=valid_from,
        valid_to=valid_to,
        temperature_checks_per_day=int(raw.get("temperature_checks_per_day", 2)),
        fever_threshold=float(raw.get("fever_threshold", 37.3)),
        rules=rules,
        source=path.name,
    )


def load_regimes(folder: Path | str = POLICY_DIR) -> tuple[Regime, ...]:
    """All regimes in ``folder``, validated; overlapping regimes of one
    jurisdiction are an error."""
    return _load_regimes(str(Path(folder).resolve()))


def forget_loaded_regimes() -> None:
    """Read the regime files again on the next :func:`load_regimes` (after
    they changed while the process runs)."""
    _load_regimes.cache_clear()


@lru_cache(maxsize=8)
def _load_regimes(folder: str) -> tuple[Regime, ...]:
    regimes = [
        parse_regime(p) for p in sorted(Path(folder).glob("*.toml")) if p.name != "five_in_one.toml"
    ]
    keys = [r.key for r in regimes]
    if len(set(keys)) != len(keys):
        raise PolicyError(f"政策文件中 key 重复：{keys}")
    for a in regimes:
        for b in regimes:
            if a.key < b.key and a.jurisdiction == b.jurisdiction:
                a_end = a.valid_to or date.max
                b_end = b.valid_to or date.max
                if a.valid_from <= b_end and b.valid_from <= a_end:
                    raise PolicyError(f"政策 {a.source} 与 {b.source} 的有效期重叠（同一辖区 {a.jurisdiction}）")
    return tuple(regimes)


def regime_for(
    day: date,
    *,
    jurisdiction: str = "河南省",
    forced: str | None = None,
    regimes: tuple[Regime, ...] | None = None,
) -> Regime:
    """The regime in force on ``day``: the most local one covering the date
    (a province's own rules before the national ones), or ``forced`` by key."""
    regimes = regimes if regimes is not None else load_regimes()
    if forced:
        for regime in regimes:
            if regime.key == forced:
                return regime
        raise PolicyError(f"未知政策 {forced!r}（可用：{', '.join(r.key for r in regimes)}）")
    candidates = [
        r for r in regimes if r.covers(day) and r.jurisdiction in (jurisdiction, "全国")
    ]
    if not candidates:
        raise PolicyError(f"{day.isoformat()} 没有适用的管控政策")
    return max(candidates, key=lambda r: LEVELS[r.level])


def five_in_one_roles(folder: Path | str = POLICY_DIR) -> tuple[str, ...]:
    """The 五包一 roles (data, not code)."""
    raw = tomllib.loads((Path(folder) / "five_in_one.toml").read_text(encoding="utf-8"))
    roles = raw.get("roles", [])
    if len(roles) != 5:
        raise PolicyError(f"five_in_one.toml：应有 5 个角色，实际 {len(roles)} 个")
    return tuple(roles)
