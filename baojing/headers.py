"""Security headers on every HTTP response, and the cross-site check on cookie-authenticated
writes (pure ASGI: no extra task per request)."""
from __future__ import annotations

import json
from urllib.parse import urlsplit

from . import proxy
from .deps import SESSION_COOKIE
from .errors import body

CSP = ("default-src 'self'; img-src 'self' data: blob: https:; style-src 'self' 'unsafe-inline'; "
       "connect-src 'self' ws: wss:; media-src 'self' blob:; frame-ancestors 'none'")
COMMON = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
          (b"referrer-policy", b"same-origin")]
# Two years, the preload list's minimum; no includeSubDomains: other hosts of a police domain are
# not ours to decide for.
HSTS = (b"strict-transport-security", b"max-age=63072000")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SecurityHeaders:
    def __init__(self, app, trusted_proxies: list[str] | tuple[str, ...] = ()):
        self.app = app
        self.trusted = tuple(trusted_proxies)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        extra = COMMON + ([(b"cache-control", b"no-store")] if scope["path"].startswith("/api/") else [])
        if proxy.is_https(scope, self.trusted):
            extra = extra + [HSTS]

        async def with_headers(message):
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [(k, v) for k, v in extra if k not in have]
            await send(message)

        await self.app(scope, receive, with_headers)


def _has_session_cookie(scope) -> bool:
    cookie = proxy.header(scope, b"cookie") or ""
    return any(part.strip().startswith(SESSION_COOKIE + "=") for part in cookie.split(";"))


class OriginCheck:
    """A write carrying the staff session cookie (or a login) must come from our own pages: its
    Origin, or failing that its Referer, names this host or one of settings.allowed_origins.

    Only cookie-authenticated writes are checked: a caller's alarm carries no cookie and is never
    refused for where it came from (a WeChat mini program sends a servicewechat.com Referer). A
    request with neither header is not from a browser page, so no other site can have forged it."""

    def __init__(self, app, trusted_proxies: list[str] | tuple[str, ...] = (), allowed_origins=()):
        self.app = app
        self.trusted = tuple(trusted_proxies)
        self.allowed = {urlsplit(o).netloc.lower() for o in allowed_origins if o}

    async def __call__(self, scope, receive, send):
        if (scope["type"] != "http" or scope["method"] in SAFE_METHODS
                or not (_has_session_cookie(scope) or scope["path"] == "/api/auth/login")):
            return await self.app(scope, receive, send)
        source = proxy.header(scope, b"origin") or proxy.header(scope, b"referer")
        if source is None or self._ours(scope, source):
            return await self.app(scope, receive, send)
        payload = json.dumps(body("foreign_origin", "请求来自其他网站，已拒绝",
                                  "Refused: this request came from another site"), ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})

    def _ours(self, scope, source: str) -> bool:
        netloc = urlsplit(source).netloc.lower() if source != "null" else ""
        return bool(netloc) and (netloc == proxy.public_host(scope, self.trusted) or netloc in self.allowed)
