from libs.settings import CommonSettings
from proto.slides import RendererName


class SlidesSettings(CommonSettings, kw_only=True):
    concurrency: int = 16  # slides in progress in this instance (renders queue for the pool)
    prefetch: int = 16
    render_processes: int = 0  # Pillow processes; 0: one per CPU
    # Each drawing runs under these (libs/sandbox.py); exceeding one fails the slide for good.
    # Address space, not RSS: drawing a 1920x1080 CJK slide peaks at ~0.9 GiB of it (VmPeak;
    # RSS ~200 MB), so 1024 failed slides intermittently ("unknown file format", MemoryError).
    render_memory_mb: int = 2048
    render_cpu_s: int = 20
    render_wall_s: float = 60.0
    render_max_output_mb: int = 50
    default_renderer: RendererName = RendererName.LOCAL
    font_regular: str = ""  # empty: the CJK font scripts/setup.sh installs
    font_bold: str = ""
    # The external renderer is on when a base URL is set (e.g. https://api.openai.com/v1).
    image_api_base_url: str = ""
    image_api_key: str = ""
    image_api_model: str = "gpt-image-1"
    image_api_response_format: str = "b64_json"  # sent as response_format; empty: not sent
    image_api_timeout_s: float = 120.0  # per slide: every attempt, backoff and slot wait
    image_api_max_attempts: int = 4
    image_api_backoff_base_s: float = 1.0
    image_api_concurrency: int = 3  # requests in flight across ALL slides instances
    cache_ttl_s: int = 7 * 24 * 3600  # unused cache entries expire after this
    cache_sweep_interval_s: float = 600.0
