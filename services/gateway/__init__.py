"""The gateway: REST, WebSocket and SSE in front of the engine; auth and tenant isolation."""
