"""Gateway-internal notices on the `conveyor.auth` fanout exchange (never on the public events
exchange): every gateway drops what it cached about a token, and closes its live streams, as
soon as the token is revoked."""

import msgspec


class TokenRevoked(msgspec.Struct, frozen=True, kw_only=True, tag="token_revoked"):
    token_hash: str  # hex SHA-256 of the token, as stored; the token itself never travels
