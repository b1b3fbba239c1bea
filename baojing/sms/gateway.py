"""Where text messages go: the outbox (default) or a real provider over HTTP.

Every message is first a row in sms_messages (service.queue), in the same transaction as whatever
caused it; a gateway only carries a stored row out. So a provider that is down costs a retry,
never a message."""
from __future__ import annotations

import logging
from typing import Protocol

import httpx

from ..config import Settings
from ..phone import mask_phone

log = logging.getLogger("baojing.sms")


class GatewayError(Exception):
    """The provider did not take the message; worth another attempt later."""


class Gateway(Protocol):
    name: str

    async def send(self, phone: str, text: str) -> str | None:
        """Hand one message over; returns the provider's message id when it gives one."""
        ...

    async def close(self) -> None: ...


class OutboxGateway:
    """No provider: the stored row is the delivery. The admin page (GET /api/admin/sms) and the log
    show it, so a demo and the tests read login codes there."""

    name = "outbox"

    async def send(self, phone: str, text: str) -> str | None:
        log.info("SMS outbox → %s: %s", mask_phone(phone), text)
        return None

    async def close(self) -> None:
        pass


def _fill(template, values: dict[str, str]):
    """Substitute {phone}, {text}, {sign} in every string of a JSON-like template (no str.format on
    the whole body: a provider's own braces would break it)."""
    if isinstance(template, str):
        for k, v in values.items():
            template = template.replace("{" + k + "}", v)
        return template
    if isinstance(template, dict):
        return {k: _fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, values) for v in template]
    return template


class HttpGateway:
    """A provider's HTTP API: POST `sms_http_url` with the JSON body `sms_http_body` (strings with
    {phone}, {text}, {sign} filled in), Basic auth from user/password or a Bearer token. A 2xx
    answer is a delivery; anything else, or no answer, is an error and the message is retried."""

    name = "http"

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        if not settings.sms_http_url:
            raise ValueError("BAOJING_SMS_HTTP_URL is required when BAOJING_SMS_GATEWAY=http")
        self._settings = settings
        auth = None
        headers = {}
        if settings.sms_http_user:
            auth = httpx.BasicAuth(settings.sms_http_user, settings.sms_http_password)
        if settings.sms_http_token:
            headers["Authorization"] = f"Bearer {settings.sms_http_token}"
        self._client = httpx.AsyncClient(timeout=settings.sms_http_timeout_s, auth=auth, headers=headers,
                                         transport=transport)

    async def send(self, phone: str, text: str) -> str | None:
        s = self._settings
        body = _fill(s.sms_http_body, {"phone": phone, "text": text, "sign": s.sms_sign})
        try:
            r = await self._client.post(s.sms_http_url, json=body)
        except httpx.HTTPError as e:
            raise GatewayError(f"{type(e).__name__}: {e}"[:300]) from None
        if not r.is_success:
            raise GatewayError(f"HTTP {r.status_code}: {r.text[:200]}")
        try:
            answer = r.json()
        except ValueError:
            return None
        ident = answer.get(s.sms_http_id_field) if isinstance(answer, dict) else None
        return str(ident)[:100] if ident is not None else None

    async def close(self) -> None:
        await self._client.aclose()


def make_gateway(settings: Settings) -> Gateway:
    if settings.sms_gateway == "http":
        return HttpGateway(settings)
    if settings.sms_gateway != "outbox":
        raise ValueError(f"BAOJING_SMS_GATEWAY must be outbox or http, not {settings.sms_gateway!r}")
    return OutboxGateway()
