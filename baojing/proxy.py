"""Who is really asking, and over what: the client's address and whether the request came over TLS,
believing X-Forwarded-* headers only from the proxies named in settings.trusted_proxies.

Anyone can send an X-Forwarded-For header; taking it from an untrusted peer would let an attacker
pick the address their login failures are counted against (docs/security.md)."""
from __future__ import annotations

import ipaddress
from functools import lru_cache


@lru_cache(maxsize=64)
def _networks(trusted: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(t, strict=False) for t in trusted)


def _trusted(host: str | None, trusted: tuple[str, ...]) -> bool:
    if not host or not trusted:
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(ip in net for net in _networks(trusted))


def header(scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return v.decode("latin-1")
    return None


def _peer(scope) -> str | None:
    client = scope.get("client")
    return client[0] if client else None


def client_address(scope, trusted: list[str] | tuple[str, ...]) -> str:
    """The nearest address in X-Forwarded-For that is not one of our proxies (walking from the
    right, the hops we appended), or the socket's peer when that peer is not a trusted proxy."""
    trusted = tuple(trusted)
    peer = _peer(scope) or "unknown"
    if not _trusted(peer, trusted):
        return peer
    forwarded = header(scope, b"x-forwarded-for")
    if not forwarded:
        return peer
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


def is_https(scope, trusted: list[str] | tuple[str, ...]) -> bool:
    if scope.get("scheme") in ("https", "wss"):
        return True
    if _trusted(_peer(scope), tuple(trusted)):
        proto = header(scope, b"x-forwarded-proto")
        return bool(proto) and proto.split(",")[0].strip().lower() == "https"
    return False


def public_host(scope, trusted: list[str] | tuple[str, ...]) -> str | None:
    """The host the browser asked for: X-Forwarded-Host from a trusted proxy, else Host."""
    if _trusted(_peer(scope), tuple(trusted)):
        fwd = header(scope, b"x-forwarded-host")
        if fwd:
            return fwd.split(",")[0].strip().lower()
    host = header(scope, b"host")
    return host.lower() if host else None
