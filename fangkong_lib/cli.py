"""The ``fangkong`` command line: the library's functions from the shell.

A user mistake ends with one clear line and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, timedelta
from pathlib import Path

from . import __version__
from .config import DATA_DIR, JUPYTER_DATA_DIR, NOTEBOOKS_DIR, REPO_DIR, database_url
from .ledgers import AHEAD_DAYS, DATE_MIN, LEDGERS

#: Hosts that only this machine can reach; any other bind address needs a token.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
#: Shortest token accepted (a generated one has 43 characters).
MIN_TOKEN_CHARS = 16
#: The dashboard the server root opens.
HOME_NOTEBOOK = "overview.ipynb"


class UserError(Exception):
    """An error the user can fix; printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with the command line's contract: a usage error is one line on
    stderr and exit status 2 (argparse's own prints the usage block too)."""

    def error(self, message):
        self.exit(2, f"fangkong: 错误：{message}（用 {self.prog} --help 查看用法）\n")


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory ones)."""
    import sqlalchemy as sa

    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise UserError(f"数据库地址 {url!r} 无法识别：应为 SQLAlchemy URL 或 SQLite 文件路径") from None
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        return Path(parsed.database)
    return None


def check_database_exists(args) -> None:
    """Refuse a ``--db`` (or ``FANGKONG_DB``) naming a SQLite file that does
    not exist, unless the command creates databases: a mistyped path must not
    quietly become a new empty database."""
    if not hasattr(args, "db") or args.command == "demo" or getattr(args, "create_db", False):
        return
    path = _sqlite_file(database_url(args.db))
    if path is not None and not path.is_file():
        hint = "（新建数据库请加 --create-db）" if args.command == "import" else "：先运行 `fangkong demo` 或检查 --db"
        raise UserError(f"数据库文件 {path} 不存在{hint}")


def _engine(args):
    """The engine of an existing database with data; a clear error otherwise."""
    import sqlalchemy as sa

    from . import store

    url = database_url(args.db)
    path = _sqlite_file(url)
    if path is not None and not path.is_file():
        raise UserError(f"数据库文件 {path} 不存在：先运行 `fangkong demo` 或 `fangkong import`")
    engine = store.get_engine(url)
    if not store.has_data(engine):
        shown = sa.engine.make_url(url).render_as_string(hide_password=True)
        raise UserError(f"数据库 {shown} 中没有数据：先运行 `fangkong demo` 或 `fangkong import`")
    return engine


def cmd_demo(args) -> int:
    from .demo.township import build_demo

    url = database_url(args.db)
    if args.if_missing:
        from . import store

        if store.has_data(store.get_engine(url)):
            print(f"数据库 {_shown_url(url)} 已有数据，未重新生成")
            return 0
    if args.scale == "county":
        from .demo.county import build_county

        s = build_county(url, seed=args.seed)
        print(f"已生成合成演示数据（郸城县）：{_shown_url(url)}：{s['townships']} 个乡镇，{s['villages']} 个行政村，"
              f"{s['grids']} 个网格，在外人员 {s['away']} 人，返乡人员 {s['returnees']} 人，用时 {s['seconds']} 秒")
        return 0
    counts = build_demo(url, seed=args.seed)
    print(f"已生成合成演示数据：{_shown_url(url)}")
    for key, n in counts.items():
        print(f"  {LEDGERS[key].label:<10} {key:<17} {n:>6} 行")
    return 0


def _shown_url(url: str) -> str:
    """A database URL fit to print: the password hidden."""
    import sqlalchemy as sa

    return sa.engine.make_url(url).render_as_string(hide_password=True)


def cmd_export(args) -> int:
    from .outputs.exports import export_ledger

    out = Path(args.out)
    if args.ledger == "leads":  # every lead with its status at --at
        return _export_leads(args, out)
    if args.at:
        raise UserError("--at 只用于 fangkong export leads（线索状态的计算时点）")
    n = export_ledger(_engine(args), args.ledger, out, masked=not args.unmasked)
    note = "（未脱敏，请妥善保管）" if args.unmasked else "（身份证号、电话已脱敏）"
    print(f"已导出 {LEDGERS[args.ledger].label} {n} 行到 {out}{note}")
    return 0


def _export_leads(args, out: Path) -> int:
    from datetime import datetime

    from .outputs.leads import export_leads

    at = None
    if args.at:
        try:
            at = datetime.strptime(args.at.strip(), "%Y-%m-%d %H:%M")
        except ValueError:
            raise UserError(f"时点 {args.at!r} 格式不对，应为 \"YYYY-MM-DD HH:MM\"") from None
        _parse_date(at.date().isoformat())
    n, at = export_leads(_engine(args), out, masked=not args.unmasked, at=at)
    note = "（未脱敏，请妥善保管）" if args.unmasked else "（身份证号、电话已脱敏）"
    print(f"已导出 线索核查 {n} 条到 {out}，状态截至 {at:%Y-%m-%d %H:%M}{note}")
    return 0


def cmd_map(args) -> int:
    from .outputs.briefing import RenderError, export_map

    day = _parse_date(args.date) if args.date else None
    size = _parse_size(args.size)
    try:
        out = export_map(_engine(args), Path(args.out), layers=args.layer, basemap=args.basemap, title=args.title,
                         day=day, village=args.village, measure=args.measure, size=size, scale=args.scale)
    except RenderError as exc:
        raise UserError(str(exc)) from None
    print(f"已导出地图：{out}")
    return 0


def _parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UserError(f"尺寸 {text!r} 格式不对，应为 宽x高，如 1200x850") from None
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise UserError(f"尺寸 {text} 超出范围：宽和高应在 {MIN_SIDE} 至 {MAX_SIDE} 之间")
    return width, height


#: Bounds of a PNG map's side (CSS pixels): Chromium cannot draw beyond them.
MIN_SIDE, MAX_SIDE = 200, 8000


def cmd_brief(args) -> int:
    from .outputs.briefing import RenderError, write_briefing
    from .dataset import Dataset

    data = Dataset.load(_engine(args))
    day = _parse_date(args.date) if args.date else data.today
    try:
        paths = write_briefing(data, day, Path(args.out))
    except RenderError as exc:
        raise UserError(str(exc)) from None
    print(f"已生成 {data.township} {day.isoformat()} 日报（个人信息已脱敏）：")
    for path in paths:
        print(f"  {path}")
    return 0


def cmd_template(args) -> int:
    from .outputs.xlsx import write_template

    out = write_template(args.ledger, Path(args.out))
    print(f"已生成「{LEDGERS[args.ledger].label}」空白模板：{out}")
    return 0


def cmd_import(args) -> int:
    import json

    from . import store
    from .actions import ActionError
    from .ingest.importer import LedgerFileError
    from .outputs.reports import import_with_report

    url = database_url(args.db)
    engine = store.get_engine(url)
    try:
        # Dates without a year (4月10日) take the data's year, as on the import page.
        result = import_with_report(
            engine, args.ledger, Path(args.file), user=args.user, dry_run=args.dry_run,
            report=Path(args.report) if args.report else None,
            progress=not args.json and sys.stderr.isatty(),
        )
    except (LedgerFileError, ActionError) as exc:
        raise UserError(str(exc)) from None
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
        return 0
    print(result.summary())
    for warning in result.warnings:
        print(f"  提示：{warning}")
    for row in result.rejected_rows[:10]:
        print(f"  第 {row.row} 行：{'；'.join(row.reasons)}")
    if result.rejected > 10:
        print(f"  …… 另有 {result.rejected - 10} 行被拒收")
    if result.report:
        print(f"  错误报告：{result.report}（改好后可重新导入）")
    elif result.rejected:
        print("  用 --report 错误报告.xlsx 导出被拒收的行")
    return 0


def cmd_serve(args) -> int:
    """Serve the dashboards (and nothing else) with Voilà, in this process.

    Bound beyond this machine, the server is never open: without a token one
    is generated. The token reaches Voilà through its configuration, never
    through a command line (the process list shows command lines), and no
    password or token is printed except a generated token, once.
    """
    engine = _engine(args)
    url = engine.url.render_as_string(hide_password=False)
    shown = engine.url.render_as_string(hide_password=True)
    if not NOTEBOOKS_DIR.is_dir():
        raise UserError(f"找不到仪表盘目录 {NOTEBOOKS_DIR}")
    token, source = _serve_token(args)
    if token is None and args.host not in LOCAL_HOSTS:
        import secrets

        token, source = secrets.token_urlsafe(32), None
    # The kernels inherit the environment: they need the database, not the token.
    os.environ["FANGKONG_DB"] = url
    os.environ.pop("FANGKONG_TOKEN", None)
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(JUPYTER_DATA_DIR), os.environ.get("JUPYTER_PATH")) if p)
    host = f"[{args.host}]" if ":" in args.host else args.host
    base = f"http://{host}:{args.port}/"
    print(f"防控工作台：{base}  （数据库 {shown}，Ctrl+C 停止）", flush=True)
    if token is not None and source is None:
        _announce_generated_token(base, token, args.port)
    elif token is not None:
        print(f"访问需要令牌（来自 {source}）：打开 {base}?token=<令牌>", flush=True)
    # voila.json at the repository root holds the rest of the configuration.
    os.chdir(REPO_DIR)
    _dashboard_app().launch_instance(
        [str(NOTEBOOKS_DIR), "--no-browser", f"--port={args.port}", f"--Voila.ip={args.host}",
         "--template=fangkong", *_cull_flags(args.cull_idle),
         *(["--VoilaConfiguration.preheat_kernel=False"] if args.no_preheat else [])],
        config=_token_config(token),
    )
    return 0


def cmd_hub(args) -> int:
    """JupyterHub in front of the workbook: logins, one server per user."""
    try:
        from .ui import hub
    except ImportError as exc:
        raise UserError(f"缺少 Python 包 {exc.name}：pip install -e '.[hub]'") from None
    if hub.FangkongAuthenticator is None:
        raise UserError("缺少 JupyterHub 组件：pip install -e '.[hub]'")
    from . import store
    from .actions.users import apply_row_security

    ldap = None
    if args.ldap:
        try:
            ldap = hub.read_ldap(Path(args.ldap))
        except ValueError as exc:
            raise UserError(str(exc)) from None
        if not hub.ldap_available():
            raise UserError("缺少 Python 包 jupyterhub-ldapauthenticator：pip install -e '.[ldap]'")
    engine = _engine(args)
    store.users_table.create(engine, checkfirst=True)
    apply_row_security(engine)
    _give_logins_roles(engine, Path(args.state_dir))
    url = engine.url.render_as_string(hide_password=False)
    shown = engine.url.render_as_string(hide_password=True)
    _hub_isolation(engine, hub, Path(args.state_dir), url)
    config = hub.write_config(Path(args.state_dir), url, port=args.port, failed_logins=args.failed_logins,
                              lockout_seconds=args.lockout_seconds, idle_timeout=args.idle_timeout,
                              cull_every=args.cull_every, ldap=ldap)
    print(f"防控工作台（多用户）：http://127.0.0.1:{args.port}/  （数据库 {shown}，状态目录 {config.parent}，Ctrl+C 停止）",
          flush=True)
    if ldap:
        print(f"登录：LDAP（{ldap['server_address']}）；角色和范围仍由 users 表决定", flush=True)
    os.umask(0o077)  # whatever the hub writes from now on is its own
    os.chdir(config.parent)
    command = hub.hub_command(config)
    os.execv(command[0], command)
    return 0


def _hub_isolation(engine, hub, state: Path, url: str) -> None:
    """As root: every enabled login gets its OS account, a SQLite store is
    shared with them through their group, and what they cannot reach is an
    error. Not root: say plainly that the OS does not keep users apart.
    SQLite with logins kept to a scope: a loud warning (see README)."""
    from .actions.users import list_users

    users = [u for u in list_users(engine) if not u["disabled"]]
    if hub.isolating():
        problems = hub.isolation_problems(url)
        if problems:
            raise UserError("以 root 运行时每个账号的会话用自己的系统账号（fk-登录名）运行，但它们读不到这些（给括号里的"
                            "文件夹 o+x、文件 o+r，或装到其他账号可进入的位置）：" + "；".join(problems))
        for user in users:
            hub.ensure_os_account(state, user["name"])
        hub.ensure_group()
        if engine.dialect.name == "sqlite":
            hub.share_sqlite(Path(engine.url.database))
        print("隔离：每个账号的会话以自己的系统账号（fk-登录名）运行，读不到状态目录中的密码和数据库账号，"
              "也读不到别人的会话文件", flush=True)
    else:
        import getpass

        why = "FANGKONG_HUB_ISOLATE=0" if os.name == "posix" and os.geteuid() == 0 else "未以 root 运行"
        print(f"注意：{why}，所有账号的会话都以本系统账号（{getpass.getuser()}）运行：登录和会话由 JupyterHub 隔开，"
              "但会话里运行的代码能读到状态目录（包括各账号的数据库密码）。县级服务器请以 root 启动（服务）", flush=True)
    scoped = [u["name"] for u in users if u["role"] != "county"]
    if engine.dialect.name == "sqlite" and scoped:
        print("警告：数据库是 SQLite 文件，每个会话都能打开整个文件：乡镇、村级和只读账号的范围只由工作台的页面保证，"
              f"数据库本身不限制（{len(scoped)} 个这样的账号）。多个科室共用的县级服务器请改用 PostgreSQL（--db）",
              file=sys.stderr, flush=True)


def _give_logins_roles(engine, state: Path) -> None:
    """On PostgreSQL, every enabled login whose own database role the hub
    does not know yet (made before roles existed) gets one."""
    from .actions.users import list_users
    from .ui import hub

    if engine.dialect.name != "postgresql":
        return
    known = hub.role_secrets(state)
    for user in list_users(engine):
        if not user["disabled"] and user["name"] not in known:
            hub.sync_db_role(engine, state, user["name"])


def cmd_user(args) -> int:
    """Users and roles: the store's users table and the hub's logins, together
    (the same functions as the admin page, :mod:`fangkong_lib.ui.hub`)."""
    from .actions.users import list_users
    from .config import ROLE_LABELS

    try:
        from .ui import hub
    except ImportError as exc:
        raise UserError(f"缺少 Python 包 {exc.name}：pip install -e '.[hub]'") from None
    engine = _engine(args)
    by = os.environ.get("FANGKONG_USER") or os.environ.get("USER") or "admin"
    state = Path(args.state_dir)
    if args.action == "list":
        for u in list_users(engine):
            scope = u["village"] or u["township"] or "全县"
            state_text = "停用" if u["disabled"] else "启用"
            print(f"{u['name']}\t{ROLE_LABELS[u['role']]}\t{scope}\t{u['full_name'] or ''}\t{state_text}")
        return 0
    password = getattr(args, "password", None)
    if password is not None:
        hub.check_password(password)
    if args.action == "add":
        hub.add_login(engine, state, args.name, args.role, township=args.township or "", village=args.village or "",
                      full_name=args.full_name or "", password=password, by=by)
        print(f"已添加账号 {args.name}（{ROLE_LABELS[args.role]}）")
    elif args.action == "disable":
        hub.disable_login(engine, state, args.name, by=by)
        print(f"已停用账号 {args.name}（已打开的会话不能再写入；重启其服务器或等空闲回收）")
    elif args.action == "enable":
        hub.enable_login(engine, state, args.name, by=by)
        print(f"已启用账号 {args.name}（密码不变）")
    elif args.action == "reset":
        hub.reset_login(engine, state, args.name, password, by=by)
        print(f"已重设账号 {args.name} 的密码并启用")
    return 0


def _serve_token(args) -> tuple[str | None, str | None]:
    """The token given by ``--token-file``, ``--token`` or ``FANGKONG_TOKEN``
    (in that order) and where it came from; (None, None) when none is."""
    if args.token_file:
        try:
            text = Path(args.token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UserError(f"无法读取令牌文件 {args.token_file}：{exc.strerror or exc}") from None
        token, source = text.splitlines()[0].strip() if text else "", f"文件 {args.token_file}"
    elif args.token:
        print("fangkong: 提示：命令行中的令牌在进程列表中人人可见，请改用 FANGKONG_TOKEN 或 --token-file",
              file=sys.stderr)
        token, source = args.token, "--token"
    elif os.environ.get("FANGKONG_TOKEN"):
        token, source = os.environ["FANGKONG_TOKEN"], "环境变量 FANGKONG_TOKEN"
    else:
        return None, None
    if len(token) < MIN_TOKEN_CHARS or any(ch.isspace() for ch in token):
        raise UserError(f"{source}中的令牌太短或含空白：至少 {MIN_TOKEN_CHARS} 个字符（不给令牌时自动生成一个）")
    return token, source


def _announce_generated_token(base: str, token: str, port: int) -> None:
    """Show a generated token once: on the terminal that started the server,
    or, when output goes to a file or a journal, in a file only this user can
    read (never in a log)."""
    if sys.stdout.isatty():
        print(f"已生成访问令牌（只显示这一次）：{base}?token={token}", flush=True)
        return
    from jupyter_core.paths import jupyter_runtime_dir

    folder = Path(jupyter_runtime_dir())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"fangkong-serve-{port}.token"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(token + "\n")
    os.chmod(path, 0o600)
    print(f"已生成访问令牌，写在 {path}（仅本用户可读）：打开 {base}?token=<令牌>", flush=True)


def _token_config(token: str | None):
    from traitlets.config import Config

    config = Config()
    if token is not None:
        config.Voila.token = token
    return config


def _cull_flags(cull_idle: int | None) -> list[str]:
    """voila.json's culling with another idle time (command-line flags win
    over the file); a kernel with a browser attached is never culled."""
    if cull_idle is None:
        return []
    kernels = "--MappingKernelManager."
    return [f"{kernels}cull_idle_timeout={cull_idle}", f"{kernels}cull_interval={max(1, min(60, cull_idle // 2))}",
            f"{kernels}cull_connected=False"]


def _dashboard_app():
    """Voilà serving the dashboards and nothing else: the root and
    ``/voila/tree`` redirect to the overview (no notebook listing), the
    contents API is gone, only the dashboards (``notebooks/*.ipynb``, not
    the analyst notebooks below) can be rendered, and the access log hides
    tokens in URLs."""
    import functools
    import re

    import tornado.web
    from jupyter_server.log import log_request
    from jupyter_server.utils import url_path_join
    from voila.app import Voila

    dashboards = sorted(p.name for p in NOTEBOOKS_DIR.glob("*.ipynb"))

    class HomeHandler(tornado.web.RequestHandler):
        def initialize(self, target: str) -> None:
            self.target = target

        def get(self, *_args) -> None:
            query = self.request.query
            self.redirect(self.target + (f"?{query}" if query else ""))

    class DashboardVoila(Voila):
        def init_settings(self):
            settings = super().init_settings()
            settings["log_function"] = functools.partial(log_request, record_prometheus_metrics=False)
            return settings

        def init_handlers(self):
            base = self.server_url
            home = url_path_join(self.base_url, "voila/render", HOME_NOTEBOOK)
            render = url_path_join(base, r"/voila/render/(.*)")
            gone = (url_path_join(base, "/voila/tree"), url_path_join(base, "/voila/api/contents"))
            names = "|".join(re.escape(name) for name in dashboards)
            handlers = [(base, HomeHandler, {"target": home}),
                        (url_path_join(base, r"/voila/tree(.*)"), HomeHandler, {"target": home})]
            for handler in super().init_handlers():
                pattern = handler[0]
                if pattern == base or pattern.startswith(gone):
                    continue
                if pattern == render:
                    handler = (url_path_join(base, rf"/voila/render/({names})"), *handler[1:])
                handlers.append(handler)
            return handlers

    return DashboardVoila


def cmd_db(args) -> int:
    """The database's schema: upgrade in place, show the revision, list the
    revisions, write a new one (developers)."""
    from . import migrations, store

    if args.db_command == "history":
        newest = migrations.head()
        for rev, doc in migrations.history():
            print(f"{rev}  {doc}{'  （最新）' if rev == newest else ''}")
        return 0
    if args.db_command == "revision":
        return _db_revision(args)
    url = database_url(args.db)
    engine = store.get_engine(url)
    if args.db_command == "upgrade":
        result = store.init_db(engine)
        if not result.changed and result.before is not None:
            print(f"数据库 {_shown_url(url)} 已是最新结构版本 {result.after}，无需升级")
            return 0
        if result.adopted:
            extra = [f"新建表 {'、'.join(result.created_tables)}"] if result.created_tables else []
            extra += [f"补列 {'、'.join(result.added_columns)}"] if result.added_columns else []
            print(f"接管迁移前建立的数据库，补齐到版本 {migrations.BASELINE}" + (f"（{'；'.join(extra)}）" if extra else ""))
        shown = " → ".join(result.applied) or "无"
        print(f"已升级数据库 {_shown_url(url)}：{result.before or ('迁移前建立' if result.adopted else '空库')} → {result.after}（执行迁移：{shown}）")
        return 0
    # current
    rev, newest = migrations.current(engine), migrations.head()
    if rev is None:
        import sqlalchemy as sa

        made = bool(set(sa.inspect(engine).get_table_names()) & set(store.TABLES))
        state = "迁移前建立的数据库，尚无结构版本" if made else "空数据库"
        print(f"数据库 {_shown_url(url)}：{state}（最新为 {newest}；运行 fangkong db upgrade）")
    elif rev == newest:
        print(f"数据库 {_shown_url(url)}：结构版本 {rev}（最新）")
    else:
        print(f"数据库 {_shown_url(url)}：结构版本 {rev}，最新为 {newest}（运行 fangkong db upgrade）")
    return 0


def _db_revision(args) -> int:
    from . import migrations, store

    message = args.message.strip()
    if not message:
        raise UserError("迁移说明不能为空：fangkong db revision -m \"说明\"")
    engine = None
    if args.against:
        path = _sqlite_file(database_url(args.against))
        if path is not None and not path.is_file():
            raise UserError(f"数据库文件 {path} 不存在：检查 --db")
        engine = store.get_engine(database_url(args.against))
    path, differences = migrations.new_revision(message, store.metadata, engine)
    print(f"已生成迁移 {path}")
    if not differences:
        print("  台账定义与最新结构版本一致：这是一个空迁移，请手写 upgrade()/downgrade()（如搬移数据），用不上就删掉")
    else:
        print(f"  含 {len(differences)} 处变化：请检查（改名、搬移数据要手改），再在数据库副本上运行 fangkong db upgrade")
    return 0


def _parse_date(text: str) -> date:
    """A date given on the command line, within the bounds every ledger date
    has (2000-01-01 to a year from today)."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise UserError(f"日期 {text!r} 格式不对，应为 YYYY-MM-DD") from None
    latest = date.today() + timedelta(days=AHEAD_DAYS)
    if not DATE_MIN <= day <= latest:
        raise UserError(f"日期 {text} 超出范围：应在 {DATE_MIN.isoformat()} 至 {latest.isoformat()} 之间")
    return day


def _bounded(kind, low, high, what: str):
    """An argparse type: a number of ``kind`` between ``low`` and ``high``."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} {text!r} 应为{'整数' if kind is int else '数字'}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{what} {text} 超出范围：应在 {low} 至 {high} 之间")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="fangkong", description="防控工作台：乡镇疫情防控指挥部态势工作台")
    parser.add_argument("--version", action="version", version=f"fangkong {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    db_help = "数据库：SQLAlchemy URL 或 SQLite 文件路径（默认 FANGKONG_DB，再默认 data/fangkong.sqlite）"

    p = sub.add_parser("demo", help="生成合成演示数据库")
    p.add_argument("--db", help=db_help)
    p.add_argument("--seed", type=_bounded(int, 0, 2**32 - 1, "种子"), default=20220407, help="随机种子（同一种子结果相同）")
    p.add_argument("--scale", choices=("township", "county"), default="township",
                   help="规模：township 一个乡（默认），county 全县（郸城县 22 个乡镇，约需几分钟）")
    p.add_argument("--if-missing", action="store_true", help="数据库已有数据时不重新生成")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="启动 Voilà 仪表盘")
    p.add_argument("--db", help=db_help)
    p.add_argument("--host", default="127.0.0.1",
                   help="监听地址（默认 127.0.0.1 仅本机；其他地址必须有令牌，不给则自动生成）")
    p.add_argument("--port", type=_bounded(int, 1, 65535, "端口"), default=8866)
    p.add_argument("--token", help="访问令牌（会出现在进程列表中，建议改用 FANGKONG_TOKEN 或 --token-file）")
    p.add_argument("--token-file", metavar="FILE", help="从文件第一行读取访问令牌")
    p.add_argument("--no-preheat", action="store_true",
                   help="不预先启动总览页的内核（省内存约 200 MB；首次打开总览要多等几秒）")
    p.add_argument("--cull-idle", metavar="SECONDS", type=_bounded(int, 1, 86400, "秒数"),
                   help="关闭的页面的内核空闲多少秒后回收（默认见 voila.json：540 秒；打开着的页面不回收）")
    p.set_defaults(func=cmd_serve)

    from .config import ROLES

    hub_dir = str(DATA_DIR / "hub")
    p = sub.add_parser("hub", help="启动多用户服务（JupyterHub：登录、角色、每人一个会话）")
    p.add_argument("--db", help=db_help)
    p.add_argument("--port", type=_bounded(int, 1, 65535, "端口"), default=8000)
    p.add_argument("--state-dir", default=hub_dir, help=f"JupyterHub 的状态目录（默认 {hub_dir}）")
    p.add_argument("--failed-logins", type=_bounded(int, 1, 100, "次数"), default=5,
                   help="连续输错密码几次后锁定（默认 5）")
    p.add_argument("--lockout-seconds", type=_bounded(int, 1, 86400, "秒数"), default=600,
                   help="锁定多少秒（默认 600）")
    p.add_argument("--idle-timeout", type=_bounded(int, 60, 7 * 86400, "秒数"), default=3600,
                   help="浏览器关闭后，会话空闲多少秒后关闭（默认 3600；打开着的页面不算空闲）")
    p.add_argument("--cull-every", type=_bounded(int, 5, 86400, "秒数"),
                   help="每隔多少秒检查一次空闲会话（默认空闲时限的一半，至多 600）")
    p.add_argument("--ldap", metavar="FILE.toml",
                   help="用本县的 LDAP 目录登录（服务器、TLS、绑定 DN 或搜索、允许的组；见 README）")
    p.set_defaults(func=cmd_hub)

    p = sub.add_parser("user", help="账号与角色：add / list / disable / enable / reset")
    user_sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, help_text in (("add", "添加账号"), ("list", "列出账号"), ("disable", "停用账号"),
                            ("enable", "启用账号（密码不变）"), ("reset", "重设密码（并启用）")):
        q = user_sub.add_parser(name, help=help_text)
        if name != "list":
            q.add_argument("name", metavar="NAME", help="登录名（小写字母、数字、. _ -）")
        if name == "add":
            q.add_argument("--role", required=True, choices=ROLES)
            q.add_argument("--township", help="乡镇（乡镇账号必填）")
            q.add_argument("--village", help="村（村级账号必填，须在村台账中）")
            q.add_argument("--full-name", help="姓名")
        if name in ("add", "reset"):
            q.add_argument("--password", required=name == "reset", help="密码（至少 8 个字符）")
        q.add_argument("--db", help=db_help)
        q.add_argument("--state-dir", default=hub_dir, help=f"JupyterHub 的状态目录（默认 {hub_dir}）")
        q.set_defaults(func=cmd_user)

    p = sub.add_parser("template", help="生成台账的空白 Excel 模板")
    p.add_argument("ledger", choices=sorted(LEDGERS), metavar="LEDGER")
    p.add_argument("out", metavar="OUT.xlsx")
    p.set_defaults(func=cmd_template)

    p = sub.add_parser("import", help="导入台账（xlsx/xls/csv），每一行都有交代")
    p.add_argument("ledger", choices=sorted(LEDGERS), metavar="LEDGER")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--db", help=db_help)
    p.add_argument("--report", metavar="OUT.xlsx", help="把被拒收的行及原因写成 Excel，退回各村修改")
    p.add_argument("--dry-run", action="store_true", help="只检查，不写入")
    p.add_argument("--create-db", action="store_true", help="--db 指向的 SQLite 文件不存在时新建（第一次导入时用）")
    p.add_argument("--json", action="store_true", help="以一行 JSON 输出汇总")
    p.add_argument("--user", default=os.environ.get("FANGKONG_USER") or os.environ.get("USER") or "import",
                   help="操作人（写入审计记录）")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="导出台账（默认脱敏）")
    p.add_argument("ledger", choices=sorted(LEDGERS), metavar="LEDGER")
    p.add_argument("out", metavar="OUT.xlsx|OUT.csv")
    p.add_argument("--db", help=db_help)
    p.add_argument("--unmasked", action="store_true", help="不脱敏（身份证号、电话原样导出）")
    p.add_argument("--at", metavar='"YYYY-MM-DD HH:MM"', help="仅 leads：按此时点计算线索状态（默认数据中的现在）")
    p.set_defaults(func=cmd_export)

    from .views.layers import MAP_LAYERS, default_layers, layer_help

    p = sub.add_parser("map", help="导出态势图（HTML 或 PNG）")
    p.add_argument("out", metavar="OUT.html|OUT.png")
    p.add_argument("--db", help=db_help)
    p.add_argument("--layer", action="append", choices=list(MAP_LAYERS), metavar="LAYER",
                   help=f"图层，可重复（{layer_help()}；默认 {' '.join(default_layers())}）")
    p.add_argument("--basemap", default="none", choices=("none", "osm", "amap", "tianditu"))
    p.add_argument("--title")
    p.add_argument("--date", help="YYYY-MM-DD（默认数据中的今天）")
    p.add_argument("--village", help="只看一个村")
    p.add_argument("--measure", help="只看一种管控措施（集中隔离、居家隔离、居家健康监测、三天两检）")
    p.add_argument("--size", default="1200x850", help="PNG 画面尺寸（CSS 像素，宽x高；默认 1200x850）")
    p.add_argument("--scale", type=_bounded(float, 0.5, 4.0, "像素倍数"), default=2.0, help="PNG 像素倍数（默认 2，即 2400x1700 像素）")
    p.set_defaults(func=cmd_map)

    p = sub.add_parser("brief", help="生成每日简报（日报）：HTML、PDF、xlsx")
    p.add_argument("--date", help="YYYY-MM-DD（默认数据中的今天）")
    p.add_argument("--out", required=True, metavar="DIR", help="输出文件夹")
    p.add_argument("--db", help=db_help)
    p.set_defaults(func=cmd_brief)

    p = sub.add_parser("db", help="数据库结构：原地升级、查看版本（迁移）")
    dbsub = p.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    q = dbsub.add_parser("upgrade", help="把数据库升级到最新结构版本（保留全部数据；迁移前建立的库先被接管）")
    q.add_argument("--db", help=db_help)
    q = dbsub.add_parser("current", help="显示数据库的结构版本")
    q.add_argument("--db", help=db_help)
    dbsub.add_parser("history", help="列出全部结构版本（迁移）")
    q = dbsub.add_parser("revision", help="（开发用）按台账定义生成下一个迁移，写入 fangkong_lib/migrations/versions/")
    q.add_argument("-m", "--message", required=True, help="迁移说明（英文，成为文件名的一部分）")
    q.add_argument("--db", dest="against", metavar="DB", help="与这个已是最新版本的数据库比较（默认用临时 SQLite 库）")
    p.set_defaults(func=cmd_db)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        check_database_exists(args)
        return args.func(args)
    except UserError as exc:
        print(f"fangkong: 错误：{exc}", file=sys.stderr)
        return 2
    except ImportError as exc:  # e.g. a PostgreSQL URL without its driver installed
        hint = "PostgreSQL 地址请写成 postgresql+psycopg://…" if exc.name == "psycopg2" else "请安装后重试"
        print(f"fangkong: 错误：缺少 Python 包 {exc.name or exc}：{hint}", file=sys.stderr)
        return 2
    except (KeyError, ValueError, OSError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"fangkong: 错误：{message}", file=sys.stderr)
        return 2
    except Exception as exc:  # database unreachable and the like
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError):
            print(f"fangkong: 错误：数据库不可用：{exc.__class__.__name__}: {str(exc).splitlines()[0]}",
                  file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
