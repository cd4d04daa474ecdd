"""The local S3 endpoint of `make up` and the tests: moto's S3 server behind a check of every
request's AWS Signature Version 4, as MinIO checks it.

moto alone accepts any request (its optional IAM check answers a presigned URL, or any request
without an `Authorization` header, with a 500, and never looks at expiry). Here every request
must be signed with the one access key the endpoint was started with, in the header
(`Authorization: AWS4-HMAC-SHA256 ...`) or in the query (a presigned URL):

- the signature is recomputed over the method, the path, the query, the signed headers and
  the declared payload hash: another path, another query or another key gets 403;
- a presigned URL is refused once `X-Amz-Date + X-Amz-Expires` is past, or for more than 7 days;
- a header-signed request must be dated within 15 minutes of now, and its body must match the
  SHA-256 it declares (400 `XAmzContentSHA256Mismatch` otherwise);
- anonymous requests (no signature at all) and moto's own control API (`/moto-api/`) get 403.

Not checked (docs/running.md): the per-chunk signatures of `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`
uploads (the seed signature is), bucket policies and ACLs (the one key may do everything).

`python scripts/local_s3.py -H 127.0.0.1 -p 9000` serves until stopped, with the key from
CONVEYOR_S3_ACCESS_KEY / CONVEYOR_S3_SECRET_KEY.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import io
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = dt.timedelta(minutes=15)
MAX_EXPIRES_S = 7 * 24 * 3600
UNSIGNED = "UNSIGNED-PAYLOAD"

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _encode(text: str, safe: str = "-_.~") -> str:
    return quote(text, safe=safe)


def _canonical_query(query: str, drop: str | None) -> str:
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        key, value = unquote(key), unquote(value)
        if key != drop:
            pairs.append((_encode(key), _encode(value)))
    return "&".join(f"{key}={value}" for key, value in sorted(pairs))


def _header(environ: dict[str, Any], name: str) -> str | None:
    if name == "content-type":
        value = environ.get("CONTENT_TYPE")
    elif name == "content-length":
        value = environ.get("CONTENT_LENGTH")
    else:
        value = environ.get("HTTP_" + name.upper().replace("-", "_"))
    return None if value is None else str(value)


def _query_params(query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in query.split("&"):
        key, _, value = part.partition("=")
        params.setdefault(unquote(key), unquote(value))
    return params


def _parse_date(value: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        raise Refused(403, "AccessDenied", "X-Amz-Date is not a date") from None


class SignatureCheck:
    """WSGI middleware: `app` sees only requests signed with `access_key`/`secret_key`."""

    def __init__(self, app: WsgiApp, access_key: str, secret_key: str,
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self._app = app
        self._access_key = access_key
        self._secret_key = secret_key
        self._now = now

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            self._check(environ)
        except Refused as refused:
            body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{refused.code}</Code>'
                    f"<Message>{escape(refused.message)}</Message></Error>").encode()
            reason = {400: "Bad Request", 403: "Forbidden"}[refused.status]
            start_response(f"{refused.status} {reason}", [
                ("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
            return [body]
        return self._app(environ, start_response)

    def _check(self, environ: dict[str, Any]) -> None:
        path = str(environ.get("PATH_INFO", ""))
        if path.startswith("/moto-api"):
            raise Refused(403, "AccessDenied", "the moto control API is disabled here")
        query = str(environ.get("QUERY_STRING", ""))
        authorization = _header(environ, "authorization")
        if authorization is not None:
            self._check_header_signed(environ, authorization, query)
        elif "X-Amz-Signature=" in query:
            self._check_presigned(environ, query)
        else:
            raise Refused(403, "AccessDenied", "anonymous access is not allowed")

    def _check_header_signed(self, environ: dict[str, Any], authorization: str,
                             query: str) -> None:
        algorithm, _, rest = authorization.partition(" ")
        if algorithm != ALGORITHM:
            raise Refused(403, "AccessDenied", f"only {ALGORITHM} signatures are accepted")
        fields = dict(part.strip().partition("=")[::2] for part in rest.split(","))
        amz_date = _header(environ, "x-amz-date") or ""
        when = _parse_date(amz_date)
        if abs(self._now() - when) > MAX_SKEW:
            raise Refused(403, "RequestTimeTooSkewed",
                          "the request time differs from the server's by over 15 minutes")
        payload = _header(environ, "x-amz-content-sha256")
        if payload is None:
            raise Refused(400, "InvalidRequest", "x-amz-content-sha256 is required")
        self._verify(environ, query, fields.get("Credential", ""),
                     fields.get("SignedHeaders", ""), fields.get("Signature", ""), amz_date,
                     payload, drop=None)
        if len(payload) == 64:  # a hex digest, not UNSIGNED-PAYLOAD or STREAMING-...
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            if hashlib.sha256(body).hexdigest() != payload:
                raise Refused(400, "XAmzContentSHA256Mismatch",
                              "the body does not match x-amz-content-sha256")
            environ["wsgi.input"] = io.BytesIO(body)

    def _check_presigned(self, environ: dict[str, Any], query: str) -> None:
        params = _query_params(query)
        if params.get("X-Amz-Algorithm") != ALGORITHM:
            raise Refused(403, "AccessDenied", f"only {ALGORITHM} signatures are accepted")
        amz_date = params.get("X-Amz-Date", "")
        when = _parse_date(amz_date)
        try:
            expires = int(params.get("X-Amz-Expires", ""))
        except ValueError:
            raise Refused(403, "AccessDenied", "X-Amz-Expires is not a number") from None
        if not 1 <= expires <= MAX_EXPIRES_S:
            raise Refused(403, "AuthorizationQueryParametersError",
                          "X-Amz-Expires must be between 1 second and 7 days")
        now = self._now()
        if when - now > MAX_SKEW:
            raise Refused(403, "AccessDenied", "the request is dated in the future")
        if now > when + dt.timedelta(seconds=expires):
            raise Refused(403, "AccessDenied", "Request has expired")
        self._verify(environ, query, params.get("X-Amz-Credential", ""),
                     params.get("X-Amz-SignedHeaders", ""), params.get("X-Amz-Signature", ""),
                     amz_date, params.get("X-Amz-Content-Sha256", UNSIGNED),
                     drop="X-Amz-Signature")

    def _verify(self, environ: dict[str, Any], query: str, credential: str,
                signed_headers: str, signature: str, amz_date: str, payload: str,
                drop: str | None) -> None:
        access_key, _, scope = credential.partition("/")
        if not hmac.compare_digest(access_key, self._access_key):
            raise Refused(403, "InvalidAccessKeyId", "the access key is not known")
        date, region, service, terminal = [*scope.split("/"), "", "", "", ""][:4]
        if date != amz_date[:8] or service != "s3" or terminal != "aws4_request":
            raise Refused(403, "AuthorizationHeaderMalformed", "the credential scope is wrong")
        names = signed_headers.split(";")
        if "host" not in names:
            raise Refused(403, "AccessDenied", "the host header must be signed")
        headers = []
        for name in names:
            value = _header(environ, name)
            if value is None:
                raise Refused(403, "SignatureDoesNotMatch", f"signed header {name} is missing")
            headers.append(f"{name}:{' '.join(value.split())}\n")
        raw_path = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or "").split("?")[0]
        canonical = "\n".join([
            str(environ["REQUEST_METHOD"]), _encode(unquote(raw_path), safe="/-_.~"),
            _canonical_query(query, drop), "".join(headers), signed_headers, payload])
        to_sign = "\n".join([ALGORITHM, amz_date, scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        key = _hmac(f"AWS4{self._secret_key}".encode(), date)
        for part in (region, service, terminal):
            key = _hmac(key, part)
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise Refused(403, "SignatureDoesNotMatch",
                          "the request signature we calculated does not match")


class LocalS3:
    """moto's S3 behind SignatureCheck, served by werkzeug in a thread of this process."""

    def __init__(self, host: str, port: int, access_key: str, secret_key: str) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        app = SignatureCheck(DomainDispatcherApplication(create_backend_app), access_key,
                             secret_key)
        self._server = make_server(host, port, app, threaded=True,
                                   request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-s3",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()

    def serve_forever(self) -> None:
        self._server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=9000)
    args = parser.parse_args()
    access_key = os.environ.get("CONVEYOR_S3_ACCESS_KEY", "conveyor")
    secret_key = os.environ.get("CONVEYOR_S3_SECRET_KEY", "conveyor-secret")
    print(f"local S3 (moto, signatures checked) on {args.host}:{args.port}", flush=True)
    LocalS3(args.host, args.port, access_key, secret_key).serve_forever()


if __name__ == "__main__":
    main()
