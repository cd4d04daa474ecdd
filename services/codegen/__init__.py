"""The code-generation service: seed 002's four agents over one task."""
