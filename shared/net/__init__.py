"""Outbound HTTP to URLs that clients give us (webhooks, audio by URL), guarded against SSRF."""

from shared.net.fetch import FetchFailed, FetchTimeout, TooManyRedirects, open_response
from shared.net.guard import (
    ResolvedTarget,
    UrlNotAllowed,
    UrlUnresolvable,
    check_url_syntax,
    describe_url,
    resolve_public,
)

__all__ = [
    "FetchFailed",
    "FetchTimeout",
    "ResolvedTarget",
    "TooManyRedirects",
    "UrlNotAllowed",
    "UrlUnresolvable",
    "check_url_syntax",
    "describe_url",
    "open_response",
    "resolve_public",
]
