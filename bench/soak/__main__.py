"""`python -m bench.soak --minutes 3`: the soak alone (`python -m bench soak` runs it too)."""

import argparse
import asyncio
import signal
import sys
from collections.abc import Coroutine
from typing import Any

import uvloop

from bench.soak.faults import KINDS
from bench.soak.run import soak


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--faults", default=",".join(KINDS),
                        help=f"a comma-separated subset of {','.join(KINDS)}")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    kinds = tuple(k for k in args.faults.split(",") if k)
    if unknown := set(kinds) - set(KINDS):
        parser.error(f"unknown faults {sorted(unknown)}")
    violations = uvloop.run(_until_signalled(soak(args.minutes, kinds, args.seed)))
    return 1 if violations else 0


async def _until_signalled(run: Coroutine[Any, Any, int]) -> int:
    """SIGTERM cancels the soak like Ctrl-C, so its cluster is torn down either way."""
    task = asyncio.ensure_future(run)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await task


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
