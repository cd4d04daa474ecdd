"""The soak's load: each tenant submits a mix of work all the while and steers some of it.

Every create the gateway accepted is recorded (`Accepted`) for the verifier; every answer's
status is counted, and a 5xx other than a 503 with `Retry-After` is recorded as a violation
(outages answer 503 and the client retries, as the API promises)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.e2e.docs_fixtures import template

KINDS = ("echo", "docx", "pdf", "slides", "kb")
RETRY_LIMIT_S = 120.0  # a request retried through an outage gives up after this


@dataclass
class Accepted:
    tenant: str
    kind: str  # echo, docx, pdf, slides, kb
    task_id: str
    items: int
    steered: list[str] = field(default_factory=list)  # pause, resume, cancel, retry


@dataclass
class Answers:
    statuses: Counter[int] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)

    def check(self, response: httpx.Response) -> None:
        self.statuses[response.status_code] += 1
        status = response.status_code
        if status >= 500 and not (status == 503 and "retry-after" in response.headers):
            self.violations.append(f"{response.request.method} {response.request.url.path}: "
                                   f"{status} {response.text[:160]}")


class Tenant:
    def __init__(self, name: str, base_url: str, token: str, answers: Answers,
                 accepted: list[Accepted], rng: random.Random) -> None:
        self.name = name
        self.http = httpx.AsyncClient(base_url=base_url, timeout=60,
                                      headers={"Authorization": f"Bearer {token}"})
        self.answers = answers
        self.accepted = accepted
        self.rng = rng
        self.kb_id: str | None = None
        self.templates: list[str] = []
        self._steering: set[asyncio.Task[None]] = set()

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send, retrying transport errors and 503s after their Retry-After, as a client of
        the API would; other answers are returned as they are."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RETRY_LIMIT_S
        while True:
            try:
                response = await self.http.request(method, path, **kwargs)
            except httpx.TransportError:
                if loop.time() > deadline:
                    raise
                await asyncio.sleep(1)
                continue
            self.answers.check(response)
            if response.status_code != 503 or loop.time() > deadline:
                return response
            await asyncio.sleep(float(response.headers.get("retry-after", "1")))

    async def keyed_create(self, path: str, **kwargs: Any) -> httpx.Response:
        """A create with an Idempotency-Key, so a retry after an outage never doubles it."""
        key = f"soak-{self.rng.getrandbits(64):016x}"
        headers = {**kwargs.pop("headers", {}), "Idempotency-Key": key}
        return await self.request("POST", path, headers=headers, **kwargs)

    def remember(self, kind: str, task_id: str, items: int) -> Accepted:
        accepted = Accepted(self.name, kind, task_id, items)
        self.accepted.append(accepted)
        return accepted

    async def run(self, until: float) -> None:
        loop = asyncio.get_running_loop()
        while loop.time() < until:
            kind = self.rng.choice(KINDS)
            try:
                await getattr(self, f"submit_{kind}")()
            except httpx.TransportError:
                continue  # the gateway was killed mid-request: the key makes a retry safe
            except (KeyError, TypeError, ValueError) as exc:
                # An answer this client, written from the API's documents, could not read.
                self.answers.violations.append(f"{kind}: unreadable answer: {exc!r}")
            await asyncio.sleep(self.rng.uniform(0.5, 2.0))
        await asyncio.gather(*self._steering)

    async def submit_echo(self) -> None:
        count = self.rng.randint(20, 200)
        items = [{"value": i, "sleep_ms": self.rng.randint(5, 60),
                  **({"fail": "permanent"} if self.rng.random() < 0.03 else {}),
                  **({"fail_attempts": 1} if self.rng.random() < 0.05 else {})}
                 for i in range(count)]
        response = await self.keyed_create("/api/v1/tasks", json={
            "kind": "echo", "items": items, "concurrency": self.rng.randint(2, 16),
            "itemTimeoutSeconds": 10})
        if response.status_code != 200:
            return
        task = self.remember("echo", response.json()["data"]["taskId"], count)
        steering = asyncio.create_task(self.steer(task))
        self._steering.add(steering)
        steering.add_done_callback(self._steering.discard)

    async def steer(self, task: Accepted) -> None:
        """Now and then pause and resume a task, cancel it, or retry what failed."""
        roll = self.rng.random()
        await asyncio.sleep(self.rng.uniform(0.2, 3))
        if roll < 0.25:
            if (await self.request("POST", f"/api/v1/tasks/{task.task_id}/pause")).is_success:
                task.steered.append("pause")
                await asyncio.sleep(self.rng.uniform(0.5, 3))
                await self.request("POST", f"/api/v1/tasks/{task.task_id}/resume")
                task.steered.append("resume")
        elif roll < 0.35:
            if (await self.request("POST", f"/api/v1/tasks/{task.task_id}/cancel")).is_success:
                task.steered.append("cancel")
        elif roll < 0.5:
            await self.retry_failed_when_done(task)

    async def retry_failed_when_done(self, task: Accepted) -> None:
        for _ in range(120):
            response = await self.request("GET", f"/api/v1/tasks/{task.task_id}")
            data = response.json().get("data") or {}
            if data.get("status") in ("completed", "partial_success", "failed", "cancelled"):
                break
            await asyncio.sleep(1)
        else:
            return
        if not data.get("failedItems"):
            return
        response = await self.request("POST", f"/api/v1/tasks/{task.task_id}/retry-failed")
        if response.status_code == 200:
            body = response.json()["data"]
            task.steered.append("retry")
            self.remember(task.kind, body["newTaskId"], int(body["retryItemCount"]))

    async def ensure_templates(self) -> None:
        if self.templates:
            return
        for index in range(2):
            content = template(f"合同 {index}: {{{{ name }}}}", "金额 {{ amount }}")
            response = await self.request(
                "POST", "/api/v2/templates", data={"name": f"{self.name}-t{index}"},
                files={"file": (f"{self.name}-t{index}.docx", content)})
            if response.status_code == 201:
                self.templates.append(response.json()["data"]["templateId"])

    async def submit_docx(self, output: str = "docx") -> None:
        await self.ensure_templates()
        if not self.templates:
            return
        rows = [{"name": f"客户{i}", "amount": self.rng.randint(1, 10_000)}
                for i in range(self.rng.randint(5, 40 if output == "docx" else 10))]
        response = await self.keyed_create("/api/v2/batch/tasks", json={
            "templateIds": self.templates, "outputFormat": output, "data": rows,
            "options": {"createZip": True}})
        if response.status_code != 200:
            return
        task_id = response.json()["data"]["taskId"]
        await self.request("POST", f"/api/v2/batch/tasks/{task_id}/start")
        self.remember(output, task_id, len(rows) * len(self.templates))

    async def submit_pdf(self) -> None:
        await self.submit_docx("pdf")

    async def submit_slides(self) -> None:
        count = self.rng.randint(2, 8)
        slides = [{"title": f"第{i}页", "content": f"{self.name} soak {i}"} for i in range(count)]
        response = await self.keyed_create("/api/slide/batch/generate", json={
            "slides": slides, "wait": False})
        if response.status_code == 200 and (batch := response.json().get("batch_id")):
            self.remember("slides", str(batch), count)

    async def submit_kb(self) -> None:
        if self.kb_id is None:
            response = await self.request("POST", "/api/v1/knowledge-bases",
                                          json={"name": f"{self.name}-kb"})
            if response.status_code not in (200, 201):
                return
            self.kb_id = response.json()["data"]["id"]
        body = f"# {self.name} 文档 {self.rng.getrandbits(32)}\n\n" + "这是浸泡测试的段落。" * 40
        await self.request("POST", f"/api/v1/knowledge-bases/{self.kb_id}/documents",
                           files={"file": (f"doc-{self.rng.getrandbits(32)}.md", body.encode())})
        response = await self.keyed_create(f"/api/v1/knowledge-bases/{self.kb_id}/sync",
                                           json={"task_type": "incremental_sync"})
        if response.status_code == 200 and (task_id := response.json()["data"].get("task_id")):
            # The document count is the ingester's to find.
            self.remember("kb", str(task_id).removeprefix("task-"), -1)

    async def close(self) -> None:
        await self.http.aclose()
