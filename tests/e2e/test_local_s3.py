"""The local S3 endpoint (scripts/local_s3.py) checks signatures as MinIO does: the presigned
URL the gateway hands out works, the same URL pointed at another tenant's object, with a
forged signature or past its expiry gets 403, and so do anonymous listing and writing."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from urllib.parse import urlsplit, urlunsplit

import httpx
from minio import Minio

from tests.e2e.conftest import Api, Stack


async def _stored_url(api: Api, path: str, content: bytes) -> str:
    """Store a file through the gateway, then follow its download to the presigned URL."""
    assert (await api.http.put(f"/files/{path}", content=content)).status_code == 201
    redirect = await api.http.get(f"/files/{path}")
    assert redirect.status_code == 302, redirect.text
    return str(redirect.headers["location"])


async def test_tampered_forged_expired_and_anonymous_requests_get_403(stack: Stack) -> None:
    victim = await stack.user(f"victim-{secrets.token_hex(3)}", "v", admin=True)
    attacker = await stack.user(f"attacker-{secrets.token_hex(3)}", "a", admin=True)
    secret = await _stored_url(victim, "s3check/secret.txt", b"the victim's rows")
    mine = await _stored_url(attacker, "s3check/mine.txt", b"the attacker's own")
    # The attacker's signed query, on the path of the victim's object.
    tampered = urlunsplit(urlsplit(mine)._replace(path=urlsplit(secret).path))
    forged = re.sub(r"X-Amz-Signature=[0-9a-f]+", "X-Amz-Signature=00", mine)
    env = stack.env
    endpoint, bucket = f"http://{env['CONVEYOR_S3_ENDPOINT']}", env["CONVEYOR_S3_BUCKET"]
    client = Minio(env["CONVEYOR_S3_ENDPOINT"], env["CONVEYOR_S3_ACCESS_KEY"],
                   env["CONVEYOR_S3_SECRET_KEY"], secure=False)
    key = urlsplit(mine).path.split(f"/{bucket}/", 1)[1]
    expired = client.presigned_get_object(
        bucket, key, expires=dt.timedelta(seconds=1),
        request_date=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5))

    async with httpx.AsyncClient(trust_env=False) as plain:  # no token, no credentials
        assert (await plain.get(secret)).content == b"the victim's rows"
        assert (await plain.get(mine)).content == b"the attacker's own"
        for url in (tampered, forged, expired):
            refused = await plain.get(url)
            assert refused.status_code == 403, (url, refused.text)
            assert b"the victim's rows" not in refused.content
        assert b"Request has expired" in (await plain.get(expired)).content
        assert (await plain.get(f"{endpoint}/{bucket}")).status_code == 403  # ListBucket
        put = await plain.put(f"{endpoint}/{bucket}/{key}", content=b"overwritten")
        assert put.status_code == 403
        assert (await plain.get(f"{endpoint}/{bucket}?list-type=2")).status_code == 403
    assert client.get_object(bucket, key).read() == b"the attacker's own"  # unchanged
    wrong = Minio(env["CONVEYOR_S3_ENDPOINT"], env["CONVEYOR_S3_ACCESS_KEY"], "not-the-secret",
                  secure=False)
    try:
        wrong.get_object(bucket, key)
    except Exception as exc:  # minio's S3Error
        assert "SignatureDoesNotMatch" in str(exc)
    else:
        raise AssertionError("a wrong secret key was accepted")
