"""Control-rule regimes (管控政策) as dated data files.

Each ``*.toml`` file in this folder (except ``five_in_one.toml``,
``places.toml``, ``duty.toml``, the duty roster's rules read by :mod:`.duty`,
and ``leads.toml``, the deadlines of leads read by :mod:`.leads`) is one
regime: a validity period, a jurisdiction, and for
each origin risk category (来源地风险类别) the measure(s), their length, the
test days, the number of temperature checks a day and the fever threshold.
Files are validated on load; an error names the file and the entry. Changing
a rule is editing a file.

A person is under the rules of the place they return to: the most local
regime in force on the arrival day wins (a township's own practice before
its province's, a province's before the national edition), category by
category. A regime marked ``partial = true`` leaves the categories it does not
list to the next regime out, and a rule marked ``documented = false`` (filled
in by analogy, not from a published text) is only used when no regime in
force has a documented rule for that category. ``places.toml`` says which
jurisdiction lies within which.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from ..config import TOWNSHIP_NAME
from ..ledgers import MEASURES, RISK_CATEGORIES

__all__ = [
    "DEFAULT_JURISDICTION", "NOT_PLAN_RULES", "POLICY_DIR", "PolicyError", "Regime", "Rule", "Step", "fever_threshold",
    "fever_thresholds", "five_in_one_roles", "forget_loaded_regimes", "jurisdiction_chain", "load_regimes",
    "parse_regime", "regime_for", "regimes_in_force", "rule_for",
]

POLICY_DIR = Path(__file__).resolve().parent
LEVELS = {"national": 0, "province": 1, "city": 2, "county": 3, "township": 4}
#: The jurisdiction of every national regime, the outermost place.
NATION = "全国"
#: Rules apply to the place the workbook serves unless a caller names another.
DEFAULT_JURISDICTION = TOWNSHIP_NAME
#: Files in the policy folder that are not regimes.
NOT_REGIMES = frozenset({"five_in_one.toml", "places.toml", "duty.toml", "leads.toml"})
# gatherings (红白事) and publicity (宣传网) rules: loaded by .community
NOT_REGIMES |= {"gatherings.toml", "publicity.toml"}
#: Files in the policy folder that control plans do not depend on (the duty
#: roster's rules, the deadlines of leads, gatherings and publicity): a change
#: there recomputes no plan.
NOT_PLAN_RULES = frozenset({"duty.toml", "leads.toml", "gatherings.toml", "publicity.toml"})
#: ... and the volunteers' rules (policy/volunteers.py reads them).
NOT_REGIMES |= {"volunteers.toml"}
#: The measure that always counts from the arrival day (三天两检: two tests at
#: least 24 h apart within 3 days of arrival), whatever 填平补齐 would say.
ARRIVAL_MEASURE = "三天两检"


class PolicyError(ValueError):
    """A regime file that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Step:
    measure: str
    days: int


@dataclass(frozen=True)
class Rule:
    """The control of one risk category under one regime.

    ``test_days`` are day numbers of the plan (day 1 = the day the person
    left the risk area, or the arrival day when ``from_arrival``).
    ``documented`` is False for a rule filled in by analogy, not taken from a
    published text.
    """

    category: str
    steps: tuple[Step, ...]
    test_days: tuple[int, ...]
    health_code: str = ""
    note: str = ""
    documented: bool = True

    @property
    def total_days(self) -> int:
        return sum(s.days for s in self.steps)

    @property
    def measure(self) -> str:
        """The measure label, e.g. ``集中隔离`` or ``集中隔离+居家隔离``; ``无``."""
        return "+".join(s.measure for s in self.steps) if self.steps else "无"

    @property
    def from_arrival(self) -> bool:
        """Whether day 1 is the arrival day (三天两检), not the day the person
        left the risk area (填平补齐)."""
        return tuple(s.measure for s in self.steps) == (ARRIVAL_MEASURE,)

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
    partial: bool = False

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def rule(self, category: str) -> Rule:
        try:
            return self.rules[category]
        except KeyError:
            raise PolicyError(f"{self.name}: 没有风险类别 {category!r} 的规定") from None


def _fail(path: Path, where: str, why: str):
    raise PolicyError(f"政策文件 {path.name}：{where} {why}")


def _parse_rule(path: Path, category: str, body: dict) -> Rule:
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
    if steps and tests[:1] != [1]:
        _fail(path, where, f"核酸日 {tests} 应从第 1 天开始（落地核酸）")
    if ARRIVAL_MEASURE in (s.measure for s in steps):
        if len(steps) != 1 or total != 3 or len(tests) != 2:
            _fail(path, where, f"{ARRIVAL_MEASURE}应为单独一步、3 天、2 次核酸（间隔 24 小时以上）")
    documented = body.get("documented", True)
    if not isinstance(documented, bool):
        _fail(path, where, "documented 应为 true 或 false")
    return Rule(category, tuple(steps), tuple(tests), body.get("health_code", ""), body.get("note", ""),
                documented)


def parse_regime(path: Path) -> Regime:
    """Read and validate one regime file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        _fail(path, "", f"不是有效的 TOML：{exc}")
    for key in ("key", "name", "jurisdiction", "level", "valid_from", "fever_threshold", "rules"):
        if key not in raw:
            _fail(path, key, "缺失")
    if raw["level"] not in LEVELS:
        _fail(path, "level", f"应为 {', '.join(LEVELS)} 之一")
    if (raw["level"] == "national") != (raw["jurisdiction"] == NATION):
        _fail(path, "jurisdiction", f"全国性政策（level = national）的辖区应为“{NATION}”，反之亦然")
    valid_from, valid_to = raw["valid_from"], raw.get("valid_to")
    if not isinstance(valid_from, date) or (valid_to is not None and not isinstance(valid_to, date)):
        _fail(path, "valid_from/valid_to", "应为日期，如 2022-03-22")
    if valid_to is not None and valid_to < valid_from:
        _fail(path, "valid_to", "早于 valid_from")
    fever = raw["fever_threshold"]
    if isinstance(fever, bool) or not isinstance(fever, (int, float)) or not 36 <= fever <= 40:
        _fail(path, "fever_threshold", f"{fever!r} 应为 36 至 40 之间的体温（℃）")
    partial = raw.get("partial", False)
    if not isinstance(partial, bool):
        _fail(path, "partial", "应为 true 或 false")
    rules = {category: _parse_rule(path, category, body) for category, body in raw["rules"].items()}
    missing = set(RISK_CATEGORIES) - set(rules)
    if missing and not partial:
        _fail(path, "rules", f"缺少风险类别：{'、'.join(sorted(missing))}（只规定部分类别的政策应写 partial = true）")
    return Regime(
        key=raw["key"],
        name=raw["name"],
        jurisdiction=raw["jurisdiction"],
        level=raw["level"],
        valid_from=valid_from,
        valid_to=valid_to,
        temperature_checks_per_day=int(raw.get("temperature_checks_per_day", 2)),
        fever_threshold=float(fever),
        rules=rules,
        source=path.name,
        partial=partial,
    )


def load_regimes(folder: Path | str = POLICY_DIR) -> tuple[Regime, ...]:
    """All regimes in ``folder``, validated; overlapping regimes of one
    jurisdiction are an error."""
    return _load_regimes(str(Path(folder).resolve()))


def forget_loaded_regimes() -> None:
    """Read the regime files again on the next :func:`load_regimes` (after
    they changed while the process runs)."""
    _load_regimes.cache_clear()
    _load_places.cache_clear()


@lru_cache(maxsize=8)
def _load_regimes(folder: str) -> tuple[Regime, ...]:
    regimes = [
        parse_regime(p) for p in sorted(Path(folder).glob("*.toml")) if p.name not in NOT_REGIMES
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


@lru_cache(maxsize=8)
def _load_places(folder: str) -> dict[str, str]:
    path = Path(folder) / "places.toml"
    if not path.exists():
        return {}
    try:
        within = tomllib.loads(path.read_text(encoding="utf-8")).get("within", {})
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"政策文件 places.toml：不是有效的 TOML：{exc}") from None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in within.items()):
        raise PolicyError("政策文件 places.toml：[within] 应为 “辖区” = “上级辖区”")
    return dict(within)


def jurisdiction_chain(place: str, folder: Path | str = POLICY_DIR) -> tuple[str, ...]:
    """``place`` and every jurisdiction it lies within, nearest first, ending
    with 全国 (from ``places.toml``).

    >>> jurisdiction_chain("城郊乡")
    ('城郊乡', '郸城县', '周口市', '河南省', '全国')
    """
    within = _load_places(str(Path(folder).resolve()))
    chain = [place]
    while chain[-1] != NATION:
        parent = within.get(chain[-1])
        if parent is None:
            raise PolicyError(f"未知辖区 {chain[-1]!r}：请在 policy/places.toml 的 [within] 中写明它属于哪里")
        if parent in chain:
            raise PolicyError(f"policy/places.toml：辖区隶属关系成环（{' → '.join(chain + [parent])}）")
        chain.append(parent)
    return tuple(chain)


def regimes_in_force(
    day: date,
    *,
    jurisdiction: str = DEFAULT_JURISDICTION,
    regimes: tuple[Regime, ...] | None = None,
) -> list[Regime]:
    """The regimes covering ``day`` for a place, most local first."""
    regimes = regimes if regimes is not None else load_regimes()
    chain = jurisdiction_chain(jurisdiction)
    found = [r for r in regimes if r.covers(day) and r.jurisdiction in chain]
    return sorted(found, key=lambda r: chain.index(r.jurisdiction))


def _forced(key: str, regimes: tuple[Regime, ...]) -> Regime:
    for regime in regimes:
        if regime.key == key:
            return regime
    raise PolicyError(f"未知政策 {key!r}（可用：{', '.join(r.key for r in regimes)}）")


def regime_for(
    day: date,
    *,
    jurisdiction: str = DEFAULT_JURISDICTION,
    forced: str | None = None,
    regimes: tuple[Regime, ...] | None = None,
) -> Regime:
    """The regime in force on ``day``: the most local one covering the date
    (the township's own practice before its province's, a province's before
    the national edition), or ``forced`` by key. Its regime-wide values
    (temperature checks, fever threshold) apply; for the rule of one
    category use :func:`rule_for`."""
    regimes = regimes if regimes is not None else load_regimes()
    if forced:
        return _forced(forced, regimes)
    found = regimes_in_force(day, jurisdiction=jurisdiction, regimes=regimes)
    if not found:
        raise PolicyError(f"{day.isoformat()} 没有适用的管控政策")
    return found[0]


def rule_for(
    category: str,
    day: date,
    *,
    jurisdiction: str = DEFAULT_JURISDICTION,
    forced: str | None = None,
    regimes: tuple[Regime, ...] | None = None,
) -> tuple[Regime, Rule]:
    """The rule for ``category`` on ``day`` and the regime it comes from.

    The most local regime in force with a documented rule for the category
    wins; a rule marked ``documented = false`` only when no documented one
    exists. A ``forced`` regime's own rule comes first.
    """
    regimes = regimes if regimes is not None else load_regimes()
    found = regimes_in_force(day, jurisdiction=jurisdiction, regimes=regimes)
    if forced:
        first = _forced(forced, regimes)
        found = [first] + [r for r in found if r.key != first.key]
    if not found:
        raise PolicyError(f"{day.isoformat()} 没有适用的管控政策")
    having = [(r, r.rules[category]) for r in found if category in r.rules]
    if forced and having and having[0][0].key == forced:
        return having[0]
    for regime, rule in having:
        if rule.documented:
            return regime, rule
    if having:
        return having[0]
    raise PolicyError(f"{day.isoformat()} 适用的政策中没有风险类别 {category!r} 的规定")


def fever_threshold(
    day: date,
    *,
    regime: str | None = None,
    jurisdiction: str = DEFAULT_JURISDICTION,
    regimes: tuple[Regime, ...] | None = None,
) -> float:
    """The fever threshold (发热标准, ℃; a reading at or above it is a fever)
    of the regime with key ``regime`` when given and known, else of the regime
    in force on ``day``. The value lives in the regime files only.

    A day no regime covers (a briefing of 2019, say) still needs a threshold
    to show zero fevers: it gets that of the nearest regime in time.

    >>> fever_threshold(date(2022, 4, 7)) == regime_for(date(2022, 4, 7)).fever_threshold
    True
    """
    regimes = regimes if regimes is not None else load_regimes()
    if regime:
        for r in regimes:
            if r.key == regime:
                return r.fever_threshold
    found = regimes_in_force(day, jurisdiction=jurisdiction, regimes=regimes)
    if found:
        return found[0].fever_threshold
    if not regimes:
        raise PolicyError("没有任何管控政策文件，无法确定发热标准")

    def distance(r: Regime) -> int:
        if day < r.valid_from:
            return (r.valid_from - day).days
        return (day - (r.valid_to or day)).days

    return min(regimes, key=lambda r: (distance(r), -LEVELS[r.level])).fever_threshold


def fever_thresholds(regimes: tuple[Regime, ...] | None = None) -> dict[str, float]:
    """Fever threshold (℃) per regime key, for looking up many rows at once."""
    return {r.key: r.fever_threshold for r in (regimes if regimes is not None else load_regimes())}


def five_in_one_roles(folder: Path | str = POLICY_DIR) -> tuple[str, ...]:
    """The 五包一 roles (data, not code)."""
    raw = tomllib.loads((Path(folder) / "five_in_one.toml").read_text(encoding="utf-8"))
    roles = raw.get("roles", [])
    if len(roles) != 5:
        raise PolicyError(f"five_in_one.toml：应有 5 个角色，实际 {len(roles)} 个")
    return tuple(roles)
