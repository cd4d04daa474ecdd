"""The transactional outbox: every message a task transaction decides to send (work, events,
wake-ups) is written here in the same commit as the state it announces, and each process's
relay publishes it with publisher confirms, then deletes it. A process killed between its
commit and its publish leaves the rows for the next relay; nothing is published by hand.

Rows are published in `id` order per task (a task's writers hold its row lock, so their ids
follow their commits).

Revision ID: i22_0001
Revises: i12_0001
"""

from libs.db.migrations.script_sql import execute_script

revision = "i22_0001"
down_revision = "i12_0001"
branch_labels = None
depends_on = None


UPGRADE = """
CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    task_id uuid,
    exchange text NOT NULL,
    routing_key text NOT NULL,
    message_type text NOT NULL,
    body bytea NOT NULL,
    headers jsonb NOT NULL DEFAULT '{}',
    persistent boolean NOT NULL DEFAULT true,
    mandatory boolean NOT NULL DEFAULT true,
    correlation_id text,
    expiration_s double precision,
    attempts int NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""

DOWNGRADE = """
DROP TABLE outbox;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
