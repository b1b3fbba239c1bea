"""Domain errors and the one error shape every client sees: a code plus Chinese and English text."""
from __future__ import annotations

import errno
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from pydantic_core import PydanticCustomError
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

# How long a client should wait before it tries again after a 503 (the caller's outbox retries
# on its own in any case).
RETRY_AFTER_S = 2


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message_zh: str, message_en: str, *, code: str | None = None, status: int | None = None,
                 audit: tuple | None = None, errors: list[dict] | None = None, keep: bool = False,
                 headers: dict | None = None):
        super().__init__(message_en)
        # The refusal itself must be stored (e.g. a wrong one-time code counts as a try): the unit of
        # work commits what the service wrote before raising. Services set it only when that write is
        # the whole of what they did.
        self.keep = keep
        self.message_zh = message_zh
        self.message_en = message_en
        # (principal, action, subject_type, subject_id): a refusal that must be on the record. It is
        # written outside the request's transaction, which the refusal rolls back.
        self.audit = audit
        # Per-item problems (e.g. CSV lines: {line, field, message_zh, message_en}).
        self.errors = errors
        self.headers = headers  # e.g. Retry-After on a 429
        if code:
            self.code = code
        if status:
            self.status = status


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class Unauthorized(DomainError):
    status, code = 401, "unauthorized"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class TooMany(DomainError):
    """Refused for now: too many attempts (login lockout, rate limits). Says when to try again."""

    status, code = 429, "rate_limited"

    def __init__(self, message_zh: str, message_en: str, *, retry_after: int, **kw):
        super().__init__(message_zh, message_en, headers={"Retry-After": str(max(1, int(retry_after)))}, **kw)


class Invalid(DomainError):
    """A well-formed request the rules refuse (e.g. rating an open alarm)."""

    status, code = 422, "invalid"


class Unavailable(DomainError):
    """The database does not answer: nothing was saved, try the same request again shortly."""

    status, code = 503, "database_unavailable"

    def __init__(self):
        super().__init__("系统暂时无法保存，请稍后重试（报警会自动重发）",
                         "The service cannot store anything right now; try again shortly (alarms are resent automatically)",
                         headers={"Retry-After": str(RETRY_AFTER_S)})


_NETWORK_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EHOSTUNREACH,
                   errno.ENETUNREACH, errno.ETIMEDOUT, errno.EPIPE}


def _chain(exc: BaseException | None):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                yield from _chain(inner)
        exc = exc.__cause__ or exc.__context__


def _connection_lost(exc: BaseException) -> bool:
    try:
        from asyncpg.exceptions import InterfaceError, PostgresConnectionError
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        InterfaceError = PostgresConnectionError = ()
    return (isinstance(exc, (TimeoutError, ConnectionError, sa_exc.InterfaceError,
                             InterfaceError, PostgresConnectionError))
            or (isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS)
            or (isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated))


def outage(exc: BaseException) -> str | None:
    """'lost' when the database cannot be reached (refused, reset, timed out), 'busy' when the pool
    had no connection free in time,
    'refused' when it answers that it cannot work (SQLite's locked or unopenable file, a server
    shutting down), None for anything else (a bug: a 500)."""
    chain = list(_chain(exc))
    if any(isinstance(e, sa_exc.TimeoutError) for e in chain):
        return "busy"  # every pooled connection in use: overload, not absence; the watch stays as it is
    if any(_connection_lost(e) for e in chain):
        return "lost"
    if any(isinstance(e, sa_exc.OperationalError) for e in chain):
        return "refused"
    return None


class FieldProblem(BaseModel):
    field: str
    message_zh: str
    message_en: str


class ErrorOut(BaseModel):
    """Every error answer: a stable code for programs, a sentence in each language for people."""

    code: str = Field(description="e.g. not_found, validation_error, database_unavailable")
    message: str
    message_zh: str
    message_en: str
    errors: list[FieldProblem] | None = Field(None, description="Per-field problems (422)")


def answers(*codes: int):
    """Mark a dependency with the error answers it can give; declare_answers() puts them in the schema."""
    def mark(fn):
        fn.answers = frozenset(codes)
        return fn
    return mark


def bilingual(zh: str, en: str) -> PydanticCustomError:
    """Raise from a pydantic validator to give the field a message in both languages."""
    return PydanticCustomError("bilingual", "{zh} / {en}", {"zh": zh, "en": en})


def body(code: str, zh: str, en: str, errors: list | None = None) -> dict:
    out = {"code": code, "message": f"{zh} / {en}", "message_zh": zh, "message_en": en}
    if errors is not None:
        out["errors"] = errors
    return out


# Pydantic error types worth a human sentence; anything else falls back to a generic one.
_MESSAGES = {
    "missing": ("缺少必填内容", "This field is required"),
    "extra_forbidden": ("不认识的字段", "Unknown field"),
    "json_invalid": ("请求体不是有效的 JSON", "The body is not valid JSON"),
    "model_attributes_type": ("应为一个对象", "Must be an object"),
    "dict_type": ("应为一个对象", "Must be an object"),
    "float_parsing": ("必须是数字", "Must be a number"),
    "float_type": ("必须是数字", "Must be a number"),
    "finite_number": ("必须是有限的数字", "Must be a finite number"),
    "int_parsing": ("必须是整数", "Must be a whole number"),
    "int_type": ("必须是整数", "Must be a whole number"),
    "string_type": ("必须是文字", "Must be text"),
    "list_type": ("必须是列表", "Must be a list"),
    "bool_type": ("必须是真或假", "Must be true or false"),
    "greater_than_equal": ("不能小于 {ge}", "Must be at least {ge}"),
    "greater_than": ("必须大于 {gt}", "Must be greater than {gt}"),
    "less_than_equal": ("不能大于 {le}", "Must be at most {le}"),
    "less_than": ("必须小于 {lt}", "Must be less than {lt}"),
    "string_too_long": ("太长（最多 {max_length} 个字符）", "Too long (at most {max_length} characters)"),
    "string_too_short": ("太短（至少 {min_length} 个字符）", "Too short (at least {min_length} characters)"),
    "too_long": ("太多（最多 {max_length} 项）", "Too many (at most {max_length})"),
    "too_short": ("太少（至少 {min_length} 项）", "Too few (at least {min_length})"),
    "literal_error": ("只能是：{expected}", "Must be one of: {expected}"),
    "enum": ("只能是：{expected}", "Must be one of: {expected}"),
    "datetime_parsing": ("时间格式不正确", "Not a valid date and time"),
    "datetime_from_date_parsing": ("时间格式不正确", "Not a valid date and time"),
    "timezone_aware": ("时间需带时区（如 Z 或 +08:00）", "The time needs a time zone (Z or +08:00)"),
}


def field_error(err: dict) -> dict:
    """One pydantic error as {field, message_zh, message_en}: real sentences in both languages."""
    loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
    ctx = err.get("ctx") or {}
    if err.get("type") == "bilingual":
        zh, en = ctx["zh"], ctx["en"]
    elif err.get("type") == "value_error" and "error" in ctx and hasattr(ctx["error"], "message_zh"):
        zh, en = ctx["error"].message_zh, ctx["error"].message_en
    else:
        zh_t, en_t = _MESSAGES.get(err.get("type"), ("格式不正确", "Invalid value"))
        try:
            zh, en = zh_t.format(**ctx), en_t.format(**ctx)
        except (KeyError, IndexError):
            zh, en = zh_t, en_t
    return {"field": ".".join(loc), "message_zh": zh, "message_en": en}


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError):
        if exc.audit:
            request.app.state.audit.add(*exc.audit, {"refused": exc.code})
        return JSONResponse(body(exc.code, exc.message_zh, exc.message_en, exc.errors), status_code=exc.status,
                            headers=exc.headers)

    async def _outage(request: Request, exc: Exception):
        kind = outage(exc)
        if kind is None:
            raise exc  # not the database's absence: the catch-all below answers 500
        watch = getattr(request.app.state, "db_watch", None)
        if kind == "lost" and watch is not None:
            watch.failed(exc)  # later requests are answered at once until the database is back
        log.warning("%s %s: database unavailable (%s: %s)", request.method, request.url.path,
                    type(exc).__name__, exc)
        err = Unavailable()
        return JSONResponse(body(err.code, err.message_zh, err.message_en), status_code=err.status,
                            headers=err.headers)

    @app.exception_handler(ValidationError)
    async def _late_validation(request: Request, exc: ValidationError):
        # A service that builds another request from this one (a traffic case turned into an alarm)
        # validates it again: what fails there is still the caller's input, never a 500.
        log.warning("%s %s: input refused inside the service: %s", request.method, request.url.path, exc)
        errors = [field_error(e) for e in exc.errors()]
        return JSONResponse(
            body("validation_error", "请求内容有误，未保存任何内容", "The request is invalid; nothing was saved", errors),
            status_code=422,
        )

    # Where a missing database surfaces: the driver's own errors, SQLAlchemy's wrappers and the
    # pool, timeouts, and the OS refusing or resetting the connection.
    for cls in (sa_exc.SQLAlchemyError, TimeoutError, OSError, ExceptionGroup):
        app.exception_handler(cls)(_outage)
    try:
        from asyncpg.exceptions import InterfaceError, PostgresError
        app.exception_handler(InterfaceError)(_outage)
        app.exception_handler(PostgresError)(_outage)
    except ImportError:  # pragma: no cover
        pass

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception):
        # Still logged with its traceback by the server; the client gets the usual shape, not plain text.
        return JSONResponse(body("internal_error", "服务器内部错误，请稍后重试", "Internal server error; please try again"),
                            status_code=500)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        errors = [field_error(e) for e in exc.errors()]
        return JSONResponse(
            body("validation_error", "请求内容有误，未保存任何内容", "The request is invalid; nothing was saved", errors),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        # exc.headers carries what the status needs, e.g. 405's Allow.
        texts = {
            400: ("请求内容无法读取（不是有效的 JSON 或 UTF-8）", "The request body could not be read (not valid JSON or UTF-8)"),
            404: ("找不到该地址", "Not found"),
            405: ("不支持该请求方法", "Method not allowed"),
        }
        zh, en = texts.get(exc.status_code, ("请求失败", str(exc.detail)))
        return JSONResponse(body(f"http_{exc.status_code}", zh, en), status_code=exc.status_code, headers=exc.headers)
