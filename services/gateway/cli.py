"""`python -m services.gateway.cli create-user --tenant T --user U [--admin]` prints a new
bearer token for that user (creating tenant and user if needed) on its last line;
`revoke-token TOKEN` revokes one (every gateway stops accepting it within a second)."""

import argparse
import asyncio

from libs.db.engine import create_engine
from libs.messaging.connection import connect
from libs.messaging.publisher import Publisher
from libs.settings import CommonSettings, load_settings
from services.gateway.auth import repository as repo
from services.gateway.auth.revocations import announce_revocation


async def _create_user(database_url: str, tenant: str, user: str, admin: bool) -> str:
    db = create_engine(database_url, pool_size=1)
    try:
        async with db.begin() as conn:
            user_id = await repo.ensure_user(conn, tenant, user, is_admin=admin)
            return await repo.issue_token(conn, user_id)
    finally:
        await db.dispose()


async def _revoke(settings: CommonSettings, token: str) -> bool:
    """Revoke, then tell every gateway (they drop the token from their caches and close its
    streams within a second). If the broker is unreachable the caches' TTL still applies."""
    db = create_engine(settings.database_url, pool_size=1)
    try:
        async with db.begin() as conn:
            revoked = await repo.revoke_token(conn, token)
    finally:
        await db.dispose()
    if revoked:
        connection = await connect(settings.amqp_url, name="gateway-cli")
        try:
            await announce_revocation(await Publisher.open(connection), repo.token_hash(token))
        finally:
            await connection.close()
    return revoked


def main() -> None:
    parser = argparse.ArgumentParser(prog="conveyor")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-user", help="create a user and print a token")
    create.add_argument("--tenant", required=True)
    create.add_argument("--user", required=True)
    create.add_argument("--admin", action="store_true")
    revoke = commands.add_parser("revoke-token", help="revoke a token")
    revoke.add_argument("token")
    args = parser.parse_args()
    settings = load_settings(CommonSettings, "gateway")
    if args.command == "create-user":
        print(asyncio.run(_create_user(settings.database_url, args.tenant, args.user, args.admin)))
    else:
        revoked = asyncio.run(_revoke(settings, args.token))
        raise SystemExit(0 if revoked else "no such active token")


if __name__ == "__main__":
    main()
