"""Seed 003: knowledge bases, their documents, sync tasks (the `kb_sync` kind) and search."""
