"""The SSRF guard and the guarded fetch: private destinations are refused at every hop, addresses pinned."""

from __future__ import annotations

import base64
import socket
from collections.abc import Callable, Iterator

import pytest

from shared.net import (
    FetchFailed,
    FetchTimeout,
    TooManyRedirects,
    UrlNotAllowed,
    UrlUnresolvable,
    check_url_syntax,
    describe_url,
    open_response,
    resolve_public,
)
from tests.webhook_receiver import Reply, WebhookReceiver

PUBLIC = "93.184.215.14"
Resolve = Callable[[dict[str, list[str]]], None]


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> Resolve:
    """Make chosen names resolve to chosen addresses; other names fail to resolve, so no test needs DNS."""
    real = socket.getaddrinfo

    def install(table: dict[str, list[str]]) -> None:
        def getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
            if host not in table:
                if host.replace(".", "").isdigit() or ":" in host or host == "localhost":
                    return real(host, port, *args, **kwargs)
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in table[host]
            ]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    return install


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "100.64.1.1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a00:5",  # NAT64 of 10.0.0.5
        "fe80::1",
        "fc00::1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
    ],
)
def test_names_resolving_to_non_public_addresses_are_refused(fake_dns: Resolve, address: str) -> None:
    fake_dns({"hook.example": [address]})
    with pytest.raises(UrlNotAllowed) as raised:
        resolve_public("https://hook.example/path", [])
    assert raised.value.code == "url_not_allowed"
    assert raised.value.status == 422
    assert "hook.example" in raised.value.message


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://10.0.0.5:8080/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://100.64.1.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost/",
        "http://127.1/",
        "http://2130706433/",
    ],
)
def test_private_literals_and_localhost_are_refused(url: str) -> None:
    with pytest.raises(UrlNotAllowed):
        resolve_public(url, [])


def test_one_private_address_among_public_ones_is_enough_to_refuse(fake_dns: Resolve) -> None:
    fake_dns({"mixed.example": [PUBLIC, "10.0.0.5"]})
    with pytest.raises(UrlNotAllowed):
        resolve_public("http://mixed.example/", [])


def test_public_addresses_pass_and_credentials_leave_the_url(fake_dns: Resolve) -> None:
    fake_dns({"hook.example": [PUBLIC]})
    target = resolve_public("https://user:s3cret@hook.example:8443/a?b=1", [])
    assert [str(a) for a in target.addresses] == [PUBLIC]
    assert (target.host, target.port) == ("hook.example", 8443)
    assert "s3cret" not in str(target.url) and "s3cret" not in repr(target)
    assert target.password == "s3cret"


@pytest.mark.parametrize(
    "allowlist", [["127.0.0.1"], ["127.0.0.0/8"], ["localhost"], ["10.0.0.0/8", "127.0.0.1/32"]]
)
def test_allowlist_by_host_address_or_network_permits_loopback(allowlist: list[str]) -> None:
    host = "localhost" if allowlist == ["localhost"] else "127.0.0.1"
    target = resolve_public(f"http://{host}:9000/hook", allowlist)
    assert "127.0.0.1" in [str(a) for a in target.addresses]


def test_allowlist_permits_only_what_it_names(fake_dns: Resolve) -> None:
    fake_dns({"other.internal": ["127.0.0.1"]})
    with pytest.raises(UrlNotAllowed):
        resolve_public("http://127.0.0.1/", ["10.0.0.0/8", "hook.internal"])
    with pytest.raises(UrlNotAllowed):
        resolve_public("http://other.internal/", ["hook.internal"])


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/a",
        "file:///etc/passwd",
        "gopher://example.com/",
        "javascript:alert(1)",
        "/relative",
    ],
)
def test_only_http_and_https_are_allowed(url: str) -> None:
    with pytest.raises(UrlNotAllowed):
        check_url_syntax(url)
    with pytest.raises(UrlNotAllowed):
        resolve_public(url, ["127.0.0.0/8"])


def test_unresolvable_hosts_have_their_own_code(fake_dns: Resolve) -> None:
    fake_dns({})
    with pytest.raises(UrlUnresolvable) as raised:
        resolve_public("http://nowhere.example/", [])
    assert raised.value.code == "url_unresolvable"
    assert isinstance(raised.value, UrlNotAllowed)


def test_errors_never_show_credentials_paths_or_queries() -> None:
    url = "http://admin:s3cret@10.0.0.5:81/private?token=t0ken"
    with pytest.raises(UrlNotAllowed) as raised:
        resolve_public(url, [])
    assert "s3cret" not in raised.value.message and "admin" not in raised.value.message
    assert describe_url(url) == "http://10.0.0.5:81"


def test_fetch_connects_to_the_checked_address_and_sends_the_name(
    fake_dns: Resolve, receiver: WebhookReceiver
) -> None:
    # The name exists only in our resolver: the request reaching the receiver proves the connection
    # went to the address that was checked, while Host still names the host.
    fake_dns({"hooks.internal": ["127.0.0.1"]})
    url = f"http://hooks.internal:{receiver.port}/pinned"
    with open_response("GET", url, allowlist=["hooks.internal"], timeout=5, max_redirects=0) as response:
        assert response.status_code == 200
    [request] = receiver.received("/pinned")
    assert request.headers["host"] == f"hooks.internal:{receiver.port}"


def test_redirect_to_a_private_address_is_refused(fake_dns: Resolve, receiver: WebhookReceiver) -> None:
    fake_dns({"metadata.example": ["169.254.169.254"]})
    receiver.script("/to-private", Reply(302, headers={"location": "http://10.0.0.5/admin"}))
    receiver.script("/to-metadata", Reply(307, headers={"location": "http://metadata.example/latest"}))
    for path in ("/to-private", "/to-metadata"):
        with (
            pytest.raises(UrlNotAllowed),
            open_response("GET", receiver.url(path), allowlist=["127.0.0.1"], timeout=5, max_redirects=5),
        ):
            pass


def test_redirects_are_followed_rechecked_and_capped(receiver: WebhookReceiver) -> None:
    receiver.script("/old", Reply(302, headers={"location": "/new"}))
    with open_response(
        "POST", receiver.url("/old"), allowlist=["127.0.0.1"], timeout=5, max_redirects=1, content=b"{}"
    ) as response:
        assert response.status_code == 200
    assert [(r.method, r.path) for r in receiver.received()] == [("POST", "/old"), ("GET", "/new")]

    receiver.script("/loop", *[Reply(308, headers={"location": "/loop"})] * 3)
    with (
        pytest.raises(TooManyRedirects) as raised,
        open_response("GET", receiver.url("/loop"), allowlist=["127.0.0.1"], timeout=5, max_redirects=2),
    ):
        pass
    assert raised.value.status_code == 308
    assert len(receiver.received("/loop")) == 3


def test_credentials_go_as_basic_auth_and_not_to_another_origin(receiver: WebhookReceiver) -> None:
    other_origin = receiver.url("/elsewhere", host="localhost")
    receiver.script("/private", Reply(302, headers={"location": other_origin}))
    url = f"http://user:s3cret@127.0.0.1:{receiver.port}/private"
    allowlist = ["127.0.0.1", "localhost"]
    with open_response("GET", url, allowlist=allowlist, timeout=5, max_redirects=1) as response:
        assert response.status_code == 200
    first, second = receiver.received()
    assert first.headers["authorization"] == "Basic " + base64.b64encode(b"user:s3cret").decode()
    assert "authorization" not in second.headers


def test_timeouts_and_connection_errors_are_fetch_errors_without_secrets(receiver: WebhookReceiver) -> None:
    with (
        pytest.raises(FetchTimeout),
        open_response("GET", receiver.url("/slow/5"), allowlist=["127.0.0.1"], timeout=0.3, max_redirects=0),
    ):
        pass
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with (
        pytest.raises(FetchFailed) as raised,
        open_response(
            "GET",
            f"http://u:s3cret@127.0.0.1:{port}/x?t=1",
            allowlist=["127.0.0.1"],
            timeout=2,
            max_redirects=0,
        ),
    ):
        pass
    assert raised.value.message.startswith(f"http://127.0.0.1:{port}: ")
    assert "s3cret" not in str(raised.value) and "t=1" not in str(raised.value)
