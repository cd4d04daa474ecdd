"""Foundation: tenants and tokens (gateway), tasks, items and stages (task engine),
instances (registry).

Revision ID: 0001
Revises:
"""

from libs.db.migrations.script_sql import execute_script

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE tenants (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    name text NOT NULL,
    is_admin boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);
-- Only a hash of each token is stored: a leaked table grants nothing.
CREATE TABLE api_tokens (
    token_hash bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

CREATE TABLE tasks (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
    kind text NOT NULL,
    name text NOT NULL,
    route text NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    params jsonb NOT NULL DEFAULT '{}',
    concurrency integer NOT NULL CHECK (concurrency > 0),
    pack_size integer NOT NULL DEFAULT 1 CHECK (pack_size > 0),
    max_attempts integer NOT NULL DEFAULT 3 CHECK (max_attempts > 0),
    continue_on_error boolean NOT NULL DEFAULT true,
    item_timeout_s integer NOT NULL,
    task_timeout_s integer,
    autostart boolean NOT NULL DEFAULT false,
    exclusivity_key text,
    parent_task_id uuid REFERENCES tasks ON DELETE SET NULL,
    total integer NOT NULL DEFAULT 0,
    done integer NOT NULL DEFAULT 0,
    failed integer NOT NULL DEFAULT 0,
    cancelled integer NOT NULL DEFAULT 0,
    inflight integer NOT NULL DEFAULT 0,
    current_step text,
    error_message text,
    result jsonb NOT NULL DEFAULT '{}',
    usage jsonb NOT NULL DEFAULT '{}',
    paused_ms bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    paused_at timestamptz,
    completed_at timestamptz,
    deadline_at timestamptz
);
-- One unfinished task per exclusivity key (e.g. one running sync per knowledge base).
CREATE UNIQUE INDEX tasks_exclusive ON tasks (exclusivity_key)
    WHERE exclusivity_key IS NOT NULL AND status IN ('pending', 'running', 'paused');
CREATE INDEX tasks_owner ON tasks (tenant_id, user_id, created_at DESC);
CREATE INDEX tasks_unfinished ON tasks (status) WHERE status IN ('pending', 'running', 'paused');
CREATE INDEX tasks_finished ON tasks (completed_at) WHERE completed_at IS NOT NULL;
CREATE INDEX tasks_parent ON tasks (parent_task_id) WHERE parent_task_id IS NOT NULL;

CREATE TABLE task_items (
    task_id uuid NOT NULL REFERENCES tasks ON DELETE CASCADE,
    seq integer NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    attempt integer NOT NULL DEFAULT 0,
    group_key text,
    payload jsonb NOT NULL DEFAULT '{}',
    result jsonb,
    error text,
    not_before timestamptz,
    lease_until timestamptz,
    started_at timestamptz,
    finished_at timestamptz,
    duration_ms integer,
    PRIMARY KEY (task_id, seq)
);
CREATE INDEX task_items_pending ON task_items (task_id, seq) WHERE status = 'pending';
CREATE INDEX task_items_leased ON task_items (lease_until)
    WHERE status IN ('dispatched', 'processing');

CREATE TABLE task_stages (
    task_id uuid NOT NULL REFERENCES tasks ON DELETE CASCADE,
    position integer NOT NULL,
    name text NOT NULL,
    label text NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    progress integer NOT NULL DEFAULT 0,
    started_at timestamptz,
    completed_at timestamptz,
    summary text,
    error_message text,
    metadata jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (task_id, position)
);

CREATE TABLE instances (
    id text PRIMARY KEY,
    service text NOT NULL,
    name text NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    status text NOT NULL,
    capabilities jsonb NOT NULL DEFAULT '{}',
    interval_s real NOT NULL,
    started_at timestamptz NOT NULL,
    last_seen timestamptz NOT NULL
);
CREATE INDEX instances_service ON instances (service, status);

-- Adds numeric usage counters key by key: {"pages": 2} + {"pages": 1, "bytes": 9}.
CREATE FUNCTION jsonb_sum(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_object_agg(key, total), '{}'::jsonb) FROM (
        SELECT key, sum(value::numeric) AS total
        FROM (SELECT * FROM jsonb_each_text(coalesce(a, '{}'))
              UNION ALL SELECT * FROM jsonb_each_text(coalesce(b, '{}'))) AS pairs
        GROUP BY key
    ) AS sums
$$;
"""

DOWNGRADE = """
DROP FUNCTION jsonb_sum(jsonb, jsonb);
DROP TABLE instances, task_stages, task_items, tasks, api_tokens, users, tenants;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
