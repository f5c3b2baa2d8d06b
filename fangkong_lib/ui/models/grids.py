"""The grid-responsibility page's model (网格责任, 网格线), no widgets.

Set the filter traits (``village``, ``natural_village``, ``level``,
``coverage_state``) and read ``kpis``, ``map_html``, ``tree_html``,
``coverage_html``, ``history_html`` and ``status``;
:meth:`GridsModel.reassign` puts a new person on a node of the tree and
:meth:`GridsModel.link` links households to a party member.
"""

from __future__ import annotations

import pandas as pd
import traitlets as t

from ...actions import link_households, reassign_post
from ...domain.grids import (
    BEHIND, COVERAGE_STATES, KPI_LABELS, coverage_by, filter_tree, grid_coverage, grid_responsibles, grid_tree,
    link_status, member_loads, vacant_nodes,
)
from ...ingest.normalize import mask_frame, mask_name, mask_phone
from ...ledgers import GRID_LEVELS, get_ledger
from ...policy.grid_coverage import load_coverage_policy
from ...views.grids import make_grids_map, percent, tree_html
from ...views.maps import map_iframe, render_map
from ...views.tables import frame_html
from .base import ALL, PageModel, with_data_notes

GRID_COLUMNS = {"code": "网格编号", "village": "村", "natural_village": "自然村", "households": "户数",
                "linked": "已联户数", "unlinked": "未联户", "coverage_text": "覆盖率", "state": "状态",
                "members": "联户党员", "overloaded": "超负荷党员"}
HOUSEHOLD_COLUMNS = ("household_no", "head", "village", "natural_village", "grid", "house_no", "population",
                     "member_no", "member")
MEMBER_COLUMNS = {"member_no": "党员编号", "name": "姓名", "phone": "联系电话", "village": "村",
                  "natural_village": "自然村", "grid": "网格", "identity": "党员身份", "load": "联系户数"}
NODE_COLUMNS = {"level": "层级", "scope": "负责范围", "village": "村", "name": "责任人", "phone": "电话",
                "problem": "问题"}


class GridsModel(PageModel):
    """State of the grid-responsibility page: filters in, figures out."""

    filters = ("village", "natural_village", "level", "coverage_state")
    kpi_lists = ("households", "linked", "unlinked", "behind_grids", "members", "overloaded", "vacant")

    natural_village = t.Unicode(ALL)
    level = t.Unicode(ALL)
    coverage_state = t.Unicode(ALL)

    tree_html = t.Unicode("")
    coverage_html = t.Unicode("")
    history_html = t.Unicode("")
    node_options = t.List()  # (label, node key) of the filtered tree, for the reassign form
    grid_options = t.List()  # (label, grid code) of the filtered grids, for the linking form

    def __init__(self, data, **kwargs):
        self.policy = load_coverage_policy()
        self.grid_table = pd.DataFrame()
        self.tree = pd.DataFrame()
        self.linked_rows = pd.DataFrame()
        self.loads = pd.DataFrame()
        super().__init__(data, **kwargs)

    # -- Options --------------------------------------------------------------------

    @property
    def natural_village_options(self) -> list[tuple[str, str]]:
        naturals = self.data.ledgers["natural_villages"]
        if self.village:
            naturals = naturals[naturals["village"] == self.village]
        return [("全部自然村", ALL)] + [(n, n) for n in naturals["name"].dropna()]

    @property
    def level_options(self) -> list[tuple[str, str]]:
        return [("全部层级", ALL)] + [(lv, lv) for lv in GRID_LEVELS]

    @property
    def state_options(self) -> list[tuple[str, str]]:
        return [("全部覆盖状态", ALL)] + [(s, s) for s in COVERAGE_STATES]

    @t.validate("natural_village")
    def _check_natural(self, proposal):
        return self.one_of(proposal["value"], set(self.data.ledgers["natural_villages"]["name"]), "自然村")

    @t.validate("level")
    def _check_level(self, proposal):
        return self.one_of(proposal["value"], GRID_LEVELS, "层级")

    @t.validate("coverage_state")
    def _check_state(self, proposal):
        return self.one_of(proposal["value"], COVERAGE_STATES, "覆盖状态")

    @t.observe("village")
    def _village_changed(self, _change):
        # A natural village of another village would hide everything.
        naturals = self.data.ledgers["natural_villages"]
        if self.natural_village and self.village and self.natural_village not in set(
                naturals.loc[naturals["village"] == self.village, "name"]):
            self.natural_village = ALL

    # -- Figures ----------------------------------------------------------------------

    def compute(self) -> str:
        ledgers = self.data.ledgers
        households, members = ledgers["households"], ledgers["party_members"]
        linked = link_status(households, members)
        table = grid_coverage(ledgers["grids"], households, members, self.policy)
        table["coverage_text"] = table["coverage"].map(percent)
        scope = self._in_scope(table)
        grids = table[scope]
        codes = set(grids["code"])
        rows = linked[linked["grid"].isin(codes)]
        loads = member_loads(households, members, self.policy)
        loads = loads[loads["grid"].isin(codes)]
        full_tree = grid_tree(ledgers["staff"], ledgers["villages"], ledgers["natural_villages"], ledgers["grids"])
        tree = filter_tree(full_tree, village=self.village, natural_village=self.natural_village, level=self.level)
        if self.coverage_state:
            tree = tree[(tree["level"] != "党员联户") | tree["grid"].isin(codes)]
        self.grid_table, self.tree, self.linked_rows, self.loads = grids, tree, rows, loads
        total, done = int(grids["households"].sum()), int(grids["linked"].sum())
        self.kpis = {
            "coverage": round(100 * done / total, 1) if total else 100.0,
            "households": total, "linked": done, "unlinked": total - done,
            "behind_grids": int((grids["state"] == BEHIND).sum()), "members": len(loads),
            "overloaded": int(loads["overloaded"].sum()), "vacant": len(vacant_nodes(tree)),
        }
        coverage = {"village": coverage_by(linked, "village", self.policy),
                    "natural_village": coverage_by(linked, "natural_village", self.policy),
                    "grid": table.set_index("code")}
        self.tree_html = tree_html(tree, coverage, mask_phone=mask_phone)
        self.coverage_html = self._village_table(coverage["village"])
        self.history_html = self._history_html()
        self.map_html = self.cached_map(self._map_key(grids), lambda: self._build_map(grids, full_tree))
        self.node_options = [(self._node_label(n), n.node) for n in tree.itertuples()]
        order = grids.sort_values(["unlinked", "code"], ascending=[False, True])
        self.grid_options = [(f"{r.code}（{r.village}·{r.natural_village}，未联户 {r.unlinked}）", r.code)
                             for r in order.itertuples()]
        notes = [] if len(households) else ["户籍联户台账为空：户数、已联户数取自网格台账"]
        return with_data_notes(f"已更新：{self._scope()} · {len(grids)} 个网格 · 联户覆盖 {self.kpis['coverage']}%",
                               notes)

    def _in_scope(self, table: pd.DataFrame) -> pd.Series:
        keep = pd.Series(True, index=table.index)
        if self.village:
            keep &= table["village"] == self.village
        if self.natural_village:
            keep &= table["natural_village"] == self.natural_village
        if self.coverage_state:
            keep &= table["state"] == self.coverage_state
        return keep

    def _scope(self) -> str:
        parts = [self.shown_area, self.natural_village, self.level, self.coverage_state]
        return " · ".join(p for p in parts if p)

    @staticmethod
    def _node_label(node) -> str:
        who = node.name or "空缺"
        return f"{node.level} · {node.scope} · {who}"

    def _village_table(self, by_village: pd.DataFrame) -> str:
        table = by_village.reindex(self.data.village_names).dropna(how="all")
        if self.village:
            table = table.loc[[self.village]] if self.village in table.index else table.iloc[0:0]
        shown = pd.DataFrame({
            "村": table.index, "户数": table["households"].astype(int), "已联户": table["linked"].astype(int),
            "未联户": table["unlinked"].astype(int), "覆盖率": table["coverage"].map(percent), "状态": table["state"],
        })
        return frame_html(shown, css_class="fk-table fk-grid-villages", empty="没有农户数据",
                          cell_class=lambda col, v: f"fk-state-{v}" if col == "状态" else None)

    def _history_html(self) -> str:
        history = self.data.ledgers["grid_assignments"]
        if self.village:
            history = history[history["scope"].fillna("").str.contains(self.village, regex=False)]
        history = history.sort_values("time", ascending=False)
        ledger = get_ledger("grid_assignments")
        shown = mask_frame(history, ledger)[[f.key for f in ledger.tabular_fields]].rename(columns=ledger.labels)
        return frame_html(shown, css_class="fk-table fk-grid-history", max_rows=100, empty="尚无责任人变更记录")

    # -- The map ------------------------------------------------------------------------

    def _map_key(self, grids: pd.DataFrame):
        return (self.village, self.natural_village, self.coverage_state, tuple(grids["linked"]),
                tuple(grids["code"]), len(self.data.ledgers["grid_assignments"]))

    def _build_map(self, grids: pd.DataFrame, tree: pd.DataFrame, *, name_of=str) -> str:
        shapes = self.data.grids
        shapes = shapes[shapes["code"].isin(set(grids["code"]))]
        title = f"{self.data.township}网格责任与党员联户覆盖"
        m = make_grids_map(shapes, self.data.villages, self.data.naturals, grids.set_index("code"),
                           grid_responsibles(tree), township=self.data.township,
                           behind_below=self.policy.behind_below,
                           subtitle=f"{self._scope()} · 联户覆盖 {self.kpis.get('coverage', '')}%",
                           village=self.village or None, note=self.data.source_note, name_of=name_of)
        return map_iframe(render_map(m), height=560, title=title)

    def export_map_html(self) -> str:
        """The map as shown, names masked (a file that leaves the office)."""
        ledgers = self.data.ledgers
        tree = grid_tree(ledgers["staff"], ledgers["villages"], ledgers["natural_villages"], ledgers["grids"])
        return self._build_map(self.grid_table, tree, name_of=mask_name)

    # -- What the KPI cards open ----------------------------------------------------------

    def kpi_list(self, key: str) -> tuple[str, str] | None:
        if key not in self.kpi_lists:
            return None
        if key in ("households", "linked", "behind_grids"):
            grids = self.grid_table
            if key == "behind_grids":
                grids = grids[grids["state"] == BEHIND]
            return KPI_LABELS[key], self.grid_rows_html(grids)
        if key == "unlinked":
            rows = self.linked_rows[~self.linked_rows["linked"]]
            return KPI_LABELS[key], self.household_rows_html(rows)
        if key in ("members", "overloaded"):
            rows = self.loads[self.loads["overloaded"]] if key == "overloaded" else self.loads
            rows = rows.sort_values(["load", "member_no"], ascending=[False, True])
            shown = mask_frame(rows, get_ledger("party_members"))[list(MEMBER_COLUMNS)].rename(columns=MEMBER_COLUMNS)
            return KPI_LABELS[key], frame_html(shown, css_class="fk-table fk-grid-members", max_rows=500,
                                               empty="没有符合条件的党员")
        nodes = vacant_nodes(self.tree)
        shown = mask_frame(nodes.assign(problem=nodes["vacant"].map({True: "空缺", False: "缺电话"})),
                           get_ledger("staff"))
        shown = shown[list(NODE_COLUMNS)].rename(columns=NODE_COLUMNS)
        return KPI_LABELS[key], frame_html(shown, css_class="fk-table fk-grid-vacant", empty="没有空缺节点")

    def grid_rows_html(self, grids: pd.DataFrame) -> str:
        shown = grids.sort_values(["coverage", "code"])[list(GRID_COLUMNS)].rename(columns=GRID_COLUMNS)
        return frame_html(shown, css_class="fk-table fk-grid-table", max_rows=400, empty="没有符合条件的网格",
                          cell_class=lambda col, v: f"fk-state-{v}" if col == "状态" else None)

    def household_rows_html(self, rows: pd.DataFrame) -> str:
        ledger = get_ledger("households")
        shown = mask_frame(rows, ledger).assign(原因=rows["link_problem"])
        shown = shown[[*HOUSEHOLD_COLUMNS, "原因"]].rename(columns=ledger.labels)
        return frame_html(shown, css_class="fk-table fk-grid-households", max_rows=500, empty="没有未联户的农户")

    # -- Exports --------------------------------------------------------------------------

    def grid_export_rows(self) -> pd.DataFrame:
        """The grids as filtered, with 户数 and 已联户数 counted from the households."""
        grids = self.data.ledgers["grids"]
        chosen = grids[grids["code"].isin(set(self.grid_table["code"]))]
        counts = self.grid_table.set_index("code")[["households", "linked"]]
        return chosen.assign(households=chosen["code"].map(counts["households"]).to_numpy(),
                             linked=chosen["code"].map(counts["linked"]).to_numpy())

    def household_export_rows(self) -> pd.DataFrame:
        households = self.data.ledgers["households"]
        return households[households["grid"].isin(set(self.grid_table["code"]))]

    # -- Forms ------------------------------------------------------------------------------

    def households_of(self, grid: str) -> list[tuple[str, str]]:
        """(label, 户编号) of a grid's households, unlinked first."""
        rows = self.linked_rows if grid in set(self.grid_table["code"]) else link_status(
            self.data.ledgers["households"], self.data.ledgers["party_members"])
        rows = rows[rows["grid"] == grid].sort_values(["linked", "household_no"])
        return [(f"{r.household_no} {r.head}（{r.link_problem or '已联：' + str(r.member)}）",
                 r.household_no) for r in rows.itertuples()]

    def members_for(self, grid: str) -> list[tuple[str, str]]:
        """(label, 党员编号) of the party members who may link a grid's
        households: the grid's own first, then the rest of its village."""
        grids = self.data.ledgers["grids"]
        match = grids[grids["code"] == grid]
        if match.empty:
            return []
        village = match.iloc[0]["village"]
        loads = member_loads(self.data.ledgers["households"], self.data.ledgers["party_members"], self.policy)
        loads = loads[loads["village"] == village]
        loads = loads.assign(own=loads["grid"] != grid).sort_values(["own", "load", "member_no"])
        limit = self.policy.member_max_households
        return [(f"{r.member_no} {r.name}（{r.grid}，已联系 {r.load} 户{'，超负荷' if r.load > limit else ''}）",
                 r.member_no) for r in loads.itertuples()]

    def reassign(self, node: str, name: str, phone: str, reason: str = "") -> bool:
        """Put a new person on a node of the tree; the outcome goes to ``status``."""
        return self.run(lambda: reassign_post(self.data.engine, node, name=name, phone=phone, reason=reason,
                                              user=self.operator, today=self.data.today),
                        reload=("staff", "villages", "natural_villages", "grids", "grid_assignments"))

    def link(self, household_nos, member_no: str) -> bool:
        """Link households to a party member; the outcome goes to ``status``."""
        return self.run(lambda: link_households(self.data.engine, list(household_nos), member_no,
                                                user=self.operator),
                        reload=("households", "grids"))
