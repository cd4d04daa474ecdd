"""Seed 000's success envelope: `{"success": true, "data": ..., "meta": {...}}`."""

import time
from typing import Any

from litestar import Request

from services.gateway.errors import iso_now

API_VERSION = "2.0.0"


def ok(request: Request[Any, Any, Any], data: Any) -> dict[str, Any]:
    started = request.state.get("started", time.perf_counter())
    return {
        "success": True,
        "data": data,
        "meta": {
            "requestId": request.state.get("request_id"),
            "timestamp": iso_now(),
            "version": API_VERSION,
            "executionTime": round((time.perf_counter() - started) * 1000),
        },
    }
