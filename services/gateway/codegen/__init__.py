"""Seed 002's code-generation API: `/api/v1/generate/...`."""
