"""Domain errors and the one error shape every client sees: a code plus Chinese and English text."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic_core import PydanticCustomError
from starlette.exceptions import HTTPException as StarletteHTTPException


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
            404: ("找不到该地址", "Not found"),
            405: ("不支持该请求方法", "Method not allowed"),
        }
        zh, en = texts.get(exc.status_code, ("请求失败", str(exc.detail)))
        return JSONResponse(body(f"http_{exc.status_code}", zh, en), status_code=exc.status_code, headers=exc.headers)
