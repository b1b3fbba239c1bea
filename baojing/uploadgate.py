"""Routes that take a file ask who is sending it before they read a byte of it.

FastAPI reads a multipart body (spooling it to disk past 1 MB) before it runs any of the route's
dependencies, and the media routes then copy and hash it into tmp/: without this gate an anonymous
21 MB upload cost the server all of that before its 401. Here, before the body is touched, the
request must carry a live staff session or a known device token (whichever the route takes);
the route's own dependencies then check the role and the thing, as before (after staging, which
runs before the request's transaction on purpose: media/service.py staged_upload). The gate's
own look-up is a short transaction of its own, done before the body is read. The body limit
(media/api.py, UPLOAD_PATHS) has already refused a declared length over the most any upload takes."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

from .auth import service as auth
from .deps import SESSION_COOKIE, unit_of_work
from .errors import Unauthorized


class _Gated(APIRoute):
    staff = device = False

    def get_route_handler(self):
        handler = super().get_route_handler()
        staff, device = self.staff, self.device

        async def gated(request: Request) -> Response:
            await known_sender(request, staff=staff, device=device)
            return await handler(request)

        return gated


async def known_sender(request: Request, *, staff: bool, device: bool) -> None:
    state = request.app.state
    state.db_watch.check()
    async with unit_of_work(state) as session:
        if staff and await auth.principal_for_session(session, request.cookies.get(SESSION_COOKIE), state.settings):
            return
        if device and await auth.device_by_token(session, request.headers.get("x-device-token")):
            return
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
