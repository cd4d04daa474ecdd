"""A reference remote server: the remote protocol (docs/remote-protocol.md) implemented by a
stand-alone HTTP service. It stands in for an external system: the tests and the dev cluster
run it, and anyone writing a remote server can read it. It is not part of Conveyor itself."""
