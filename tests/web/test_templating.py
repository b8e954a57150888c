"""How pages write a moment: the same on every server, whatever its locale."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parley.web.pages.templating import TEMPLATES

when = TEMPLATES.env.filters["when"]


@pytest.mark.parametrize(
    ("moment", "written"),
    [
        (datetime(2026, 1, 5, 9, 3, tzinfo=UTC), "05 Jan 2026, 09:03 UTC"),
        (datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=UTC), "30 Nov 2026, 23:59 UTC"),
        (datetime(2027, 12, 31, 0, 0, tzinfo=UTC), "31 Dec 2027, 00:00 UTC"),
    ],
)
def test_a_moment_is_written_day_month_year_and_minute(moment: datetime, written: str) -> None:
    assert when(moment) == written


def test_a_moment_on_a_page_is_a_time_element_machines_can_read() -> None:
    page = TEMPLATES.env.from_string("<p>{{ moment | time_tag }}</p>")
    moment = datetime(2026, 1, 5, 9, 3, 7, tzinfo=UTC)
    assert page.render(moment=moment) == (
        '<p><time datetime="2026-01-05T09:03:07+00:00">05 Jan 2026, 09:03 UTC</time></p>'
    )
