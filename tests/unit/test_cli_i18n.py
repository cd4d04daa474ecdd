"""The CLI's messages in Chinese for a Chinese locale, whole or not at all."""

import pytest

from libs.client.cli.i18n import tr


def test_english_unless_the_locale_is_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONVEYOR_LANG", raising=False)
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert tr("rows.csv lacks amount, city (400 VALIDATION_ERROR)") == (
        "rows.csv lacks amount, city (400 VALIDATION_ERROR)")
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert tr("rows.csv lacks amount, city (400 VALIDATION_ERROR)") == (
        "rows.csv 缺少列：amount, city（400 VALIDATION_ERROR）")
    monkeypatch.setenv("CONVEYOR_LANG", "en")
    assert tr("3 file(s) uploaded, 0 reused") == "3 file(s) uploaded, 0 reused"


def test_reasons_are_translated_piece_by_piece(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVEYOR_LANG", "zh-CN")
    assert tr("task t1 partial_success: 1 of 2 items failed; 1 cancelled") == (
        "任务 t1 partial_success：2 个条目中 1 个失败；1 个已取消")
    assert tr("a message nobody translated") == "a message nobody translated"
    assert tr("0 file(s) uploaded, 2 reused") == "上传 0 个文件，复用 2 个"
