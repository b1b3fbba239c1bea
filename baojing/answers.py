"""The error answers each route can give, written into the OpenAPI schema from what the route
depends on, so that clients (and schemathesis) know them."""
from __future__ import annotations

from fastapi.routing import APIRoute

from .deps import get_session, optional_staff
from .errors import ErrorOut

_ANSWERS = {
    400: "The body could not be read (not JSON, not UTF-8)",
    401: "Not logged in, or no valid device token",
    403: "Logged in, but this role (or key) may not do this",
    404: "No such thing, or not yours to see",
    409: "The state changed under the request (someone else was first)",
    413: "The request body is over the limit (`body_too_large`)",
    422: "The request is invalid; nothing was saved",
    429: "Too many tries (login lockout, one-time codes): wait `Retry-After` seconds",
    503: "The database is unavailable: nothing was saved; try again after `Retry-After` seconds",
}


def _dependants(dependant):
    for d in dependant.dependencies:
        yield d
        yield from _dependants(d)


def _calls(dependant):
    return (d.call for d in _dependants(dependant))


def declare(router) -> None:
    """Write into the OpenAPI schema the error answers each route can give, from what it depends
    on: an auth dependency's 401/403, 404 for a path id, 400/413/422 for a body, 409 for a change
    that can race, 503 for anything that needs the database."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        dep = route.dependant
        calls = set(_calls(dep))
        codes = set().union(*(getattr(c, "answers", ()) for c in calls | {route.endpoint}))
        headers = {(p.alias or p.name).lower().replace("_", "-") for d in [dep, *_dependants(dep)] for p in d.header_params}
        if optional_staff in calls or "x-device-token" in headers:
            codes.add(401)  # whoever is asking may be unknown, or not the one the thing belongs to
        if get_session in calls:
            codes.add(503)
            if route.methods & {"POST", "PUT", "PATCH", "DELETE"}:
                codes.add(409)
            if dep.body_params:
                codes.add(404)  # a body can name something stored (an id, a code)
        if dep.path_params:
            codes.add(404)
        # Rate limits stand on logins and one-time codes only: an alarm is never refused for its rate.
        if route.path.startswith("/api/auth/") or route.path.endswith(("/code", "/verify")):
            codes.add(429)
        if route.path.startswith("/api/auth/"):
            codes.add(401)  # logins, second factors and sessions: every step can refuse who is asking
        if dep.body_params:
            codes.add(400)
        if route.methods & {"POST", "PUT", "PATCH"}:
            codes.add(413)  # the body limit (bodylimit.py) stands in front of every route
        if dep.path_params or dep.query_params or dep.header_params or dep.body_params or dep.cookie_params:
            codes.add(422)
        for code in sorted(codes):
            route.responses.setdefault(code, {"model": ErrorOut, "description": _ANSWERS[code]})
            if code == 503:
                route.responses[code].setdefault("headers", {"Retry-After": {
                    "description": "Seconds to wait before trying again", "schema": {"type": "integer"}}})


