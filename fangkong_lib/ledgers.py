"""Ledger definitions (台账): the one source of truth for every column.

Each ledger is declared once, here: English key, Chinese name, and per field
the Chinese header, the header aliases staff use, the type, whether it is
required, the allowed values and whether it is personal data. Database tables,
Excel templates, import mapping, validation, UI labels and masking all derive
from these objects. A new column is one line in one place.

Field types
-----------
``text``, ``int``, ``float``, ``date``, ``datetime``, ``bool`` (是/否),
``id_number`` (公民身份号码), ``phone`` (mobile or landline), ``list``
(values separated by ``;``), ``geometry`` (WKT; drawn on maps, not typed in
Excel, so left out of templates).

Constraints
-----------
Bounds live on the field too, so a form and an import refuse the same values:
``min``/``max`` (inclusive) and ``positive`` for numbers; for dates, every
date lies between :data:`DATE_MIN` and today + ``ahead_days`` days, and a
``not_future`` date (something that has happened: 报备日期, 检查日期, 接收日期)
is no later than today, where "today" is the data's now (the store's
``today``); ``items="date"`` makes a list a list of dates (核酸日期).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Iterable

FIELD_TYPES = frozenset(
    {"text", "int", "float", "date", "datetime", "bool", "id_number", "phone", "list", "geometry"}
)
PII_KINDS = frozenset({"name", "id", "phone", "address"})
#: Kinds of personal data masked by default (names stay readable: grid workers
#: act on them; ID numbers, phones and detailed addresses do not need to show).
MASKED_PII_KINDS = frozenset({"id", "phone", "address"})
#: Kinds masked in files that leave the command centre (exported maps, the
#: briefing): every kind, names included.
OUTBOUND_PII_KINDS = PII_KINDS
LIST_ITEMS = frozenset({"text", "date"})

#: No date the workbook deals with lies before this (the earliest 外出时间
#: still relevant in 2022 is years later); older values are typing errors.
DATE_MIN = date(2000, 1, 1)
#: How far ahead a date may lie by default (an expected arrival, a deadline).
AHEAD_DAYS = 366
#: Body temperature a reading can have (℃); outside it, a typing error.
TEMPERATURE_RANGE = (34.0, 43.0)

# -- Shared vocabularies (one place each) ------------------------------------

RISK_CATEGORIES = (
    "高风险区",
    "中风险区",
    "中高风险区所在县",
    "中高风险区所在市其他县",
    "上海",
    "省外低风险地区",
    "省内低风险地区",
    "密切接触者",
    "次密接",
)
MEASURES = ("集中隔离", "居家隔离", "居家健康监测", "三天两检", "无")
GRID_LEVELS = ("大网格长", "网格长", "党支部书记", "下沉乡干部", "自然村干部", "党员联户")
#: Staff outside the six grid levels who serve on 五包一 teams.
SUPPORT_ROLES = ("村医", "民警/辅警")
SEXES = ("男", "女")
#: Township-level units of a county (乡镇级行政区).
TOWNSHIP_KINDS = ("乡", "镇", "街道")
PLACE_CATEGORIES = (
    "超市", "农贸市场", "药店", "诊所", "宾馆", "餐饮", "工厂", "企业", "学校",
    "养老院", "宗教场所", "工地", "快递点", "商铺", "加油站", "网吧", "理发店",
    "卫生院",  # the township health centre: a medical sentinel (医疗哨点) with the clinics and pharmacies
)
PLACE_STATUSES = ("正常营业", "限期整改", "停业整改")
PROBLEM_STAGES = ("发现", "反馈", "整改中", "复查", "销号")
#: Steps recorded in a problem's history; 复查未通过 sends it back to 整改中.
PROBLEM_STEPS = PROBLEM_STAGES + ("复查未通过",)
#: The township supervision centre's three teams (督查组).
SUPERVISION_TEAMS = ("第一督查组", "第二督查组", "第三督查组")
PROBLEM_CATEGORIES = (
    "人员排查", "居家隔离", "卡点值守", "场所码", "聚集活动", "宣传", "台账资料", "物资",
)
TEST_RESULTS = ("阴性", "阳性", "待出")
HEALTH_CODES = ("绿码", "黄码", "红码")
DRUG_CLASSES = ("退热", "止咳", "抗病毒", "抗生素")
PUSH_RESULTS = ("待核查", "已核实在本地", "已核实不在本地", "无法联系", "信息有误", "已落实管控")
CONTROL_STATUSES = ("待管控", "管控中", "已解除")
#: 红白事报备 approval: the village first, then the township (or refused).
GATHERING_APPROVALS = ("待审批", "村已审批", "乡已审批", "不予批准")
#: 联合执法: the units of the joint enforcement team (DOMAIN.md §1, 管控关).
ENFORCEMENT_UNITS = ("派出所", "综治办", "执法大队", "村")
ENFORCEMENT_TARGETS = ("红白事", "重点场所", "其他聚集")
ENFORCEMENT_ACTIONS = ("劝导", "劝散", "责令整改", "责令停业", "警告", "罚款", "立案查处", "其他")
#: 宣传网: the channels of publicity work per village.
PUBLICITY_CHANNELS = ("村村通广播", "微信群", "宣传单", "横幅标语", "入户宣传")
#: Kinds of staffed posts (值守点位): the township HQ, a village's HQ, a road
#: checkpoint; what each kind's shifts and minimum staffing are is policy
#: data (policy/duty.toml).
DUTY_POST_KINDS = ("指挥部", "村指挥部", "卡口", "其他")
#: Who a person on a duty roster is (值班人员身份): the roster's minimums by
#: category count these.
DUTY_ROLES = ("乡干部", "村干部", "党员", "志愿者", "民警", "医护", "其他")
#: Where a lead (线索) about a person comes from.
LEAD_SOURCES = ("卡口", "哨点购药", "哨点发热", "大数据推送", "协查", "群众反映")
#: How a lead was closed (核查结果); a lead without one is open.
LEAD_OUTCOMES = ("已核实在本地", "已核实不在本地", "无法联系", "信息有误", "已检测阴性", "已落实管控", "已在管控中")
#: How a lead's village and grid were found.
LEAD_MATCHES = ("身份证号", "手机号", "来源登记", "人工分派")
PARTY_IDENTITIES = ("正式党员", "预备党员")
#: The one fist's teams (DOMAIN.md §1): the cadre assault team and the
#: party-member service team of volunteers.
VOLUNTEER_TEAMS = ("党员干部突击队", "基层党员服务队")
#: Who a volunteer is (身份).
VOLUNTEER_IDENTITIES = ("党员干部", "预备党员", "入党积极分子", "老党员", "教师", "机关干部", "其他")
#: What a volunteer does (岗位): 守门员/消杀员/代购员 for households in home
#: isolation, 卡点 (checkpoint duty, 卡点值守), 核酸 (mass testing).
VOLUNTEER_POSTS = ("守门员", "消杀员", "代购员", "卡点", "核酸")
#: Where a volunteer is posted (派驻类型); checkpoint shifts are rows of the
#: duty roster (duty_shifts, 身份 志愿者), not of this list.
ASSIGNMENT_KINDS = ("网格", "居家隔离户")


@dataclass(frozen=True)
class Field:
    """One column of a ledger.

    Parameters
    ----------
    key : str
        English identifier, also the database column name.
    label : str
        The Chinese header written in templates and shown in the UI.
    type : str
        One of :data:`FIELD_TYPES`.
    required : bool
        A row without it is rejected on import.
    aliases : tuple of str
        Other headers villages use for the same column (身份证号码, 证件号码…).
    choices : tuple of str
        Allowed values; empty means free.
    pii : str or None
        Kind of personal data (``name``, ``id``, ``phone``, ``address``).
    doc : str
        What the column means, for the template's explanation sheet.
    not_future : bool
        A date or time that cannot be later than the data's today.
    ahead_days : int
        How many days after today a date may lie (ignored with ``not_future``).
    min, max : float, optional
        Inclusive bounds of a number.
    positive : bool
        A number that must be greater than zero (数量).
    items : str
        For a ``list``: the type of each item (``text`` or ``date``).
    unit : str
        Unit of a number, shown in messages (℃).
    """

    key: str
    label: str
    type: str = "text"
    required: bool = False
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    pii: str | None = None
    doc: str = ""
    not_future: bool = False
    ahead_days: int = AHEAD_DAYS
    min: float | None = None
    max: float | None = None
    positive: bool = False
    items: str = "text"
    unit: str = ""

    def __post_init__(self):
        if self.type not in FIELD_TYPES:
            raise ValueError(f"field {self.key!r}: unknown type {self.type!r}")
        if self.not_future and self.type not in ("date", "datetime"):
            raise ValueError(f"field {self.key!r}: not_future needs a date or datetime")
        if (self.min is not None or self.max is not None or self.positive) and self.type not in ("int", "float"):
            raise ValueError(f"field {self.key!r}: bounds need a number")
        if self.items not in LIST_ITEMS or (self.items != "text" and self.type != "list"):
            raise ValueError(f"field {self.key!r}: bad list items {self.items!r}")
        if self.pii is not None and self.pii not in PII_KINDS:
            raise ValueError(f"field {self.key!r}: unknown pii kind {self.pii!r}")
        if self.type == "id_number" and self.pii is None:
            object.__setattr__(self, "pii", "id")
        if self.type == "phone" and self.pii is None:
            object.__setattr__(self, "pii", "phone")

    @property
    def headers(self) -> tuple[str, ...]:
        """The Chinese header and every alias."""
        return (self.label, *self.aliases)


@dataclass(frozen=True)
class Ledger:
    """A ledger (台账): a table with a Chinese name, fields and a natural key."""

    key: str
    label: str
    title: str
    fields: tuple[Field, ...]
    natural_key: tuple[str, ...]
    doc: str = ""
    _by_key: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        keys = [f.key for f in self.fields]
        if len(set(keys)) != len(keys):
            raise ValueError(f"ledger {self.key!r}: duplicate field keys")
        missing = set(self.natural_key) - set(keys)
        if missing:
            raise ValueError(f"ledger {self.key!r}: natural key {missing} is not a field")
        self._by_key.update({f.key: f for f in self.fields})
        optional = [k for k in self.natural_key if not self._by_key[k].required]
        if optional:
            raise ValueError(f"ledger {self.key!r}: natural key fields must be required: {optional}")

    def __getitem__(self, key: str) -> Field:
        return self._by_key[key]

    def __contains__(self, key: str) -> bool:
        return key in self._by_key

    @property
    def columns(self) -> list[str]:
        """Field keys in order."""
        return [f.key for f in self.fields]

    @property
    def tabular_fields(self) -> tuple[Field, ...]:
        """Fields that go into Excel/CSV files (all but geometry)."""
        return tuple(f for f in self.fields if f.type != "geometry")

    @property
    def labels(self) -> dict[str, str]:
        """Mapping field key → Chinese header."""
        return {f.key: f.label for f in self.fields}

    @property
    def has_geometry(self) -> bool:
        return any(f.type == "geometry" for f in self.fields)

    def fields_of_type(self, *types: str) -> list[str]:
        return [f.key for f in self.fields if f.type in types]

    def pii_fields(self, kinds: Iterable[str] | None = None) -> list[str]:
        kinds = set(kinds) if kinds is not None else PII_KINDS
        return [f.key for f in self.fields if f.pii in kinds]


def F(key, label, type="text", *, req=False, aka=(), choices=(), pii=None, doc="", past=False,
      ahead=AHEAD_DAYS, min=None, max=None, positive=False, items="text", unit=""):
    """Shorthand used by the declarations below (``past``: not in the future)."""
    return Field(key, label, type, req, tuple(aka), tuple(choices), pii, doc, not_future=past,
                 ahead_days=ahead, min=min, max=max, positive=positive, items=items, unit=unit)


#: A count of people, households, tables…: never negative.
_COUNT = {"min": 0}
_TEMP = {"min": TEMPERATURE_RANGE[0], "max": TEMPERATURE_RANGE[1], "unit": "℃"}
# Coordinates inside China's extent: a swapped or zero coordinate is refused.
_LON = {"min": 73.0, "max": 136.0}
_LAT = {"min": 3.0, "max": 54.0}
#: Supplies keep for years (masks: 3 years): an expiry may lie ten years ahead.
EXPIRY_AHEAD_DAYS = 3653


# Location columns shared by many ledgers.
_VILLAGE = F("village", "村", req=True, aka=("行政村", "所属村", "村委会", "村名"), doc="行政村名称")
_NATURAL = F("natural_village", "自然村", aka=("自然村名称",))
_GRID = F("grid", "网格", aka=("网格编号", "所属网格"), doc="六级网格编号，如 CJ01-03-2")
_NAME = F("name", "姓名", req=True, pii="name")
_SEX = F("sex", "性别", choices=SEXES)
_ID = F("id_number", "身份证号", "id_number", req=True,
        aka=("身份证号码", "证件号码", "公民身份号码", "身份证"))
_PHONE = F("phone", "手机号", "phone", req=True, aka=("手机号码", "联系电话", "电话", "联系方式"))
_NOTE = F("note", "备注")

_LEDGERS: list[Ledger] = [
    Ledger(
        "villages", "行政村", "城郊乡行政村基本情况表",
        (
            F("code", "村代码", req=True, aka=("行政区划代码",), doc="12 位统计用区划代码"),
            F("name", "村名", req=True, aka=("行政村", "村")),
            F("township", "乡镇", aka=("所属乡镇", "乡镇（街道）", "街道"), doc="所属乡镇（街道）；县级库按乡镇分开查看"),
            F("area", "片区", doc="包片区域（网格长负责）"),
            F("secretary", "党支部书记", aka=("支部书记",), pii="name"),
            F("secretary_phone", "书记电话", "phone", aka=("联系电话",)),
            F("households", "户数", "int", **_COUNT),
            F("population", "人口", "int", aka=("户籍人口",), **_COUNT),
            F("geometry", "边界", "geometry"),
        ),
        natural_key=("name",),
    ),
    Ledger(
        "natural_villages", "自然村", "城郊乡自然村基本情况表",
        (
            F("code", "自然村编号", req=True),
            F("name", "自然村", req=True, aka=("自然村名称",)),
            _VILLAGE,
            F("cadre", "自然村干部", pii="name"),
            F("cadre_phone", "干部电话", "phone"),
            F("households", "户数", "int", **_COUNT),
            F("population", "人口", "int", **_COUNT),
            F("lon", "经度", "float", **_LON),
            F("lat", "纬度", "float", **_LAT),
            F("geometry", "边界", "geometry"),
        ),
        natural_key=("code",),
    ),
    Ledger(
        "grids", "网格", "城郊乡六级防控网格表",
        (
            F("code", "网格编号", req=True, aka=("网格",)),
            _VILLAGE,
            F("natural_village", "自然村", req=True),
            F("member", "联户党员", pii="name", doc="第六级：党员联户"),
            F("member_phone", "党员电话", "phone"),
            F("cadre", "下沉乡干部", pii="name", doc="第四级：下沉乡干部"),
            F("households", "户数", "int", aka=("联系户数", "网格户数"), doc="网格内农户数（有户籍联户台账时按台账统计）",
              **_COUNT),
            F("linked", "已联户数", "int", doc="已落实联户党员的户数（按户籍联户台账统计，导出时重算）", **_COUNT),
            F("geometry", "边界", "geometry"),
        ),
        natural_key=("code",),
    ),
    Ledger(
        "staff", "网格责任人", "城郊乡六级网格责任人名册",
        (
            F("staff_no", "编号", req=True),
            F("name", "姓名", req=True, pii="name"),
            F("level", "层级", req=True, choices=GRID_LEVELS + SUPPORT_ROLES),
            F("duty", "职务"),
            F("phone", "联系电话", "phone", aka=("手机号", "电话")),
            F("area", "片区"),
            F("village", "村", aka=("行政村",)),
            F("natural_village", "自然村"),
            F("grid", "网格"),
        ),
        natural_key=("staff_no",),
        doc="2 大网格长 → 9 网格长 → 17 党支部书记 → 53 下沉乡干部 → 112 自然村干部 → 376 党员联户",
    ),
    Ledger(
        "away", "在外人员", "城郊乡在外人员动态管理台账",
        (
            _VILLAGE, _NATURAL, F("group", "组", aka=("村民组",)), _GRID,
            F("householder", "户主姓名", aka=("户主",), pii="name"),
            _NAME, _SEX, _ID, _PHONE,
            F("province", "所在省", aka=("省",)),
            F("city", "所在市", aka=("市",)),
            F("county", "所在县", aka=("县", "县区")),
            F("township", "所在乡镇", aka=("乡镇",)),
            F("address", "详细地址", pii="address", aka=("现住址",)),
            F("risk_level", "所在地风险等级", choices=("高", "中", "低", "常态化"), aka=("风险等级",)),
            F("reason", "外出事由", choices=("务工", "经商", "上学", "其他")),
            F("left_date", "外出时间", "date", past=True),
            F("intends_return", "近期有无返乡意向", "bool", aka=("返乡意向",)),
            F("expected_return", "预计返乡时间", "date"),
            F("persuasion", "劝导情况"),
            F("contact", "包联干部", aka=("联系党员", "包联干部/联系党员"), pii="name"),
            F("returned", "是否已返乡", "bool"),
            _NOTE,
        ),
        natural_key=("id_number",),
    ),
    Ledger(
        "returnees", "返乡报备", "城郊乡返乡人员登记台账",
        (
            F("report_date", "报备日期", "date", aka=("报备时间",), past=True),
            F("report_channel", "报备方式", choices=("豫事办", "电话", "村委", "微信")),
            _NAME, _SEX, _ID, _PHONE, _VILLAGE, _NATURAL, _GRID,
            F("household_address", "户籍地址", pii="address"),
            F("residence_address", "返乡后居住地址", pii="address", aka=("居住地址",)),
            F("origin", "出发地", aka=("来源地", "出发地（省市县乡）")),
            F("via", "途经地"),
            F("travel_history", "14日内旅居史", aka=("旅居史",)),
            F("risk_category", "来源地风险类别", req=True, choices=RISK_CATEGORIES,
              aka=("风险类别", "风险等级")),
            F("left_risk_date", "离开风险地日期", "date", past=True),
            F("expected_arrival", "预计到达时间", "date", aka=("预计返乡时间",)),
            F("actual_arrival", "实际到达时间", "date", aka=("返乡时间", "到达时间"), past=True),
            F("transport", "交通方式", choices=("自驾", "火车", "飞机", "客车", "其他")),
            F("vehicle_no", "车次/航班/车牌号", aka=("车次", "车牌号", "航班")),
            F("companions", "同行人员"),
            F("test48_time", "48小时核酸采样时间", "datetime", aka=("48小时核酸时间",),
              doc="未到达者可填预约的采样时间"),
            F("test48_result", "48小时核酸结果", choices=TEST_RESULTS),
            F("health_code", "健康码颜色", choices=HEALTH_CODES, aka=("健康码",)),
            F("trip_star", "行程码是否带星", "bool", aka=("行程码带星",)),
            F("landing_test_time", "落地核酸时间", "datetime", past=True),
            F("landing_test_result", "落地核酸结果", choices=TEST_RESULTS),
            F("responsible", "包保责任人", pii="name"),
            F("entered_by", "录入人"),
            _NOTE,
        ),
        natural_key=("id_number",),
    ),
    Ledger(
        "controls", "管控台账", "城郊乡返乡人员管控台账",
        (
            _VILLAGE, _NATURAL, _GRID, F("house_no", "门牌"),
            _NAME, _SEX, _ID, _PHONE,
            F("measure", "管控措施", req=True, choices=MEASURES + ("集中隔离+居家隔离", "集中隔离+居家健康监测")),
            F("category", "管控类别", choices=RISK_CATEGORIES, aka=("来源地风险类别",)),
            F("origin", "来源地"),
            F("found_via", "发现途径", choices=("报备", "排查", "大数据推送", "协查")),
            F("start_date", "开始日期", "date", req=True),
            F("end_date", "应解除日期", "date", req=True),
            F("released_date", "实际解除日期", "date", past=True),
            F("home_ok", "居家条件评估", choices=("达标", "不达标")),
            F("cohabitants", "同住人数", "int", **_COUNT),
            F("test_dates", "核酸日期", "list", items="date", doc="计划核酸日期，ISO 日期以 ; 分隔"),
            F("team", "五包一责任人", "list", doc="五包一责任人，按 policy/five_in_one.toml 的角色顺序以 ; 分隔"),
            F("notice_signed", "告知书签收", "bool"),
            F("regime", "执行政策"),
            F("status", "状态", choices=CONTROL_STATUSES),
        ),
        natural_key=("id_number",),
    ),
    Ledger(
        "daily_checks", "每日健康监测", "居家隔离/管控人员每日健康监测表",
        (
            F("date", "日期", "date", req=True, past=True),
            _ID, _NAME, _VILLAGE,
            F("day_no", "第几天", "int", min=1),
            F("temp_am", "上午体温", "float", **_TEMP),
            F("temp_pm", "下午体温", "float", **_TEMP),
            F("symptoms", "症状"),
            F("at_home", "是否在家", "bool"),
            F("needs", "生活需求"),
            F("visitor", "随访人", pii="name"),
            F("reported_at", "上报时间", "datetime", past=True),
        ),
        natural_key=("id_number", "date"),
    ),
    Ledger(
        "tests", "核酸检测", "管控人员核酸检测登记表",
        (
            _ID, _NAME, _VILLAGE,
            F("sample_date", "采样日期", "date", req=True, aka=("采样时间",), past=True),
            F("method", "采样方式", choices=("上门", "集中", "卡点")),
            F("result", "结果", choices=TEST_RESULTS, aka=("检测结果",)),
            F("sampler", "采样人"),
            _NOTE,
        ),
        natural_key=("id_number", "sample_date"),
    ),
    Ledger(
        "places", "重点场所", "城郊乡重点场所台账",
        (
            F("code", "场所码编号", req=True, aka=("场所码", "场所编号")),
            F("name", "场所名称", req=True),
            F("category", "场所类别", req=True, choices=PLACE_CATEGORIES),
            _VILLAGE,
            F("address", "地址"),
            F("manager", "负责人", pii="name"),
            F("manager_phone", "负责人电话", "phone", aka=("联系电话",)),
            F("code_posted", "场所码张贴", "bool"),
            F("status", "状态", choices=PLACE_STATUSES),
            F("staff_count", "员工人数", "int", **_COUNT),
            F("lon", "经度", "float", **_LON),
            F("lat", "纬度", "float", **_LAT),
        ),
        natural_key=("code",),
    ),
    Ledger(
        "inspections", "场所检查", "城郊乡重点场所检查记录",
        (
            F("date", "检查日期", "date", req=True, past=True),
            F("place_code", "场所码编号", req=True, aka=("场所码",)),
            F("place_name", "场所名称"),
            F("category", "场所类别", choices=PLACE_CATEGORIES),
            F("village", "村", aka=("行政村",)),
            F("code_posted", "场所码张贴", "bool"),
            F("scan_enforced", "扫码查验落实", "bool"),
            F("temperature", "测温", "bool"),
            F("masks", "佩戴口罩", "bool"),
            F("crowd_limit", "限流", "bool"),
            F("disinfection_log", "消毒登记", "bool"),
            F("staff_health_log", "员工健康登记", "bool"),
            F("drug_register", "四类药品实名登记", "bool", doc="药店/诊所"),
            F("scans_today", "当日扫码人次", "int", **_COUNT),
            F("findings", "发现问题"),
            F("action", "处理", choices=("无", "现场整改", "限期整改", "停业整改")),
            F("deadline", "整改期限", "date"),
            F("recheck_result", "复查结果"),
            F("inspector", "检查人"),
        ),
        natural_key=("date", "place_code"),
    ),
    Ledger(
        "problems", "督查问题", "城郊乡督查问题整改台账",
        (
            F("problem_no", "问题编号", req=True),
            F("date", "督查日期", "date", req=True, past=True),
            F("team", "督查组", choices=SUPERVISION_TEAMS + ("场所检查",)),
            F("method", "督查方式", choices=("明察", "暗访")),
            F("target", "被督查单位"),
            F("target_type", "单位类型", choices=("村", "场所", "卡点")),
            F("place_code", "场所码编号", doc="问题出自重点场所检查时，所查场所的场所码编号"),
            F("village", "村", aka=("行政村",)),
            F("category", "问题类别", choices=PROBLEM_CATEGORIES),
            F("description", "问题描述"),
            F("unit", "责任单位"),
            F("person", "责任人", pii="name"),
            F("leader", "包村领导"),
            F("measure", "整改措施"),
            F("deadline", "整改时限", "date"),
            F("done_date", "整改完成日期", "date", past=True),
            F("evidence", "佐证材料"),
            F("rechecker", "复查人"),
            F("stage", "阶段", choices=PROBLEM_STAGES),
            F("accountability", "问责情况", choices=("无", "约谈", "通报", "诫勉")),
        ),
        natural_key=("problem_no",),
    ),
    Ledger(
        "problem_events", "整改过程", "城郊乡督查问题整改过程记录",
        (
            F("problem_no", "问题编号", req=True),
            F("step", "环节", req=True, choices=PROBLEM_STEPS),
            F("time", "时间", "datetime", req=True, past=True),
            F("who", "经办人", req=True),
            F("unit", "责任单位"),
            F("person", "责任人", pii="name"),
            F("deadline", "整改时限", "date"),
            F("note", "情况说明"),
            F("evidence", "佐证材料"),
        ),
        natural_key=("problem_no", "step", "time"),
        doc="发现问题—反馈整改—跟踪问效：每一步谁、何时、佐证",
    ),
    Ledger(
        "supervisions", "督查记录", "城郊乡督查工作记录表",
        (
            F("date", "督查日期", "date", req=True, past=True),
            F("team", "督查组", req=True, choices=SUPERVISION_TEAMS),
            F("method", "督查方式", choices=("明察", "暗访")),
            F("target", "被督查单位", req=True),
            F("target_type", "单位类型", choices=("村", "场所", "卡点")),
            F("village", "村", aka=("行政村",)),
            F("place_code", "场所码编号"),
            F("content", "督查内容"),
            F("problems_found", "发现问题数", "int", **_COUNT),
            F("inspectors", "督查人员"),
        ),
        natural_key=("date", "team", "target"),
        doc="每次督查一行（未发现问题也登记）：各督查组督查次数由此统计",
    ),
    Ledger(
        "donations", "捐赠物资", "城郊乡捐赠物资接收登记表",
        (
            F("voucher_no", "凭证编号", req=True),
            F("date", "接收日期", "date", req=True, past=True),
            F("donor", "捐赠方", req=True, aka=("捐赠单位", "捐赠人")),
            F("donor_type", "捐赠方类型", choices=("单位", "个人")),
            F("contact", "联系人", pii="name"),
            F("contact_phone", "联系电话", "phone"),
            F("directed", "捐赠类型", choices=("定向", "非定向")),
            F("directed_to", "定向对象"),
            F("item", "物资名称", req=True),
            F("spec", "规格"),
            F("unit", "单位"),
            F("quantity", "数量", "float", req=True, positive=True),
            F("value", "估值(元)", "float", aka=("估值", "价值"), min=0),
            F("expiry", "有效期", "date", ahead=EXPIRY_AHEAD_DAYS),
            F("receiver", "接收人"),
            F("supervisor", "监督人"),
            F("location", "存放位置"),
        ),
        natural_key=("voucher_no",),
    ),
    Ledger(
        "distributions", "物资发放", "城郊乡捐赠物资发放登记表",
        (
            F("voucher_no", "出库单号", req=True),
            F("date", "发放日期", "date", req=True, past=True),
            F("item", "物资名称", req=True),
            F("quantity", "数量", "float", req=True, positive=True),
            F("unit", "单位"),
            F("recipient_type", "领用单位类型", choices=("卡点", "村", "隔离户", "志愿者")),
            F("recipient", "领用单位"),
            F("village", "村", aka=("行政村",)),
            F("location", "出库仓库", aka=("发放仓库",), doc="从哪个存放位置出库（与接收登记的存放位置对应）"),
            F("taker", "领用人", pii="name"),
            F("handler", "经手人"),
            F("published", "公示日期", "date", past=True),
        ),
        natural_key=("voucher_no",),
    ),
    Ledger(
        "checkpoint_logs", "卡点登记", "城郊乡卡点检查登记表",
        (
            F("time", "检查时间", "datetime", req=True, past=True),
            F("checkpoint", "卡点", req=True),
            _NAME, _ID, _PHONE,
            F("plate", "车牌号"),
            F("transport", "交通方式"),
            F("passengers", "同车人数", "int", **_COUNT),
            F("origin", "出发地"),
            F("destination", "目的地(村)", aka=("目的地",)),
            F("temperature", "体温", "float", **_TEMP),
            F("health_code", "健康码颜色", choices=HEALTH_CODES),
            F("trip_star", "行程码带星", "bool"),
            F("test48", "48小时核酸", choices=("阴性", "无")),
            F("pre_registered", "是否已报备", "bool"),
            F("sampled", "现场采样", "bool"),
            F("outcome", "处置结果", choices=("放行", "劝返", "临时隔离", "点对点转运")),
            F("inspector", "检查人"),
        ),
        natural_key=("time", "id_number"),
    ),
    Ledger(
        "drug_buyers", "四类药品购买登记", "城郊乡四类药品购买人员登记表",
        (
            F("date", "日期", "date", req=True, past=True),
            F("outlet", "药店/诊所", req=True),
            F("name", "购药人", req=True, pii="name"),
            _ID, _PHONE,
            F("village", "住址村", aka=("村",)),
            F("drug", "药品", req=True),
            F("drug_class", "类别", choices=DRUG_CLASSES),
            F("temperature", "体温", "float", **_TEMP),
            F("test_date", "核酸时间", "date", doc="待核酸时为约定的核酸日期"),
            F("test_result", "核酸结果", choices=TEST_RESULTS),
            F("checker", "核查人"),
            F("status", "状态", choices=("待核酸", "已核酸", "异常")),
        ),
        natural_key=("date", "outlet", "id_number", "drug"),
    ),
    Ledger(
        "pushes", "大数据推送核查", "城郊乡大数据推送信息核查台账",
        (
            F("batch", "推送批次", req=True),
            F("pushed_at", "推送时间", "datetime", req=True, past=True),
            F("source", "推送来源", choices=("省平台", "协查函", "公安", "通信")),
            _NAME, _ID, _PHONE,
            F("village", "村", aka=("行政村",)),
            F("risk_category", "风险类别", choices=RISK_CATEGORIES),
            F("result", "核查结果", choices=PUSH_RESULTS),
            F("measure", "落实措施"),
            F("verified_at", "核查完成时间", "datetime", past=True),
            F("verifier", "核查人"),
        ),
        natural_key=("batch", "id_number"),
    ),
    Ledger(
        "gatherings", "红白事报备", "城郊乡红白事报备登记表",
        (
            F("host", "事主", req=True, pii="name"),
            F("phone", "电话", "phone"),
            _VILLAGE,
            F("kind", "类型", req=True, choices=("红事", "白事")),
            F("date", "日期", "date", req=True),
            F("place", "地点"),
            F("expected_people", "预计人数", "int", **_COUNT),
            F("tables", "桌数", "int", **_COUNT),
            F("outside_guests", "外地来客", "int", **_COUNT),
            F("pledge", "承诺书", "bool"),
            F("supervisor", "监管员"),
            F("reported_at", "报备时间", "datetime", past=True),
            F("approval", "审批", choices=GATHERING_APPROVALS),
            F("actual", "实际情况"),
            # what the rules of policy/gatherings.toml need, and the approval trail
            F("deceased_at", "去世时间", "datetime", past=True, doc="白事：去世时间（24小时内报备）"),
            F("supervised", "村干部全程监管", "bool", doc="白事：村干部是否全程在场监管"),
            F("separate_meals", "分餐", "bool", doc="是否分餐（白事须分餐）"),
            F("village_reviewer", "村审批人"),
            F("village_reviewed_at", "村审批时间", "datetime", past=True),
            F("township_reviewer", "乡审批人"),
            F("township_reviewed_at", "乡审批时间", "datetime", past=True),
            F("refusal", "不予批准理由"),
        ),
        natural_key=("host", "date", "kind"),
    ),
    Ledger(
        "village_reports", "村日报告", "城郊乡各村疫情防控日报告（含零报告）",
        (
            F("date", "日期", "date", req=True, past=True),
            _VILLAGE,
            F("reported_at", "上报时间", "datetime", req=True, past=True),
            F("zero_report", "零报告", "bool", doc="当日无新增情况也须上报"),
            F("new_away", "新增在外人员", "int", **_COUNT),
            F("arrivals", "当日返乡", "int", **_COUNT),
            F("under_control", "在管人数", "int", **_COUNT),
            F("fevers", "发热人数", "int", **_COUNT),
            F("reporter", "报告人"),
            _NOTE,
        ),
        natural_key=("date", "village"),
        doc="日报告、零报告：各村每日 17:00 前上报",
    ),
    Ledger(
        "volunteers", "志愿者", "城郊乡基层党员服务队志愿者名册",
        (
            F("volunteer_no", "编号", req=True),
            F("name", "姓名", req=True, pii="name"),
            F("identity", "身份", choices=VOLUNTEER_IDENTITIES),
            _VILLAGE,
            F("post", "岗位", choices=VOLUNTEER_POSTS, aka=("服务岗位",),
              doc="守门员 / 消杀员 / 代购员 / 卡点（卡点值守）/ 核酸"),
            F("phone", "联系电话", "phone"),
            F("households", "联系户"),
            F("hours", "服务时长", "float", min=0, unit="小时", aka=("累计服务时长", "服务时长(小时)")),
            F("team", "队伍", choices=VOLUNTEER_TEAMS, aka=("所属队伍", "服务队"),
              doc="党员干部突击队 / 基层党员服务队（空白按基层党员服务队计）"),
        ),
        natural_key=("volunteer_no",),
    ),
    # -- Gatherings (聚集管控) and publicity (宣传网) -------------------------------------
    Ledger(
        "enforcements", "联合执法", "城郊乡联合执法处置记录",
        (
            F("time", "执法时间", "datetime", req=True, past=True, aka=("时间", "处置时间")),
            F("unit", "执法单位", req=True, choices=ENFORCEMENT_UNITS),
            _VILLAGE,
            F("target_type", "对象类型", req=True, choices=ENFORCEMENT_TARGETS),
            F("target", "处置对象", req=True, doc="场所名称、红白事事主或聚集地点"),
            F("place_code", "场所码编号", doc="对象为重点场所时填写"),
            F("host", "事主", pii="name", doc="对象为红白事时填写（与报备登记的事主一致）"),
            F("event_date", "红白事日期", "date", doc="对象为红白事时填写"),
            F("kind", "红白事类型", choices=("红事", "白事")),
            F("action", "处置措施", req=True, choices=ENFORCEMENT_ACTIONS),
            F("people", "涉及人数", "int", **_COUNT),
            F("description", "情况描述"),
            F("officers", "执法人员"),
            F("result", "处置结果"),
        ),
        natural_key=("time", "unit", "target"),
        doc="联合执法队（派出所牵头，综治办、执法大队、各村）对聚集活动和场所的处置",
    ),
    Ledger(
        "publicity", "宣传工作", "城郊乡疫情防控宣传工作台账",
        (
            F("date", "日期", "date", req=True, past=True),
            _VILLAGE,
            F("channel", "宣传渠道", req=True, choices=PUBLICITY_CHANNELS, aka=("渠道", "宣传方式")),
            F("topic", "宣传主题", req=True, aka=("主题", "宣传内容"),
              doc="policy/publicity.toml 所列主题之一（30种违法行为、非必要不返乡、文明祭祀、红事缓办…）"),
            F("quantity", "数量", "int", **_COUNT,
              doc="广播次数、微信推送条数、宣传单份数、横幅条数或入户户数（按渠道）"),
            F("households", "覆盖户数", "int", **_COUNT, doc="宣传单发放到户、入户宣传的户数"),
            F("groups", "微信群数", "int", **_COUNT),
            F("members", "群成员数", "int", **_COUNT),
            F("reporter", "填报人"),
            _NOTE,
        ),
        natural_key=("date", "village", "channel", "topic"),
        doc="宣传网：各村每日宣传工作（村村通广播、微信群、宣传单、横幅标语、入户宣传）",
    ),
    # -- Duty roster (值班值守): posts to staff and who is on which shift -----------
    Ledger(
        "duty_posts", "值守点位", "城郊乡值班值守点位表",
        (
            F("name", "点位名称", req=True, aka=("点位", "卡口", "卡点", "值守点位")),
            F("kind", "点位类型", req=True, choices=DUTY_POST_KINDS, aka=("类型",),
              doc="指挥部 / 村指挥部 / 卡口 / 其他；各类的班次与最少人数见 policy/duty.toml"),
            F("village", "村", aka=("行政村", "所属村"), doc="村指挥部、村口卡口所在村（乡级点位可空）"),
            F("lon", "经度", "float", **_LON),
            F("lat", "纬度", "float", **_LAT),
            _NOTE,
        ),
        natural_key=("name",),
        doc="需要排班值守的点位：乡指挥部、各村指挥部、24 小时卡口",
    ),
    Ledger(
        "duty_shifts", "值班排班", "城郊乡值班值守排班表",
        (
            F("date", "日期", "date", req=True, aka=("值班日期",),
              doc="班次开始的日期（跨零点的夜班记在开始那天）"),
            F("post", "点位", req=True, aka=("点位名称", "卡口", "卡点", "值守点位")),
            F("shift", "班次", req=True, doc="该类点位在 policy/duty.toml 中的班次名，如 早班 / 中班 / 夜班"),
            F("name", "姓名", req=True, pii="name", aka=("值班人员", "值班人")),
            F("phone", "联系电话", "phone", aka=("手机号", "电话")),
            F("role", "身份", choices=DUTY_ROLES, aka=("人员类别", "类别"),
              doc="乡干部 / 村干部 / 党员 / 志愿者 / 民警 / 医护 / 其他：按类别的最少人数据此统计"),
            _NOTE,
        ),
        natural_key=("date", "post", "shift", "name"),
        doc="每人每班一行：谁在哪个点位值哪一班",
    ),
    # -- 指挥调度 (command: 1+17+N, meetings, assigned tasks) --------------------------
    Ledger(
        "command_units", "指挥体系", "城郊乡疫情防控指挥体系（1+17+N）",
        (
            F("unit", "单位名称", req=True, aka=("单位", "名称", "机构")),
            F("kind", "类别", req=True, choices=("乡指挥部", "村党支部", "工作专班", "职能部门"), aka=("单位类别",),
              doc="1 个乡指挥部、17 个村党支部（村级指挥部）、N 个工作专班和职能部门"),
            F("parent", "上级单位", doc="向谁负责、向谁汇报；乡指挥部留空"),
            F("village", "村", aka=("行政村",), doc="村党支部所在的行政村"),
            F("lead", "负责人", req=True, pii="name", aka=("组长", "指挥长", "支部书记")),
            F("lead_title", "职务"),
            F("lead_phone", "负责人电话", "phone", req=True, aka=("联系电话", "电话")),
            F("liaison", "联络员", pii="name"),
            F("liaison_phone", "联络员电话", "phone"),
            F("duty", "职责"),
            F("members", "成员人数", "int", **_COUNT),
            F("lon", "经度", "float", **_LON),
            F("lat", "纬度", "float", **_LAT),
            _NOTE,
        ),
        natural_key=("unit",),
        doc="总航线 1+17+N：乡疫情防控指挥部、17 个村党支部和 N 个部门、工作专班，各有负责人和电话",
    ),
    Ledger(
        "meetings", "会议记录", "城郊乡疫情防控会议记录（早会商、支部会商、晚汇报）",
        (
            F("date", "日期", "date", req=True, past=True, aka=("会议日期",)),
            F("kind", "会议类型", req=True, choices=("早会商", "支部会商", "晚汇报", "专题会议"), aka=("会议",)),
            F("unit", "召开单位", req=True, aka=("单位",), doc="指挥体系中的单位名称"),
            F("village", "村", aka=("行政村",)),
            F("held_at", "召开时间", "datetime", past=True, aka=("开会时间",)),
            F("host", "主持人", pii="name"),
            F("expected", "应到人数", "int", **_COUNT),
            F("present", "实到人数", "int", **_COUNT),
            F("absent", "缺席人员", doc="姓名及原因"),
            F("topics", "会商议题", aka=("议题",)),
            F("decisions", "议定事项", doc="每个议定事项同时登记为一条交办事项"),
            F("recorder", "记录人"),
            _NOTE,
        ),
        natural_key=("date", "kind", "unit"),
        doc="早会商、日走访、晚汇报；各村党支部每天 08:00 会商",
    ),
    Ledger(
        "tasks", "交办事项", "城郊乡指挥部交办事项台账",
        (
            F("task_no", "交办编号", req=True, aka=("编号",)),
            F("date", "交办日期", "date", req=True, past=True),
            F("source", "来源", choices=("早会商", "支部会商", "晚汇报", "专题会议", "上级交办", "其他"),
              doc="议定该事项的会议类型"),
            F("meeting_unit", "会议单位", doc="议定该事项的会议的召开单位"),
            F("description", "交办事项", req=True, aka=("事项", "议定事项")),
            F("village", "村", aka=("行政村",)),
            F("unit", "责任单位"),
            F("person", "责任人", pii="name"),
            F("deadline", "完成时限", "date", aka=("时限",)),
            F("done_date", "完成日期", "date", past=True),
            F("evidence", "佐证材料"),
            F("rechecker", "核验人"),
            F("stage", "阶段", choices=PROBLEM_STAGES,
              doc="与督查问题同一闭环：发现(待交办)→反馈(已交办)→整改中(办理中)→复查(已核验)→销号(办结)"),
            _NOTE,
        ),
        natural_key=("task_no",),
        doc="会议议定事项逐项交办：责任单位、责任人、完成时限，办结销号",
    ),
    Ledger(
        "task_events", "交办过程", "城郊乡交办事项办理过程记录",
        (
            F("task_no", "交办编号", req=True),
            F("step", "环节", req=True, choices=PROBLEM_STEPS),
            F("time", "时间", "datetime", req=True, past=True),
            F("who", "经办人", req=True),
            F("unit", "责任单位"),
            F("person", "责任人", pii="name"),
            F("deadline", "完成时限", "date"),
            F("note", "情况说明"),
            F("evidence", "佐证材料"),
        ),
        natural_key=("task_no", "step", "time"),
        doc="交办事项每一步：谁、何时、佐证",
    ),
    # -- Leads (线索核查): people to verify, and clinics' fever reports that raise them --
    Ledger(
        "fever_reports", "发热病人报告", "城郊乡医疗哨点发热病人报告登记表",
        (
            F("reported_at", "报告时间", "datetime", req=True, past=True, aka=("就诊时间",)),
            F("clinic", "报告单位", req=True, aka=("诊所", "卫生院", "哨点", "医疗机构")),
            _NAME, _SEX, _ID, _PHONE,
            F("village", "住址村", aka=("村", "行政村")),
            F("temperature", "体温", "float", req=True, **_TEMP),
            F("symptoms", "症状"),
            F("onset_date", "发病日期", "date", past=True),
            F("handling", "处置情况", choices=("留观", "转诊", "居家观察", "集中隔离")),
            F("test_time", "核酸采样时间", "datetime", past=True),
            F("test_result", "核酸结果", choices=TEST_RESULTS),
            F("doctor", "接诊医生", aka=("报告人",)),
            _NOTE,
        ),
        natural_key=("reported_at", "id_number"),
        doc="卫生院、诊所发现发热病人即报告：当日完成核酸",
    ),
    Ledger(
        "leads", "线索核查", "城郊乡线索核查台账",
        (
            F("lead_no", "线索编号", req=True),
            F("source", "来源", req=True, choices=LEAD_SOURCES, aka=("线索来源",)),
            F("received_at", "接收时间", "datetime", req=True, past=True),
            _NAME, _ID,
            F("phone", "手机号", "phone", aka=("手机号码", "联系电话", "电话", "联系方式")),
            F("risk_category", "风险类别", choices=RISK_CATEGORIES),
            F("detail", "线索内容"),
            F("village", "村", aka=("行政村", "所属村")),
            _GRID,
            F("matched_by", "匹配方式", choices=LEAD_MATCHES),
            F("assignee", "责任人", pii="name", doc="网格的下沉乡干部、联户党员（分派时确定）"),
            F("deadline", "截止时间", "datetime", doc="按 policy/leads.toml 的时限计算"),
            F("outcome", "核查结果", choices=LEAD_OUTCOMES, doc="空：未办结"),
            F("measure", "落实措施"),
            F("verifier", "核查人"),
            F("verified_at", "核查时间", "datetime", past=True),
            F("returnee", "已入返乡台账", "bool", doc="此人已在返乡报备台账（按身份证号关联）"),
            F("source_ledger", "来源台账", doc="产生线索的台账（英文键）"),
            F("source_key", "来源记录", doc="来源台账中的那一行（推送批次、卡点与检查时间…）"),
            _NOTE,
        ),
        natural_key=("lead_no",),
        doc="卡口、医疗哨点、大数据推送、协查、群众反映的线索：匹配到村和网格，限时核查办结",
    ),
    # -- Grid responsibility (网格责任): party members, households, reassignments ----
    Ledger(
        "party_members", "联户党员", "城郊乡联户党员名册",
        (
            F("member_no", "党员编号", req=True, aka=("编号",)),
            _NAME,
            F("phone", "联系电话", "phone", aka=("手机号", "电话")),
            _VILLAGE, _NATURAL, _GRID,
            F("identity", "党员身份", choices=PARTY_IDENTITIES, aka=("身份",)),
            _NOTE,
        ),
        natural_key=("member_no",),
        doc="党员联户：每名党员联系约 10 户（上限见 policy/grids/coverage.toml）",
    ),
    Ledger(
        "households", "农户联户", "城郊乡农户及党员联户台账",
        (
            F("household_no", "户编号", req=True, aka=("户号",)),
            F("head", "户主", req=True, pii="name", aka=("户主姓名",)),
            F("phone", "联系电话", "phone", aka=("手机号", "电话")),
            _VILLAGE, _NATURAL,
            F("grid", "网格", req=True, aka=("网格编号", "所属网格"), doc="六级网格编号，如 CJ01-03-2"),
            F("house_no", "门牌", pii="address", aka=("门牌号", "住址")),
            F("population", "人口", "int", aka=("家庭人口", "人数"), **_COUNT),
            F("member_no", "联户党员编号", doc="联户党员名册的党员编号；空为未联户"),
            F("member", "联户党员", pii="name", aka=("联系党员",)),
            _NOTE,
        ),
        natural_key=("household_no",),
        doc="每户属于一个网格，由一名党员联系（党员联户）",
    ),
    Ledger(
        "grid_assignments", "网格责任人变更", "城郊乡六级网格责任人变更记录",
        (
            F("time", "变更时间", "datetime", req=True, past=True),
            F("staff_no", "责任人编号", req=True),
            F("level", "层级", choices=GRID_LEVELS),
            F("scope", "负责范围"),
            F("old_name", "原责任人", pii="name"),
            F("old_phone", "原电话", "phone"),
            F("new_name", "新责任人", req=True, pii="name"),
            F("new_phone", "新电话", "phone"),
            F("reason", "变更原因"),
            F("operator", "经办人"),
        ),
        natural_key=("staff_no", "time"),
        doc="六级网格每个节点换人都留痕：谁、何时、由谁改为谁、为什么",
    ),
    # -- One fist (党员志愿者): where each volunteer is posted --------------------------
    Ledger(
        "volunteer_assignments", "志愿者派驻", "城郊乡党员志愿者派驻台账",
        (
            F("assign_no", "派驻编号", req=True, aka=("编号",)),
            F("volunteer_no", "志愿者编号", req=True, doc="志愿者名册中的编号"),
            F("name", "姓名", pii="name", aka=("志愿者", "志愿者姓名"), doc="志愿者姓名（按编号从名册带出）"),
            F("kind", "派驻类型", req=True, choices=ASSIGNMENT_KINDS, aka=("类型",),
              doc="网格 / 居家隔离户；卡口值守排入值班排班表"),
            F("role", "岗位", req=True, choices=VOLUNTEER_POSTS, aka=("服务岗位",)),
            F("village", "村", aka=("行政村",)),
            F("grid", "网格", aka=("网格编号",), doc="派驻网格；居家隔离户所在网格"),
            F("household_id", "隔离人员身份证号", "id_number", aka=("隔离户身份证号",),
              doc="居家隔离户：管控台账中隔离人员的身份证号"),
            F("household", "隔离人员", pii="name", aka=("隔离户", "户主")),
            F("start_date", "开始日期", "date", req=True, aka=("派驻日期",)),
            F("end_date", "结束日期", "date", doc="空白：仍在岗"),
            _NOTE,
        ),
        natural_key=("assign_no",),
        doc="志愿者派驻到网格、居家隔离户（守门员、代购员…）；每次派驻一行，结束时填结束日期",
    ),
    # -- County scale: the townships (乡镇、街道) of the county ---------------------------
    Ledger(
        "townships", "乡镇", "郸城县乡镇（街道）基本情况表",
        (
            F("code", "乡镇代码", req=True, aka=("行政区划代码",), doc="9 位统计用区划代码"),
            F("name", "乡镇", req=True, aka=("乡镇名称", "乡镇（街道）", "街道")),
            F("kind", "类型", choices=TOWNSHIP_KINDS, doc="乡 / 镇 / 街道"),
            F("households", "户数", "int", **_COUNT),
            F("population", "人口", "int", aka=("户籍人口",), **_COUNT),
            F("code_synthetic", "代码为合成", "bool", doc="是：乡镇代码为演示合成，不是真实区划代码"),
            F("geometry", "边界", "geometry"),
            _NOTE,
        ),
        natural_key=("name",),
        doc="县内各乡镇（街道）：代码、名称、边界；行政村的乡镇列指向这里",
    ),
]

LEDGERS: dict[str, Ledger] = {led.key: led for led in _LEDGERS}


def get_ledger(key: str) -> Ledger:
    """Return the ledger named ``key``, with a clear error for an unknown one."""
    try:
        return LEDGERS[key]
    except KeyError:
        known = ", ".join(LEDGERS)
        raise KeyError(f"未知台账 {key!r}（可用：{known}）") from None
