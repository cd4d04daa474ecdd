"""Bearer-token authentication: tenants, users and their API tokens."""
