"""Seed 001's own client examples, run as written against the gateway (only the base URL and an
Authorization header added), and the images of Chinese slides checked for real text."""

from __future__ import annotations

import asyncio
import io
import json
import sys
import textwrap
from collections.abc import AsyncIterator

import pytest_asyncio
from PIL import Image, ImageDraw, ImageStat

from services.slides.drawing.fonts import find_fonts, load
from tests.e2e.conftest import Api, Stack
from tests.e2e.slides_support import (
    ARTIFACTS,
    deck,
    fetch_image,
    generate,
    start_slides,
    stop_slides,
)

# The seed's Python example; `# ... 更多幻灯片` became two more slides.
SEED_PYTHON_CLIENT = '''
import requests
import json

BASE, HEADERS = sys.argv[1], {"Authorization": f"Bearer {sys.argv[2]}"}

# 1. 批量生成
batch_request = {
    "slides": [
        {
            "id": "slide-1",
            "page_num": 1,
            "type": "cover",
            "title": "项目汇报",
            "content_text": "AI-PPT Flow 项目进展",
            "visual_desc": "现代简约风格，科技感背景"
        },
        {"id": "slide-2", "page_num": 2, "type": "content", "title": "本季度进展",
         "content_text": "批量生成接口上线\\n并发数可配置", "visual_desc": "数据图表"},
        {"id": "slide-3", "page_num": 3, "type": "ending", "title": "谢谢",
         "content_text": "欢迎提问", "visual_desc": "简洁"},
    ],
    "style_prompt": "现代科技风格，蓝色调，简洁专业",
    "max_workers": 3,
    "aspect_ratio": "16:9"
}

response = requests.post(
    BASE + "/api/slide/batch/generate",
    json=batch_request, headers=HEADERS
)

result = response.json()
print(f"批量任务ID: {result['batch_id']}")
print(f"成功: {result['successful']}, 失败: {result['failed']}")
print(f"总耗时: {result['total_time']}秒")

# 2. 查询状态（可选，因为接口会等待完成）
status_request = {
    "batch_id": result['batch_id']
}

status_response = requests.post(
    BASE + "/api/slide/batch/status",
    json=status_request, headers=HEADERS
)

status = status_response.json()
print(f"进度: {status['progress']:.1%}")
print(f"状态: {status['status']}")
'''

# The seed's frontend example, verbatim, behind a fetch that adds the base URL and the token.
SEED_FRONTEND = '''
const [BASE, TOKEN, SLIDES] = process.argv.slice(1);  // node -e: no script path
const browserFetch = globalThis.fetch;
globalThis.fetch = (path, init = {}) => browserFetch(BASE + path, {
  ...init, headers: { ...(init.headers || {}), Authorization: `Bearer ${TOKEN}` } });

// 批量生成
async function batchGenerateSlides(slides, stylePrompt) {
  const response = await fetch('/api/slide/batch/generate', {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
    },
    body: JSON.stringify({
      slides: slides,
      style_prompt: stylePrompt,
      max_workers: 3,
      aspect_ratio: '16:9'
    })
  });

  const result = await response.json();
  return result;
}

// 轮询状态（如果使用异步模式）
async function pollBatchStatus(batchId) {
  let polls = 0;
  const checkStatus = async () => {
    polls += 1;
    const response = await fetch('/api/slide/batch/status', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({ batch_id: batchId })
    });

    const status = await response.json();

    if (status.status === 'completed' || status.status === 'failed') {
      return { ...status, polls };
    }

    // 继续轮询
    await new Promise(resolve => setTimeout(resolve, 2000));
    return checkStatus();
  };

  return checkStatus();
}

(async () => {
  const slides = JSON.parse(SLIDES);
  const waited = await batchGenerateSlides(slides.slice(0, 2), '简约 绿色');
  // Asynchronous mode: the same request with wait=false answers at once with the batch_id.
  const started = await (await fetch('/api/slide/batch/generate', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ slides, style_prompt: '简约 绿色', max_workers: 1, wait: false }),
  })).json();
  const final = await pollBatchStatus(started.batch_id);
  console.log(JSON.stringify({ waited, started, final }));
})();
'''


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def slides(stack: Stack) -> AsyncIterator[None]:
    handle = await start_slides(stack)
    yield
    await stop_slides(stack, handle)


async def _run(*argv: str) -> str:
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 300)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_seed_python_client_prints_the_documented_fields(slides: None, alice: Api) -> None:
    script = "import sys\n" + textwrap.dedent(SEED_PYTHON_CLIENT)
    out = await _run(sys.executable, "-c", script, alice.base_url, str(alice.token))
    lines = out.strip().splitlines()
    assert lines[0].startswith("批量任务ID: ") and len(lines[0]) > len("批量任务ID: ") + 30
    assert lines[1] == "成功: 3, 失败: 0"
    assert lines[2].startswith("总耗时: ") and float(lines[2][5:-1]) > 0
    assert lines[3:] == ["进度: 100.0%", "状态: completed"]


async def test_seed_frontend_polling_loop_ends_on_completed(slides: None, alice: Api) -> None:
    slides_ = deck(6, "frontend")
    out = await _run("node", "-e", SEED_FRONTEND, alice.base_url, str(alice.token),
                     json.dumps(slides_, ensure_ascii=False))
    result = json.loads(out)
    assert (result["waited"]["status"], result["waited"]["successful"]) == ("completed", 2)
    assert result["started"]["status"] in ("pending", "running")
    final = result["final"]
    assert (final["status"], final["progress"], final["successful"]) == ("completed", 1.0, 6)
    assert final["batch_id"] == result["started"]["batch_id"] and final["polls"] >= 1


CHINESE_SLIDES = [
    {"id": "zh-cover", "page_num": 1, "type": "cover", "title": "二〇二六年度项目汇报",
     "content_text": "AI-PPT Flow：批量幻灯片生成平台", "visual_desc": "科技感背景"},
    {"id": "zh-content", "page_num": 2, "type": "content", "title": "核心特性：多进程并发生成",
     "content_text": "每个幻灯片独立生成，互不影响；单页失败不拖累整批\n"
                     "可配置最大并发数（1–10），默认 3\n"
                     "实时进度跟踪、预计剩余时间与按会话查询的日志\n"
                     "相同内容命中缓存，重复生成几乎零成本",
     "visual_desc": "数据图表"},
]


def _no_missing_glyphs(text: str) -> None:
    """Every character has a real glyph in the font the renderer uses (no tofu boxes): its
    rendering differs from the font's missing-glyph box."""
    font = load(find_fonts().regular, 48)

    def pixels(char: str) -> bytes:
        image = Image.new("L", (64, 64))
        ImageDraw.Draw(image).text((0, 0), char, font=font, fill=255)
        return image.tobytes()

    tofu = pixels("\U0010fffd")
    for char in set(text) - {" ", "\n"}:
        assert pixels(char) != tofu, f"no glyph for {char!r}"


async def test_chinese_cover_and_content_images_at_16_9_and_4_3(slides: None, alice: Api) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for slide in CHINESE_SLIDES:
        _no_missing_glyphs(slide["title"] + slide["content_text"])
    for ratio, size in (("16:9", (1920, 1080)), ("4:3", (1600, 1200))):
        body = await generate(alice, CHINESE_SLIDES, style_prompt="现代科技风格，蓝色调，简洁专业",
                              aspect_ratio=ratio)
        assert body["successful"] == 2, body
        for result in body["results"]:
            png = await fetch_image(alice, result["image_url"])
            path = ARTIFACTS / f"{result['slide_id']}_{ratio.replace(':', 'x')}.png"
            path.write_bytes(png)
            print(f"wrote {path}")
            with Image.open(io.BytesIO(png)) as image:
                assert image.size == size
                # Text is drawn: the picture has bright (title) and background pixels apart.
                low, high = ImageStat.Stat(image.convert("L")).extrema[0]
                assert high - low > 150, (path, low, high)
