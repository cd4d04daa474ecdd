"""The harness's own fixtures work against the real PostgreSQL, RabbitMQ and S3 endpoint."""

import io
import uuid

import aio_pika
import asyncpg
from minio import Minio

from tests.harness import S3Endpoint


async def test_pg_database_is_the_runs_own(pg_database: str, run_id: str) -> None:
    conn = await asyncpg.connect(pg_database.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        assert await conn.fetchval("select current_database()") == f"conveyor_test_{run_id}"
        await conn.execute("create table harness_probe (id int primary key)")
        await conn.execute("insert into harness_probe values (1), (2)")
        assert await conn.fetchval("select count(*) from harness_probe") == 2
    finally:
        await conn.close()


async def test_vhost_routes_a_persistent_message(amqp_url: str, run_id: str) -> None:
    assert amqp_url.endswith(f"/conveyor-test-{run_id}")
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(exclusive=True)
        body = uuid.uuid4().bytes
        await channel.default_exchange.publish(
            aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=queue.name,
        )
        message = await queue.get(timeout=5)
        await message.ack()
        assert message.body == body


def test_s3_endpoint_stores_objects(s3: S3Endpoint) -> None:
    client = Minio(s3.endpoint, s3.access_key, s3.secret_key, secure=False)
    client.make_bucket("harness-probe")
    assert {b.name for b in client.list_buckets()} >= {s3.bucket, "harness-probe"}
    client.put_object(s3.bucket, "probe.txt", io.BytesIO(b"hello"), 5)
    response = client.get_object(s3.bucket, "probe.txt")
    try:
        assert response.read() == b"hello"
    finally:
        response.close()
        response.release_conn()
