"""The built-in `echo` kind: a diagnostic worker whose items cost nothing (or a chosen delay).

It exercises the whole engine without a real workload: tests use it for pause, cancel and fault
scenarios, `make bench` for the engine's own overhead, operators as a smoke test."""
