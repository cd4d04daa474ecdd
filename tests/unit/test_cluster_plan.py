"""scripts/cluster_plan.py: SCALE parsing and each instance's ports and names."""

import sys

import pytest

from tests.harness.infra import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from cluster_plan import parse_scale, plan

SERVICES = ("gateway", "scheduler", "echo", "docrender")
ENV = {"CONVEYOR_GATEWAY_PORT": "8000", "CONVEYOR_DOCRENDER_INSTANCE_NAME": "docrender-1"}


def test_scale_counts_default_to_one() -> None:
    assert parse_scale("echo=2, docrender=3", SERVICES) == {
        "gateway": 1, "scheduler": 1, "echo": 2, "docrender": 3}
    assert parse_scale("", SERVICES)["echo"] == 1


@pytest.mark.parametrize("bad", ["echo", "nope=2", "echo=two", "echo=-1"])
def test_scale_refuses_what_it_cannot_read(bad: str) -> None:
    with pytest.raises(SystemExit, match="SCALE"):
        parse_scale(bad, SERVICES)


def test_each_instance_gets_its_own_ports_and_name() -> None:
    planned = plan(SERVICES, {"gateway": 2, "scheduler": 1, "echo": 2, "docrender": 2}, ENV)
    assert [p.name for p in planned] == ["gateway-1", "gateway-2", "scheduler", "echo-1",
                                         "echo-2", "docrender-1", "docrender-2"]
    assert [p.ready_url for p in planned[:2]] == ["http://127.0.0.1:8000/readyz",
                                                  "http://127.0.0.1:8001/readyz"]
    assert planned[2].ready_url == "http://127.0.0.1:9102/readyz"
    metrics_ports = [p.env["CONVEYOR_METRICS_PORT"] for p in planned]
    assert metrics_ports == ["9100", "9101", "9102", "9103", "9104", "9105", "9106"]
    names = [p.env.get("CONVEYOR_DOCRENDER_INSTANCE_NAME") for p in planned[-2:]]
    assert names == ["docrender-1", "docrender-2"]
    assert "CONVEYOR_DOCRENDER_INSTANCE_NAME" not in plan(SERVICES, {}, ENV)[-1].env


def test_the_reference_server_is_ready_by_its_own_health() -> None:
    (reference,) = plan(["remote_reference"], {}, ENV)
    assert reference.ready_url == "http://127.0.0.2:8100/health"
    assert "CONVEYOR_METRICS_PORT" not in reference.env


def test_zero_starts_none() -> None:
    assert [p.service for p in plan(SERVICES, {"echo": 0, "docrender": 0}, ENV)] == [
        "gateway", "scheduler"]
