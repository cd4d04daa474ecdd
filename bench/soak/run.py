"""Runs the soak: the cluster, the load and the faults for the given minutes, then the
verifier; prints the table and returns the violations."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter

from bench.soak.env import soak_env
from bench.soak.faults import KINDS, Faults
from bench.soak.load import Accepted, Answers, Tenant
from bench.soak.recorder import Recorder
from bench.soak.verify import EVENTS_WITHIN_S, verify, wait_until_settled


async def soak(minutes: float, kinds: tuple[str, ...] = KINDS, seed: int | None = None) -> int:
    """The number of violations found (the soak passes with 0)."""
    seed = seed if seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"soak: {minutes:g} min, faults {','.join(kinds)}, seed {seed}", flush=True)
    async with soak_env() as env:
        recorder = Recorder()
        await recorder.start(env.env["CONVEYOR_AMQP_URL"])
        answers, accepted = Answers(), list[Accepted]()
        tenants = [Tenant(name, env.gateway_url, token, answers, accepted,
                          random.Random(rng.random()))
                   for name, token in env.tokens.items()]
        faults = Faults(env, kinds, random.Random(rng.random()))
        until = asyncio.get_running_loop().time() + minutes * 60
        started = time.monotonic()
        await asyncio.gather(*(t.run(until) for t in tenants), faults.run(until))
        loaded_s = time.monotonic() - started
        settle_s = await wait_until_settled(env)
        await asyncio.sleep(min(EVENTS_WITHIN_S, 5.0))  # the last events in flight
        violations = answers.violations + await verify(env, accepted, recorder.recorded)
        await recorder.stop()
        for tenant in tenants:
            await tenant.close()
        report(loaded_s, settle_s, faults, accepted, answers, recorder, violations)
    return len(violations)


def report(loaded_s: float, settle_s: float, faults: Faults, accepted: list[Accepted],
           answers: Answers, recorder: Recorder, violations: list[str]) -> None:
    by_kind = Counter(f.kind for f in faults.log)
    recovered = [f.recovered_s for f in faults.log if f.recovered_s is not None]
    never = sum(f.recovered_s is None for f in faults.log)
    items = sum(a.items for a in accepted if a.items > 0)
    steered = Counter(s for a in accepted for s in a.steered)
    def counts(counter: Counter[str] | Counter[int]) -> str:
        return ", ".join(f"{k} {n}" for k, n in sorted(counter.items())) or "none"

    rows = [
        ("load", f"{loaded_s / 60:.1f} min, then {settle_s:.0f} s for the last tasks to end"),
        ("faults injected", f"{len(faults.log)} ({counts(by_kind)})"),
        ("overlapping faults", str(_overlaps(faults))),
        ("tasks accepted", f"{len(accepted)} ({counts(Counter(a.kind for a in accepted))})"),
        ("items (known at create)", str(items)),
        ("steering", counts(steered)),
        ("answers", f"{sum(answers.statuses.values())}: {counts(answers.statuses)}"),
        ("events recorded",
         f"{recorder.recorded.messages} ({recorder.recorded.duplicates} redelivered)"),
        ("recovery after a fault", f"worst {max(recovered, default=0):.1f} s, median "
                                   f"{_median(recovered):.1f} s, never {never}"),
        ("**violations**", f"**{len(violations)}**"),
    ]
    print("\n| soak | |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    for fault in faults.log:
        took = f"{fault.recovered_s:.1f} s" if fault.recovered_s is not None else "never"
        print(f"  {fault.kind:<8} {fault.target:<28} lasted "
              f"{(fault.ended or fault.started) - fault.started:5.1f} s, recovered in {took}"
              + (f" ({fault.error})" if fault.error else ""))
    for line in violations[:50]:
        print(f"  VIOLATION {line}")


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0.0


def _overlaps(faults: Faults) -> int:
    spans = sorted((f.started, f.ended or f.started) for f in faults.log)
    return sum(1 for (_, end), (start, _) in itertools.pairwise(spans) if start < end)
