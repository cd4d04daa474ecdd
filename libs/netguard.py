"""Outbound URL policy for the servers Conveyor calls (SSRF guard).

A remote server's URL is chosen by an admin but fetched by our own processes, from inside our
network. So a URL is refused unless every address its host resolves to is globally routable:
loopback, link-local (169.254.0.0/16, where clouds serve instance credentials), private,
shared, reserved, multicast and unspecified ranges are refused unless the operator's allow-list
(`CONVEYOR_SERVER_URL_ALLOWLIST`, comma-separated CIDRs) admits them.

The check runs at registration and again before every request, and the request then goes to
the address that was checked (the host name travels in the Host header and TLS SNI), so a DNS
answer that changes between check and connect (rebinding) cannot redirect it. Redirects are
never followed by the clients that use this.
"""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_URL_LENGTH = 2048


class UrlRefused(ValueError):
    """The URL may not be called: malformed, unresolvable, or pointing somewhere we refuse."""


@dataclass(frozen=True, slots=True)
class PinnedUrl:
    url: httpx.URL  # the URL with its host replaced by the checked address
    host: str  # the original host name: TLS SNI
    host_header: str  # the original host[:port]: the Host header
    address: IPAddress


def parse_allowlist(value: str) -> tuple[IPNetwork, ...]:
    try:
        return tuple(ipaddress.ip_network(part.strip(), strict=False)
                     for part in value.split(",") if part.strip())
    except ValueError as exc:
        raise ValueError(f"server URL allow-list: {exc}") from exc


_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: never global
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # RFC 2765 (SIIT)
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # RFC 4291, deprecated but still routed
_SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")  # RFC 3879, deprecated private range


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries, where a gateway or the kernel would translate or
    tunnel it there: IPv4-mapped, IPv4-translated, NAT64, 6to4 and IPv4-compatible forms."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _NAT64_WELL_KNOWN or address in _IPV4_TRANSLATED:
        return low32
    # `::` and `::1` are IPv6's own unspecified and loopback addresses, judged as such.
    if address in _IPV4_COMPATIBLE and int(address) > 1:
        return low32
    return None


def _effective(address: IPAddress) -> IPAddress:
    """An IPv4 address tunnelled or translated in IPv6 (::ffff:127.0.0.1, 64:ff9b::7f00:1,
    2002:7f00:1::) is judged as the IPv4 one."""
    if isinstance(address, ipaddress.IPv6Address):
        return _embedded_ipv4(address) or address
    return address


def _never_public(address: IPAddress) -> str | None:
    """IPv6 ranges Python's `is_global` still calls global but that are private by design."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _SITE_LOCAL:
            return "site-local"
        if address in _NAT64_LOCAL_USE:
            return "local-use NAT64"
    return None


def describe(address: IPAddress) -> str:
    reason = _never_public(address)
    if reason:
        return reason
    address = _effective(address)
    for kind in ("loopback", "link_local", "unspecified", "multicast", "private", "reserved"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return "non-public"


class UrlPolicy:
    def __init__(self, allowlist: tuple[IPNetwork, ...] = ()) -> None:
        self._allowlist = allowlist

    @classmethod
    def from_setting(cls, value: str) -> "UrlPolicy":
        return cls(parse_allowlist(value))

    def admits(self, address: IPAddress) -> bool:
        effective = _effective(address)
        if any(a in network for network in self._allowlist for a in {address, effective}):
            return True
        if _never_public(address):
            return False
        address = effective
        return address.is_global and not (address.is_multicast or address.is_unspecified)

    def check_syntax(self, url: str) -> tuple[str, int]:
        """(host, port) of an http(s) URL without credentials, or UrlRefused."""
        if len(url) > MAX_URL_LENGTH:
            raise UrlRefused(f"URL longer than {MAX_URL_LENGTH} characters")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise UrlRefused(f"not a valid URL: {exc}") from exc
        if parts.scheme not in ("http", "https"):
            raise UrlRefused("only http and https URLs are allowed")
        if not parts.hostname:
            raise UrlRefused("the URL has no host")
        if parts.username is not None or parts.password is not None:
            raise UrlRefused("credentials in the URL are not allowed")
        return parts.hostname, port or (443 if parts.scheme == "https" else 80)

    async def resolve(self, url: str) -> PinnedUrl:
        """Check the URL and every address its host resolves to; pin the first one."""
        host, port = self.check_syntax(url)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise UrlRefused(f"cannot resolve host {host!r}: {exc}") from exc
        # An IPv6 link-local answer carries its zone (`fe80::1%eth0`): judge the address.
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
        if not addresses:
            raise UrlRefused(f"host {host!r} has no address")
        for address in addresses:
            if not self.admits(address):
                raise UrlRefused(
                    f"host {host!r} resolves to {address}, a {describe(address)} address; "
                    "only public addresses may be called unless an operator admits the range "
                    "with CONVEYOR_SERVER_URL_ALLOWLIST")
        original = httpx.URL(url)
        host_header = f"[{host}]" if ":" in host else host
        if original.port is not None:
            host_header += f":{original.port}"
        return PinnedUrl(url=original.copy_with(host=str(addresses[0])), host=host,
                         host_header=host_header, address=addresses[0])


class GuardedClient:
    """An HTTP client that only calls URLs the policy admits, at the address it checked, and
    never follows a redirect. Use one per remote server: connections are pooled by address."""

    def __init__(self, policy: UrlPolicy, timeout_s: float) -> None:
        self._policy = policy
        self._http = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False,
                                       trust_env=False)

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        pinned = await self._policy.resolve(url)
        headers = {**kwargs.pop("headers", {}), "Host": pinned.host_header}
        return await self._http.request(method, pinned.url, headers=headers,
                                        extensions={"sni_hostname": pinned.host}, **kwargs)

    async def close(self) -> None:
        await self._http.aclose()
