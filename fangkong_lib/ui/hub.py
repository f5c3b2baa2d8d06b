"""``fangkong hub``: the workbook behind real logins on a county server.

JupyterHub does the logins (NativeAuthenticator: passwords in the hub's own
database, bcrypt-hashed; sign-up with an administrator's approval; a login
locked for a while after repeated failures), the Python
configurable-http-proxy routes (no Node.js), and each logged-in user gets a
server of their own (a local process running jupyter-server with the Voilà
extension, the same template and settings as ``fangkong serve``) that opens
on the overview. jupyterhub-idle-culler stops servers left idle.

Everything the hub keeps lives in one state folder (default ``data/hub/``):
its sqlite database, the cookie secret (mode 600), the generated
``jupyterhub_config.py``, the users' server configuration and, on
PostgreSQL, each login's own database password (``db_roles.json``, mode
600): a login's server gets the store's URL with its login's role, never
the owner's.

Each login's server runs as an operating-system account of its own when the
hub runs as root (the county server): ``fk-<login>``, no password, no
shell, its home under the state folder (:func:`ensure_os_account`, called
whenever a login is added or approved, and again when its server starts).
The state folder is then mode 711 and everything in it the hub's only
(mode 600/700): a login's server reads only its own home, the workbook's
code, and gets only its own database URL. Not as root (a developer's
laptop) every server runs as the hub's own account: the hub, not the
operating system, keeps users apart, and ``fangkong hub`` says so at start.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

from ..config import DATA_DIR, JUPYTER_DATA_DIR, NOTEBOOKS_DIR, REPO_DIR

__all__ = ["HUB_DIR", "LANDING", "ROLE_SECRETS", "hub_db_url", "hub_state_dir", "role_secrets", "set_role_secret",
           "user_db_url", "set_hub_login", "has_hub_login", "check_password", "add_login", "disable_login",
           "enable_login", "reset_login", "sync_db_role", "write_config", "configure", "hub_command",
           "isolating", "os_account_name", "ensure_os_account", "share_sqlite", "unreachable", "pending_signups",
           "accounts_call", "ensure_group", "read_ldap", "LDAP_TLS", "ldap_available", "isolation_problems", "OS_GROUP"]

HUB_DIR = DATA_DIR / "hub"
#: Where a user lands after logging in (relative to their server).
LANDING = "/voila/render/overview.ipynb"
MIN_PASSWORD = 8
#: How long the proxy waits for a user's server to answer (a first render).
PROXY_TIMEOUT_S = 300
#: The logins' own database passwords (PostgreSQL), read by the hub only.
ROLE_SECRETS = "db_roles.json"
#: The group of every login's OS account (a SQLite store is shared through it).
OS_GROUP = "fangkong"
#: Longest OS account name (useradd).
_MAX_OS_NAME = 32


#: ``FANGKONG_HUB_ISOLATE=0``: even as root, every server runs as the hub's
#: account (a container per hub is the isolation; the test suite's in-process
#: tests, which must not make OS accounts).
ISOLATE_ENV = "FANGKONG_HUB_ISOLATE"


def isolating() -> bool:
    """Whether each login's server runs as an OS account of its own: the
    hub runs as root (the county server's service) on a POSIX system, and
    ``FANGKONG_HUB_ISOLATE`` is not 0."""
    return os.name == "posix" and os.geteuid() == 0 and os.environ.get(ISOLATE_ENV, "1") != "0"


def os_account_name(login: str) -> str:
    """The OS account of hub login ``login``: ``fk-<login>`` (a long login:
    shortened, with a hash of the whole to keep it unique)."""
    name = f"fk-{login}"
    if len(name) > _MAX_OS_NAME:
        name = f"fk-{login[:20]}-{hashlib.sha256(login.encode()).hexdigest()[:8]}"
    return name


def _run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}：{done.stderr.strip() or done.returncode}")


def ensure_group() -> int:
    """The gid of group ``fangkong`` (the logins' accounts), made once."""
    import grp

    try:
        return grp.getgrnam(OS_GROUP).gr_gid
    except KeyError:
        _run("groupadd", "--system", OS_GROUP)
        return grp.getgrnam(OS_GROUP).gr_gid


def ensure_os_account(state_dir: Path, login: str) -> str | None:
    """Create (once) the OS account of ``login`` when isolating: a system
    account, locked password, no login shell, in group ``fangkong``, its home
    ``<state>/users/<account>`` (mode 700, its own). Returns the account's
    name; None when not isolating (nothing to do)."""
    import pwd

    if not isolating():
        return None
    state = Path(state_dir).resolve()
    account = os_account_name(login)
    homes = state / "users"
    homes.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o711)  # others may pass through to their home; not list, not read
    os.chmod(homes, 0o711)
    home = homes / account
    ensure_group()
    try:
        pwd.getpwnam(account)
    except KeyError:
        nologin = shutil.which("nologin") or "/usr/sbin/nologin"
        _run("useradd", "--system", "--user-group", "--groups", OS_GROUP, "--home-dir", str(home),
             "--no-create-home", "--shell", nologin, "--comment", f"fangkong login {login}", account)
    entry = pwd.getpwnam(account)
    home.mkdir(mode=0o700, exist_ok=True)
    os.chown(home, entry.pw_uid, entry.pw_gid)
    os.chmod(home, 0o700)
    return account


def unreachable(path: Path) -> Path | None:
    """The first folder on the way to ``path`` that other accounts cannot
    pass (no ``o+x``), or ``path`` itself when they cannot read it; None
    when an unprivileged account can reach it."""
    path = Path(path).resolve()
    for folder in reversed(path.parents):
        if not os.stat(folder).st_mode & stat.S_IXOTH:
            return folder
    mode = os.stat(path).st_mode
    if not mode & stat.S_IROTH or (stat.S_ISDIR(mode) and not mode & stat.S_IXOTH):
        return path
    return None


def isolation_problems(db_url: str) -> list[str]:
    """What an unprivileged login account could not reach (the Python, the
    workbook's code and notebooks, a SQLite store's folder), in Chinese;
    empty when every login's server can run as its own account."""
    import sqlalchemy as sa

    from ..config import PACKAGE_DIR

    needed = [Path(sys.executable), Path(sys.executable).resolve(), Path(sys.prefix), REPO_DIR, PACKAGE_DIR,
              NOTEBOOKS_DIR, JUPYTER_DATA_DIR, Path(sa.__file__).parent]
    problems = []
    for path in needed:
        blocked = unreachable(path)
        if blocked is not None:
            problems.append(f"{path}（{blocked} 对其他系统账号不可读或不可进入）")
    url = sa.make_url(db_url)
    if url.drivername.startswith("sqlite") and url.database:  # its folder is shared through the group
        folder = Path(url.database).resolve().parent
        blocked = next((p for p in reversed(folder.parents) if not os.stat(p).st_mode & stat.S_IXOTH), None)
        if blocked is not None:
            problems.append(f"{folder}（{blocked} 对其他系统账号不可进入）")
    return problems


def share_sqlite(path: Path) -> None:
    """Give the logins' accounts (group ``fangkong``) read and write on the
    SQLite store ``path`` and its folder (SQLite writes its journal next to
    it, with the store's own mode). Every login's kernel can then open the
    whole file: see the warning ``fangkong hub`` prints."""
    path = Path(path).resolve()
    group = ensure_group()
    folder = path.parent
    os.chown(folder, -1, group)
    os.chmod(folder, (os.stat(folder).st_mode & 0o7777) | 0o2070)
    for item in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        if item.exists():
            os.chown(item, -1, group)
            os.chmod(item, (os.stat(item).st_mode & 0o7777) | 0o060)


def hub_state_dir() -> Path:
    """The hub's state folder: ``FANGKONG_HUB_DIR`` (set by the hub in each
    user's server, so the admin page writes the logins the hub reads), else
    the default."""
    return Path(os.environ.get("FANGKONG_HUB_DIR") or HUB_DIR)


def hub_db_url(state_dir: Path) -> str:
    return f"sqlite:///{Path(state_dir).resolve() / 'jupyterhub.sqlite'}"


def set_hub_login(state_dir: Path, name: str, *, password: str | None = None,
                  authorized: bool | None = None) -> None:
    """Create or change ``name``'s login in the hub's database (the table
    NativeAuthenticator reads): the bcrypt-hashed ``password`` when given,
    authorized (no approval needed) or not (disabled). A sign-up waiting for
    approval is authorized by giving it a role."""
    import bcrypt
    from jupyterhub import orm
    from nativeauthenticator.orm import UserInfo

    state_dir = Path(state_dir)
    _state_folder(state_dir)  # the hub's database, its secrets: the service account's only
    session = orm.new_session_factory(hub_db_url(state_dir))()
    try:
        UserInfo.__table__.create(session.get_bind(), checkfirst=True)
        info = UserInfo.find(session, name)
        if info is None:
            if password is None:
                raise ValueError(f"账号 {name} 还没有密码：请用 --password 设置")
            info = UserInfo(username=name, password=b"", is_authorized=False)
            session.add(info)
        if password is not None:
            info.password = bcrypt.hashpw(password.encode(), bcrypt.gensalt())
        if authorized is not None:
            info.is_authorized = authorized
        session.commit()
    finally:
        session.close()
    os.chmod(state_dir / "jupyterhub.sqlite", 0o600)


def _state_folder(state: Path) -> Path:
    """The state folder, made if missing: mode 700, or 711 when isolating
    (the logins' homes are inside; every file in it stays mode 600)."""
    state = Path(state)
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o711 if isolating() else 0o700)
    return state


def _write_private(path: Path, text: str) -> None:
    """Write ``path`` (mode 600 from the start), replacing it whole."""
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def role_secrets(state_dir: Path) -> dict:
    path = Path(state_dir) / ROLE_SECRETS
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def set_role_secret(state_dir: Path, name: str, role: str | None, password: str | None) -> None:
    """Keep (or, ``password`` None, forget) login ``name``'s database role and
    password in the state folder's secrets file (mode 600), for the hub to
    hand to that login's server only."""
    state = _state_folder(Path(state_dir))
    found = role_secrets(state)
    if password is None:
        found.pop(name, None)
    else:
        found[name] = {"role": role, "password": password}
    _write_private(state / ROLE_SECRETS, json.dumps(found, indent=1, sort_keys=True))


def user_db_url(state_dir: Path, db_url: str, name: str) -> str:
    """The store's URL for login ``name``'s server: on PostgreSQL with the
    login's own role and password (the database keeps it to its scope),
    never the owner's; on SQLite (one PC, no roles) the store itself.
    RuntimeError when a PostgreSQL login has no role yet."""
    import sqlalchemy as sa

    url = sa.make_url(db_url)
    if not url.drivername.startswith("postgresql"):
        return db_url
    secret = role_secrets(state_dir).get(name)
    if not secret:
        raise RuntimeError(f"账号 {name} 还没有数据库角色：请运行 fangkong user reset {name}")
    return url.set(username=secret["role"], password=secret["password"]).render_as_string(hide_password=False)


def has_hub_login(state_dir: Path, name: str) -> bool:
    """Whether the hub has a login ``name`` (e.g. a sign-up awaiting approval)."""
    import sqlalchemy as sa

    path = Path(state_dir) / "jupyterhub.sqlite"
    if not path.exists():
        return False
    engine = sa.create_engine(hub_db_url(state_dir))
    try:
        if not sa.inspect(engine).has_table("users_info"):
            return False
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT 1 FROM users_info WHERE username = :n"), {"n": name}).first() is not None
    finally:
        engine.dispose()


def pending_signups(state_dir: Path, known: set[str] | list[str] = ()) -> list[str]:
    """The sign-ups waiting for approval: hub logins not authorized and
    without a ``users`` row (``known``: the users table's names)."""
    import sqlalchemy as sa

    path = Path(state_dir) / "jupyterhub.sqlite"
    if not path.exists():
        return []
    engine = sa.create_engine(hub_db_url(state_dir))
    try:
        if not sa.inspect(engine).has_table("users_info"):
            return []
        with engine.connect() as conn:
            names = conn.execute(sa.text("SELECT username FROM users_info WHERE NOT is_authorized"
                                         " ORDER BY username")).scalars().all()
    finally:
        engine.dispose()
    return [n for n in names if n not in set(known)]


#: The admin page's calls, when the page runs in a login's server under the
#: hub: the hub's accounts service does them (it alone may write the hub's
#: files and make OS accounts and database roles).
ACCOUNTS_URL = "FANGKONG_ACCOUNTS_URL"


def accounts_call(action: str, **params):
    """Ask the hub's accounts service (:mod:`fangkong_lib.ui.hub_accounts`)
    to do ``action`` for the login of this server; its answer, or
    ActionError with the service's message. Only under the hub."""
    import urllib.error
    import urllib.request

    from ..actions.base import ActionError

    request = urllib.request.Request(
        os.environ[ACCOUNTS_URL].rstrip("/") + "/" + action, data=json.dumps(params).encode(), method="POST",
        headers={"Authorization": f"token {os.environ.get('JUPYTERHUB_API_TOKEN', '')}",
                 "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        answer = json.loads(exc.read() or b"{}")
        answer.setdefault("message", f"账号服务拒绝了请求（{exc.code}）")
    except OSError as exc:
        raise ActionError(f"连不上多用户服务器的账号服务：{exc}") from None
    if not answer.get("ok"):
        raise ActionError(answer.get("message") or "账号服务出错")
    return answer.get("result")


def check_password(password: str) -> str:
    """The password, or ValueError when it is too weak to set."""
    if len(password or "") < MIN_PASSWORD:
        raise ValueError(f"密码太短：至少 {MIN_PASSWORD} 个字符")
    from nativeauthenticator import NativeAuthenticator

    if NativeAuthenticator(add_new_table=False).is_password_common(password):
        raise ValueError("密码太常见，请换一个")
    return password


# -- Accounts: the store's users row and the hub's login, together ----------------------
# The command line (`fangkong user`) and the admin page (用户管理) both call
# these. The hub's login is written inside the users row's transaction: if it
# fails, the row is not written either. ``admin=True`` (the page): ``by`` must
# be an enabled county login, read in the same transaction.


def add_login(db, state_dir: Path, name: str, role: str, *, township: str = "", village: str = "",
              full_name: str = "", password: str | None = None, by: str, admin: bool = False) -> dict:
    """Add user ``name`` with its role and scope, and its hub login with
    ``password`` (None: approve the sign-up waiting under that name)."""
    from ..actions.users import add_user

    def login():
        if password is not None:
            check_password(password)
        elif not has_hub_login(state_dir, name):
            raise ValueError(f"账号 {name} 没有自行注册过：请设置密码")
        set_hub_login(state_dir, name, password=password, authorized=True)
        ensure_os_account(state_dir, name)  # as root: the login's own OS account

    done = add_user(db, name, role, township=township, village=village, full_name=full_name, by=by,
                    admin=admin, then=login)
    sync_db_role(db, state_dir, name)
    return done


def disable_login(db, state_dir: Path, name: str, *, by: str, admin: bool = False) -> dict:
    """Disable ``name``: the users row, and the hub refuses the login."""
    from ..actions.base import ActionError
    from ..actions.users import update_user

    if admin and name == by:
        raise ActionError("不能停用自己正在使用的账号")
    done = update_user(db, name, by=by, admin=admin, disabled=True,
                       then=lambda: set_hub_login(state_dir, name, authorized=False))
    sync_db_role(db, state_dir, name, enabled=False)
    return done


def enable_login(db, state_dir: Path, name: str, *, by: str, admin: bool = False) -> dict:
    """Enable ``name`` again, with the password it had."""
    from ..actions.users import update_user

    done = update_user(db, name, by=by, admin=admin, disabled=False,
                       then=lambda: set_hub_login(state_dir, name, authorized=True))
    sync_db_role(db, state_dir, name)
    return done


def reset_login(db, state_dir: Path, name: str, password: str, *, by: str, admin: bool = False) -> dict:
    """Set ``name``'s password and enable the login."""
    from ..actions.users import update_user

    def login():
        check_password(password)
        set_hub_login(state_dir, name, password=password, authorized=True)

    done = update_user(db, name, by=by, admin=admin, disabled=False, then=login)
    sync_db_role(db, state_dir, name)
    return done


def sync_db_role(db, state_dir: Path, name: str, *, enabled: bool = True) -> None:
    """On PostgreSQL, create or update login ``name``'s own database role
    (a new password, kept where only the hub reads it); disabled: NOLOGIN and
    the password forgotten. Nothing on SQLite (one PC, no logins to the
    database)."""
    import sqlalchemy as sa

    from .. import store
    from ..actions.base import ActionError, engine_of
    from ..actions.users import ensure_db_role

    engine = engine_of(db)
    if engine.dialect.name != "postgresql":
        return
    try:
        password = ensure_db_role(engine, name, enabled=enabled)
    except sa.exc.ProgrammingError as exc:
        reason = getattr(getattr(exc.orig, "diag", None), "message_primary", None) or exc.orig
        raise ActionError(f"不能为账号 {name} 建数据库角色（连接数据库的账号需要 CREATEROLE 权限）：{reason}") from None
    set_role_secret(state_dir, name, store.find_user(engine, name)["db_role"], password)


# -- LDAP, for a county that has a directory ----------------------------------------

#: ``tls`` in the LDAP file → ldapauthenticator's ``tls_strategy``.
LDAP_TLS = {"ldaps": "on_connect", "starttls": "before_bind", "none": "insecure"}
_LDAP_KEYS = {"server", "port", "tls", "bind_dn_template", "search", "allowed_groups", "valid_username_regex"}
_LDAP_SEARCH_KEYS = {"base", "attribute", "bind_dn", "bind_password_file", "group_attribute"}


def read_ldap(path: Path) -> dict:
    """The hub's LDAP settings from a TOML file, checked; ValueError in
    Chinese naming the file and the entry. Returns the settings
    :func:`configure` hands to ldapauthenticator (``server_address``, …)."""
    import tomllib

    where = f"LDAP 配置 {path}"
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{where}：文件不存在") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{where}：读不了（{exc}）") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{where}：不是有效的 TOML（{exc}）") from None
    problems = [f"不认识的项 {k}（可用：{'、'.join(sorted(_LDAP_KEYS))}）" for k in sorted(set(raw) - _LDAP_KEYS)]
    server = raw.get("server")
    if not isinstance(server, str) or not server.strip() or "/" in server or " " in server.strip():
        problems.append("server 必填：LDAP 服务器的主机名，例如 \"ldap.county.example\"（不带 ldap://）")
    tls = raw.get("tls", "ldaps")
    if tls not in LDAP_TLS:
        problems.append(f"tls 只能是 {' / '.join(LDAP_TLS)}（默认 ldaps）")
    port = raw.get("port", 389 if tls in ("starttls", "none") else 636)
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        problems.append("port 须是 1–65535 的整数")
    templates = raw.get("bind_dn_template", [])
    if isinstance(templates, str):
        templates = [templates]
    if not isinstance(templates, list) or not all(isinstance(t, str) and "{username}" in t for t in templates):
        problems.append("bind_dn_template 须是含 {username} 的字符串（或其列表），例如 \"uid={username},ou=people,dc=county,dc=example\"")
        templates = []
    search = raw.get("search")
    if search is not None and not isinstance(search, dict):
        problems.append("search 须是一个表 [search]")
        search = None
    if bool(templates) == bool(search):
        problems.append("bind_dn_template 与 [search] 二选一：用模板直接绑定，或先搜索用户再绑定")
    settings = {"server_address": (server or "").strip(), "server_port": port,
                "tls_strategy": LDAP_TLS.get(tls, "on_connect"), "bind_dn_template": templates}
    if search:
        problems += [f"[search] 不认识的项 {k}" for k in sorted(set(search) - _LDAP_SEARCH_KEYS)]
        for key in ("base", "attribute"):
            if not isinstance(search.get(key), str) or not search[key].strip():
                problems.append(f"[search] {key} 必填（base：搜索的根，例如 \"ou=people,dc=county,dc=example\"；"
                                "attribute：登录名所在属性，例如 \"uid\" 或 \"sAMAccountName\"）")
        if bool(search.get("bind_dn")) != bool(search.get("bind_password_file")):
            problems.append("[search] bind_dn 与 bind_password_file 须同时给出（或都不给：匿名搜索）")
        secret = ""
        if search.get("bind_password_file"):
            try:
                secret = Path(search["bind_password_file"]).read_text(encoding="utf-8").strip()
            except OSError as exc:
                problems.append(f"[search] bind_password_file 读不了：{exc.strerror or exc}")
        settings.update(lookup_dn=True, user_search_base=search.get("base", ""),
                        user_attribute=search.get("attribute", ""),
                        lookup_dn_search_user=search.get("bind_dn", ""), lookup_dn_search_password=secret)
    groups = raw.get("allowed_groups", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) and "=" in g for g in groups):
        problems.append("allowed_groups 须是组的 DN 列表，例如 [\"cn=fangkong,ou=groups,dc=county,dc=example\"]")
        groups = []
    settings["allowed_groups"] = groups
    if "valid_username_regex" in raw:
        settings["valid_username_regex"] = str(raw["valid_username_regex"])
    if problems:
        raise ValueError(f"{where}：" + "；".join(problems))
    return settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(state_dir: Path, db_url: str, *, port: int = 8000, failed_logins: int = 5,
                 lockout_seconds: int = 600, idle_timeout: int = 3600, cull_every: int | None = None,
                 ldap: dict | None = None) -> Path:
    """Write the hub's configuration into ``state_dir``; return the config file.

    The cookie secret is created once (mode 600) and kept; the database URL
    (with its password: the owner's) goes into a file only the hub's account
    can read, and never to a user's server (see :func:`user_db_url`)."""
    state = _state_folder(Path(state_dir).resolve())
    secret = state / "jupyterhub_cookie_secret"
    if not secret.exists():
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(os.urandom(32).hex())
    os.chmod(secret, 0o600)
    # The users' servers: jupyter-server with Voilà, the dashboards' settings.
    server_config = state / "jupyter_config"
    server_config.mkdir(exist_ok=True)
    voila = json.loads((REPO_DIR / "voila.json").read_text(encoding="utf-8"))
    (server_config / "voila.json").write_text(json.dumps(voila, indent=1), encoding="utf-8")
    (server_config / "jupyter_server_config.json").write_text(json.dumps({
        "ServerApp": {
            "jpserver_extensions": {"voila": True},
            "terminals_enabled": False,
            "root_dir": str(NOTEBOOKS_DIR),
            "contents_manager_class": "fangkong_lib.ui.hub.ReadOnlyContents",
            # as root the servers run as the logins' own accounts (isolating)
            "allow_root": os.geteuid() == 0 and not isolating(),
        },
        **voila,
    }, indent=1), encoding="utf-8")
    # the servers' configuration: readable by the logins' accounts, no secrets in it
    os.chmod(server_config, 0o755)
    for item in server_config.iterdir():
        os.chmod(item, 0o644)
    for item in state.iterdir():  # whatever else is here: the hub's only
        if item.is_file() and item.name != "jupyterhub_config.py":
            os.chmod(item, 0o600)
    settings = {
        "state_dir": str(state), "db_url": db_url, "port": port, "failed_logins": failed_logins,
        "lockout_seconds": lockout_seconds, "idle_timeout": idle_timeout,
        "cull_every": cull_every or max(5, min(600, idle_timeout // 2)), "isolate": isolating(),
        "hub_port": _free_port(), "proxy_api_port": _free_port(), "accounts_port": _free_port(),
        "ldap": ldap,
    }
    path = state / "jupyterhub_config.py"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("# Generated by `fangkong hub`: edit the command's options, not this file.\n"
                 "from fangkong_lib.ui.hub import configure\n\n"
                 f"configure(c, {settings!r})\n")
    os.chmod(path, 0o600)
    return path


def hub_command(config: Path) -> list[str]:
    return [sys.executable, "-m", "jupyterhub", "-f", str(config)]


def _county_users(db_url: str) -> list[str]:
    from ..actions.users import list_users
    from .. import store

    return [u["name"] for u in list_users(store.get_engine(db_url)) if u["role"] == "county" and not u["disabled"]]


def configure(c, settings: dict) -> None:
    """Fill JupyterHub's config object ``c`` (called by the generated file)."""
    state = Path(settings["state_dir"])
    bindir = Path(sys.executable).parent
    c.JupyterHub.bind_url = f"http://127.0.0.1:{settings['port']}/"
    c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{settings['hub_port']}/"
    c.JupyterHub.db_url = hub_db_url(state)
    c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
    c.JupyterHub.allow_named_servers = False
    c.JupyterHub.redirect_to_server = True  # after logging in: straight to the own server (spawned), the overview
    # Logins
    c.JupyterHub.authenticator_class = FangkongAuthenticator
    c.FangkongAuthenticator.db_url = settings["db_url"]
    c.Authenticator.allow_all = True  # every authorized NativeAuthenticator login; the role comes from `users`
    c.NativeAuthenticator.enable_signup = True
    c.NativeAuthenticator.open_signup = False  # a sign-up waits for an administrator
    c.NativeAuthenticator.minimum_password_length = MIN_PASSWORD
    c.NativeAuthenticator.check_common_password = True
    c.NativeAuthenticator.allowed_failed_logins = settings["failed_logins"]
    c.NativeAuthenticator.seconds_before_next_try = settings["lockout_seconds"]
    if settings.get("ldap"):  # the county's directory checks the password; `users` still gives the role
        c.JupyterHub.authenticator_class = f"{__name__}.FangkongLDAPAuthenticator"
        c.FangkongLDAPAuthenticator.db_url = settings["db_url"]
        for key, value in settings["ldap"].items():
            setattr(c.LDAPAuthenticator, key, value)
        # with allowed groups, only their members (allow_all would let anyone in the directory past)
        c.Authenticator.allow_all = not settings["ldap"].get("allowed_groups")
    # The proxy: the Python configurable-http-proxy, its API on a port of its own
    # a first page renders the whole notebook before answering: on a busy server that can take
    # longer than the proxy's default 20 s, which would show the visitor a 503 page
    c.ConfigurableHTTPProxy.command = [str(bindir / "configurable-http-proxy"),
                                       f"--timeout={PROXY_TIMEOUT_S * 1000}", f"--proxy-timeout={PROXY_TIMEOUT_S * 1000}"]
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings['proxy_api_port']}"
    # Each user's server
    if settings.get("isolate"):  # as root: each login's server as its own OS account
        c.JupyterHub.spawner_class = FangkongSpawner
        c.FangkongSpawner.state_dir = str(state)
    else:  # one account (a laptop): the hub keeps the servers apart, not the OS
        c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
        c.SimpleLocalProcessSpawner.home_dir_template = str(state / "users" / "{username}")
    c.Spawner.cmd = [str(bindir / "jupyterhub-singleuser")]
    c.Spawner.default_url = LANDING
    c.Spawner.notebook_dir = str(NOTEBOOKS_DIR)
    pythonpath = os.pathsep.join(p for p in (str(REPO_DIR), os.environ.get("PYTHONPATH", "")) if p)
    accounts_url = f"http://127.0.0.1:{settings['accounts_port']}/"
    # how often activity reaches the hub: well within the idle timeout (an
    # open page says it is there every 20 s, see the template)
    activity = max(5, min(300, settings["idle_timeout"] // 4))
    c.JupyterHub.last_activity_interval = activity
    c.Spawner.environment = {
        # each login's server connects as the login's own database role
        "FANGKONG_DB": lambda spawner: user_db_url(state, settings["db_url"], spawner.user.name),
        "FANGKONG_HUB_DIR": str(state),  # the admin page writes the hub's logins here
        "JUPYTER_PATH": str(JUPYTER_DATA_DIR),
        "JUPYTER_CONFIG_DIR": str(state / "jupyter_config"),
        "PYTHONPATH": pythonpath,
        ACCOUNTS_URL: accounts_url,  # the admin page's changes go through the hub's service
        "JUPYTERHUB_ACTIVITY_INTERVAL": str(activity),
    }
    c.Spawner.start_timeout = 120
    c.Spawner.http_timeout = 90
    # Idle servers stopped by the culler; county users administer the hub
    # (approve sign-ups, stop servers) without entering anybody's session.
    c.JupyterHub.services = [{
        "name": "idle-culler",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={settings['idle_timeout']}",
                    f"--cull-every={settings['cull_every']}"],
    }, {
        # the admin page's account changes, done by the hub's own account
        "name": "fangkong-accounts",
        "command": [sys.executable, "-m", "fangkong_lib.ui.hub_accounts"],
        "environment": {"FANGKONG_DB": settings["db_url"], "FANGKONG_HUB_DIR": str(state),
                        "FANGKONG_ACCOUNTS_PORT": str(settings["accounts_port"]), "PYTHONPATH": pythonpath},
    }]
    c.JupyterHub.load_roles = [
        {"name": "idle-culler", "services": ["idle-culler"],
         "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]},
        {"name": "fangkong-admin", "users": _county_users(settings["db_url"]),
         "scopes": ["admin-ui", "admin:users", "admin:servers", "list:users", "read:users"]},
    ]


# -- Classes the hub and the users' servers load by name ---------------------------------

try:
    from nativeauthenticator import NativeAuthenticator as _Native
    from traitlets import Unicode
except ImportError:  # the `hub` extra is not installed: `fangkong hub` says so
    _Native = None

if _Native is not None:

    class FangkongAuthenticator(_Native):
        """NativeAuthenticator, and the login must also hold a role in the
        store's ``users`` table and not be disabled there."""

        db_url = Unicode(config=True, help="The fangkong store holding the users table")

        async def authenticate(self, handler, data):
            name = await super().authenticate(handler, data)
            if name is None:
                return None
            from .. import store

            row = store.find_user(store.get_engine(self.db_url), name)
            if row is None or row["disabled"]:
                self.log.warning("login %s refused: no role in the users table, or disabled", name)
                return None
            return name
else:  # pragma: no cover
    FangkongAuthenticator = None


def ldap_available() -> bool:
    """Whether the ``ldap`` extra (jupyterhub-ldapauthenticator) is installed."""
    import importlib.util

    return importlib.util.find_spec("ldapauthenticator") is not None


_LDAP_CLASS = []


def __getattr__(name: str):
    """``FangkongLDAPAuthenticator``, made on first use (the hub loads it by
    name), so that importing this module never imports ldap3."""
    if name != "FangkongLDAPAuthenticator":
        raise AttributeError(name)
    if not _LDAP_CLASS:
        from ldapauthenticator import LDAPAuthenticator
        from traitlets import Unicode as _Unicode

        class FangkongLDAPAuthenticator(LDAPAuthenticator):
            """The county's LDAP directory checks the password; the login must
            also hold an enabled role in the store's ``users`` table."""

            db_url = _Unicode(config=True, help="The fangkong store holding the users table")

            async def authenticate(self, handler, data):
                found = await super().authenticate(handler, data)
                name = found.get("name") if isinstance(found, dict) else found
                if not name:
                    return None
                from .. import store

                row = store.find_user(store.get_engine(self.db_url), name)
                if row is None or row["disabled"]:
                    self.log.warning("LDAP login %s refused: no role in the users table, or disabled", name)
                    return None
                return found

        FangkongLDAPAuthenticator.__module__ = __name__
        FangkongLDAPAuthenticator.__qualname__ = "FangkongLDAPAuthenticator"
        _LDAP_CLASS.append(FangkongLDAPAuthenticator)
    return _LDAP_CLASS[0]


try:
    from jupyterhub.spawner import LocalProcessSpawner, set_user_setuid
    from traitlets import Unicode
except ImportError:  # pragma: no cover
    LocalProcessSpawner = None

if LocalProcessSpawner is not None:

    class FangkongSpawner(LocalProcessSpawner):
        """LocalProcessSpawner with each login's server run as the login's
        own OS account (:func:`os_account_name`), created when missing."""

        state_dir = Unicode(config=True, help="The hub's state folder (the accounts' homes are inside)")

        def make_preexec_fn(self, name):
            return set_user_setuid(os_account_name(name))

        def user_env(self, env):
            import pwd

            entry = pwd.getpwnam(os_account_name(self.user.name))
            env["USER"] = entry.pw_name
            env["HOME"] = entry.pw_dir
            return env

        async def start(self):
            ensure_os_account(Path(self.state_dir), self.user.name)
            return await super().start()
else:  # pragma: no cover
    FangkongSpawner = None


try:
    from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
    from tornado import web
except ImportError:  # pragma: no cover
    AsyncLargeFileManager = None

if AsyncLargeFileManager is not None:

    class ReadOnlyContents(AsyncLargeFileManager):
        """The dashboards' folder as the users' servers see it: read only
        (the notebooks are shared by every user)."""

        def _refuse(self, *_args, **_kwargs):
            raise web.HTTPError(403, "只读")

        async def save(self, model, path=""):
            self._refuse()

        async def delete_file(self, path):
            self._refuse()

        async def rename_file(self, old_path, new_path):
            self._refuse()

        async def new(self, model=None, path=""):
            self._refuse()

        async def new_untitled(self, path="", type="", ext=""):
            self._refuse()

        async def copy(self, from_path, to_path=None):
            self._refuse()
