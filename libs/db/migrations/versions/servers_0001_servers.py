"""Servers (seed 004): registered batch servers. Registrations are written by the gateway (an
admin's request), health by the registry (heartbeats of local instances, checks of remote ones).

Revision ID: servers_0001
Revises: 0001
"""

from libs.db.migrations.script_sql import execute_script

revision = "servers_0001"
down_revision = "0001"
branch_labels = ("servers",)
depends_on = None

UPGRADE = """
CREATE TABLE servers (
    name text PRIMARY KEY,
    type text NOT NULL CHECK (type IN ('local', 'remote')),
    url text NOT NULL,
    enabled boolean NOT NULL DEFAULT true,
    batch_size integer NOT NULL CHECK (batch_size > 0),
    -- Added by its own instance's heartbeat rather than by an admin: an admin may still
    -- register the name, which adopts the row.
    auto boolean NOT NULL DEFAULT false,
    -- Remote servers only: the verdict of the registry's health checks and what the server
    -- said it can do. A local server's come from its instance's heartbeats.
    health text NOT NULL DEFAULT 'offline' CHECK (health IN ('online', 'offline', 'error')),
    capabilities jsonb NOT NULL DEFAULT '{}',
    failures integer NOT NULL DEFAULT 0,
    last_error text,
    checked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
"""

DOWNGRADE = """
DROP TABLE servers;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
