"""The client side of docs/remote-protocol.md, for one remote server. Every call goes through
the URL policy (libs/netguard.py) and never follows a redirect."""

import httpx
import msgspec

from libs.inputs import scrub, scrub_json
from libs.netguard import GuardedClient, UrlPolicy, UrlRefused
from libs.servers.model import ServerStatus
from proto.remote import PROTOCOL, BatchStatus, Health, SubmitBatch


class Unreachable(Exception):
    """No usable answer now (connection refused, timeout, 5xx, 429): try again later."""


class Refused(Exception):
    """A definite no (a refused URL, a 4xx, an answer outside the protocol): retrying the same
    request will not help."""


class BatchUnknown(Exception):
    """The server does not know the batch (e.g. it restarted): submit it again."""


class HealthVerdict(msgspec.Struct, frozen=True, kw_only=True):
    status: ServerStatus
    capabilities: dict[str, object] | None = None
    error: str | None = None


def _endpoint(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def _describe(response: httpx.Response) -> str:
    if response.is_redirect:
        return (f"answered HTTP {response.status_code} redirecting to "
                f"{response.headers.get('location', '?')}; redirects are not followed")
    return f"answered HTTP {response.status_code}: {scrub(response.text[:200])}"


class RemoteClient:
    def __init__(self, base_url: str, policy: UrlPolicy, timeout_s: float) -> None:
        self.base_url = base_url
        self._http = GuardedClient(policy, timeout_s)

    async def close(self) -> None:
        await self._http.close()

    async def _call(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        try:
            response = await self._http.request(method, _endpoint(self.base_url, path), **kwargs)
        except UrlRefused as exc:
            raise Refused(f"URL refused: {exc}") from exc
        except httpx.TransportError as exc:
            raise Unreachable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise Unreachable(_describe(response))
        return response

    async def health(self) -> HealthVerdict:
        try:
            response = await self._call("GET", "/health")
        except Unreachable as exc:
            return HealthVerdict(status=ServerStatus.OFFLINE, error=f"unreachable: {exc}")
        except Refused as exc:
            return HealthVerdict(status=ServerStatus.ERROR, error=str(exc))
        if response.status_code != 200:
            return HealthVerdict(status=ServerStatus.ERROR, error=f"health {_describe(response)}")
        try:
            health = msgspec.json.decode(scrub_json(response.content), type=Health)
        except msgspec.DecodeError as exc:
            return HealthVerdict(status=ServerStatus.ERROR,
                                 error=f"health answer is not {PROTOCOL}: {exc}")
        if health.protocol != PROTOCOL:
            return HealthVerdict(status=ServerStatus.ERROR,
                                 error=f"speaks {health.protocol!r}, not {PROTOCOL!r}")
        if health.status != "ok":
            return HealthVerdict(status=ServerStatus.ERROR,
                                 error=f"reports status {health.status!r}")
        return HealthVerdict(status=ServerStatus.ONLINE, capabilities={
            "protocol": health.protocol, "workflows": health.workflows,
            "max_batch_size": health.max_batch_size})

    async def submit(self, batch: SubmitBatch) -> BatchStatus:
        response = await self._call("POST", "/batches", content=msgspec.json.encode(batch),
                                    headers={"Content-Type": "application/json"})
        return self._status(response)

    async def status(self, batch_id: str) -> BatchStatus:
        response = await self._call("GET", f"/batches/{batch_id}")
        if response.status_code == 404:
            raise BatchUnknown(batch_id)
        return self._status(response)

    async def cancel(self, batch_id: str) -> None:
        await self._call("DELETE", f"/batches/{batch_id}")

    @staticmethod
    def _status(response: httpx.Response) -> BatchStatus:
        if response.status_code not in (200, 201, 202):
            raise Refused(_describe(response))
        try:
            return msgspec.json.decode(scrub_json(response.content), type=BatchStatus)
        except msgspec.DecodeError as exc:
            raise Refused(f"batch answer is not {PROTOCOL}: {exc}") from exc
