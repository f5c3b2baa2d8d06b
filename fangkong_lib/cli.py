"""The ``fangkong`` command line: the library's functions from the shell.

A user mistake ends with one clear line and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

from . import __version__
from .config import JUPYTER_DATA_DIR, NOTEBOOKS_DIR, REPO_DIR, database_url
from .ledgers import LEDGERS


class UserError(Exception):
    """An error the user can fix; printed as one line, exit status 2."""


def _engine(args):
    """The engine of an existing database with data; a clear error otherwise."""
    import sqlalchemy as sa

    from . import store

    url = database_url(args.db)
    parsed = sa.engine.make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database and not Path(parsed.database).exists():
        raise UserError(f"数据库文件 {parsed.database} 不存在：先运行 `fangkong demo` 或 `fangkong import`")
    engine = store.get_engine(url)
    if not store.has_data(engine):
        raise UserError(f"数据库 {url} 中没有数据：先运行 `fangkong demo` 或 `fangkong import`")
    return engine


def cmd_demo(args) -> int:
    from .demo.township import build_demo

    url = database_url(args.db)
    if args.if_missing:
        from . import store

        if store.has_data(store.get_engine(url)):
            print(f"数据库 {url} 已有数据，未重新生成")
            return 0
    counts = build_demo(url, seed=args.seed)
    print(f"已生成合成演示数据：{url}")
    for key, n in counts.items():
        print(f"  {LEDGERS[key].label:<10} {key:<17} {n:>6} 行")
    return 0


def cmd_export(args) -> int:
    from .outputs.exports import export_ledger

    out = Path(args.out)
    n = export_ledger(_engine(args), args.ledger, out, masked=not args.unmasked)
    note = "（未脱敏，请妥善保管）" if args.unmasked else "（身份证号、电话已脱敏）"
    print(f"已导出 {LEDGERS[args.ledger].label} {n} 行到 {out}{note}")
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
    return width, height


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
    from .actions import ActionError, import_ledger
    from .ingest.importer import LedgerFileError

    url = database_url(args.db)
    engine = store.get_engine(url)
    try:
        # Dates without a year (4月10日) take the data's year, as on the import page.
        result = import_ledger(
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
    url = str(_engine(args).url.render_as_string(hide_password=False))
    if not NOTEBOOKS_DIR.is_dir():
        raise UserError(f"找不到仪表盘目录 {NOTEBOOKS_DIR}")
    env = dict(os.environ)
    env["FANGKONG_DB"] = url
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(JUPYTER_DATA_DIR), env.get("JUPYTER_PATH")) if p)
    cmd = [
        sys.executable, "-m", "voila", str(NOTEBOOKS_DIR),
        "--no-browser", f"--port={args.port}", f"--Voila.ip={args.host}",
        "--template=fangkong",
    ]
    if args.token:
        cmd.append(f"--token={args.token}")
    print(f"防控工作台：http://{args.host}:{args.port}/  （数据库 {url}，Ctrl+C 停止）", flush=True)
    # voila.json at the repository root holds the rest of the configuration.
    os.chdir(REPO_DIR)
    os.execvpe(cmd[0], cmd, env)
    return 0  # not reached


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"日期 {text!r} 格式不对，应为 YYYY-MM-DD") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fangkong", description="防控工作台：乡镇疫情防控指挥部态势工作台")
    parser.add_argument("--version", action="version", version=f"fangkong {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    db_help = "数据库：SQLAlchemy URL 或 SQLite 文件路径（默认 FANGKONG_DB，再默认 data/fangkong.sqlite）"

    p = sub.add_parser("demo", help="生成合成演示数据库")
    p.add_argument("--db", help=db_help)
    p.add_argument("--seed", type=int, default=20220407, help="随机种子（同一种子结果相同）")
    p.add_argument("--scale", choices=("township",), default="township", help="规模（目前为一个乡）")
    p.add_argument("--if-missing", action="store_true", help="数据库已有数据时不重新生成")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="启动 Voilà 仪表盘")
    p.add_argument("--db", help=db_help)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8866)
    p.add_argument("--token", help="访问令牌（多人共用时设置）")
    p.set_defaults(func=cmd_serve)

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
    p.add_argument("--json", action="store_true", help="以一行 JSON 输出汇总")
    p.add_argument("--user", default=os.environ.get("FANGKONG_USER") or os.environ.get("USER") or "import",
                   help="操作人（写入审计记录）")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="导出台账（默认脱敏）")
    p.add_argument("ledger", choices=sorted(LEDGERS), metavar="LEDGER")
    p.add_argument("out", metavar="OUT.xlsx|OUT.csv")
    p.add_argument("--db", help=db_help)
    p.add_argument("--unmasked", action="store_true", help="不脱敏（身份证号、电话原样导出）")
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
    p.add_argument("--scale", type=float, default=2.0, help="PNG 像素倍数（默认 2，即 2400x1700 像素）")
    p.set_defaults(func=cmd_map)

    p = sub.add_parser("brief", help="生成每日简报（日报）：HTML、PDF、xlsx")
    p.add_argument("--date", help="YYYY-MM-DD（默认数据中的今天）")
    p.add_argument("--out", required=True, metavar="DIR", help="输出文件夹")
    p.add_argument("--db", help=db_help)
    p.set_defaults(func=cmd_brief)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UserError as exc:
        print(f"fangkong: 错误：{exc}", file=sys.stderr)
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
