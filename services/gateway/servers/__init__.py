"""Batch servers: registered servers, batches of a workflow over folders on a chosen server,
and the files those batches read and write."""
