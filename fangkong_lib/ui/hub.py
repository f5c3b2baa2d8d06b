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

Every user's server runs as the same operating-system user as the hub (an
office server with one service account): the hub, not the operating system,
keeps users apart (a user's server answers only to that user's login).
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

from ..config import DATA_DIR, JUPYTER_DATA_DIR, NOTEBOOKS_DIR, REPO_DIR

__all__ = ["HUB_DIR", "LANDING", "ROLE_SECRETS", "hub_db_url", "hub_state_dir", "role_secrets", "set_role_secret",
           "user_db_url", "set_hub_login", "has_hub_login", "check_password", "add_login", "disable_login",
           "enable_login", "reset_login", "sync_db_role", "write_config", "configure", "hub_command"]

HUB_DIR = DATA_DIR / "hub"
#: Where a user lands after logging in (relative to their server).
LANDING = "/voila/render/overview.ipynb"
MIN_PASSWORD = 8
#: The logins' own database passwords (PostgreSQL), read by the hub only.
ROLE_SECRETS = "db_roles.json"


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
    state_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(state_dir, 0o700)  # the hub's database, its secrets: the service account's only
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
    state = Path(state_dir)
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o700)
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(state_dir: Path, db_url: str, *, port: int = 8000, failed_logins: int = 5,
                 lockout_seconds: int = 600, idle_timeout: int = 3600) -> Path:
    """Write the hub's configuration into ``state_dir``; return the config file.

    The cookie secret is created once (mode 600) and kept; the database URL
    (with its password: the owner's) goes into a file only the hub's account
    can read, and never to a user's server (see :func:`user_db_url`)."""
    state = Path(state_dir).resolve()
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o700)
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
            # run the hub as a service account; as root (a container), say so
            "allow_root": os.geteuid() == 0,
        },
        **voila,
    }, indent=1), encoding="utf-8")
    settings = {
        "state_dir": str(state), "db_url": db_url, "port": port, "failed_logins": failed_logins,
        "lockout_seconds": lockout_seconds, "idle_timeout": idle_timeout,
        "hub_port": _free_port(), "proxy_api_port": _free_port(),
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
    # The proxy: the Python configurable-http-proxy, its API on a port of its own
    c.ConfigurableHTTPProxy.command = [str(bindir / "configurable-http-proxy")]
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings['proxy_api_port']}"
    # Each user's server
    c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
    c.SimpleLocalProcessSpawner.home_dir_template = str(state / "users" / "{username}")
    c.Spawner.cmd = [str(bindir / "jupyterhub-singleuser")]
    c.Spawner.default_url = LANDING
    c.Spawner.notebook_dir = str(NOTEBOOKS_DIR)
    c.Spawner.environment = {
        # each login's server connects as the login's own database role
        "FANGKONG_DB": lambda spawner: user_db_url(state, settings["db_url"], spawner.user.name),
        "FANGKONG_HUB_DIR": str(state),  # the admin page writes the hub's logins here
        "JUPYTER_PATH": str(JUPYTER_DATA_DIR),
        "JUPYTER_CONFIG_DIR": str(state / "jupyter_config"),
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_DIR), os.environ.get("PYTHONPATH", "")) if p),
    }
    c.Spawner.start_timeout = 120
    c.Spawner.http_timeout = 90
    # Idle servers stopped by the culler; county users administer the hub
    # (approve sign-ups, stop servers) without entering anybody's session.
    c.JupyterHub.services = [{
        "name": "idle-culler",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={settings['idle_timeout']}"],
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
