"""The registry: which service instances are alive and what they can do (heartbeats), and
later the registered remote servers of seed 004."""
