"""`python -m services.gateway.cli create-user --tenant T --user U [--admin]` prints a new
bearer token for that user (creating tenant and user if needed) on its last line;
`revoke-token TOKEN` revokes one (every gateway stops accepting it within a second);
`set-limits --tenant T [--weight N] [--max-running-items N] [--max-running-tasks N]
[--tasks-per-hour N]` sets a tenant's fair-share weight and limits (0: back to the
settings' default) and prints the limits in force."""

import argparse
import asyncio

from libs.db.engine import create_engine
from libs.messaging.connection import connect
from libs.messaging.publisher import Publisher
from libs.settings import CommonSettings, load_settings
from libs.tasks import limits
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


LIMIT_FIELDS = ("weight", "max_running_items", "max_running_tasks", "tasks_per_hour")


async def _set_limits(settings: CommonSettings, tenant: str,
                      changes: dict[str, int | None]) -> limits.TenantLimits:
    db = create_engine(settings.database_url, pool_size=1)
    try:
        async with db.begin() as conn:
            found = await repo.tenant_id(conn, tenant)
            if found is None:
                raise SystemExit(f"no tenant named {tenant!r}")
            if changes:
                await limits.set_limits(conn, found, changes)
            return await limits.effective(conn, found, settings.tenant_defaults)
    finally:
        await db.dispose()


def _limit_value(text: str) -> int:
    value = int(text)
    if value < 0 or value > 1_000_000:
        raise argparse.ArgumentTypeError("a number from 0 (the default) to 1000000")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(prog="conveyor")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-user", help="create a user and print a token")
    create.add_argument("--tenant", required=True)
    create.add_argument("--user", required=True)
    create.add_argument("--admin", action="store_true")
    revoke = commands.add_parser("revoke-token", help="revoke a token")
    revoke.add_argument("token")
    limit = commands.add_parser("set-limits", help="a tenant's fair-share weight and limits")
    limit.add_argument("--tenant", required=True)
    for name in LIMIT_FIELDS:
        limit.add_argument(f"--{name.replace('_', '-')}", type=_limit_value, dest=name)
    args = parser.parse_args()
    settings = load_settings(CommonSettings, "gateway")
    if args.command == "set-limits":
        changes = {name: getattr(args, name) or None for name in LIMIT_FIELDS
                   if getattr(args, name) is not None}
        if (args.weight or 0) > 1000:
            raise SystemExit("--weight: at most 1000")
        found = asyncio.run(_set_limits(settings, args.tenant, changes))
        print(" ".join(f"{name}={getattr(found, name)}" for name in LIMIT_FIELDS))
    elif args.command == "create-user":
        print(asyncio.run(_create_user(settings.database_url, args.tenant, args.user, args.admin)))
    else:
        revoked = asyncio.run(_revoke(settings, args.token))
        raise SystemExit(0 if revoked else "no such active token")


if __name__ == "__main__":
    main()
