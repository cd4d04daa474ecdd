from libs.settings import CommonSettings


class GatewaySettings(CommonSettings, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""  # how clients reach us (for websocketUrl); defaults to host:port
    max_body_bytes: int = 20 * 1024 * 1024
    workers: int = 1
    # Wrong bearer tokens one client address may send per minute before they are answered 429
    # (a valid token always passes); 0: no limit. Behind a proxy, the proxy's address unless
    # uvicorn is told to trust its forwarded headers.
    failed_tokens_per_minute: int = 1000
    # Knowledge bases (seed 003): per-file upload limit (the body limit caps it too), knowledge
    # bases per tenant, and how long a search waits for the ingester.
    kb_max_document_bytes: int = 20 * 1024 * 1024
    kb_max_per_tenant: int = 1000
    kb_search_timeout_s: float = 10.0

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http", "ws", 1)
