import pytest

from libs.settings import CommonSettings, load_settings


class _Settings(CommonSettings, kw_only=True):
    window: int = 3


def test_service_prefix_wins_over_common_and_values_are_typed() -> None:
    settings = load_settings(_Settings, "svc", {
        "CONVEYOR_WINDOW": "5", "CONVEYOR_SVC_WINDOW": "7", "CONVEYOR_S3_SECURE": "1"})
    assert settings.window == 7 and settings.s3_secure is True


def test_invalid_values_stop_the_process_with_a_clear_message() -> None:
    with pytest.raises(SystemExit, match="window"):
        load_settings(_Settings, "svc", {"CONVEYOR_WINDOW": "lots"})
