"""Registered batch servers (seed 004): the model and all of its SQL, shared by the gateway
(registrations, an admin's requests) and the registry (health)."""
