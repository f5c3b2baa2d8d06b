"""The hub's generated configuration: the spawner (per-login OS accounts as
root), the idle culler's settings, the accounts service, and LDAP from a
checked TOML file. No LDAP server is available to the tests: what is tested
here is the file's checks and the configuration JupyterHub is handed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from traitlets.config import Config

from fangkong_lib import cli
from fangkong_lib.ui import hub

TEMPLATE_LDAP = """
server = "ldap.county.example"
tls = "starttls"
bind_dn_template = "uid={username},ou=people,dc=county,dc=example"
allowed_groups = ["cn=fangkong,ou=groups,dc=county,dc=example"]
"""


def _config(tmp_path: Path, *, isolate: bool, ldap: dict | None = None, **options) -> Config:
    db = f"sqlite:///{tmp_path / 'store.sqlite'}"
    path = hub.write_config(tmp_path / "state", db, ldap=ldap, **options)
    text = path.read_text(encoding="utf-8")
    settings = eval(text.split("configure(c, ", 1)[1].rsplit(")", 1)[0])  # the file's own literal
    settings["isolate"] = isolate
    c = Config()
    hub.configure(c, settings)
    return c


def test_as_root_each_login_runs_as_its_own_account_and_the_culler_has_its_settings(tmp_path):
    c = _config(tmp_path, isolate=True, idle_timeout=120, cull_every=15)
    assert c.JupyterHub.spawner_class is hub.FangkongSpawner
    assert c.FangkongSpawner.state_dir == str((tmp_path / "state").resolve())
    culler, accounts = c.JupyterHub.services
    assert culler["command"][-2:] == ["--timeout=120", "--cull-every=15"]
    # activity reaches the hub well within the timeout (an open page pings every 20 s)
    interval = int(c.Spawner.environment["JUPYTERHUB_ACTIVITY_INTERVAL"])
    assert interval == c.JupyterHub.last_activity_interval and interval * 2 < 120
    # the admin page's changes go to the hub's own service; the store's owner URL stays there
    assert accounts["name"] == "fangkong-accounts" and accounts["environment"]["FANGKONG_DB"].startswith("sqlite")
    port = accounts["environment"]["FANGKONG_ACCOUNTS_PORT"]
    assert c.Spawner.environment[hub.ACCOUNTS_URL] == f"http://127.0.0.1:{port}/"
    assert "FANGKONG_ACCOUNTS_PORT" not in c.Spawner.environment


def test_not_root_one_account_serves_everyone_and_the_default_culler_runs_every_half_timeout(tmp_path):
    c = _config(tmp_path, isolate=False, idle_timeout=3600)
    assert c.JupyterHub.spawner_class == "jupyterhub.spawner.SimpleLocalProcessSpawner"
    assert c.JupyterHub.services[0]["command"][-2:] == ["--timeout=3600", "--cull-every=600"]
    assert (tmp_path / "state" / "jupyterhub_cookie_secret").stat().st_mode & 0o777 == 0o600
    # the users' servers' settings hold no secret and are readable by their accounts
    assert (tmp_path / "state" / "jupyter_config" / "voila.json").stat().st_mode & 0o777 == 0o644


def test_os_account_names_fit_and_stay_apart():
    assert hub.os_account_name("clerk-xy") == "fk-clerk-xy"
    long_a, long_b = "a" * 30 + "-1", "a" * 30 + "-2"
    names = {hub.os_account_name(long_a), hub.os_account_name(long_b)}
    assert len(names) == 2 and all(len(n) <= 32 and n.startswith("fk-") for n in names)


def test_ldap_file_with_a_bind_template(tmp_path):
    path = tmp_path / "ldap.toml"
    path.write_text(TEMPLATE_LDAP, encoding="utf-8")
    settings = hub.read_ldap(path)
    assert settings == {"server_address": "ldap.county.example", "server_port": 389,
                        "tls_strategy": "before_bind",
                        "bind_dn_template": ["uid={username},ou=people,dc=county,dc=example"],
                        "allowed_groups": ["cn=fangkong,ou=groups,dc=county,dc=example"]}
    c = _config(tmp_path, isolate=False, ldap=settings)
    assert c.JupyterHub.authenticator_class == "fangkong_lib.ui.hub.FangkongLDAPAuthenticator"  # loaded by name
    assert c.FangkongLDAPAuthenticator.db_url.startswith("sqlite")
    assert c.LDAPAuthenticator.server_address == "ldap.county.example"
    assert c.LDAPAuthenticator.tls_strategy == "before_bind"
    assert c.Authenticator.allow_all is False  # the groups decide who may log in; `users` the role


def test_ldap_file_with_a_search_and_every_key_is_ldapauthenticators(tmp_path):
    secret = tmp_path / "bind-password"
    secret.write_text("reader-secret\n", encoding="utf-8")
    path = tmp_path / "ldap.toml"
    path.write_text(f"""
server = "ad.county.example"
[search]
base = "ou=people,dc=county,dc=example"
attribute = "sAMAccountName"
bind_dn = "cn=reader,dc=county,dc=example"
bind_password_file = "{secret}"
""", encoding="utf-8")
    settings = hub.read_ldap(path)
    assert settings["tls_strategy"] == "on_connect" and settings["server_port"] == 636
    assert settings["lookup_dn"] is True and settings["lookup_dn_search_password"] == "reader-secret"
    c = _config(tmp_path, isolate=False, ldap=settings)
    assert c.Authenticator.allow_all is True  # no groups: any directory login with a `users` row
    ldapauthenticator = pytest.importorskip("ldapauthenticator")
    known = set(ldapauthenticator.LDAPAuthenticator.class_trait_names(config=True))
    assert set(settings) <= known
    assert issubclass(hub.FangkongLDAPAuthenticator, ldapauthenticator.LDAPAuthenticator)


@pytest.mark.parametrize("text, says", [
    ('tls = "ldaps"\nbind_dn_template = "uid={username},dc=x"', "server 必填"),
    ('server = "ldap://x"\nbind_dn_template = "uid={username},dc=x"', "server 必填"),
    ('server = "x"\ntls = "ssl"\nbind_dn_template = "uid={username},dc=x"', "tls 只能是"),
    ('server = "x"\nbind_dn_template = "uid=fixed,dc=x"', "bind_dn_template 须是含 {username}"),
    ('server = "x"', "二选一"),
    ('server = "x"\nbind_dn_template = "uid={username}"\n[search]\nbase = "dc=x"\nattribute = "uid"', "二选一"),
    ('server = "x"\n[search]\nbase = "dc=x"', "[search] attribute 必填"),
    ('server = "x"\n[search]\nbase = "dc=x"\nattribute = "uid"\nbind_dn = "cn=r"', "须同时给出"),
    ('server = "x"\nport = 0\nbind_dn_template = "uid={username}"', "port 须是"),
    ('server = "x"\nbind_dn_template = "uid={username}"\nallowed_groups = "admins"', "allowed_groups 须是"),
    ('server = "x"\nbind_dn_template = "uid={username}"\npassword = "x"', "不认识的项 password"),
    ('server = ', "不是有效的 TOML"),
])
def test_a_wrong_ldap_file_is_refused_in_chinese_naming_the_file(tmp_path, text, says):
    path = tmp_path / "county-ldap.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        hub.read_ldap(path)
    assert says in str(caught.value) and "county-ldap.toml" in str(caught.value)


def test_the_command_refuses_a_wrong_ldap_file_with_one_line(tmp_path, capsys):
    path = tmp_path / "ldap.toml"
    path.write_text('server = "x"', encoding="utf-8")
    (tmp_path / "store.sqlite").touch()  # the file is read before the store is opened
    status = cli.main(["hub", "--db", str(tmp_path / "store.sqlite"), "--ldap", str(path),
                       "--state-dir", str(tmp_path / "state")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "LDAP 配置" in err and "二选一" in err
    assert cli.main(["hub", "--db", str(tmp_path / "store.sqlite"), "--ldap", str(tmp_path / "missing.toml")]) == 2
    assert "文件不存在" in capsys.readouterr().err
