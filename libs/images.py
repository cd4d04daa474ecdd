"""The `image-thumbnail` workflow: an image scaled to fit a square, as PNG. CPU-bound: callers
run it in a process pool (it is a plain top-level function for that reason)."""

import io

from PIL import Image, UnidentifiedImageError

DEFAULT_MAX_SIZE = 512
MAX_PIXELS = 50_000_000  # refuse decompression bombs before decoding them


class NotAnImage(ValueError):
    pass


def thumbnail(data: bytes, max_size: int = DEFAULT_MAX_SIZE) -> bytes:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.seek(0)  # the first frame of an animation
            if image.width * image.height > MAX_PIXELS:
                raise NotAnImage(f"image too large: {image.width}x{image.height}")
            image.draft("RGB", (max_size, max_size))  # JPEG: decode at a reduced scale
            frame = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as exc:
        raise NotAnImage(f"not a readable image: {exc}") from exc
    frame.thumbnail((max_size, max_size))
    out = io.BytesIO()
    frame.save(out, format="PNG", optimize=False)
    return out.getvalue()
