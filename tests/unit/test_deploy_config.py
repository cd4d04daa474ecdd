"""deploy/: the Grafana dashboard and the Prometheus scrape config name only metrics and
services that exist, and the compose file pins every third-party image."""

import json
import re
from pathlib import Path

import yaml

from libs.observability import metrics

ROOT = Path(__file__).resolve().parents[2]
SUFFIXES = ("_bucket", "_sum", "_count", "_total")


def _known_metrics() -> set[str]:
    from prometheus_client.metrics import MetricWrapperBase

    return {family.name for value in vars(metrics).values()
            if isinstance(value, MetricWrapperBase) for family in value.describe()}


def test_every_dashboard_query_names_an_existing_metric() -> None:
    dashboard = json.loads((ROOT / "deploy/grafana/conveyor.json").read_text())
    known = _known_metrics()
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 20
    for expr in exprs:
        for name in re.findall(r"conveyor_[a-z_]+", expr):
            base = name
            for suffix in SUFFIXES:
                base = base.removesuffix(suffix)
            assert base in known or name in known, f"{name} in {expr!r}"
    # Every metric of the library is on the dashboard somewhere.
    shown = {n for e in exprs for n in re.findall(r"conveyor_[a-z_]+", e)}
    shown_bases = {re.sub(r"_(bucket|sum|count|total)$", "", n) for n in shown}
    assert known - shown_bases == set()


def test_prometheus_scrapes_every_conveyor_service() -> None:
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    names = {name for job in config["scrape_configs"] for sd in job.get("dns_sd_configs", [])
             for name in sd["names"]}
    assert names == {"gateway", "scheduler", "registry", "echo", "docrender", "slides", "codegen",
                     "ingester"}


def test_compose_pins_every_image_and_checks_every_service() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    for name, service in compose["services"].items():
        image = service.get("image", "")
        if image.endswith(":local"):
            continue  # built from this repository
        assert re.search(r":[^:]*\d", image) and not image.endswith(":latest"), (name, image)
    one_shot = {"migrate", "bucket-init"}
    for name, service in compose["services"].items():
        if name not in one_shot:
            assert "healthcheck" in service, name
