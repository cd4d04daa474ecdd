"""The messaging runtime: one connection, one publisher, one consumer runner."""
