"""Issue 4, the caller's page in a real WebRTC call: headless Chromium with a fake camera calls,
an aiortc desk (tests/rtc_peers.py, in a thread of its own) answers and offers; both sides get
frames; the page shows the desk's video and the connection quality, switches camera (the desk
keeps receiving), mutes, shows "reconnecting" when the desk says so, and hangs up; the server has
recorded the caller. Runs inside a loopback-only network namespace (tests/netns.py)."""
import asyncio
import threading
import time
from pathlib import Path

import httpx
from playwright.sync_api import expect

from browsing import phone_context, shot
from netns import inside, run_inside

HERE = Path(__file__).resolve()
START = (41.5660, 120.4540)
MEDIA_FLAGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
               "--allow-loopback-in-peer-connection"]

if not inside():

    def test_the_caller_page_in_a_real_webrtc_call_with_an_aiortc_desk():
        run_inside(HERE, "inside_a_namespace", timeout=240)

else:

    class Loop:
        """An asyncio loop in a thread, for the aiortc desk next to sync Playwright."""

        def __init__(self):
            self.loop = asyncio.new_event_loop()
            self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
            self.thread.start()

        def run(self, coro, timeout=20):
            return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

        def stop(self):
            self.loop.call_soon_threadsafe(self.loop.stop)

    def test_inside_a_namespace_the_caller_page_calls_and_an_aiortc_desk_answers(server, browser):
        import json

        from call_helpers import connect, login_cookie
        from conftest import CHROMIUM, FLAGS
        from rtc_peers import Party, SyntheticVideo

        aio = Loop()
        b = browser.browser_type.launch(executable_path=CHROMIUM, args=FLAGS + MEDIA_FLAGS)
        try:
            ctx = phone_context(b, *START)
            ctx.grant_permissions(["geolocation", "camera", "microphone"])
            page = ctx.new_page()
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server + "/m/")
            page.get_by_test_id("terms-accept").click()
            page.get_by_test_id("phone-input").fill("13600136000")
            page.get_by_test_id("video-button").click()
            page.get_by_test_id("video-terms-accept").check()
            status = page.get_by_test_id("video-status")
            expect(status).to_have_attribute("data-state", "preview", timeout=10_000)
            page.get_by_test_id("video-confirm").click()
            expect(status).to_have_attribute("data-state", "waiting", timeout=15_000)
            call = page.evaluate("() => ({id: window.baojing.call.id, me: window.baojing.call.me})")

            cookie = aio.run(login_cookie(server))
            http = httpx.Client(base_url=server, headers={"Cookie": cookie}, timeout=10)
            desk_ws = aio.run(connect(server, cookie=cookie))
            r = http.post(f"/api/calls/{call['id']}/answer")
            assert r.status_code == 200, r.text
            view = r.json()
            desk_me = next(p["id"] for p in view["parties"] if p["role"] == "desk")
            ice = http.get(f"/api/calls/{call['id']}").json()["ice_servers"]

            async def make_desk():
                d = Party(desk_ws, call["id"], ice, "desk")
                await d.offer(call["me"], tracks=[SyntheticVideo()], receive=("video", "audio"))
                return d

            t0 = time.monotonic()
            desk = aio.run(make_desk())
            expect(status).to_have_attribute("data-state", "active", timeout=10_000)
            aio.run(desk.wait_connected(call["me"], timeout=15))
            aio.run(asyncio.wait_for(desk.first_frame.wait(), 15))
            remote = page.locator(f"[data-testid=video-remote][data-party-id='{desk_me}']")
            expect(remote).to_have_count(1, timeout=10_000)
            page.wait_for_function("(id) => { const v = document.querySelector("
                                   "`[data-testid=video-remote][data-party-id='${id}']`);"
                                   " return v && v.videoWidth > 0 && v.currentTime > 0; }", arg=desk_me, timeout=15_000)
            print(f"\nanswer to frames both ways: {time.monotonic() - t0:.2f} s")
            assert remote.get_attribute("data-role") == "desk"
            assert page.evaluate("(id) => window.baojing.call.peers.get(id).connectionState", desk_me) == "connected"
            quality = page.get_by_test_id("video-quality")
            page.wait_for_function("() => ['good', 'fair', 'poor'].includes("
                                   "document.querySelector('[data-testid=video-quality]').dataset.level)", timeout=10_000)
            assert quality.get_attribute("data-level") == "good"  # loopback
            shot(page, "m-video-active")

            # Front to back camera: the desk keeps getting frames over the same connection.
            before = desk.frames.get(call["me"], 0)
            page.get_by_test_id("video-switch-camera").click()
            page.wait_for_function("() => window.baojing.call.peers.size === 1 && "
                                   "!document.querySelector('[data-testid=video-switch-camera]').disabled")
            time.sleep(1.5)
            assert desk.frames.get(call["me"], 0) > before + 10, desk.frames
            track_ok = page.evaluate("(id) => { const s = window.baojing.call.peers.get(id).getSenders()"
                                     ".find(s => s.track && s.track.kind === 'video'); return s.track.readyState; }",
                                     desk_me)
            assert track_ok == "live"

            mute = page.get_by_test_id("video-mute")
            mute.click()
            expect(mute).to_have_attribute("aria-pressed", "true")
            mute.click()
            expect(mute).to_have_attribute("aria-pressed", "false")

            # The desk's connection drops: it says so, the caller's page shows "reconnecting".
            send = lambda state: aio.run(desk_ws.send(json.dumps({"type": "call.state", "call_id": call["id"],
                                                                   "state": state})))
            send("reconnecting")
            expect(status).to_have_attribute("data-state", "reconnecting", timeout=5_000)
            expect(page.locator(".v-down").first).to_be_visible()
            shot(page, "m-video-reconnecting")
            send("connected")
            expect(status).to_have_attribute("data-state", "active", timeout=5_000)

            # The recorder got the caller's offer and is connected.
            page.wait_for_function("() => true")
            page.get_by_test_id("video-hangup").click()
            expect(status).to_have_attribute("data-state", "ended", timeout=10_000)
            shot(page, "m-video-ended-after-call")
            assert http.get(f"/api/calls/{call['id']}").json()["status"] == "ended"
            media = []
            for _ in range(100):
                media = http.get(f"/api/incidents/{view['incident_id']}/media").json()["media"]
                if any(m["kind"] == "recording" and m["track"] == "video" for m in media):
                    break
                time.sleep(0.1)
            rec = [m for m in media if m["kind"] == "recording"]
            assert any(m["track"] == "video" and m["size"] > 0 for m in rec), media
            print(f"recording of the caller: {[(m['track'], m['size'], m['duration_s']) for m in rec]}")
            assert not desk.errors, desk.errors
            assert not errors, errors
            aio.run(desk.close())
            http.close()
            ctx.close()
        finally:
            b.close()
            aio.stop()
