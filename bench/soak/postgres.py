"""A PostgreSQL cluster of the soak's own: initdb in its work directory, its own port. The
soak restarts it as a fault, which then reaches nobody else on the machine (the tests and
other runs keep the machine's PostgreSQL)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import asyncpg

from tests.harness.infra import free_port

BIN = Path("/usr/lib/postgresql")
USER = "postgres"


def _bin(name: str) -> str:
    versions = sorted(BIN.glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True)
    if not versions:
        raise RuntimeError(f"no PostgreSQL server under {BIN}")
    return str(versions[0] / name)


class OwnPostgres:
    def __init__(self, workdir: Path) -> None:
        self.root = workdir / "postgres"
        self.data = self.root / "data"
        self.port = free_port()
        self.log = self.root / "postgres.log"

    def _run(self, *argv: str) -> None:
        # The server refuses to run as root: as root, its commands run as `postgres`.
        prefix = ["runuser", "-u", USER, "--"] if os.geteuid() == 0 else []
        done = subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=180,
                              check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{Path(argv[0]).name} failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, USER, USER)
            self.root.parent.chmod(0o711)  # a mkdtemp directory: let `postgres` pass through
        if not self.data.exists():
            self._run(_bin("initdb"), "-D", str(self.data), "-U", USER, "--auth=trust",
                      "-E", "UTF8", "--no-sync")
        self._ctl("start")

    def _ctl(self, action: str) -> None:
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c max_connections=300 -c fsync=off -c full_page_writes=off")
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                  "-t", "120", "-o", options, "-m", "fast", action)

    def restart(self) -> None:
        """Every connection drops; committed data stays (a fast shutdown checkpoints)."""
        self._ctl("restart")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._ctl("stop")

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{USER}@127.0.0.1:{self.port}/{database}"

    async def create_database(self, name: str) -> str:
        conn = await asyncpg.connect(host="127.0.0.1", port=self.port, user=USER,
                                     database="postgres")
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.url(name)
