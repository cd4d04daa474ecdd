from libs.settings import CommonSettings
from proto.codegen import ProviderName


class CodegenSettings(CommonSettings, kw_only=True):
    concurrency: int = 4  # generations in progress in this instance
    prefetch: int = 4
    provider: ProviderName = ProviderName.OFFLINE
    # The chat provider: any OpenAI-compatible chat-completions API (hosted, vLLM, Ollama).
    chat_base_url: str = ""  # e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1
    chat_api_key: str = ""
    chat_model: str = "gpt-4o-mini"
    chat_timeout_s: float = 120.0  # one request
    chat_max_attempts: int = 3  # per request, for timeouts, 429 and 5xx, with backoff
    chat_backoff_base_s: float = 1.0
    chat_concurrency: int = 4  # requests in flight across ALL codegen instances
    chat_max_tokens: int = 4096
    # Price table, per 1,000 tokens, in the currency the deployment bills in.
    chat_price_prompt_per_1k: float = 0.0
    chat_price_completion_per_1k: float = 0.0
    # Seed 002: AI calls per user per hour; the 101st fails the task with a clear message.
    ai_calls_per_hour: int = 100
    # Rendering the project runs in a capped process (libs/sandbox.py).
    render_processes: int = 1
    render_memory_mb: int = 1024
    render_cpu_s: int = 30
    render_wall_s: float = 60.0
    max_file_bytes: int = 256 * 1024
    max_archive_bytes: int = 16 * 2**20
