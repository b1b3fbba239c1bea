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


def _timeline_actions() -> set[str]:
    """Every step name the services put on an incident's timeline: `action="…"` given to an event,
    and the literal steps handed to a domain's announce(); key-unit steps are prefixed as
    keyunits/onetap.py prefixes them. Traffic cases have no incident timeline."""
    import re

    found: set[str] = set()
    for path in (WEB.parent).rglob("*.py"):
        if "traffic" in path.parts or path.name == "cli.py":
            continue
        src = path.read_text(encoding="utf-8")
        for line in src.splitlines():
            if "action=" in line:
                found |= set(re.findall(r'"([a-z_]+)"', line[line.index("action="):]))
        for call in re.findall(r"announce\(session,[^\n]*", src):
            for step in re.findall(r'"([a-z_]+)"', call):
                found.add(f"keyunit_{step}" if "keyunits" in path.parts else step)
    return found - {"recorder"}  # an actor on the same line, not a step


def test_every_timeline_step_has_words_on_the_console_in_both_languages():
    js = (WEB / "console" / "i18n.js").read_text(encoding="utf-8")
    zh, en = js[js.index("  zh: {"):js.index("  en: {")], js[js.index("  en: {"):]
    steps = _timeline_actions()
    assert {"claimed", "call_waiting", "keyunit_raised", "scene_photo"} <= steps  # the scan still finds them
    missing = sorted(f"{lang}:{s}" for s in steps for lang, words in (("zh", zh), ("en", en))
                     if f"act_{s}:" not in words)
    assert missing == [], f"timeline steps shown as raw keys (act_…): {missing}"
