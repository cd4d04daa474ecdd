import ipaddress

import pytest

from libs.netguard import UrlPolicy, UrlRefused, parse_allowlist


@pytest.mark.parametrize(("url", "reason"), [
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://127.0.0.1:8001", "loopback"),
    ("http://localhost/", "loopback"),
    ("http://0x7f.1/", "loopback"),
    ("http://[::ffff:10.0.0.1]/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://100.64.0.1/", "non-public"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("gopher://example.com/", "http and https"),
    ("http://a:b@example.com/", "credentials"),
    ("http:///nohost", "no host"),
])
async def test_non_public_and_malformed_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(UrlRefused, match=reason):
        await UrlPolicy().resolve(url)


async def test_the_allow_list_admits_exactly_its_ranges() -> None:
    policy = UrlPolicy.from_setting("127.0.0.2/32, 10.1.0.0/16")
    pinned = await policy.resolve("http://127.0.0.2:9000/base")
    assert str(pinned.url) == "http://127.0.0.2:9000/base"
    assert pinned.host_header == "127.0.0.2:9000"
    assert policy.admits(ipaddress.ip_address("10.1.200.3"))
    with pytest.raises(UrlRefused):
        await policy.resolve("http://127.0.0.1:9000/")


async def test_a_public_host_is_pinned_to_the_checked_address() -> None:
    pinned = await UrlPolicy().resolve("https://8.8.8.8:8443/x?y=1")
    assert (pinned.url.host, pinned.url.port, pinned.host) == ("8.8.8.8", 8443, "8.8.8.8")


def test_a_bad_allow_list_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="allow-list"):
        parse_allowlist("10.0.0.0/33")
