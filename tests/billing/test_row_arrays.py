"""Columns written as PostgreSQL array literals (``billing.row_arrays``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from thirdway.billing import row_arrays


def test_numbers_are_written_bare_and_none_as_null():
    assert row_arrays.numbers([1, Decimal("2.50"), None, Decimal("-0.01")]) == "{1,2.50,NULL,-0.01}"
    assert row_arrays.numbers([]) == "{}"


def test_texts_are_quoted_with_their_backslashes_and_double_quotes_escaped():
    written = row_arrays.texts(['a "b"', "c\\d", "{e}, f", "NULL", "", None])
    assert written == '{"a \\"b\\"","c\\\\d","{e}, f","NULL","",NULL}'


def test_dates_and_times_are_written_as_iso_text():
    at = dt.datetime(2026, 12, 7, 8, 30, tzinfo=dt.UTC)
    assert row_arrays.texts([dt.date(2026, 11, 1), at]) == (
        '{"2026-11-01","2026-12-07 08:30:00+00:00"}'
    )
