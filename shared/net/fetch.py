"""HTTP requests to client-given URLs through the SSRF guard.

Every hop is resolved and checked by :func:`resolve_public`, then connected to one of exactly the
addresses that were checked (the URL carries the IP; ``Host`` and TLS SNI carry the name, so virtual
hosting and certificate checks work as usual). Redirects are followed here, never by httpx, so each
new location is checked the same way. Errors name only ``scheme://host:port``: credentials, paths
and queries of client URLs stay out of messages and logs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import httpx

from shared.errors import EmoQError
from shared.net.guard import ResolvedTarget, resolve_public

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Headers that must not follow a redirect to another origin.
ORIGIN_BOUND_HEADERS = ("authorization", "cookie", "proxy-authorization")
MAX_REASON_CHARS = 200


class FetchFailed(EmoQError):
    code = "fetch_failed"
    status = 502
    title = "Remote request failed"


class FetchTimeout(FetchFailed):
    code = "fetch_timeout"
    title = "Remote request timed out"


class TooManyRedirects(FetchFailed):
    code = "too_many_redirects"
    title = "Too many redirects"

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code  # the redirect that was not followed


@contextmanager
def open_response(
    method: str,
    url: str,
    *,
    allowlist: list[str],
    timeout: float,
    max_redirects: int,
    headers: Mapping[str, str] | None = None,
    content: bytes | str | None = None,
) -> Iterator[httpx.Response]:
    """Send the request and yield the final response with its body not yet read (stream it).

    ``timeout`` applies to each phase (connect, each read, each write) of each hop. Raises
    ``UrlNotAllowed`` for a refused hop, ``TooManyRedirects`` past ``max_redirects`` (0: redirects are
    not followed), ``FetchTimeout`` / ``FetchFailed`` for network errors, also while the body is read.
    """
    # trust_env=False: a proxy from the environment would connect on its own, past the pinned address.
    with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False) as client:
        response, target = _send_following_redirects(
            client, method, url, allowlist, max_redirects, httpx.Headers(headers or {}), content
        )
        try:
            yield response
        except httpx.HTTPError as exc:
            raise _as_fetch_error(exc, target) from exc
        finally:
            response.close()


def _send_following_redirects(
    client: httpx.Client,
    method: str,
    url: str,
    allowlist: list[str],
    max_redirects: int,
    headers: httpx.Headers,
    content: bytes | str | None,
) -> tuple[httpx.Response, ResolvedTarget]:
    target = resolve_public(url, allowlist)
    auth = _basic_auth(target)
    for hop in range(max_redirects + 1):
        response = _send_pinned(client, method, target, headers, content, auth)
        location = response.headers.get("location")
        if response.status_code not in REDIRECT_STATUSES or location is None:
            return response, target
        response.close()
        if hop == max_redirects:
            break
        previous = target
        try:
            next_url = previous.url.join(location)
        except httpx.InvalidURL as exc:
            raise FetchFailed(f"{previous.origin} redirected to an invalid location") from exc
        target = resolve_public(str(next_url), allowlist)
        if _origin(target) != _origin(previous):
            headers = httpx.Headers(
                {k: v for k, v in headers.items() if k.lower() not in ORIGIN_BOUND_HEADERS}
            )
            auth = None
        auth = _basic_auth(target) or auth
        if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
            # What browsers and httpx do: the next request is a GET without the body.
            method = "HEAD" if method == "HEAD" else "GET"
            content = None
            headers = httpx.Headers(
                {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
            )
    raise TooManyRedirects(
        f"{target.origin} answered a redirect (HTTP {response.status_code}); "
        f"at most {max_redirects} redirects are followed",
        status_code=response.status_code,
    )


def _send_pinned(
    client: httpx.Client,
    method: str,
    target: ResolvedTarget,
    headers: httpx.Headers,
    content: bytes | str | None,
    auth: httpx.BasicAuth | None,
) -> httpx.Response:
    """Connect to the checked addresses in the resolver's order until one answers."""
    pinned_headers = httpx.Headers(headers)
    pinned_headers["host"] = _host_header(target)
    extensions = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
    last_error: httpx.HTTPError | None = None
    for address in target.addresses:
        request = client.build_request(
            method,
            target.url.copy_with(host=str(address)),
            headers=pinned_headers,
            content=content,
            extensions=extensions,
        )
        try:
            return client.send(request, stream=True, auth=auth)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            last_error = exc  # this address is down; another of the host's may answer
        except httpx.HTTPError as exc:
            raise _as_fetch_error(exc, target) from exc
    assert last_error is not None  # resolve_public never returns a target without addresses
    raise _as_fetch_error(last_error, target) from last_error


def _host_header(target: ResolvedTarget) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = {"http": 80, "https": 443}[target.url.scheme]
    return host if target.port == default else f"{host}:{target.port}"


def _origin(target: ResolvedTarget) -> tuple[str, str, int]:
    return target.url.scheme, target.host, target.port


def _basic_auth(target: ResolvedTarget) -> httpx.BasicAuth | None:
    if target.username is None and target.password is None:
        return None
    return httpx.BasicAuth(target.username or "", target.password or "")


def _as_fetch_error(exc: httpx.HTTPError, target: ResolvedTarget) -> FetchFailed:
    if isinstance(exc, httpx.TimeoutException):
        return FetchTimeout(f"{target.origin}: timed out ({type(exc).__name__})")
    # httpx's own messages name no URL (those are OS and protocol errors); cut them short all the same.
    reason = str(exc)[:MAX_REASON_CHARS] or type(exc).__name__
    return FetchFailed(f"{target.origin}: {reason}")
