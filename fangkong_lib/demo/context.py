"""The township being built: its fixed facts, and the state that one section
of the build hands to the next (villages, grids, staff, people, places).

Sections run in a fixed order and all draw from the one generator in
:class:`Township`, so the same seed always gives the same township.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from ..config import COUNTY_SEAT, TOWNSHIP_CODE, TOWNSHIP_NAME
from ..policy import fever_threshold
from .draws import Names

N_AREAS = 9
START_RETURNS = date(2022, 3, 10)

VILLAGE_NAMES = (
    "柳湾村", "杏园村", "桑庄村", "槐荫村", "枣林村", "荷塘村", "麦岗村", "稻香村", "菱角村",
    "芦花村", "桃溪村", "梨园村", "竹林村", "松岗村", "榆树村", "柏庄村", "杨湖村",
)
ORIGINS = {
    "高风险区": ("吉林省吉林市船营区", "吉林省长春市宽城区", "上海市闵行区"),
    "中风险区": ("河北省廊坊市广阳区", "山东省青岛市黄岛区", "广东省深圳市福田区"),
    "中高风险区所在县": ("河北省廊坊市安次区", "山东省青岛市胶州市", "江苏省苏州市昆山市"),
    "中高风险区所在市其他县": ("江苏省苏州市吴江区", "山东省青岛市平度市", "广东省深圳市龙岗区"),
    "上海": ("上海市浦东新区", "上海市松江区", "上海市嘉定区"),
    "省外低风险地区": ("北京市朝阳区", "浙江省杭州市余杭区", "安徽省亳州市谯城区", "广东省东莞市", "江苏省南京市江宁区"),
    "省内低风险地区": ("河南省郑州市金水区", "河南省周口市川汇区", "河南省商丘市梁园区"),
    "密切接触者": ("协查通报", "大数据推送"),
    "次密接": ("协查通报",),
}
CATEGORY_WEIGHTS = (0.01, 0.03, 0.05, 0.10, 0.05, 0.46, 0.26, 0.02, 0.02)
CHECKPOINTS = ("郸城东收费站卡点", "311国道城郊卡点", "S207省道卡点", "郸城汽车站卡点", "郸城火车站出口卡点", "乡政府路口卡点", "东环路卡点", "南环路卡点")
SUPERVISION_TEAMS = ("第一督查组", "第二督查组", "第三督查组")


@dataclass
class Township:
    """State of one build: the generator, the demo day and what is built so far.

    ``out`` collects the ledgers as DataFrames; the other fields keep the rows
    later sections refer to (a returnee's grid, a control's 五包一 team, the
    place a supervision team visited).
    """

    seed: int
    today: date
    rng: np.random.Generator
    names: Names
    out: dict[str, pd.DataFrame] = field(default_factory=dict)
    areas: list[str] = field(default_factory=list)
    village_area: list[str] = field(default_factory=list)
    nat_rows: list[dict] = field(default_factory=list)
    nat_of_village: dict[int, list[int]] = field(default_factory=dict)
    village_rows: list[dict] = field(default_factory=list)
    village_geoms: list = field(default_factory=list)
    grid_rows: list[dict] = field(default_factory=list)
    grids_by_village: dict[int, list[dict]] = field(default_factory=dict)
    staff: list[dict] = field(default_factory=list)
    doctors: dict[int, str] = field(default_factory=dict)
    police: dict[int, str] = field(default_factory=dict)
    team_of: Callable[..., list[str]] | None = None  # names a control's 五包一 team
    used_ids: set[str] = field(default_factory=set)
    away: list[dict] = field(default_factory=list)
    returnees: list[dict] = field(default_factory=list)
    places: list[dict] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    fevers: dict = field(default_factory=dict)  # fever threshold by day, read once per build
    # -- the township's identity (defaults: the Chengjiao demo) --
    name: str = TOWNSHIP_NAME
    code: str = TOWNSHIP_CODE
    #: True when ``code`` is made up for the demo (only a few codes are known)
    code_synthetic: bool = False
    village_names: tuple[str, ...] = VILLAGE_NAMES
    n_away: int = 640
    n_returnees: int = 520
    #: (cells, polygons) of the grids, built from the seed when None
    geometry: tuple | None = None
    #: where the township's seat (its HQ) is, (lat, lon)
    seat: tuple[float, float] = COUNTY_SEAT
    #: prefix of the grid codes (CJ01-03-2)
    grid_prefix: str = "CJ"
    checkpoints: tuple[str, ...] = CHECKPOINTS
    #: prefix of the names of the township's own units (working groups); empty in a township build
    unit_prefix: str = ""
    #: township cadres sent down to the villages (下沉乡干部)
    n_cadres: int = 53
    #: the sequence numbers (000–499, before the sex digit) the township's ID numbers use; all when None
    id_seqs: tuple[int, ...] | None = None

    @property
    def n_villages(self) -> int:
        return len(self.village_names)

    @classmethod
    def start(cls, seed: int, today: date, **identity) -> "Township":
        rng = np.random.default_rng(seed)
        return cls(seed=seed, today=today, rng=rng, names=Names(rng), **identity)

    def fever(self, day: date) -> float:
        """The fever threshold on ``day`` (policy), looked up once per day and build."""
        if day not in self.fevers:
            self.fevers[day] = fever_threshold(day)
        return self.fevers[day]

    def new_person(self, names: Names | None = None) -> tuple[str, str]:
        """(resident ID, sex) of someone not yet in the township, drawn by
        ``names`` (the build's own by default)."""
        while True:
            idn, sex = (names or self.names).id_number(seqs=self.id_seqs)
            if idn not in self.used_ids:
                self.used_ids.add(idn)
                return idn, sex

    def home(self, v: int | None = None) -> tuple[int, dict]:
        """A village (random unless given) and one of its grid cells (a grids row)."""
        v = int(self.rng.integers(self.n_villages)) if v is None else v
        grids = self.grids_by_village[v]
        return v, grids[int(self.rng.integers(len(grids)))]
