"""Live task events for clients: WebSocket (seed 000's protocol) and SSE, fed from the
events exchange."""
