"""What every API payload and query shares: bounded ids and numbers, text that is valid Unicode,
times a database can hold, and pages of a bounded size.

A value the database cannot take (an integer beyond 64 bits, a lone UTF-16 surrogate, a time
before year 1 or after 9999 in UTC) is refused here as a 400 naming the field, before any service
or query sees it.  Imports Django (through ninja) and nothing of ours.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, get_args

from ninja import Field, Schema
from ninja.conf import settings as ninja_settings
from ninja.pagination import LimitOffsetPagination
from pydantic import (
    AfterValidator,
    AwareDatetime,
    ModelWrapValidatorHandler,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from thirdway import keyset
from thirdway.errors import invalid

# The largest value a 64-bit signed column holds (SQLite and PostgreSQL bigint alike).
BIGGEST = 2**63 - 1
WHOLE_NUMBER = f"a whole number from -{BIGGEST + 1} to {BIGGEST}"
VALID_TEXT = "text of valid Unicode characters (no lone UTF-16 surrogates such as \\ud800)"
NOT_NULL = "a value (not null)"
NOT_NULL_OR_LEFT_OUT = "a value (not null), or leave the field out"
MOMENT = "an ISO 8601 date and time with offset, between years 1 and 9999 once in UTC"
# The most rows one page of any list answers, and the furthest a page may start.
MAX_PAGE = 500
MAX_OFFSET = 10_000_000
# The longest lists a client may send (bulk tickets and split articles are bounded where defined).
MAX_TEAM = 200
MAX_LANGUAGES = 20
MAX_SHIFTS = 12

# The longest free texts a client may send, where no column sets the limit: a ticket's body or
# an article, notes and descriptions, a reason given for an act (as the desk's forms take it),
# a password, a search.
MAX_BODY = 100_000
MAX_NOTES = 20_000
MAX_REASON = 250
MAX_PASSWORD = 200
MAX_QUERY = 200
# The longest an e-mail address can be (RFC 5321 with its erratum; Django's EmailField).
MAX_EMAIL = 254

# An id of a row: what a 64-bit primary key can be.
Id = Annotated[int, Field(ge=1, le=BIGGEST)]


def _representable(value: dt.datetime) -> dt.datetime:
    try:
        value.astimezone(dt.UTC)
    except OverflowError:
        raise PydanticCustomError(
            "moment_out_of_range",
            "The time is outside the years 1 to 9999 once converted to UTC.",
            {"allowed": MOMENT},
        ) from None
    return value


# A time with its offset that stays within years 1 to 9999 in UTC.
Moment = Annotated[AwareDatetime, AfterValidator(_representable)]


def _refusal(value: Any) -> PydanticCustomError | None:
    """Why ``value`` (or anything inside it) cannot be stored, if it cannot."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return PydanticCustomError(
                "text_surrogate",
                "The text holds a lone UTF-16 surrogate, which is not a character.",
                {"allowed": VALID_TEXT},
            )
    elif isinstance(value, bool):
        return None
    elif isinstance(value, int):
        if not -BIGGEST - 1 <= value <= BIGGEST:
            return PydanticCustomError(
                "int_too_large", "The number does not fit in 64 bits.", {"allowed": WHOLE_NUMBER}
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            refusal = _refusal(key) or _refusal(item)
            if refusal is not None:
                return refusal
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            refusal = _refusal(item)
            if refusal is not None:
                return refusal
    return None


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def kept(default: Any = None, **constraints: Any) -> Any:
    """A PATCH field that may be left out (the value stays as it is) but not sent as null: its
    type says what it takes, and the OpenAPI document lists no null for it."""
    return Field(default, json_schema_extra=_no_default, **constraints)


def _takes_null(annotation: Any) -> bool:
    return annotation is None or annotation is Any or type(None) in get_args(annotation)


class Payload(Schema):
    """The base of every schema a client sends: each field, whatever its type, is checked for
    values no column can hold, so no endpoint can forget it; null is refused, in words, where
    the type does not take it (a PATCH field left out keeps its value, see ``kept``)."""

    @field_validator("*", mode="before")
    @classmethod
    def not_null(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if value is None and field is not None and not _takes_null(field.annotation):
            allowed = NOT_NULL if field.is_required() else NOT_NULL_OR_LEFT_OUT
            raise PydanticCustomError(
                "null_refused", "This field cannot be null.", {"allowed": allowed}
            )
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(
        cls, values: Any, handler: ModelWrapValidatorHandler, info: ValidationInfo
    ) -> Any:
        """A body sent as JSON (a dict) is validated once, as it is.  ninja's own way, for
        anything else, reads it through a getter made for objects of the database and, where
        extra fields are forbidden, validates it twice (nested schemas four times, ...): the
        same answer for a dict, at several times the cost."""
        if type(values) is dict and not cls._ninja_resolvers:
            return handler(values)
        return super()._run_root_validator(values, handler, info)

    @field_validator("*", mode="after")
    @classmethod
    def storable(cls, value: Any) -> Any:
        refusal = _refusal(value)
        if refusal is not None:
            raise refusal
        return value


class Page(LimitOffsetPagination):
    """Limit and offset, both bounded: a page holds at most ``MAX_PAGE`` rows."""

    class Input(Schema):
        limit: int = Field(ninja_settings.PAGINATION_PER_PAGE, ge=1, le=MAX_PAGE)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=MAX_PAGE, **kwargs)


# A list that may hold millions of rows counts them up to this many (counting ten million
# tickets takes seconds; ten thousand and one, a few milliseconds).
COUNT_CAP = 10_000


class CappedPage(Page):
    """``Page`` whose ``count`` stops past ``COUNT_CAP``: then it is ``COUNT_CAP + 1`` and
    ``count_capped`` is true.  A full page also answers ``next_after``, a cursor: given back
    as ``after`` (instead of ``offset``) it reads on after the page's last row, as fast on
    page 10,000 as on page 2 (see :mod:`thirdway.keyset`)."""

    class Input(Schema):
        limit: int = Field(ninja_settings.PAGINATION_PER_PAGE, ge=1, le=MAX_PAGE)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)
        after: str | None = Field(
            None,
            max_length=keyset.MAX_CURSOR,
            description="Read on after the last row of a page: its next_after. Not with offset.",
        )

    class Output(Schema):
        items: list[Any]
        count: int = Field(description=f"Exact up to {COUNT_CAP:,}; past that {COUNT_CAP + 1:,}.")
        count_capped: bool = Field(description=f"True when there are more than {COUNT_CAP:,}.")
        next_after: str | None = Field(
            description="Give it as after for the next page; null on the last page."
        )

    def _items_count(self, queryset: Any) -> int:
        return queryset.order_by()[: COUNT_CAP + 1].count()

    def paginate_queryset(self, queryset: Any, pagination: Any, request: Any, **params: Any) -> Any:
        limit = min(pagination.limit, self.max_limit)
        if pagination.after is not None:
            if pagination.offset:
                raise invalid("offset", "Give offset or after, not both.", "0 with after")
            rows = keyset.rows_after(queryset, pagination.after)
        else:
            rows = queryset[pagination.offset :]
        items = list(rows[:limit])
        count = self._items_count(queryset)
        full = len(items) == limit
        return {
            "items": items,
            "count": count,
            "count_capped": count > COUNT_CAP,
            "next_after": keyset.cursor_after(queryset, items[-1]) if full else None,
        }
