"""Seed 004 in the registry: health of remote servers, status changes of every registered
server, and the bridge that runs batches pinned to a remote server over its HTTP protocol."""
