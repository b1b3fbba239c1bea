"""The officer sent to a silent text alarm: the offer and the card put the dispatcher's notes, the
incident type and the channel first, warn not to call, show what the caller wrote and photographed
(live), and let the officer write in the caller's chat instead; the call button is set aside."""
from __future__ import annotations

import struct
import uuid
import zlib

import httpx
from playwright.sync_api import expect

from browsing import phone_context, shot
from test_officer_page import START, sign_in, staff, unit, wait_until

CALLER = {"lat": 41.566, "lon": 120.454, "accuracy_m": 15, "crs": "wgs84"}


def png(w: int = 24, h: int = 16) -> bytes:
    """A real (decodable) red PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\0" + b"\xd0\x20\x20" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_an_officer_sent_to_a_silent_text_alarm_writes_instead_of_calling(server, browser):
    # The caller, hiding, sends a silent text alarm, a line and a photo.
    r = httpx.post(server + "/api/calls", timeout=10, json={
        "idempotency_key": uuid.uuid4().hex, "phone": "13800138000", "name": None, "kind": "text", "silent": True,
        "location": CALLER})
    assert r.status_code == 201, r.text
    call = r.json()
    me = {"X-Device-Token": call["device_token"]}
    assert httpx.post(f"{server}/api/calls/{call['id']}/messages", json={"text": "两个人在撬门，我躲在卧室"},
                      headers=me).status_code == 201
    assert httpx.post(f"{server}/api/calls/{call['id']}/attachments", headers=me, timeout=10,
                      files={"file": ("door.png", png(), "image/png")}).status_code == 201

    desk = staff(server, "calltaker")
    view = desk.post(f"/api/calls/{call['id']}/answer").json()
    incident_id = view["incident_id"]
    desk.post(f"/api/incidents/{incident_id}/classify", json={"type": "theft_robbery", "priority": 1})
    desk.post(f"/api/incidents/{incident_id}/notes", json={"text": "其中一人持棍"})

    page = phone_context(browser, *START).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, server, "officer")
    duty = page.get_by_test_id("duty-switch")
    expect(page.get_by_test_id("unit-callsign")).to_have_text("双塔21")
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "live")
    # The browser tests share one server: an earlier one may have left this unit on duty.
    if duty.get_attribute("aria-checked") != "true":
        duty.click()
    expect(duty).to_have_attribute("aria-checked", "true")
    u = wait_until(lambda: (x := unit(desk, "双塔21"))["on_duty"] and x["position"] and x, "双塔21 on duty")
    assert desk.post(f"/api/incidents/{incident_id}/dispatch", json={"unit_ids": [u["id"]]}).status_code == 200

    # The offer: the note and the warning before anything else.
    expect(page.get_by_test_id("offer-card")).to_be_visible(timeout=10_000)
    expect(page.get_by_test_id("offer-notes")).to_contain_text("其中一人持棍")
    expect(page.get_by_test_id("offer-channel")).to_have_attribute("data-channel", "silent")
    expect(page.get_by_test_id("offer-no-call")).to_contain_text("不要拨打")
    type_y = page.get_by_test_id("offer-type").bounding_box()["y"]
    assert type_y < page.get_by_test_id("offer-notes").bounding_box()["y"] < \
        page.get_by_test_id("offer-distance").bounding_box()["y"]
    shot(page, "officer-silent-offer")
    page.get_by_test_id("offer-accept").click()

    # The card: channel, warning and notes above the caller and the map; no big call button.
    expect(page.get_by_test_id("incident-channel")).to_have_attribute("data-channel", "silent")
    expect(page.get_by_test_id("no-call-warning")).to_be_visible()
    notes_y = page.get_by_test_id("notes").bounding_box()["y"]
    assert notes_y < page.get_by_test_id("callers").bounding_box()["y"] < page.get_by_test_id("incident-map").bounding_box()["y"]
    expect(page.locator(".btn-call")).to_have_count(0)
    aside = page.get_by_test_id("caller-phone")
    expect(aside).to_have_attribute("data-aside", "true")
    assert page.get_by_test_id("caller-chat").bounding_box()["y"] < aside.bounding_box()["y"]

    chat = page.get_by_test_id("caller-chat")
    expect(chat.get_by_test_id("chat-message").first).to_contain_text("两个人在撬门")
    photo = chat.get_by_test_id("chat-photo")
    expect(photo).to_have_count(1)
    page.wait_for_function("() => { const i = document.querySelector('[data-testid=chat-photo]');"
                           " return i && i.complete && i.naturalWidth === 24; }")

    # Live: the caller writes again while the officer drives.
    httpx.post(f"{server}/api/calls/{call['id']}/messages", json={"text": "他们进客厅了"}, headers=me)
    expect(chat.get_by_test_id("chat-message").filter(has_text="他们进客厅了")).to_have_count(1, timeout=10_000)
    shot(page, "officer-silent-card")

    # The officer writes instead of calling: joins, sends, the caller reads it.
    chat.get_by_test_id("chat-join").click()
    chat.get_by_test_id("chat-input").fill("民警两分钟到，请保持安静")
    chat.get_by_test_id("chat-send").click()
    expect(chat.get_by_test_id("chat-message").filter(has_text="民警两分钟到")).to_have_attribute("data-role", "officer")
    caller_sees = httpx.get(f"{server}/api/calls/{call['id']}/messages", headers=me).json()["messages"]
    assert caller_sees[-1]["text"] == "民警两分钟到，请保持安静" and caller_sees[-1]["role"] == "officer"
    chat.scroll_into_view_if_needed()
    shot(page, "officer-silent-chat")

    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("no-call-warning")).to_contain_text("do NOT call")
    expect(page.get_by_test_id("incident-channel")).to_have_text("Silent alarm")
    chat.scroll_into_view_if_needed()
    shot(page, "officer-silent-chat-en")
    page.set_viewport_size({"width": 1366, "height": 768})
    shot(page, "officer-silent-chat-en-wide")
    page.get_by_test_id("lang-toggle").click()
    shot(page, "officer-silent-chat-zh-wide")
    assert errors == []
    # Leave the shared server as found: the incident closed (the unit stood down), the unit off duty.
    assert desk.post(f"/api/incidents/{incident_id}/close", json={"disposition": "resolved"}).status_code == 200
    assert staff(server, "officer").post("/api/officer/duty", json={"on_duty": False}).status_code == 200
