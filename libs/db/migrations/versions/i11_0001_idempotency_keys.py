"""Idempotency keys of create requests (the `Idempotency-Key` header): per user, 24 hours.

A row is claimed when a request with a new key arrives, gets the id of what the request created
in the same transaction as the creation (so a request repeated after a crash finds it), and
the response once it is sent (so a repeat gets the same answer).

Revision ID: i11_0001
Revises: 0001
"""

from libs.db.migrations.script_sql import execute_script

revision = "i11_0001"
down_revision = "0001"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE idempotency_keys (
    user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
    key text NOT NULL,
    fingerprint text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    resource_id text,
    status_code integer,
    content_type text,
    response bytea,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
"""

DOWNGRADE = """
DROP TABLE idempotency_keys;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
