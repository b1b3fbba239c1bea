"""Security headers on every HTTP response (pure ASGI: no extra task per request)."""
from __future__ import annotations

CSP = ("default-src 'self'; img-src 'self' data: blob: https:; style-src 'self' 'unsafe-inline'; "
       "connect-src 'self' ws: wss:; media-src 'self' blob:; frame-ancestors 'none'")
COMMON = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
          (b"referrer-policy", b"same-origin")]


class SecurityHeaders:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        extra = COMMON + ([(b"cache-control", b"no-store")] if scope["path"].startswith("/api/") else [])

        async def with_headers(message):
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [(k, v) for k, v in extra if k not in have]
            await send(message)

        await self.app(scope, receive, with_headers)
