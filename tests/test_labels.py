"""Every code a page shows has its words in both languages, served once in /api/config; each role
is told where it works (tests/e2e for the login pages)."""
from __future__ import annotations

from pathlib import Path

import pytest

from baojing import labels
from baojing.alarms import models as alarms
from baojing.auth import roles
from baojing.dispatch import models as dispatch
from baojing.dispatch import status as units
from baojing.incidents import models as incidents

WEB = Path(__file__).resolve().parents[1] / "baojing" / "web"


def _both(table: dict) -> None:
    for code, words in table.items():
        assert words["zh"] and words["en"], code


def test_every_code_of_every_domain_has_words_in_both_languages():
    got = labels.labels()
    assert set(got["roles"]) == {roles.CALLER, *roles.ACCOUNT_ROLES}
    assert set(got["unit_kinds"]) == set(dispatch.UNIT_KINDS)
    assert set(got["unit_statuses"]) == {units.OFF_DUTY, units.AVAILABLE, units.BUSY, *dispatch.ACTIVE} - {dispatch.ACCEPTED}
    assert set(got["assignment_statuses"]) == {*dispatch.ACTIVE, dispatch.CLEARED, dispatch.DECLINED, dispatch.CANCELLED}
    assert set(got["incident_statuses"]) == {incidents.NEW, incidents.CLAIMED, incidents.CLOSED, incidents.MERGED}
    assert set(got["position_sources"]) == {alarms.GPS, alarms.NETWORK, alarms.PICKED, alarms.OPERATOR}
    for table in got.values():
        _both(table)


def test_every_account_role_has_its_pages_and_each_page_exists_and_has_a_name():
    assert set(roles.PAGES) == set(roles.ACCOUNT_ROLES)
    for role, pages in roles.PAGES.items():
        for page in pages:
            assert page in labels.PAGES, (role, page)
            assert (WEB / page.strip("/") / "index.html").is_file(), (role, page)
    # Only console roles are sent to the console: it refuses the others.
    assert {r for r, pages in roles.PAGES.items() if "/console/" in pages} <= roles.CONSOLE


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_config_serves_the_labels_and_each_roles_pages(client):
    cfg = (await client.get("/api/config")).json()
    assert cfg["labels"]["roles"]["traffic_officer"] == {"zh": "交警", "en": "Traffic officer"}
    assert cfg["labels"]["pages"]["/officer/"]["zh"]
    assert cfg["role_pages"]["officer"] == ["/officer/"]
    assert cfg["role_pages"]["keyunit_member"] == ["/m/"]
