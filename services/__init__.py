"""Conveyor's service processes; each folder runs with `python -m services.<name>`."""
