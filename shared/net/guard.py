"""Refuse outbound requests to addresses inside our own network (SSRF).

A URL given by a client (a webhook, audio to download) is resolved once here; every address it resolves
to must be public unless an operator allowed the host or its network. The caller then connects to one of
exactly these addresses, so a second DNS answer (rebinding) cannot redirect the request inward.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field

import httpx

from shared.errors import EmoQError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_PORTS = {"http": 80, "https": 443}
# NAT64 gateways translate this prefix to the IPv4 address in its last 32 bits.
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")


class UrlNotAllowed(EmoQError):
    code = "url_not_allowed"
    status = 422
    title = "URL not allowed"


class UrlUnresolvable(UrlNotAllowed):
    """The host has no address. A subclass, so callers that refuse URLs need catch only one error."""

    code = "url_unresolvable"
    title = "URL host does not resolve"


@dataclass(frozen=True)
class ResolvedTarget:
    """A checked URL (without credentials) and the addresses it may be fetched from."""

    url: httpx.URL
    host: str  # ASCII (IDNA) host name or IP literal, without brackets
    port: int
    addresses: tuple[IPAddress, ...]
    # Kept out of the URL and out of repr(), so that a logged target never shows them.
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    @property
    def origin(self) -> str:
        return describe_url(self.url)


def describe_url(url: httpx.URL | str) -> str:
    """``scheme://host[:port]`` — safe for logs and error messages: no credentials, path or query,
    any of which may carry a token (pre-signed storage URLs do)."""
    try:
        parsed = httpx.URL(url) if isinstance(url, str) else url
        host = parsed.raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeDecodeError):
        return "<invalid url>"
    if ":" in host:
        host = f"[{host}]"
    port = f":{parsed.port}" if parsed.port is not None else ""
    return f"{parsed.scheme}://{host}{port}"


def check_url_syntax(url: str) -> httpx.URL:
    """The cheap check the API makes on submission: an absolute http(s) URL with a host. No DNS."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UrlNotAllowed("not a valid URL") from exc
    if parsed.scheme not in DEFAULT_PORTS:
        raise UrlNotAllowed("only http and https URLs are allowed")
    if not parsed.raw_host:
        raise UrlNotAllowed("the URL has no host")
    return parsed


def resolve_public(url: str, allowlist: list[str]) -> ResolvedTarget:
    """Resolve the URL's host and return it if every address is public or allowed; else raise."""
    parsed = check_url_syntax(url)
    host = parsed.raw_host.decode("ascii").lower().rstrip(".")
    port = parsed.port or DEFAULT_PORTS[parsed.scheme]
    addresses = lookup(host, port)
    if not addresses:
        raise UrlUnresolvable(f"the host {host} does not resolve to any address")
    allowed = Allowlist.parse(allowlist)
    if not allowed.has_host(host):
        for address in addresses:
            if not (is_public(address) or allowed.has_address(address)):
                # The address is named: it tells the client why without revealing more than DNS does.
                raise UrlNotAllowed(f"the host {host} resolves to a non-public address ({address})")
    username, password = _credentials(parsed)
    return ResolvedTarget(
        url=parsed.copy_with(username=None, password=None),
        host=host,
        port=port,
        addresses=addresses,
        username=username,
        password=password,
    )


def lookup(host: str, port: int) -> tuple[IPAddress, ...]:
    """Every address the system resolver gives, in its order of preference, without duplicates."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UrlUnresolvable(f"the host {host} does not resolve") from exc
    found: dict[IPAddress, None] = {}
    for family, _type, _proto, _name, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            # A link-local IPv6 answer may carry a zone ("fe80::1%eth0"); the address is what counts.
            found[ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])] = None
    return tuple(found)


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast, also for the IPv4 address inside a mapped, 6to4 or NAT64 address."""
    return all(_is_global_unicast(candidate) for candidate in (address, *embedded_ipv4(address)))


def embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in NAT64_PREFIX:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def _is_global_unicast(address: IPAddress) -> bool:
    # is_global alone lets multicast through, and is the one flag covering shared space (100.64/10).
    return address.is_global and not (
        address.is_multicast
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
    )


@dataclass(frozen=True)
class Allowlist:
    """Operator-allowed private destinations: exact host names, or IP addresses and CIDR networks."""

    hosts: frozenset[str]
    networks: tuple[IPNetwork, ...]

    @classmethod
    def parse(cls, entries: list[str]) -> Allowlist:
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in (e.strip() for e in entries):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def has_host(self, host: str) -> bool:
        return host in self.hosts

    def has_address(self, address: IPAddress) -> bool:
        candidates = [address]
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            candidates.append(address.ipv4_mapped)
        return any(
            c in network for c in candidates for network in self.networks if c.version == network.version
        )


def _credentials(url: httpx.URL) -> tuple[str | None, str | None]:
    if not url.userinfo:
        return None, None
    return url.username, url.password
