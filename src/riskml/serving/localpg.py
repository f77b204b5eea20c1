"""A throw-away PostgreSQL server in a temporary directory (tests, benchmarks, trying the service).

Uses the server binaries of Debian's ``postgresql`` package (``/usr/lib/postgresql/<version>/bin``):
``initdb`` into a temporary directory, ``pg_ctl start`` on a free loopback port with the socket in the
same directory, trust authentication for the local user ``riskml``. PostgreSQL refuses to run as root:
as root, the directory is handed to ``nobody`` and the binaries run through ``runuser``.

    with LocalPostgres() as pg:
        url = pg.create_database("serve")   # postgresql://riskml@127.0.0.1:PORT/serve
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

RUN_AS = "nobody"


def postgres_bin() -> Path | None:
    """The newest installed server binary directory, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3])
                   if Path(p).parts[-3].isdigit() else 0)
    return Path(found[-1]).parent if found else None


def unavailable_reason() -> str | None:
    """Why a local server cannot be started here (None when it can)."""
    if postgres_bin() is None:
        return "PostgreSQL server binaries not found (apt-get install postgresql; scripts/system-deps.sh does it)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: cannot start PostgreSQL as an unprivileged user"
    try:
        import psycopg  # noqa: F401
    except ModuleNotFoundError:
        return "psycopg is not installed (pip install 'riskml[postgres]')"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalPostgres:
    """A PostgreSQL server of its own; ``fsync`` stays on unless ``durable=False`` (faster tests)."""

    def __init__(self, durable: bool = True):
        self.durable = durable
        self.dir: Path | None = None
        self.port = 0

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", RUN_AS, "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)

    def start(self) -> LocalPostgres:
        reason = unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        bindir = postgres_bin()
        assert bindir is not None
        self.dir = Path(tempfile.mkdtemp(prefix="riskml-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.dir, user=RUN_AS)
        data = self.dir / "data"
        self.port = free_port()
        try:
            self._run(str(bindir / "initdb"), "-D", str(data), "-U", "riskml", "--auth=trust", "-E", "UTF8",
                      "--no-sync", "--no-instructions")
            opts = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=60"
                    + ("" if self.durable else " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"))
            self._run(str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(self.dir / "log"), "-w",
                      "-t", "60", "start")
        except subprocess.CalledProcessError as exc:
            log = (self.dir / "log").read_text(errors="replace")[-2000:] if (self.dir / "log").exists() else ""
            self.stop()
            raise RuntimeError(f"could not start PostgreSQL: {exc.stderr or exc.stdout}\n{log}") from None
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://riskml@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.dir is None:
            return
        bindir = postgres_bin()
        if bindir is not None and (self.dir / "data" / "postmaster.pid").exists():
            self._run(str(bindir / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
