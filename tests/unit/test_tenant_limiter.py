"""The per-tenant limiter of shared pools: a tenant's flood waits behind itself, other tenants
get the free slots at once, freed slots go to the tenant holding fewest, cancellation leaks
nothing."""

import asyncio

import pytest

from libs.tenant_limiter import TenantLimiter


async def _hold(limiter: TenantLimiter, tenant: str, release: asyncio.Event,
                order: list[str]) -> None:
    async with limiter.slot(tenant):
        order.append(tenant)
        await release.wait()


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_one_tenant_never_holds_more_than_its_share() -> None:
    limiter = TenantLimiter(capacity=3, per_tenant=1)
    release, order = asyncio.Event(), []
    flood = [asyncio.create_task(_hold(limiter, "evil", release, order)) for _ in range(6)]
    await _settle()
    assert order == ["evil"] and limiter.busy == 1
    other = asyncio.create_task(_hold(limiter, "good", release, order))
    await _settle()
    assert order == ["evil", "good"]  # not queued behind the flood
    release.set()
    await asyncio.gather(*flood, other)
    assert limiter.busy == 0 and order.count("evil") == 6


async def test_a_freed_slot_goes_to_the_tenant_holding_fewest() -> None:
    limiter = TenantLimiter(capacity=2, per_tenant=2)
    first, order = asyncio.Event(), []
    holders = [asyncio.create_task(_hold(limiter, "a", first, order)) for _ in range(2)]
    await _settle()
    later = asyncio.Event()
    waiting_a = asyncio.create_task(_hold(limiter, "a", later, order))
    await _settle()
    waiting_b = asyncio.create_task(_hold(limiter, "b", later, order))
    await _settle()
    first.set()
    await asyncio.gather(*holders)
    await _settle()
    # One slot freed first: it went to b (holding none), although a asked earlier.
    assert order[:3] == ["a", "a", "b"]
    later.set()
    await asyncio.gather(waiting_a, waiting_b)
    assert limiter.busy == 0


async def test_a_cancelled_waiter_takes_no_slot() -> None:
    limiter = TenantLimiter(capacity=1, per_tenant=1)
    release, order = asyncio.Event(), []
    holder = asyncio.create_task(_hold(limiter, "a", release, order))
    await _settle()
    waiter = asyncio.create_task(_hold(limiter, "b", release, order))
    await _settle()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    release.set()
    await holder
    assert limiter.busy == 0 and order == ["a"]
    async with limiter.slot("c"):
        assert limiter.running("c") == 1


def test_bounds_are_checked() -> None:
    with pytest.raises(ValueError):
        TenantLimiter(capacity=1, per_tenant=2)
