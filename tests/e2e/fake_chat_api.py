"""A fake OpenAI-compatible chat-completions server for the codegen chat provider. What it does
is chosen by a marker in the requirement (`MODE:<name>`): the plan answer carries the marker
in its summary, so every later prompt (plan and spec travel in them) carries it too.

Modes: ok; lowq (a spec whose checks fail); badonce (one invalid plan, then a valid one);
badjson (never valid JSON); outage (always 500); evil (entity names with path tricks);
hold-<agent> (that agent's call waits until `release(agent)`)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.harness.fake_http import JsonHandler, serving

# Tokens the fake reports per agent: (prompt, completion).
USAGE = {"plan": (100, 50), "execute": (200, 300), "validate": (80, 20), "generate": (40, 10)}
PROMPTS = {"Plan the application": "plan", "Write the AppSpec": "execute",
           "Review this AppSpec": "validate", "Write a two-sentence": "generate"}


def _entity(name: str, fields: list[dict[str, Any]],
            relations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"name": name, "label": name, "fields": fields, "relations": relations or []}


GOOD_ENTITIES = [
    _entity("Shop", [{"name": "title", "type": "string", "max_length": 80}]),
    _entity("Item", [{"name": "name", "type": "string"}, {"name": "price", "type": "decimal"}],
            [{"name": "shop", "target": "Shop"}]),
]


def _endpoints(entities: list[str]) -> list[dict[str, Any]]:
    return [{"method": method, "path": f"/api/{name.lower()}s{suffix}", "entity": name,
             "operation": operation, "summary": operation}
            for name in entities
            for method, suffix, operation in (("GET", "", "list"), ("POST", "", "create"),
                                              ("GET", "/{id}", "get"))]


class FakeChat:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.agents: list[str] = []
        self.lock = threading.Lock()
        self.holds: dict[str, threading.Event] = {}
        self.bad_once_done: set[str] = set()

    def release(self, agent: str) -> None:
        self.holds.setdefault(agent, threading.Event()).set()

    def calls(self, marker: str) -> list[str]:
        """The agents called for requirements carrying `marker`, in order."""
        with self.lock:
            return [agent for agent, request in zip(self.agents, self.requests, strict=True)
                    if marker in json.dumps(request, ensure_ascii=False)]

    def answer(self, body: dict[str, Any]) -> tuple[int, Any]:
        text = json.dumps(body["messages"], ensure_ascii=False)
        agent = next((a for prefix, a in PROMPTS.items()
                      if prefix in body["messages"][1]["content"]), "unknown")
        with self.lock:
            self.requests.append(body)
            self.agents.append(agent)
        found = re.search(r"MODE:([a-z\-]+)(\w*)", text)
        mode, tag = (found.group(1), found.group(2)) if found else ("ok", "")
        if mode == f"hold-{agent}":
            self.holds.setdefault(agent, threading.Event()).wait(60)
        if mode == "outage":
            return 500, {"error": {"message": "upstream down"}}
        content = self._content(agent, mode, tag, text)
        prompt, completion = USAGE.get(agent, (1, 1))
        return 200, {"id": "chatcmpl-1", "object": "chat.completion",
                     "choices": [{"index": 0, "finish_reason": "stop",
                                  "message": {"role": "assistant", "content": content}}],
                     "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                               "total_tokens": prompt + completion}}

    def _content(self, agent: str, mode: str, tag: str, text: str) -> str:
        marker = f"MODE:{mode}{tag}"
        if mode == "badjson":
            return "Sure! Here is your application: a shop."
        if agent == "plan":
            if mode == "badonce" and marker not in self.bad_once_done:
                self.bad_once_done.add(marker)
                return json.dumps({"app_name": "Shop", "entities": "many"})
            entities = GOOD_ENTITIES
            if mode == "evil":
                entities = [_entity("../../Evil", [{"name": "x"}])]
            return "```json\n" + json.dumps({"app_name": "Shop", "summary": marker,
                                             "entities": entities}) + "\n```"
        if agent == "execute":
            package = re.search(r"package ([a-z0-9_.]+)", text)
            spec: dict[str, Any] = {
                "version": "1.0", "app_name": "Shop", "description": marker,
                "package_name": package.group(1) if package else "com.example.shop",
                "entities": GOOD_ENTITIES, "endpoints": _endpoints(["Shop", "Item"])}
            if mode == "lowq":
                spec["entities"] = [
                    _entity("Shop", [{"name": "title", "type": "string"},
                                     {"name": "title", "type": "string"}],
                            [{"name": "owner", "target": "Owner"}]),
                    _entity("Item", [{"name": "object", "type": "string"}],
                            [{"name": "shop", "target": "Store"}])]
                spec["endpoints"] = _endpoints(["Ghost"])
            return json.dumps(spec)
        if agent == "validate":
            return json.dumps({"notes": ["add pagination to lists"]})
        return json.dumps({"overview": "A small shop with items."})


@contextmanager
def fake_chat() -> Iterator[tuple[FakeChat, str]]:
    fake = FakeChat()

    class Handler(JsonHandler):
        def do_POST(self) -> None:
            if not self.path.endswith("/chat/completions"):
                self.send_json(404, {"error": "not found"})
                return
            status, payload = fake.answer(self.read_json())
            self.send_json(status, payload)

    with serving(Handler) as base_url:
        yield fake, base_url
