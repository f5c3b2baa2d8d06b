"""Random draws the demo township is made of: names, phones, resident IDs,
picks and days. Every draw comes from the one generator of the build, so the
township is the same for the same seed."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from ..config import COUNTY_CODE
from ..ingest.normalize import id_check_char

SURNAMES = tuple("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎")
GIVEN = tuple("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英建华玉兰文辉国庆志红海燕春梅小龙")


class Names:
    """Invented people: names, mobile numbers and valid resident IDs of the county."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def person(self) -> str:
        s = SURNAMES[int(self.rng.integers(len(SURNAMES)))]
        n = 1 + int(self.rng.random() < 0.7)
        return s + "".join(GIVEN[int(i)] for i in self.rng.integers(len(GIVEN), size=n))

    def phone(self) -> str:
        # rng.integers(5) draws what rng.choice(5) does, without choice()'s checks
        return "1" + "35789"[int(self.rng.integers(5))] + "".join(
            str(int(d)) for d in self.rng.integers(10, size=9)
        )

    def id_number(self, sex: str | None = None, born_from=1950, born_to=2010, seqs=None) -> tuple[str, str]:
        """A valid resident ID (and the sex it encodes); ``seqs`` limits the
        sequence numbers drawn (one township's share of the county's)."""
        born = date(born_from, 1, 1) + timedelta(days=int(self.rng.integers((born_to - born_from) * 365)))
        k = int(self.rng.integers(0, 500))
        seq = (k if seqs is None else seqs[k % len(seqs)]) * 2
        if sex is None:
            sex = "男" if self.rng.random() < 0.55 else "女"
        if sex == "男":
            seq += 1
        first17 = f"{COUNTY_CODE}{born:%Y%m%d}{seq:03d}"
        return first17 + id_check_char(first17), sex


def pick(rng: np.random.Generator, seq, p=None):
    """One element of ``seq`` (weights ``p``).

    Draws exactly what ``rng.choice(len(seq), p=p)`` draws (one bounded
    integer, or one uniform against the weights' cumulative sum), without
    choice()'s per-call checks, which cost most of a county build.
    """
    if p is None:
        return seq[int(rng.integers(len(seq)))]
    cdf = np.cumsum(np.asarray(p, dtype=float))
    cdf /= cdf[-1]
    return seq[int(cdf.searchsorted(rng.random(), side="right"))]


def random_day(rng: np.random.Generator, start: date, end: date) -> date:
    """A day between ``start`` and ``end``, both included."""
    return start + timedelta(days=int(rng.integers((end - start).days + 1)))


def allocate(total: int, n: int, lo: int, hi: int, rng: np.random.Generator) -> list[int]:
    """``n`` integers in [lo, hi] summing to ``total``."""
    counts = [lo] * n
    left = total - lo * n
    while left > 0:
        i = int(rng.integers(n))
        if counts[i] < hi:
            counts[i] += 1
            left -= 1
    return counts
