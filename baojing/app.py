"""create_app(settings): routers, static pages, the live hub, and their lifetimes."""
from __future__ import annotations

import asyncio
import gc
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from . import answers, errors, events, heap, live, siteconfig
from .alarms import abuse_api
from .alarms import api as alarms_api
from .auth import api as auth_api
from .auth.audit import AuditBuffer
from .calls import api as calls_api
from .calls.runtime import CallsRuntime
from .config import Settings, get_settings
from .headers import OriginCheck, SecurityHeaders
from .ratelimit import RateLimit
from .simulate import Simulator
from .db import make_engine, make_sessionmaker
from .dbwatch import DatabaseWatch
from .dispatch import admin_api, watch
from .dispatch import api as dispatch_api
from .dispatch.board import Board
from .incidents import api as incidents_api
from .keyunits import api as keyunits_api
from .media import api as media_api
from .sms import api as sms_api
from .sms.runtime import SmsRuntime
from .traffic import api as traffic_api
from .priority import RequestsFirst
from .tasks import stop

log = logging.getLogger(__name__)

INDEX = """<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>报警 Baojing</title><style>body{font:18px system-ui,sans-serif;margin:2em;line-height:1.8}</style>
<h1>报警 Baojing</h1><ul><li><a href="/m/">/m/ 报警人 · Caller</a></li>
<li><a href="/console/">/console/ 指挥中心 · Command console</a></li>
<li><a href="/officer/">/officer/ 出警民警 · Field officer</a></li>
<li><a href="/traffic/">/traffic/ 交通事故快处 · Traffic desk</a></li>
<li><a href="/admin/">/admin/ 管理 · Administration</a></li>
<li><a href="/docs">/docs API</a></li></ul>"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine = make_engine(settings.database_url, settings.db_timeout_s, settings.db_connect_timeout_s,
                             settings.db_pool_timeout_s, settings.db_busy_timeout_s, settings.db_ping_timeout_s)
        app.state.engine = engine
        app.state.db_watch = DatabaseWatch(app.state, stall_s=settings.db_stall_s,
                                           probe_timeout_s=settings.db_connect_timeout_s)
        app.state.db_watch.follow(engine)
        app.state.sessions = make_sessionmaker(engine)
        app.state.bus = events.InProcessBus()
        app.state.priority = RequestsFirst()
        app.state.audit = AuditBuffer(app.state.sessions, priority=app.state.priority)
        app.state.hub = live.Hub(app.state.sessions, app.state.bus, settings, app.state.audit)
        app.state.board = Board(app.state.sessions, priority=app.state.priority)
        await app.state.board.load()
        app.state.bus.subscribe(app.state.board.on_event)
        app.state.board.on_flush(watch.moved_listener(app.state))
        await app.state.hub.start()
        app.state.audit.start()
        app.state.board.start()
        app.state.calls = CallsRuntime(app.state)
        await app.state.calls.start()
        app.state.sms = SmsRuntime(app.state, getattr(app.state, "sms_gateway", None))
        await app.state.sms.start()
        overdue = asyncio.create_task(watch.overdue_watch(app.state))
        app.state.simulator = Simulator(app.state) if settings.simulate else None
        if app.state.simulator:
            app.state.simulator.start()
        gc.callbacks.append(heap.log_slow_gc)
        settle = asyncio.create_task(heap.settle_long_lived())
        try:
            yield
        finally:
            if app.state.simulator:
                await app.state.simulator.close()
            gc.callbacks.remove(heap.log_slow_gc)
            await app.state.calls.close()  # stores the recordings still running
            await app.state.sms.close()
            await stop(settle, overdue)
            await app.state.board.close()
            await app.state.hub.close()
            await app.state.audit.close()
            await app.state.bus.close()
            await app.state.db_watch.close()
            await engine.dispose()

    # /docs is Swagger UI from the installed swagger-ui-dist package (FastAPI's own page loads it
    # from a CDN, which the CSP blocks); no ReDoc.
    app = FastAPI(title="Baojing 报警", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Internet alarm platform for a 110 police command centre. See docs/api.md.")
    app.state.settings = settings
    app.state.login_limit = RateLimit(settings.login_rate_per_minute / 60, settings.login_rate_per_minute)
    errors.install(app)
    for module in (auth_api, alarms_api, incidents_api, dispatch_api, admin_api, siteconfig, calls_api, media_api,
                   sms_api, traffic_api, abuse_api, keyunits_api):
        answers.declare(module.router)
        app.include_router(module.router)
    app.include_router(live.router)

    @app.get("/healthz", tags=["ops"], summary="200 when the database answers, 503 when not")
    async def healthz(request: Request):
        watch = request.app.state.db_watch
        if watch.down or not await watch.ping():
            watch.lost()
            err = errors.Unavailable()
            return JSONResponse({"status": "unavailable", "database": False,
                                 **errors.body(err.code, err.message_zh, err.message_en)},
                                status_code=err.status, headers=err.headers)
        return {"status": "ok", "database": True}

    @app.get("/docs", include_in_schema=False)
    async def docs():
        return FileResponse(settings.static_dir / "apidocs" / "index.html")

    @app.get("/", include_in_schema=False)
    async def index():
        return HTMLResponse(INDEX)

    for page in ("m", "console", "officer", "admin", "traffic", "account"):
        app.add_api_route(f"/{page}", (lambda p=page: RedirectResponse(f"/{p}/")), include_in_schema=False)
        app.mount(f"/{page}/", StaticFiles(directory=settings.static_dir / page, html=True), name=page)
    app.mount("/shared/", StaticFiles(directory=settings.static_dir / "shared"), name="shared")
    app.mount("/apidocs/", StaticFiles(directory=settings.static_dir / "apidocs"), name="apidocs")
    app.mount("/vendor/swagger-ui/", StaticFiles(directory=settings.vendor_dir / "swagger-ui-dist", check_dir=False),
              name="swagger-ui")
    app.mount("/vendor/leaflet/", StaticFiles(directory=settings.vendor_dir / "leaflet" / "dist", check_dir=False),
              name="leaflet")
    app.mount("/vendor/leaflet.markercluster/", StaticFiles(
        directory=settings.vendor_dir / "leaflet.markercluster" / "dist", check_dir=False), name="markercluster")
    app.mount("/vendor/lit-html/", StaticFiles(directory=settings.vendor_dir / "lit-html", check_dir=False),
              name="lit-html")

    app.add_middleware(OriginCheck, trusted_proxies=settings.trusted_proxies, allowed_origins=settings.allowed_origins)
    app.add_middleware(SecurityHeaders, trusted_proxies=settings.trusted_proxies)
    app.add_middleware(media_api.UploadBodyLimit, max_bytes=settings.max_body_bytes)
    return app
