"""用户管理 (users admin): a county login manages the server's accounts,
as ``fangkong user`` does; anyone else sees one line saying why not."""

from __future__ import annotations

import ipywidgets as w

from ..views.html import escape_text
from .base import PageView, safe_html
from .forms import form_box, labelled, row, section
from .models.users import UsersModel

__all__ = ["UsersPage"]


class UsersPage(PageView):
    """The users admin page (only a county login in a hub session gets forms)."""

    title = "用户管理"
    model_class = UsersModel
    kpi_labels = {"users": "账号", "enabled": "启用", "disabled": "停用"}

    def build(self) -> None:
        m = self.model
        if not m.allowed:
            return
        self._table = self.html_view("table_html", "fk-users-table")
        self._pending = w.HTML().add_class("fk-user-pending")
        m.observe(self._show_pending, names="pending")
        self._show_pending()
        # add
        self._name = self.bind(labelled(w.Text(description="登录名", placeholder="小写字母、数字、. _ -"),
                                        "fk-user-name", "260px"), "new_name")
        self._full_name = self.bind(labelled(w.Text(description="姓名"), "fk-user-full-name", "220px"),
                                    "new_full_name")
        self._role = labelled(w.Dropdown(options=m.role_options, description="角色"), "fk-user-role", "160px")
        self.bind(self._role, "new_role")
        self._township = labelled(w.Dropdown(options=m.township_options, description="乡镇"),
                                  "fk-user-township", "200px")
        self.bind(self._township, "new_township")
        self._village = labelled(w.Dropdown(options=m.village_options_of(""), description="村"),
                                 "fk-user-village", "200px")
        self.bind(self._village, "new_village")
        self._township.observe(self._township_chosen, names="value")
        self._password = self.bind(labelled(w.Password(description="密码"), "fk-user-password", "220px"),
                                   "new_password")
        self._password2 = self.bind(labelled(w.Password(description="再输一次"), "fk-user-password2", "220px"),
                                    "new_password2")
        self._add = w.Button(description="添加账号", button_style="primary").add_class("fk-user-add")
        self._add.on_click(lambda _b: m.add())
        # disable / enable / reset
        self._target = labelled(w.Dropdown(options=m.target_options, description="账号"), "fk-user-target", "360px")
        self.bind(self._target, "target")
        m.observe(self._refresh_targets, names="table_html")
        self._disable = w.Button(description="停用").add_class("fk-user-disable")
        self._disable.on_click(lambda _b: m.disable())
        self._enable = w.Button(description="启用").add_class("fk-user-enable")
        self._enable.on_click(lambda _b: m.enable())
        self._reset_password = self.bind(labelled(w.Password(description="新密码"), "fk-user-reset-password",
                                                  "220px"), "reset_password")
        self._reset_password2 = self.bind(labelled(w.Password(description="再输一次"),
                                                   "fk-user-reset-password2", "220px"), "reset_password2")
        self._reset = w.Button(description="重设密码并启用").add_class("fk-user-reset")
        self._reset.on_click(lambda _b: m.reset())

    def _show_pending(self, _change=None) -> None:
        names = self.model.pending
        self._pending.value = (
            '<div class="fk-note">待批准的自行注册：' + "、".join(escape_text(n) for n in names)
            + '。在下面「添加账号」填写登录名、角色和范围，密码留空，即批准。</div>' if names else "")

    def _township_chosen(self, change) -> None:
        options = self.model.village_options_of(change["new"])
        if self.model.new_village not in [v for _, v in options]:
            self.model.new_village = ""
        self._village.options = options

    def _refresh_targets(self, _change=None) -> None:
        chosen = self.model.target
        self._target.options = self.model.target_options
        if chosen in [v for _, v in self._target.options]:
            self._target.value = chosen

    def body(self):
        if not self.model.allowed:
            return []
        return [safe_html('<div class="fk-h">账号列表</div>'),
                safe_html('<div class="fk-help">账号的角色决定能看的范围：县级看全县，乡镇看本乡镇，村级只看并只改本村，'
                          '只读账号不能录入。密码只存在多用户服务器（JupyterHub）中，此处不显示。</div>'),
                self._table]

    def forms(self):
        if not self.model.allowed:
            return []
        return [
            section("添加账号"),
            self._pending,
            form_box("新账号（村级账号选村即可，乡镇自动带出）", [
                row(self._name, self._full_name, self._role),
                row(self._township, self._village),
                row(self._password, self._password2, self._add),
            ], "fk-user-add-form"),
            section("停用、启用、重设密码"),
            form_box("选择账号", [
                row(self._target, self._disable, self._enable),
                row(self._reset_password, self._reset_password2, self._reset),
            ], "fk-user-change-form"),
            safe_html('<div class="fk-note">新添加的县级账号在服务器下次启动后获得 JupyterHub 管理权限（批准注册、停止会话）。</div>'),
        ]
