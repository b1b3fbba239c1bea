"""Routes that take a file ask who is sending it before they read a byte of it.

FastAPI reads a multipart body (spooling it to disk past 1 MB) before it runs any of the route's
dependencies, and the media routes then copy and hash it into tmp/: without this gate an anonymous
21 MB upload cost the server all of that before its 401. Here, before the body is touched, the
request must carry a live staff session or a known device token (whichever the route takes),
and a session's role must be one the route's `require(...)` allows (read from the route's own
dependencies, so the rule is written once): a call-taker's 20 MB sent to an officer's route was
copied before its 403. Then a body declared larger than the route's file limit is refused 422,
not after 20 MB were copied. The route's own dependencies check the thing, as before (after staging, which
runs before the request's transaction on purpose: media/service.py staged_upload). The gate's
own look-up is a short transaction of its own, done before the body is read. The body limit
(media/api.py, UPLOAD_PATHS) has already refused a declared length over the most any upload takes."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from .auth import service as auth
from .deps import SESSION_COOKIE, unit_of_work, wrong_role
from .errors import Unauthorized


# A multipart body's headers and text fields (a caption, a message) around its one file.
ENVELOPE_BYTES = 64 * 1024


class _Gated(APIRoute):
    staff = device = False

    def get_route_handler(self):
        handler = super().get_route_handler()
        staff, device = self.staff, self.device
        calls = list(_calls(self.dependant))
        # The roles every `require(...)` among the route's dependencies allows (None: no such rule),
        # and its staged_upload (media/service.py), which knows its file's limit.
        rules = [c.allowed for c in calls if hasattr(c, "allowed")]
        allowed = frozenset.intersection(*rules) if rules else None
        limit = next((c for c in calls if hasattr(c, "max_bytes")), None)

        async def gated(request: Request) -> Response:
            await known_sender(request, staff=staff, device=device, allowed=allowed)
            declared = request.headers.get("content-length", "")
            if limit is not None and declared.isdigit() and int(declared) > limit.max_bytes + ENVELOPE_BYTES:
                raise limit.too_large()
            return await handler(request)

        return gated


def _calls(dependant: Dependant):
    """Every dependency of a route, however deep."""
    yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


async def known_sender(request: Request, *, staff: bool, device: bool, allowed: frozenset[str] | None = None) -> None:
    state = request.app.state
    state.db_watch.check()
    refused_role = False
    async with unit_of_work(state) as session:
        if staff and (who := await auth.principal_for_session(session, request.cookies.get(SESSION_COOKIE),
                                                              state.settings)):
            if allowed is None or who.role in allowed:
                return
            refused_role = True
        if device and await auth.device_by_token(session, request.headers.get("x-device-token")):
            return
    if refused_role:
        raise wrong_role()
    if staff and device:
        raise Unauthorized("请先登录或提供设备标识，再上传文件", "Log in, or send the X-Device-Token header, before uploading")
    if device:
        raise Unauthorized("缺少有效的设备标识，请刷新页面", "No valid X-Device-Token header; reload the page",
                           code="no_device_token")
    raise Unauthorized("请先登录再上传文件", "Please log in before uploading")


def upload(router: APIRouter, path: str, *, staff: bool = False, device: bool = False, method: str = "POST", **kw):
    """Like @router.post, for a route that takes a file from staff, a device, or either."""
    gated = type("GatedUpload", (_Gated,), {"staff": staff, "device": device})

    def register(fn):
        router.add_api_route(path, fn, methods=[method], route_class_override=gated, **kw)
        return fn

    return register
