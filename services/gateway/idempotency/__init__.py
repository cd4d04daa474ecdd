"""`Idempotency-Key` on create routes: a request repeated with the same key (after a timeout,
a dropped connection, a gateway that died mid-request) gets the original answer and creates
nothing new; the same key with a different body is refused. See middleware.py."""
