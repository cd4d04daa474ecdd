"""Tasks of every kind: the commands users give and the generic task API (seed 002's
conventions). Each seed's own routes call the same commands."""
