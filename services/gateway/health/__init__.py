"""Cluster health: this gateway's dependencies and every service's instances."""
