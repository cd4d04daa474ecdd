"""Template rendering, run in worker processes (CPU-bound: never on the event loop)."""
