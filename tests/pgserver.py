"""Start a throw-away PostgreSQL server for the test suite.

The tests need a real PostgreSQL next to SQLite, but nobody should have to
install or configure a database server by hand. This module creates a
temporary cluster with the distribution's own ``initdb``/``pg_ctl``, runs it
on a free port of 127.0.0.1 and removes everything afterwards::

    with temporary_postgres() as url:
        engine = sqlalchemy.create_engine(url)
        ...

Where the binaries come from (see :func:`find_pg_bin`):

1. the ``FANGKONG_PG_BIN`` environment variable (a folder), if set;
2. ``pg_ctl`` on ``PATH``;
3. ``/usr/lib/postgresql/<version>/bin``, newest version first (Debian and
   Ubuntu install them there, not on ``PATH``).

PostgreSQL refuses to run as root ("initdb: cannot be run as root"). When the
tests run as root (containers, CI machines) the data folder is handed to the
``postgres`` system user, which the Debian package creates, and every server
command runs through ``runuser -u postgres --``. As a normal user, the
commands run directly.

The cluster trusts every local connection (``initdb -A trust``), listens on
127.0.0.1 only, and runs with ``fsync=off``: it is fast and safe for tests,
and must never hold data anyone cares about.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

#: Role created by ``initdb``; it is the cluster's superuser.
PG_USER = "fangkong"
#: Database created in the new cluster; its URL is what we yield.
PG_DATABASE = "fangkong_test"
#: Unprivileged system user that runs the server when we are root.
SYSTEM_USER = "postgres"

_START_TIMEOUT = 60  # seconds pg_ctl waits for the server to accept connections
_START_ATTEMPTS = 3  # a free port can be taken by someone else before we bind it
_LOG_TAIL_LINES = 40


def find_pg_bin() -> Path | None:
    """Return the folder holding ``initdb`` and ``pg_ctl``, or None if absent."""
    candidates: list[Path] = []
    if os.environ.get("FANGKONG_PG_BIN"):
        candidates.append(Path(os.environ["FANGKONG_PG_BIN"]))
    on_path = shutil.which("pg_ctl")
    if on_path:
        # Keep the folder of the symlink: wrappers such as Debian's pg_wrapper
        # may sit next to it, and resolving would skip them.
        candidates.append(Path(on_path).parent)

    def version(folder: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", folder.parent.name))

    installed = Path("/usr/lib/postgresql").glob("*/bin")
    candidates.extend(sorted(installed, key=version, reverse=True))

    for folder in candidates:
        if all(os.access(folder / tool, os.X_OK) for tool in ("initdb", "pg_ctl")):
            return folder
    return None


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def temporary_postgres(pg_bin: Path | None = None) -> Iterator[str]:
    """Run a fresh PostgreSQL cluster; yield a SQLAlchemy URL to its test database.

    The URL has the form
    ``postgresql+psycopg://fangkong@127.0.0.1:PORT/fangkong_test``. The
    server is stopped (``pg_ctl stop -m fast``) and its folder deleted when
    the block ends, also when it ends with an exception.

    Raises RuntimeError, including the tail of the server log when there is
    one, if the binaries are missing or the server cannot be started.
    """
    pg_bin = pg_bin or find_pg_bin()
    if pg_bin is None:
        raise RuntimeError(
            "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH "
            "or in /usr/lib/postgresql/*/bin; install PostgreSQL "
            "(Debian: apt-get install postgresql) or set FANGKONG_PG_BIN"
        )
    as_root = os.geteuid() == 0
    if as_root:
        _check_can_switch_user()

    # The server user must be able to reach the folder: as root, avoid a
    # private temp folder (TMPDIR=/root/tmp, say) and fall back to /tmp.
    parent = None
    if as_root and not _searchable_by_all(Path(tempfile.gettempdir())):
        parent = "/tmp"
    root = Path(tempfile.mkdtemp(prefix="fangkong-pg-", dir=parent))
    server = _Server(pg_bin, root, as_root)
    try:
        server.sock.mkdir(mode=0o700)
        if as_root:
            for path in (root, server.sock):
                shutil.chown(path, user=SYSTEM_USER, group=_group_of(SYSTEM_USER))
        server.init()
        server.start()
        server.create_database(PG_DATABASE)
        yield f"postgresql+psycopg://{PG_USER}@127.0.0.1:{server.port}/{PG_DATABASE}"
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)


class _Server:
    """One cluster in ``root``: ``data/`` (cluster), ``sock/``, ``server.log``."""

    def __init__(self, pg_bin: Path, root: Path, as_root: bool) -> None:
        self.pg_bin = pg_bin
        self.root = root
        self.as_root = as_root
        self.data = root / "data"
        self.sock = root / "sock"
        self.log = root / "server.log"
        self.port: int | None = None

    def init(self) -> None:
        self._run(
            "initdb",
            "-D", self.data,
            "-A", "trust",
            "-U", PG_USER,
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            what="initdb failed",
        )

    def start(self) -> None:
        for attempt in range(1, _START_ATTEMPTS + 1):
            self.port = free_port()
            options = (
                f"-p {self.port} -k {self.sock} "
                "-c listen_addresses=127.0.0.1 -c fsync=off"
            )
            try:
                self._run(
                    "pg_ctl", "start", "-w",
                    "-t", str(_START_TIMEOUT),
                    "-D", self.data,
                    "-l", self.log,
                    "-o", options,
                    what=f"PostgreSQL did not start on port {self.port}",
                    timeout=_START_TIMEOUT + 30,
                )
                return
            except RuntimeError:
                # Only a port lost to another process is worth a new try.
                self.stop()
                if attempt == _START_ATTEMPTS or "could not bind" not in self._log_tail():
                    raise

    def create_database(self, name: str) -> None:
        try:
            with psycopg.connect(
                host="127.0.0.1", port=self.port, user=PG_USER,
                dbname="postgres", autocommit=True, connect_timeout=10,
            ) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
        except psycopg.Error as exc:
            raise RuntimeError(
                f"could not create database {name!r}: {exc}{self._log_section()}"
            ) from exc

    def stop(self) -> None:
        """Stop the server if it runs; kill it if a fast shutdown hangs."""
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists():
            return
        try:
            self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", self.data,
                      what="pg_ctl stop failed", timeout=60)
        except RuntimeError:
            self._kill(pid_file)

    def _kill(self, pid_file: Path) -> None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pid_file.read_text().split()[0])
            # A stale pid file may name an unrelated process by now: only
            # kill a process whose command line names our data folder.
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if str(self.data).encode() not in cmdline:
                return
            os.kill(pid, signal.SIGKILL)  # the postmaster; its children follow
            for _ in range(100):
                os.kill(pid, 0)  # raises once the process is gone
                time.sleep(0.05)

    def _run(self, tool: str, *args: object, what: str, timeout: float = 120) -> None:
        command = [str(self.pg_bin / tool), *map(str, args)]
        try:
            result = self._run_as_server_user(command, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(
                f"{what}: timed out after {timeout} s{self._log_section()}"
            ) from exc
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip()
            raise RuntimeError(
                f"{what} (exit {result.returncode}): {shlex.join(command)}\n"
                f"{output}{self._log_section()}"
            )

    def _run_as_server_user(
        self, command: list[str], timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        if self.as_root:
            command = ["runuser", "-u", SYSTEM_USER, "--", *command]
        # English messages for the error texts; a working directory the
        # server user can read (it may not be allowed into ours).
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        env.pop("PGDATA", None)
        return subprocess.run(
            command, cwd=self.root, env=env, capture_output=True, text=True,
            timeout=timeout, stdin=subprocess.DEVNULL, check=False,
        )

    def _log_tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-_LOG_TAIL_LINES:])

    def _log_section(self) -> str:
        tail = self._log_tail()
        return f"\n--- tail of {self.log} ---\n{tail}" if tail else ""


def _check_can_switch_user() -> None:
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        raise RuntimeError(
            f"running as root, but PostgreSQL refuses to run as root and there "
            f"is no {SYSTEM_USER!r} user to run it as (the Debian postgresql "
            f"package creates one; or run the tests as a normal user)"
        ) from None
    if shutil.which("runuser") is None:
        raise RuntimeError("running as root, but 'runuser' (util-linux) is missing")


def _searchable_by_all(folder: Path) -> bool:
    """True if every user may traverse ``folder`` and all folders above it."""
    folder = folder.resolve()
    return all(os.stat(p).st_mode & 0o001 for p in (folder, *folder.parents))


def _group_of(user: str) -> int:
    return pwd.getpwnam(user).pw_gid
