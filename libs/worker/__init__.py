"""Worker runtime: a service declares item handlers per kind; this package does the rest
(consume, claim, run with timeouts, report results in batches, heartbeat)."""
