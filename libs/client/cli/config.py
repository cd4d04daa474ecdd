"""Where `conveyor login` keeps the gateway URL and token: one JSON file, readable by its owner
only (0600, in a 0700 directory), under $XDG_CONFIG_HOME/conveyor or ~/.config/conveyor.
CONVEYOR_URL / CONVEYOR_TOKEN and the --url / --token options win over the file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import msgspec

DEFAULT_URL = "http://127.0.0.1:8000"


class Profile(msgspec.Struct):
    url: str = DEFAULT_URL
    token: str | None = None


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "conveyor" / "config.json"


def load() -> Profile:
    path = config_path()
    try:
        return msgspec.json.decode(path.read_bytes(), type=Profile)
    except FileNotFoundError:
        return Profile()
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise SystemExit(f"conveyor: {path} is not a valid config file ({exc}); "
                         "run `conveyor login` again") from None


def save(profile: Profile) -> Path:
    """Written to a 0600 temporary file beside the target, then renamed over it: the token is
    never readable by others, not even for an instant, and a crash leaves the old file."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".json")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(msgspec.json.format(msgspec.json.encode(profile)) + b"\n")
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def resolve(url: str | None, token: str | None) -> Profile:
    stored = load()
    return Profile(url=url or os.environ.get("CONVEYOR_URL") or stored.url,
                   token=token or os.environ.get("CONVEYOR_TOKEN") or stored.token)
