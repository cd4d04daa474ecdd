"""The CLI's own messages in Chinese when the user's locale is Chinese (`LANG=zh_CN.UTF-8`, or
`CONVEYOR_LANG=zh-CN`; `CONVEYOR_LANG=en` forces English). Messages are written in English once
and put into Chinese where they are printed, by whole sentence or by pattern, so a message
without a translation stays whole rather than half translated. Machine output (`--json`) and
error codes never change."""

from __future__ import annotations

import os
import re

_EXACT = {
    "not logged in: run `conveyor login` (or set CONVEYOR_TOKEN)":
        "未登录：请运行 `conveyor login`（或设置 CONVEYOR_TOKEN）",
    "give --template FILE or --template-id ID": "请给出 --template 文件 或 --template-id ID",
    "give either --data FILE or --data-source-id ID":
        "请给出 --data 文件 或 --data-source-id ID（二选一）",
    "no ZIP": "没有 ZIP",
}

_PATTERNS: list[tuple[re.Pattern[str], str]] = [(re.compile(p), r) for p, r in [
    (r"^(.+) lacks (.+) \((\d+) (\w+)\)$", r"\1 缺少列：\2（\3 \4）"),
    (r"^task (\S+) does not exist \((\d+) (\w+)\)$", r"任务 \1 不存在（\2 \3）"),
    (r"^(\S+) matches several tasks: (.+); give more of the id$",
     r"\1 匹配到多个任务：\2；请给出更长的 ID"),
    (r"^task (\S+) (completed|partial_success|failed|cancelled): (.+)$", r"任务 \1 \2：\3"),
    (r"^task (\S+) (completed|partial_success|failed|cancelled)$", r"任务 \1 \2"),
    (r"^(\d+) of (\d+) items failed$", r"\2 个条目中 \1 个失败"),
    (r"^(\d+) cancelled$", r"\1 个已取消"),
    (r"^stopped waiting; task (\S+) keeps running \(`(.+)`\)$",
     r"已停止等待；任务 \1 仍在运行（`\2`）"),
    (r"^task (\S+) cancelled at your request \((\d+) of (\d+) items done\)$",
     r"已按你的要求取消任务 \1（已完成 \2/\3 个条目）"),
    (r"^Cancel task (\S+)\?$", r"取消任务 \1？"),
    (r"^(\d+) file\(s\) uploaded, (\d+) reused$", r"上传 \1 个文件，复用 \2 个"),
    (r"^(\d+) (docx|pdf) documents$", r"\1 份 \2 文档"),
    (r"^(\S+): (\d+) documents \((\d+) rows x (\d+) templates\), started \((.+)\); (.+)$",
     r"\1：\4 个模板 × \3 行 = \2 份文档，已开始（\5）；\6"),
]]


def chinese() -> bool:
    chosen = os.environ.get("CONVEYOR_LANG")
    if chosen:
        return chosen.lower().startswith("zh")
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return value.lower().startswith("zh")
    return False


def tr(message: str) -> str:
    """`message` in the user's language; parts inside a message are put into Chinese too."""
    if not chinese():
        return message
    return _translate(message)


def _translate(message: str) -> str:
    if message in _EXACT:
        return _EXACT[message]
    for pattern, replacement in _PATTERNS:
        if pattern.match(message):
            return _inner(pattern, replacement, message)
    return message


def _inner(pattern: re.Pattern[str], replacement: str, message: str) -> str:
    """The pattern's translation, with a reason list (`a; b`) translated piece by piece."""
    translated = pattern.sub(replacement, message)
    if "; " in translated and "：" in translated:
        head, _, reasons = translated.partition("：")
        return head + "：" + "；".join(_translate(part) for part in reasons.split("; "))
    return translated
