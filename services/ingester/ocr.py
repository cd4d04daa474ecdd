"""Text from images with Tesseract (Debian's tesseract-ocr, with Simplified Chinese and English
data), one process per image under an address-space limit and a deadline."""

import asyncio
import contextlib
import shutil

from libs.logging import get_logger

log = get_logger(__name__)


class Ocr:
    def __init__(self, tesseract: str, prlimit: str | None, languages: str, timeout_s: float,
                 memory_bytes: int) -> None:
        self._tesseract = tesseract
        self._prlimit = prlimit
        self.languages = languages
        self._timeout_s = timeout_s
        self._memory_bytes = memory_bytes

    @classmethod
    def detect(cls, languages: str, timeout_s: float, memory_bytes: int) -> "Ocr | None":
        """An Ocr when tesseract is installed; None (images are then skipped) when not."""
        tesseract = shutil.which("tesseract")
        if tesseract is None:
            log.warning("ocr.unavailable", reason="no tesseract on PATH; images are skipped")
            return None
        return cls(tesseract, shutil.which("prlimit"), languages, timeout_s, memory_bytes)

    async def read(self, image: bytes) -> str:
        """The image's text; empty when tesseract fails or overruns (the image is skipped)."""
        argv = [self._tesseract, "stdin", "stdout", "-l", self.languages]
        if self._prlimit:
            argv = [self._prlimit, f"--as={self._memory_bytes}", "--", *argv]
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL)
        try:
            out, _ = await asyncio.wait_for(process.communicate(image), self._timeout_s)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            log.warning("ocr.timed_out", timeout_s=self._timeout_s)
            return ""
        if process.returncode != 0:
            log.warning("ocr.failed", returncode=process.returncode)
            return ""
        return out.decode("utf-8", errors="replace").strip()
