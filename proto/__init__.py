"""Contracts between Conveyor services: the only place a message shape is defined."""
