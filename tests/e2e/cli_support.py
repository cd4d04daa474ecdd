"""Running the `conveyor` CLI as a user would: a separate process (`python -m libs.client.cli`,
what the console script runs), with its own config directory; optionally on a pseudo-terminal
so the live progress bar is drawn and Ctrl-C / prompts behave as in a shell."""

from __future__ import annotations

import asyncio
import os
import pty
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Where tests leave what a person would have seen in the terminal.
ARTIFACTS = Path(os.environ.get("CONVEYOR_TEST_ARTIFACTS", "/tmp/conveyor-test-artifacts")) / "cli"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def cli_env(config_home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVEYOR_")}
    env.update(XDG_CONFIG_HOME=str(config_home), COLUMNS="160", **extra)
    return env


async def run(env: dict[str, str], *args: str, stdin: bytes = b"",
              timeout_s: float = 120) -> Result:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "libs.client.cli", *args, cwd=ROOT, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(stdin), timeout_s)
    assert process.returncode is not None
    return Result(process.returncode, out.decode(), err.decode())


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass
class Terminal:
    """The CLI on a pseudo-terminal (stdin, stdout and stderr all on it)."""

    process: subprocess.Popen[bytes]
    master: int
    screen: bytearray = field(default_factory=bytearray)

    @classmethod
    def start(cls, env: dict[str, str], *args: str) -> Terminal:
        master, slave = pty.openpty()
        os.set_blocking(master, False)
        # A foreground process of a terminal gets Ctrl-C with its default disposition; this
        # one is started by pytest, which may itself have been started with SIGINT ignored
        # (a background job of a non-interactive shell): the CLI would inherit that, and
        # Python installs its KeyboardInterrupt handler only where SIGINT is not ignored.
        process = subprocess.Popen(
            [sys.executable, "-m", "libs.client.cli", *args], cwd=ROOT,
            env={**env, "TERM": "xterm-256color"}, stdin=slave, stdout=slave, stderr=slave,
            start_new_session=True, preexec_fn=_interruptible)
        os.close(slave)
        return cls(process, master)

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except (BlockingIOError, OSError):
                return
            if not chunk:
                return
            self.screen.extend(chunk)

    @property
    def text(self) -> str:
        self._drain()
        return self.screen.decode("utf-8", "replace")

    async def wait_for_text(self, needle: str, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while needle not in self.text:
            assert self.process.poll() is None or needle in self.text, (
                f"exited {self.process.returncode} before {needle!r}:\n{self.text[-2000:]}")
            assert time.monotonic() < deadline, f"no {needle!r} in:\n{self.text[-2000:]}"
            await asyncio.sleep(0.05)

    def save(self, name: str) -> Path:
        """The terminal's output as the user saw it (escape codes and all): `less -R` it."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        path.write_text(self.text, encoding="utf-8")
        return path

    def interrupt(self) -> None:
        """Ctrl-C as the terminal sends it: SIGINT to the foreground process."""
        self.process.send_signal(signal.SIGINT)

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    async def wait(self, timeout_s: float = 120) -> int:
        deadline = time.monotonic() + timeout_s
        while self.process.poll() is None:
            self._drain()
            assert time.monotonic() < deadline, f"still running:\n{self.text[-2000:]}"
            await asyncio.sleep(0.05)
        self._drain()
        os.close(self.master)
        return self.process.returncode
