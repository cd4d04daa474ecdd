"""One place for the base URL, the bearer token, timeouts, envelopes and errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
import msgspec

from libs.client.errors import TransportError, error_from_response

T = TypeVar("T")


class Data(msgspec.Struct, Generic[T]):
    """Every JSON envelope of the API keeps its payload in `data` (seeds 000, 002, 003)."""

    data: T


class Transport:
    def __init__(self, base_url: str, token: str | None, *, timeout_s: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout_s,
                                 transport=transport, follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    def send(self, method: str, path: str, *, ok: tuple[int, ...] = (200, 201, 202),
             **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise TransportError(f"{method} {self.base_url}{path}: {exc}") from exc
        if response.status_code not in ok:
            raise error_from_response(response.status_code, response.content)
        return response

    def call(self, method: str, path: str, type_: type[T], **kwargs: Any) -> T:
        """A request whose answer is `type_` itself (seeds 001 and 004: plain JSON)."""
        return _decode(self.send(method, path, **kwargs), type_)

    def call_data(self, method: str, path: str, type_: type[T], **kwargs: Any) -> T:
        """A request whose answer keeps `type_` in the envelope's `data`."""
        envelope: Data[T] = _decode(self.send(method, path, **kwargs), Data[type_])  # type: ignore[valid-type]
        return envelope.data

    def redirect_target(self, path: str) -> str:
        """The presigned URL a download route redirects to (the token is never sent there)."""
        response = self.send("GET", path, ok=(302, 303, 307))
        return response.headers["location"]

    def download(self, path: str, dest: Path, chunk_bytes: int = 1 << 20) -> int:
        """Follow a download route's redirect and stream the object into `dest` (written
        beside it first, renamed when complete: a failed download leaves no half file)."""
        url = self.redirect_target(path)
        partial = dest.with_name(dest.name + ".part")
        written = 0
        try:
            with httpx.stream("GET", url, timeout=self.http.timeout) as response:
                if response.status_code != 200:
                    raise TransportError(f"download of {path}: storage answered "
                                         f"{response.status_code}")
                with partial.open("wb") as out:
                    for chunk in _chunks(response, chunk_bytes):
                        out.write(chunk)
                        written += len(chunk)
            partial.replace(dest)
        except httpx.HTTPError as exc:
            raise TransportError(f"download of {path}: {exc}") from exc
        finally:
            partial.unlink(missing_ok=True)
        return written


def _chunks(response: httpx.Response, size: int) -> Iterator[bytes]:
    yield from response.iter_bytes(size)


def _decode(response: httpx.Response, type_: type[T]) -> T:
    try:
        return msgspec.json.decode(response.content, type=type_)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise TransportError(
            f"{response.request.method} {response.request.url.path}: unexpected answer "
            f"({exc})") from exc
