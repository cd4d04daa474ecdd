"""Fair-share arithmetic: weighted max-min shares of a route's credit, then a tenant's share
across its tasks by priority, and why a task that gets nothing waits."""

from libs.tasks.fairshare import CAPACITY, FAIR_SHARE, TENANT_LIMIT, Running, credit, plan
from libs.tasks.shares import Claim, allot


def _task(tid: str, tenant: str, *, inflight: int = 0, want: int = 100, weight: int = 1,
          priority: int = 1, max_items: int | None = None) -> Running:
    return Running(id=tid, tenant_id=tenant, priority=priority, inflight=inflight, want=want,
                   weight=weight, max_items=max_items, waiting_reason=None)


def test_everyone_fits_everyone_gets_what_they_want() -> None:
    assert allot(100, [Claim("a", 1, 10, 30), Claim("b", 1, 0, 20)]) == {"a": 20, "b": 20}


def test_weights_split_the_credit() -> None:
    grants = allot(100, [Claim("a", 3, 0, 1000), Claim("b", 1, 0, 1000)])
    assert grants == {"a": 75, "b": 25}


def test_a_newcomer_gets_the_freed_slots_first_and_nobody_is_preempted() -> None:
    # The flood holds all 100 slots; 10 freed: all of them go to the tenant below its share.
    assert allot(100, [Claim("flood", 1, 90, 1000), Claim("small", 1, 0, 20)]) \
        == {"flood": 0, "small": 10}
    # Nothing freed: nothing to give, whatever the shares say.
    assert allot(100, [Claim("flood", 1, 100, 1000), Claim("small", 1, 0, 20)]) \
        == {"flood": 0, "small": 0}


def test_what_a_small_tenant_leaves_goes_to_the_big_one() -> None:
    assert allot(100, [Claim("big", 1, 0, 1000), Claim("small", 1, 0, 5)]) \
        == {"big": 95, "small": 5}


def test_the_whole_free_credit_is_used_despite_fractions() -> None:
    grants = allot(10, [Claim(k, 1, 0, 100) for k in "abc"])
    assert sum(grants.values()) == 10 and max(grants.values()) - min(grants.values()) <= 1


def test_credit_is_capacity_plus_a_small_buffer_or_the_default() -> None:
    assert credit(1000, buffer_ratio=0.25, min_buffer=1, default=100) == 1250
    assert credit(4, buffer_ratio=0.25, min_buffer=1, default=100) == 5
    assert credit(None, buffer_ratio=0.25, min_buffer=1, default=100) == 100


def test_a_tenants_tasks_share_equally_after_higher_priority() -> None:
    decided = plan(100, [_task("flood", "a", inflight=90), _task("urgent", "b", priority=0),
                         _task("later", "b", priority=2)])
    assert decided.grants["urgent"] == 10 and decided.grants["later"] == 0
    decided = plan(100, [_task("x", "a"), _task("y", "a"), _task("z", "b")])
    assert decided.grants == {"x": 25, "y": 25, "z": 50}


def test_a_tenant_limit_caps_its_running_items() -> None:
    decided = plan(100, [_task("t", "a", max_items=30), _task("u", "b", want=10)])
    assert decided.grants == {"t": 30, "u": 10}
    decided = plan(100, [_task("t1", "a", inflight=30, max_items=30),
                         _task("t2", "a", max_items=30)])
    assert decided.grants["t2"] == 0 and decided.waiting["t2"] == TENANT_LIMIT


def test_a_waiting_task_says_why() -> None:
    decided = plan(100, [_task("flood", "a", inflight=100), _task("small", "b", want=20)])
    assert decided.waiting == {"flood": None, "small": FAIR_SHARE}
    decided = plan(100, [_task("first", "a", inflight=100), _task("second", "a")])
    assert decided.waiting["second"] == CAPACITY


def test_shares_go_in_whole_messages_unless_the_credit_is_small() -> None:
    def flood(tid: str, tenant: str, weight: int) -> Running:
        return Running(id=tid, tenant_id=tenant, priority=1, inflight=0, want=400,
                       weight=weight, max_items=None, waiting_reason=None, pack=50)

    decided = plan(1250, [flood("h", "heavy", 3), flood("l", "light", 1)])
    assert decided.grants == {"h": 400, "l": 400}  # both fit: each gets its window
    decided = plan(1250, [flood(f"h{i}", "heavy", 3) for i in range(4)]
                   + [flood(f"l{i}", "light", 1) for i in range(4)])
    assert all(n % 50 == 0 for n in decided.grants.values())
    heavy = sum(n for t, n in decided.grants.items() if t.startswith("h"))
    assert (heavy, 1250 - heavy) == (950, 300)
    decided = plan(25, [flood("h", "heavy", 3), flood("l", "light", 1)])
    assert decided.grants == {"h": 19, "l": 6}
