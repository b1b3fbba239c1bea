"""The shapes every number in a request takes, shared by every route and body.

An id past the largest 64-bit integer used to reach the database and crash the driver
(OverflowError: a 500 and a dropped connection); a JSON `false` used to pass as the number 0.
Bounding ids here makes such input a 422 before any query runs, and strict numbers refuse
booleans and strings."""
from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BeforeValidator, Field, Strict
from pydantic_core import PydanticCustomError

# The largest value of PostgreSQL's BIGINT and SQLite's INTEGER.
ID_MAX = 2**63 - 1


def _no_bool(v):
    # Path parameters arrive as text and must be parsed (so ids cannot be strict ints), but a body's
    # `true` is not the id 1.
    if isinstance(v, bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return v


# A row id, in a path or in a body: 1 .. 2^63-1.
Id = Annotated[int, Field(ge=1, le=ID_MAX), BeforeValidator(_no_bool)]
# A number in a body: an int or a float, never a boolean or a string.
Number = Annotated[float, Strict()]
# A whole number in a body, never a boolean, a float or a string.
Whole = Annotated[int, Strict()]
# A time in a body: with its zone (Z or +08:00). A phone's time is compared with the server's
# clock; a time without a zone cannot be, and used to fail there with a 500.
ZonedTime = AwareDatetime
