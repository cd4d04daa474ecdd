"""PostgreSQL access: async SQLAlchemy over asyncpg, schema managed by alembic."""
