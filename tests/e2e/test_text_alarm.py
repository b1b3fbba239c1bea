"""Issue 4, the caller's side of a text alarm (文字报警), end to end without WebRTC: the caller opens
/m/, taps 文字报警 and writes; the desk (driven over HTTP) answers and replies; the reply reaches
the caller live; a photo goes up with its progress bar and the desk sees it in the chat. Also the
video alarm's screens up to "waiting" with Chromium's fake camera, and the refusal outside the
service area."""
import re
import time
from fractions import Fraction

import av

import httpx
import pytest
from playwright.sync_api import expect

from browsing import phone_context, shot

from baojing.demo import DEMO_PASSWORD

START = (41.5660, 120.4540)  # Shuangta district, inside the video service area
BEIJING = (39.9087, 116.3975)  # far outside it
FAKE_MEDIA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


def real_jpeg() -> bytes:
    """A small real JPEG (64x48, a gradient), written with PyAV's MJPEG encoder."""
    frame = av.VideoFrame(64, 48, "yuvj420p")
    for i, plane in enumerate(frame.planes):
        plane.update(bytes((x * 3 + i * 40) % 256 for x in range(plane.buffer_size)))
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height, codec.pix_fmt = 64, 48, "yuvj420p"
    codec.time_base = Fraction(1, 25)
    data = b"".join(bytes(p) for p in codec.encode(frame)) + b"".join(bytes(p) for p in codec.encode(None))
    assert data[:2] == b"\xff\xd8"
    return data


def desk_client(base: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=10)
    r = c.post("/api/auth/login", json={"username": "calltaker", "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return c


def open_caller(browser, server, at=START):
    ctx = phone_context(browser, *at)
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server + "/m/")
    page.get_by_test_id("terms-accept").click()
    page.get_by_test_id("phone-input").fill("13900139000")
    return ctx, page, errors


def test_a_text_alarm_round_trips_with_a_photo(server, browser, tmp_path):
    assert DEMO_PASSWORD == "baojing110"
    ctx, page, errors = open_caller(browser, server)
    page.get_by_test_id("name-input").fill("李四")
    shot(page, "m-text-main")
    page.get_by_test_id("text-button").click()
    status = page.get_by_test_id("text-status")
    expect(status).to_have_attribute("data-state", "waiting", timeout=15_000)
    page.get_by_test_id("chat-input").fill("有人跟踪我，不方便说话")
    page.get_by_test_id("chat-send").click()
    mine = page.locator("[data-testid=chat-message][data-role=caller]")
    expect(mine).to_have_count(1)
    expect(mine.first).to_have_attribute("data-state", "sent", timeout=10_000)
    call_id = page.evaluate("() => window.baojing.call.id")
    assert page.evaluate("() => window.baojing.call.kind") == "text"
    shot(page, "m-text-waiting")

    desk = desk_client(server)
    queue = desk.get("/api/calls").json()["calls"]
    call = next(c for c in queue if c["id"] == call_id)
    assert call["kind"] == "text" and call["status"] == "waiting"
    r = desk.post(f"/api/calls/{call_id}/answer")
    assert r.status_code == 200, r.text
    expect(status).to_have_attribute("data-state", "active", timeout=10_000)
    lines = desk.get(f"/api/calls/{call_id}/messages").json()["messages"]
    assert [m["text"] for m in lines] == ["有人跟踪我，不方便说话"] and lines[0]["role"] == "caller"
    # The alarm carries the caller's position and number.
    r = desk.post(f"/api/calls/{call_id}/messages", json={"text": "收到，请告诉我您所在的楼号"})
    assert r.status_code == 201, r.text
    reply = page.locator("[data-testid=chat-message][data-role=desk]")
    expect(reply).to_have_count(1, timeout=10_000)
    expect(reply).to_contain_text("楼号")

    # A reload (or the phone's browser dropping the page) comes back to the same chat.
    page.reload()
    expect(status).to_have_attribute("data-state", "active", timeout=10_000)
    assert page.evaluate("() => window.baojing.call.id") == call_id
    expect(page.get_by_test_id("chat-message")).to_have_count(2)

    photo = tmp_path / "street.jpg"
    photo.write_bytes(real_jpeg())
    page.get_by_test_id("chat-attach").set_input_files(str(photo))
    bar = page.get_by_test_id("upload-progress")
    expect(bar).to_have_attribute("data-state", "done", timeout=15_000)
    expect(bar.locator("progress")).to_have_attribute("value", "100")
    expect(page.locator("[data-testid=chat-message][data-role=caller]")).to_have_count(2)
    shot(page, "m-text-chat")
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("chat-send")).to_have_text("Send")
    shot(page, "m-text-chat-en")
    page.get_by_test_id("lang-switch").click()
    page.set_viewport_size({"width": 360, "height": 640})
    shot(page, "m-text-chat-360")
    page.set_viewport_size({"width": 390, "height": 844})

    lines = desk.get(f"/api/calls/{call_id}/messages").json()["messages"]
    att = [m for m in lines if m["attachment"]]
    assert len(att) == 1 and att[0]["attachment"]["kind"] == "photo"
    assert att[0]["attachment"]["mime"] == "image/jpeg" and att[0]["role"] == "caller"
    assert att[0]["attachment"]["size"] == photo.stat().st_size

    # A file the server refuses: its message, in Chinese, on the bar.
    bad = tmp_path / "notes.jpg"
    bad.write_bytes(b"this is not a picture at all")
    page.get_by_test_id("chat-attach").set_input_files(str(bad))
    bars = page.get_by_test_id("upload-progress")
    expect(bars.nth(1)).to_have_attribute("data-state", "error", timeout=10_000)
    assert bars.nth(1).inner_text().strip() != ""
    shot(page, "m-text-upload-error")

    # Silent mode dims the screen; the desk ends the call and the caller is told.
    page.get_by_test_id("text-silent").check()
    assert page.evaluate("() => document.body.classList.contains('silent')")
    # ... and the server hears of it, so the officers sent are told not to ring this phone.
    def wait_silent(want: bool) -> bool:
        deadline = time.monotonic() + 20
        while desk.get(f"/api/calls/{call_id}").json()["silent"] is not want and time.monotonic() < deadline:
            time.sleep(0.25)
        return desk.get(f"/api/calls/{call_id}").json()["silent"] is want

    assert wait_silent(True)
    shot(page, "m-text-silent")
    page.get_by_test_id("text-silent").uncheck()
    assert wait_silent(False)
    assert desk.post(f"/api/calls/{call_id}/hangup").status_code == 200
    expect(status).to_have_attribute("data-state", "ended", timeout=10_000)
    shot(page, "m-text-ended")
    desk.close()
    assert not errors, errors
    ctx.close()


def test_the_video_screens_up_to_waiting_with_a_fake_camera(server, browser):
    # A browser of its own, with Chromium's fake camera and microphone.
    from conftest import CHROMIUM, FLAGS
    b = browser.browser_type.launch(executable_path=CHROMIUM, args=FLAGS + FAKE_MEDIA)
    try:
        ctx = phone_context(b, *START)
        ctx.grant_permissions(["geolocation", "camera", "microphone"])
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server + "/m/")
        page.get_by_test_id("terms-accept").click()
        page.get_by_test_id("phone-input").fill("13700137000")
        page.get_by_test_id("video-button").click()
        expect(page.get_by_test_id("video-confirm")).to_be_visible(timeout=10_000)
        shot(page, "m-video-terms")
        page.get_by_test_id("video-terms-accept").click()
        status = page.get_by_test_id("video-status")
        expect(status).to_have_attribute("data-state", "preview")
        page.wait_for_function("() => { const v = document.querySelector('[data-testid=video-local]');"
                               " return v && v.videoWidth > 0 && v.currentTime > 0; }", timeout=10_000)
        page.get_by_test_id("video-confirm").scroll_into_view_if_needed()
        shot(page, "m-video-preview")
        page.get_by_test_id("video-confirm").click()
        expect(status).to_have_attribute("data-state", "waiting", timeout=15_000)
        expect(page.get_by_test_id("video-queue")).to_be_visible()
        waited = page.get_by_test_id("video-queue").inner_text()
        assert re.search(r"已等待 (\d+ 分 \d\d )?\d+ 秒$", waited), waited  # in words, not a clock face
        expect(page.get_by_test_id("video-queue")).not_to_have_text(waited, timeout=10_000)  # the wait ticks (10 s: a loaded machine draws late)
        expect(page.get_by_test_id("call-110-fallback")).to_be_visible()
        expect(page.get_by_test_id("video-quality")).to_have_attribute("data-level", "unknown")
        page.wait_for_timeout(1500)
        shot(page, "m-video-waiting")
        page.set_viewport_size({"width": 360, "height": 640})
        shot(page, "m-video-waiting-360")
        call = page.evaluate("() => { const c = window.baojing.call; return {id: c.id, status: c.status, me: c.me,"
                             " peers: c.peers instanceof Map}; }")
        assert call["status"] == "waiting" and call["peers"] and call["me"]

        with httpx.Client(base_url=server, timeout=10) as desk:
            desk.post("/api/auth/login", json={"username": "calltaker", "password": DEMO_PASSWORD})
            queued = next(c for c in desk.get("/api/calls").json()["calls"] if c["id"] == call["id"])
            assert queued["kind"] == "video" and queued["status"] == "waiting"
        # The caller cancels while waiting: the call ends, the page says so.
        page.get_by_test_id("video-hangup").click()
        expect(status).to_have_attribute("data-state", "ended", timeout=10_000)
        shot(page, "m-video-ended")
        assert not errors, errors
        ctx.close()
    finally:
        b.close()


def test_outside_the_service_area_the_video_button_explains(server, browser):
    ctx, page, errors = open_caller(browser, server, at=BEIJING)
    page.get_by_test_id("video-button").click()
    na = page.get_by_test_id("video-unavailable")
    expect(na).to_be_visible(timeout=10_000)
    assert "110" in na.inner_text() or "文字" in na.inner_text()
    shot(page, "m-video-unavailable")
    # It offers a text alarm instead, which works here.
    na.get_by_role("button", name="文字报警").click()
    expect(page.get_by_test_id("text-status")).to_have_attribute("data-state", "waiting", timeout=15_000)
    assert not errors, errors
    ctx.close()


NEWEST_VISIBLE = """() => {
  const last = [...document.querySelectorAll('[data-testid=chat-message]')].pop();
  const box = document.querySelector('.t-compose').getBoundingClientRect();
  const r = last.getBoundingClientRect();
  return r.top >= 0 && r.bottom <= Math.min(box.top, innerHeight) + 1;
}"""


def answered_text_alarm(page, server) -> tuple[int, httpx.Client]:
    """The caller starts a text alarm and the desk answers it: (the call's id, the desk's client)."""
    page.get_by_test_id("text-button").click()
    status = page.get_by_test_id("text-status")
    expect(status).to_have_attribute("data-state", "waiting", timeout=15_000)
    call_id = page.evaluate("() => window.baojing.call.id")
    desk = desk_client(server)
    assert desk.post(f"/api/calls/{call_id}/answer").status_code == 200
    expect(status).to_have_attribute("data-state", "active", timeout=10_000)
    return call_id, desk


def reply_while_scrolled_up(page, desk, call_id: int, text: str, count: int):
    """The caller is at the top of the page when the desk's reply number `count` comes: the page
    stays there, and the new-messages button (returned) shows."""
    page.evaluate("() => window.scrollTo(0, 0)")
    desk.post(f"/api/calls/{call_id}/messages", json={"text": text})
    expect(page.locator("[data-testid=chat-message][data-role=desk]")).to_have_count(count, timeout=10_000)
    more = page.get_by_test_id("chat-new")
    expect(more).to_be_visible()
    assert page.evaluate("() => window.scrollY") == 0
    return more


def test_the_chat_follows_the_desks_replies_above_the_message_box_unless_the_caller_scrolled_up(server, browser):
    ctx, page, errors = open_caller(browser, server)
    call_id, desk = answered_text_alarm(page, server)
    replies = page.locator("[data-testid=chat-message][data-role=desk]")
    # More replies than fit on a phone's screen: each new one is in view, above the message box.
    for n in range(1, 9):
        r = desk.post(f"/api/calls/{call_id}/messages", json={"text": f"第 {n} 条：请留在原地，保持电话畅通，民警正在赶来。"})
        assert r.status_code == 201, r.text
        expect(replies).to_have_count(n, timeout=10_000)
        page.wait_for_function(NEWEST_VISIBLE, timeout=5_000)
    assert page.evaluate("() => document.documentElement.scrollHeight > innerHeight")
    expect(page.get_by_test_id("chat-new")).to_be_hidden()
    shot(page, "m-text-follow")

    # The caller scrolls up to read: a new reply does not pull the page away, a button says so.
    more = reply_while_scrolled_up(page, desk, call_id, "第 9 条：您身边还有其他人吗？", 9)
    assert not page.evaluate(NEWEST_VISIBLE)
    shot(page, "m-text-new-below")
    more.click()
    page.wait_for_function(NEWEST_VISIBLE, timeout=5_000)
    expect(more).to_be_hidden()

    # The caller's own message is shown at once, wherever the page was.
    page.evaluate("() => window.scrollTo(0, 0)")
    page.get_by_test_id("chat-input").fill("没有，只有我一个人")
    page.get_by_test_id("chat-send").click()
    page.wait_for_function(NEWEST_VISIBLE, timeout=5_000)
    assert errors == []
    ctx.close()


MORE_VISIBLE = """() => {
  const more = document.querySelector('[data-testid=chat-new]').getBoundingClientRect();
  const box = document.querySelector('.t-input').getBoundingClientRect();
  return more.height > 0 && more.top >= 0 && more.bottom <= box.top;
}"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_with_the_keyboard_up_the_newest_reply_stays_above_the_message_box(server, browser, lang):
    """A phone's on-screen keyboard leaves 390 x 500 or so: the newest reply must stay in view above
    the message box when the keyboard opens, and each new one too, unless the caller scrolled up."""
    ctx, page, errors = open_caller(browser, server)
    if lang == "en":
        page.get_by_test_id("lang-switch").click()
        expect(page.get_by_test_id("call-button")).to_contain_text("Call police")
    call_id, desk = answered_text_alarm(page, server)
    replies = page.locator("[data-testid=chat-message][data-role=desk]")
    for n in range(1, 6):
        desk.post(f"/api/calls/{call_id}/messages", json={"text": f"第 {n} 条：请留在原地，保持电话畅通，民警正在赶来。"})
        expect(replies).to_have_count(n, timeout=10_000)
    page.wait_for_function(NEWEST_VISIBLE, timeout=5_000)

    # The caller taps the box: the keyboard takes the lower part of the screen.
    page.get_by_test_id("chat-input").focus()
    page.set_viewport_size({"width": 390, "height": 500})
    page.wait_for_function(NEWEST_VISIBLE, timeout=5_000)
    shot(page, f"m-text-keyboard-{lang}")
    for n in range(6, 9):
        desk.post(f"/api/calls/{call_id}/messages", json={"text": f"第 {n} 条：您身边还有其他人吗？"})
        expect(replies).to_have_count(n, timeout=10_000)
        page.wait_for_function(NEWEST_VISIBLE, timeout=5_000)
    shot(page, f"m-text-keyboard-reply-{lang}")

    # Scrolled up to read: the page stays, and the "new messages" button is above the box, not under it.
    more = reply_while_scrolled_up(page, desk, call_id, "第 9 条：好的。", 9)
    assert page.evaluate(MORE_VISIBLE)
    shot(page, f"m-text-keyboard-more-{lang}")
    more.click()
    page.wait_for_function(NEWEST_VISIBLE, timeout=5_000)
    assert errors == []
    ctx.close()
