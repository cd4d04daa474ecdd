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


@pytest.mark.parametrize(("url", "reason"), [
    ("http://[64:ff9b::7f00:2]/", "loopback"),  # NAT64 well-known prefix
    ("http://[64:ff9b::a00:1]/", "private"),
    ("http://[64:ff9b:1::7f00:2]/", "local-use NAT64"),
    ("http://[2002:7f00:2::]/", "loopback"),  # 6to4
    ("http://[2002:a9fe:a9fe::1]/", "link-local"),
    ("http://[::ffff:0:7f00:2]/", "loopback"),  # IPv4-translated
    ("http://[::7f00:1]/", "loopback"),  # IPv4-compatible
    ("http://[::10.0.0.1]/", "private"),
    ("http://[::ffff:169.254.169.254]/", "link-local"),  # IPv4-mapped
    ("http://[fec0::1]/", "site-local"),
    ("http://[::1]/", "loopback"),
])
async def test_ipv4_embedded_in_ipv6_is_judged_as_ipv4(url: str, reason: str) -> None:
    with pytest.raises(UrlRefused, match=reason):
        await UrlPolicy().resolve(url)


def test_embedded_public_ipv4_stays_admitted() -> None:
    for form in ("64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8"):
        assert UrlPolicy().admits(ipaddress.ip_address(form)), form
    allow = UrlPolicy.from_setting("127.0.0.2/32")
    assert allow.admits(ipaddress.ip_address("64:ff9b::7f00:2"))
