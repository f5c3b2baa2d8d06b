"""The users admin page's model (用户管理): the county server's accounts.

Only a county login in a hub session manages accounts here (``allowed``);
anyone else, and the single PC (which has no logins), gets a one-line
explanation and no list. Every change goes through the same functions as
``fangkong user`` (:mod:`fangkong_lib.ui.hub`): the store's ``users`` row and
the hub's login together, in one transaction, audited with the login as
user; the actions check the caller again (a widget message can set any
trait). No password or hash is ever read into the page.
"""

from __future__ import annotations

import os

import pandas as pd
import traitlets as t

from ...actions.users import current_user, list_users, scope_choices
from ...config import ROLE_LABELS, ROLES, hub_user_name
from ...views.tables import frame_html
from .. import hub
from .base import PageModel, run_action

#: The list's columns: users column → Chinese heading.
COLUMNS = {"name": "登录名", "full_name": "姓名", "role": "角色", "township": "乡镇", "village": "村",
           "disabled": "状态", "created": "创建时间", "updated": "更新时间"}
NOT_ADMIN = "用户管理只对县级账号开放：请用县级账号登录多用户服务器（fangkong hub）；单机版没有账号。"
SINGLE_PC = "单机版没有登录账号，无需用户管理；县级服务器上用 fangkong hub 启动后，县级账号在此管理账号。"


class UsersModel(PageModel):
    """State of the users admin page.

    Set the add form's traits (``new_*``) and call :meth:`add`; set
    ``target`` and call :meth:`disable`, :meth:`enable` or :meth:`reset`
    (with ``reset_password``/``reset_password2``). Read ``table_html``,
    ``kpis`` and ``status``.
    """

    filters = ()
    table_html = t.Unicode("")
    #: sign-ups waiting for approval (their names), see :meth:`add`
    pending = t.List(t.Unicode())
    new_name = t.Unicode("")
    new_full_name = t.Unicode("")
    new_role = t.Unicode("village")
    new_township = t.Unicode("")
    new_village = t.Unicode("")
    new_password = t.Unicode("")
    new_password2 = t.Unicode("")
    target = t.Unicode("")
    reset_password = t.Unicode("")
    reset_password2 = t.Unicode("")

    def __init__(self, data, *, state_dir=None, **kwargs):
        self.state_dir = state_dir
        self.user = current_user(data.engine) if hub_user_name() else current_user()
        self.users: list[dict] = []
        self.townships, self.villages = scope_choices(data.engine) if self.allowed else ([], [])
        super().__init__(data, **kwargs)

    @property
    def allowed(self) -> bool:
        """Whether this session may manage accounts (checked again by every action)."""
        return self.user.hub and self.user.role == "county"

    @property
    def hub_dir(self):
        return self.state_dir if self.state_dir is not None else hub.hub_state_dir()

    # -- Choices the browser can set are checked -------------------------------------

    @t.validate("new_role")
    def _check_role(self, proposal):
        return self.one_of(proposal["value"], ROLES, "角色")

    @t.validate("new_township")
    def _check_township(self, proposal):
        return self.one_of(proposal["value"], self.townships, "乡镇")

    @t.validate("new_village")
    def _check_village(self, proposal):
        return self.one_of(proposal["value"], [v for v, _ in self.villages], "村")

    @t.validate("target")
    def _check_target(self, proposal):
        return self.one_of(proposal["value"], [u["name"] for u in self.users], "账号")

    @property
    def role_options(self) -> list[tuple[str, str]]:
        return [(ROLE_LABELS[r], r) for r in ROLES]

    @property
    def township_options(self) -> list[tuple[str, str]]:
        return [("（不限）", "")] + [(x, x) for x in self.townships]

    def village_options_of(self, township: str) -> list[tuple[str, str]]:
        """The villages to choose from: those of ``township`` ("" = all)."""
        return [("（不限）", "")] + [(v, v) for v, home in self.villages if not township or home == township]

    @property
    def target_options(self) -> list[tuple[str, str]]:
        return [("选择账号…", "")] + [
            (f"{u['name']}（{u['full_name'] or ''}，{'停用' if u['disabled'] else '启用'}）", u["name"])
            for u in self.users]

    # -- The hub's accounts: here, or through the hub's service --------------------------

    def _account(self, action: str, **params):
        """Do ``action`` for this login: under the hub through its accounts
        service (this server's OS account cannot write the hub's files),
        otherwise (tests, a hub-less server) with the functions themselves."""
        if os.environ.get(hub.ACCOUNTS_URL):
            return hub.accounts_call(action, **params)
        engine, state, by = self.data.engine, self.hub_dir, self.user.name
        if action == "pending":
            return hub.pending_signups(state, [u["name"] for u in list_users(engine)])
        name = params.pop("name")
        call = {"disable": hub.disable_login, "enable": hub.enable_login}.get(action)
        if action == "add":
            return hub.add_login(engine, state, name, params.pop("role"), by=by, admin=True, **params)
        if action == "reset":
            return hub.reset_login(engine, state, name, params["password"], by=by, admin=True)
        return call(engine, state, name, by=by, admin=True)

    # -- The list --------------------------------------------------------------------

    def compute(self) -> str:
        if not self.allowed:
            self.users, self.kpis, self.table_html = [], {}, ""
            return NOT_ADMIN if self.user.hub else SINGLE_PC
        self.users = [{k: u[k] for k in COLUMNS} for u in list_users(self.data.engine)]  # no hashes here, ever
        frame = pd.DataFrame(self.users, columns=list(COLUMNS))
        frame["role"] = frame["role"].map(lambda r: ROLE_LABELS.get(r, r))
        frame["disabled"] = frame["disabled"].map(lambda d: "停用" if d else "启用")
        self.table_html = frame_html(frame.rename(columns=COLUMNS), css_class="fk-table fk-users",
                                     empty="还没有账号")
        self.pending = self._account("pending") or []
        self.kpis = {"users": len(self.users), "enabled": sum(not u["disabled"] for u in self.users),
                     "disabled": sum(bool(u["disabled"]) for u in self.users)}
        return f"共 {len(self.users)} 个账号"

    # -- The forms -------------------------------------------------------------------

    def _run(self, action) -> bool:
        if not self.allowed:
            self.status, self.error = NOT_ADMIN, True
            return False
        report = run_action(action)
        if report.ok:
            self.refresh()
        self.status, self.error = report.message, not report.ok
        return report.ok

    def _passwords(self, first: str, second: str) -> str | None:
        """The password typed twice (None: both blank), or ValueError."""
        if not first and not second:
            return None
        if first != second:
            raise ValueError("两次输入的密码不一致")
        return hub.check_password(first)

    def add(self) -> bool:
        """Add the account of the add form; its passwords are cleared after."""
        def action():
            password = self._passwords(self.new_password, self.new_password2)
            name = self.new_name.strip()
            if password is None and name not in self.pending:
                raise ValueError("请设置密码（输入两次）；批准自行注册的账号时密码留空")
            self._account("add", name=name, role=self.new_role, township=self.new_township,
                          village=self.new_village, full_name=self.new_full_name, password=password)
            if password is None:
                return f"已批准注册 {name}（{ROLE_LABELS[self.new_role]}），可以登录了"
            return f"已添加账号 {name}（{ROLE_LABELS[self.new_role]}）"

        ok = self._run(action)
        self.new_password = self.new_password2 = ""
        if ok:
            self.new_name = self.new_full_name = ""
        return ok

    def _chosen(self) -> str:
        if not self.target:
            raise ValueError("请先选择账号")
        return self.target

    def disable(self) -> bool:
        def action():
            name = self._chosen()
            self._account("disable", name=name)
            return f"已停用账号 {name}（已打开的会话不能再写入）"

        return self._run(action)

    def enable(self) -> bool:
        def action():
            name = self._chosen()
            self._account("enable", name=name)
            return f"已启用账号 {name}（密码不变）"

        return self._run(action)

    def reset(self) -> bool:
        def action():
            name = self._chosen()
            password = self._passwords(self.reset_password, self.reset_password2)
            if password is None:
                raise ValueError("请输入新密码（两次）")
            self._account("reset", name=name, password=password)
            return f"已重设账号 {name} 的密码并启用"

        ok = self._run(action)
        self.reset_password = self.reset_password2 = ""
        return ok
