"""Refuse oversized request bodies before anything reads them (pure ASGI, streaming-safe)."""
from __future__ import annotations

import json

from .errors import body


class BodyLimit:
    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(send)
        seen = 0
        refused = started = False

        async def limited_receive():
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    refused = True
                    raise _TooLarge()
            return message

        async def guarded_send(message):
            # A chunked body has no Content-Length to refuse up front: the limit trips while the
            # app reads, and the app's body parser turns any read error into its own 400. Once the
            # limit has tripped, whatever the app answers is replaced by the one true answer, 413.
            nonlocal started
            if not refused:
                started = True
                await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            pass
        if refused and not started:
            await self._refuse(send)

    async def _refuse(self, send):
        payload = json.dumps(body("body_too_large", f"请求内容过大（上限 {self.max_bytes // 1024} KB）",
                                  f"The request body is too large (limit {self.max_bytes // 1024} KB)"),
                             ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


class _TooLarge(Exception):
    pass
