"""Knowledge bases (seed 003): knowledge bases and their documents (written by the gateway),
each document's index state and its chunks with embeddings (written by the ingester).

Revision ID: kb_0001
Revises: 0001
"""

from libs.db.migrations.script_sql import execute_script

revision = "kb_0001"
down_revision = "0001"
branch_labels = ("kb",)
depends_on = None

# The embedding width is fixed by the column type: HNSW indexes need one. 384 is
# all-MiniLM-L6-v2's; an HTTP provider is asked for 384 dimensions (docs/knowledge-bases.md).
UPGRADE = """
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE knowledge_bases (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    created_by uuid REFERENCES users ON DELETE SET NULL,
    name text NOT NULL,
    description text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);

CREATE TABLE kb_documents (
    id uuid PRIMARY KEY,
    kb_id uuid NOT NULL REFERENCES knowledge_bases ON DELETE CASCADE,
    tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    filename text NOT NULL,
    format text NOT NULL,
    content_type text NOT NULL,
    size_bytes bigint NOT NULL,
    content_hash text NOT NULL,
    storage_key text NOT NULL,
    status text NOT NULL DEFAULT 'uploaded',
    created_by uuid REFERENCES users ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX kb_documents_kb ON kb_documents (kb_id, created_at, id);

-- What a document's chunks were built from: a sync skips it while the fingerprint (content
-- hash + model + chunking) is unchanged.
CREATE TABLE kb_document_index (
    document_id uuid PRIMARY KEY REFERENCES kb_documents ON DELETE CASCADE,
    content_hash text NOT NULL,
    fingerprint text NOT NULL,
    chunk_count integer NOT NULL,
    task_id uuid,
    indexed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE kb_chunks (
    id bigserial PRIMARY KEY,
    document_id uuid NOT NULL REFERENCES kb_documents ON DELETE CASCADE,
    kb_id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    seq integer NOT NULL,
    content text NOT NULL,
    embedding vector(384) NOT NULL
);
CREATE INDEX kb_chunks_document ON kb_chunks (document_id, seq);
CREATE INDEX kb_chunks_kb ON kb_chunks (kb_id);
CREATE INDEX kb_chunks_embedding ON kb_chunks USING hnsw (embedding vector_cosine_ops);
"""

DOWNGRADE = """
DROP TABLE kb_chunks, kb_document_index, kb_documents, knowledge_bases;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
