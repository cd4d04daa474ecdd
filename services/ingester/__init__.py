"""The ingester: the `kb_sync` kind's worker (download -> extract -> chunk -> embed -> store,
one document per item) and the knowledge-base search it answers for the gateway."""
