"""Shared runtime of every Conveyor service: written once, used everywhere."""
