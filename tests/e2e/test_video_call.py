"""A video alarm end to end in real browsers: the caller's phone (/m/), the video desk (/console/)
and a dispatched officer (/officer/) in headless Chromium with a fake camera and microphone, real
WebRTC between them (a mesh), the server recording the caller.

WebRTC must not gather any candidate that points off this machine, so the whole test (server,
Chromium) runs again inside a network namespace with only loopback (tests/netns.py); Chromium
needs --allow-loopback-in-peer-connection to use 127.0.0.1 at all (docs/design.md, "Known traps").
"""
from __future__ import annotations

import io
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from baojing.demo import DEMO_PASSWORD as PASSWORD
from browsing import SHOTS, desk_context, phone_context, shot
from call_helpers import call_body, clip
from netns import inside, run_inside

HERE = Path(__file__).resolve()
MEDIA_FLAGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
               "--allow-loopback-in-peer-connection"]
CALLER_AT = (41.566, 120.454)      # inside the demo districts (Shuangta)
OFFICER_AT = (41.567, 120.455)

# In every page: count the frames each <video> presents (requestVideoFrameCallback), and note when
# the first one came (Date.now(): one clock for all pages of this machine).
FRAME_COUNTER = """
window.__frames = {}; window.__first = {};
const watch = (v) => {
  if (v.__bjWatched) return; v.__bjWatched = true;
  const key = () => `${v.dataset.testid || "video"}:${v.dataset.partyId || ""}`;
  const cb = () => {
    const k = key();
    window.__frames[k] = (window.__frames[k] || 0) + 1;
    if (!(k in window.__first)) window.__first[k] = Date.now();
    v.requestVideoFrameCallback(cb);
  };
  v.requestVideoFrameCallback(cb);
};
new MutationObserver(() => document.querySelectorAll("video").forEach(watch))
  .observe(document, { childList: true, subtree: true });
"""

# The remote videos of a page: [{party, w, t, frames}] (only those in the document).
REMOTES = """(testid) => [...document.querySelectorAll(`video[data-testid=${testid}]`)].map((v) => ({
  party: v.dataset.partyId, w: v.videoWidth, t: v.currentTime,
  frames: window.__frames[`${testid}:${v.dataset.partyId || ""}`] || 0 }))"""


PEERS = """() => { const c = window.baojing && window.baojing.call; if (!c || !c.peers) return null;
  return {id: c.id, me: c.me, state: c.state || c.phase, peers: [...c.peers].map(([id, pc]) => [id, pc.connectionState,
    pc.iceConnectionState, pc.signalingState, pc.iceGatheringState, Boolean(pc.localDescription), Boolean(pc.remoteDescription),
    (pc.remoteDescription ? pc.remoteDescription.sdp.match(/a=candidate/g) || [] : []).length])}; }"""


STATS = """async () => { const c = window.baojing && window.baojing.call; if (!c || !c.peers) return null; const out = [];
  for (const [id, pc] of c.peers) { const r = await pc.getStats(); const l = [];
    r.forEach((s) => { if (s.type.endsWith("candidate")) l.push(`${s.type}:${s.address}:${s.port}:${s.protocol}`);
      if (s.type === "candidate-pair") l.push(`pair:${s.state}:${s.nominated}`); });
    out.push([id, l]); } return out; }"""


FRESH = """async () => { const pc = new RTCPeerConnection(); const l = []; pc.onicecandidate = (e) => l.push(e.candidate && e.candidate.candidate);
  pc.addTransceiver("audio"); await pc.setLocalDescription(await pc.createOffer()); await new Promise((r) => setTimeout(r, 1500));
  pc.close(); return [pc.iceGatheringState, l]; }"""


def diag(pages: dict, logs: dict) -> str:
    out = []
    for name, page in pages.items():
        try:
            out.append(f"{name}: {page.evaluate(PEERS)}")
            out.append(f"  stats: {page.evaluate(STATS)}")
            out.append(f"  fresh: {page.evaluate(FRESH)}")
        except Exception as e:  # a page that is gone
            out.append(f"{name}: {e}")
        out.append("  console: " + " | ".join(logs.get(name, [])[-25:]))
    return "\n".join(out)


def staff(server: str, username: str) -> httpx.Client:
    c = httpx.Client(base_url=server, timeout=10)
    r = c.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return c


def wait_until(fn, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; last: {last}")


def remotes_with_frames(page, testid: str, n: int, what: str, timeout: float = 20.0) -> list[dict]:
    """Wait until the page shows `n` remote videos, each decoding (width > 0) and advancing."""
    def check():
        first = page.evaluate(REMOTES, testid)
        if len(first) < n or any(v["w"] == 0 for v in first):
            return None
        page.wait_for_timeout(600)
        second = {v["party"]: v for v in page.evaluate(REMOTES, testid)}
        moving = [v for v in first if v["party"] in second and second[v["party"]]["frames"] > v["frames"]
                  and second[v["party"]]["t"] > v["t"]]
        return second.values() if len(moving) >= n else None
    return list(wait_until(check, f"{what}: {n} remote videos with frames", timeout))


def sign_in(page, base: str, path: str, username: str) -> None:
    page.goto(f"{base}{path}")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()


def real_jpeg(w: int = 160, h: int = 120) -> bytes:
    """A small, real JPEG (PyAV's mjpeg encoder), so the console can show it."""
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height, codec.pix_fmt, codec.time_base = w, h, "yuvj420p", Fraction(1, 25)
    frame = av.VideoFrame(w, h, "yuvj420p")
    for i, plane in enumerate(frame.planes):
        plane.update(bytes([(80 + 60 * i) % 256]) * plane.buffer_size)
    return bytes((codec.encode(frame) + codec.encode(None))[0])


def test_a_text_alarm_round_trips_at_the_desk_with_a_photo_and_a_clip(server, browser):
    """The desk side of a text alarm (文字报警): the caller (over HTTP, as its page does) writes and
    attaches a photo and a clip while waiting; the desk answers, sees them (thumbnail, player, and as
    evidence), and answers in the chat; the caller reads the answer."""
    with httpx.Client(base_url=server, timeout=10) as phone:
        r = phone.post("/api/calls", json=call_body("text", phone="13700001111"))
        assert r.status_code == 201, r.text
        call = r.json()
        dev = {"X-Device-Token": call["device_token"]}
        assert phone.post(f"/api/calls/{call['id']}/messages", json={"text": "有人跟踪我，不方便说话"},
                          headers=dev).status_code == 201
        r = phone.post(f"/api/calls/{call['id']}/attachments", headers=dev,
                       files={"file": ("p.jpg", real_jpeg(), "image/jpeg")}, data={"text": "他的样子"})
        assert r.status_code == 201, r.text
        r = phone.post(f"/api/calls/{call['id']}/attachments", headers=dev,
                       files={"file": ("c.webm", clip(2.0, fmt="webm"), "video/webm")})
        assert r.status_code == 201, r.text

        ctx = desk_context(browser)
        try:
            d = ctx.new_page()
            sign_in(d, server, "/console/", "calltaker2")
            d.wait_for_function("() => window.baojing && window.baojing.ready === true", timeout=15000)
            d.get_by_test_id("calls-tab").click()
            row = d.locator(f"[data-testid=call-row][data-call-id='{call['id']}']")
            expect(row).to_have_attribute("data-kind", "text")
            row.get_by_test_id("call-answer").click()
            view = d.get_by_test_id("call-view")
            expect(view).to_have_attribute("data-kind", "text")
            expect(d.get_by_test_id("call-state")).to_have_attribute("data-state", "text")
            msgs = view.locator("[data-testid=chat-message][data-role=caller]")
            expect(msgs).to_have_count(3)
            expect(msgs.nth(0)).to_contain_text("有人跟踪我")
            expect(msgs.nth(1).locator("img")).to_have_count(1)
            expect(msgs.nth(2).locator("video")).to_have_count(1)
            expect(view.locator("[data-testid=evidence-item][data-kind=photo]")).to_have_count(1)
            expect(view.locator("[data-testid=evidence-item][data-kind=clip]")).to_have_count(1)
            # The thumbnail really loaded (a real JPEG from /api/media/{id}).
            d.wait_for_function("() => [...document.querySelectorAll('[data-testid=chat-message] img')]"
                                ".some((i) => i.complete && i.naturalWidth === 160)")
            d.get_by_test_id("chat-input").fill("收到，民警马上到。请保持安静。")
            d.get_by_test_id("chat-send").click()
            expect(view.locator("[data-testid=chat-message][data-role=desk]")).to_have_count(1)
            # A message from the caller after the answer arrives live.
            phone.post(f"/api/calls/{call['id']}/messages", json={"text": "好的"}, headers=dev)
            expect(msgs).to_have_count(4)
            shot(d, "video-desk-text-call")
            mine = phone.get(f"/api/calls/{call['id']}/messages", headers=dev).json()["messages"]
            assert [m["text"] for m in mine if m["role"] == "desk"] == ["收到，民警马上到。请保持安静。"]
            d.get_by_test_id("call-hangup").click()
            expect(d.get_by_test_id("call-state")).to_have_attribute("data-state", "ended")
        finally:
            ctx.close()


if not inside():

    def test_a_video_alarm_between_three_browsers_in_a_loopback_namespace():
        run_inside(HERE, "inside_a_namespace", timeout=420)  # prints the inner run's figures

else:

    @pytest.fixture(scope="module")
    def media_browser():
        """A browser of its own: the shared flags (tests/e2e/conftest.py) plus fake media and loopback ICE."""
        here = str(HERE.parent / "conftest.py")
        e2e = next(m for m in list(sys.modules.values()) if getattr(m, "__file__", None) == here)
        SHOTS.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=e2e.CHROMIUM, args=e2e.FLAGS + MEDIA_FLAGS)
            yield b
            b.close()

    def test_inside_a_namespace_caller_desk_and_officer_see_each_other_and_the_call_is_recorded(server, media_browser):
        browser = media_browser
        dispatcher = staff(server, "dispatcher")
        desk_http = staff(server, "calltaker")
        officer_http = staff(server, "officer")
        # The officer is on duty with a position before anything happens (the unit can be sent).
        assert officer_http.post("/api/officer/duty", json={"on_duty": True}).status_code == 200
        officer_http.post("/api/officer/positions", json={"points": [{"lat": OFFICER_AT[0], "lon": OFFICER_AT[1]}]})

        phone = phone_context(browser, *CALLER_AT)
        desk = desk_context(browser)
        cop = phone_context(browser, *OFFICER_AT)
        for c in (phone, desk, cop):
            c.add_init_script(FRAME_COUNTER)
            # A context with granted permissions ("geolocation") denies the others: without camera and
            # microphone granted, Chromium hides host addresses behind mDNS names, which a loopback-only
            # namespace cannot serve, and gathers no candidate at all.
            c.grant_permissions(["camera", "microphone"])
        errors: dict[str, list[str]] = {"caller": [], "desk": [], "officer": []}
        logs: dict[str, list[str]] = {"caller": [], "desk": [], "officer": []}
        pages = {}
        try:
            # ---- the desk is ready, the officer's page signed in (invitations are not replayed)
            d = desk.new_page()
            d.on("pageerror", lambda e: errors["desk"].append(str(e)))
            d.on("console", lambda msg: logs["desk"].append(f"{msg.type}: {msg.text}"))
            pages["desk"] = d
            sign_in(d, server, "/console/", "calltaker")
            d.wait_for_function("() => window.baojing && window.baojing.ready === true", timeout=15000)
            d.get_by_test_id("calls-tab").click()

            o = cop.new_page()
            o.on("pageerror", lambda e: errors["officer"].append(str(e)))
            o.on("console", lambda msg: logs["officer"].append(f"{msg.type}: {msg.text}"))
            pages["officer"] = o
            sign_in(o, server, "/officer/", "officer")
            expect(o.get_by_test_id("connection-state")).to_have_attribute("data-state", "live", timeout=15000)

            # ---- the caller: terms, phone, video alarm, its own terms, "确认拨打"
            m = phone.new_page()
            m.on("pageerror", lambda e: errors["caller"].append(str(e)))
            m.on("console", lambda msg: logs["caller"].append(f"{msg.type}: {msg.text}"))
            pages["caller"] = m
            m.goto(f"{server}/m/")
            m.get_by_test_id("terms-accept").click()
            m.get_by_test_id("phone-input").fill("13912345678")
            video_button = m.get_by_test_id("video-button")
            expect(video_button).to_be_visible(timeout=10000)
            video_button.click()
            m.get_by_test_id("video-terms-accept").check()
            expect(m.get_by_test_id("video-status")).to_have_attribute("data-state", "preview", timeout=10000)
            t_tap = time.time()
            m.get_by_test_id("video-confirm").click()
            expect(m.get_by_test_id("video-status")).to_have_attribute("data-state", "waiting", timeout=15000)

            # ---- the desk sees it ringing, with a ticking wait, and answers
            row = d.locator("[data-testid=call-row][data-status=waiting]")
            expect(row).to_have_count(1, timeout=10000)
            t_ring = time.time()
            call_id = int(row.get_attribute("data-call-id"))
            assert row.get_attribute("data-kind") == "video"
            wait0 = row.get_by_test_id("call-wait").inner_text()
            expect(row.get_by_test_id("call-wait")).not_to_have_text(wait0, timeout=3000)  # the waiting time ticks
            shot(m, "video-caller-1-waiting")
            shot(d, "video-desk-1-ringing")
            rings = d.evaluate("() => window.baojing.callRings")
            row.get_by_test_id("call-answer").click()
            expect(d.get_by_test_id("call-view")).to_be_visible()
            expect(m.get_by_test_id("video-status")).to_have_attribute("data-state", "active", timeout=15000)

            desk_remote = remotes_with_frames(d, "call-remote", 1, "desk sees the caller")
            caller_remote = remotes_with_frames(m, "video-remote", 1, "caller sees the desk")
            hook = d.evaluate("() => ({a: window.baojing.call.answeredAt, f: window.baojing.call.firstFrameAt,"
                              " me: window.baojing.call.me, inc: window.baojing.call.incidentId,"
                              " peers: [...window.baojing.call.peers.keys()]})")
            caller_first = m.evaluate("() => window.__first")
            desk_ff = min(hook["f"].values()) - hook["a"]
            caller_ff = min(v for k, v in caller_first.items() if k.startswith("video-remote")) - hook["a"]
            print(f"\ntap-to-ring at the desk: {(t_ring - t_tap) * 1000:.0f} ms (upper bound, polled)")
            print(f"answer-to-first-frame: desk {desk_ff} ms, caller {caller_ff} ms "
                  f"(answer click to the first presented frame of the other side's video)")
            print(f"rings played while waiting: {rings}")
            # The goal is 1 s on loopback (measured here: about 0.5–0.6 s); some slack for a loaded machine.
            assert desk_ff < 1500 and caller_ff < 1500, (desk_ff, caller_ff)
            expect(d.get_by_test_id("call-state")).to_have_attribute("data-state", "active", timeout=10000)
            incident_id = hook["inc"]
            shot(d, "video-desk-2-call")
            shot(m, "video-caller-2-call")

            # ---- the dispatcher sends the officer's unit; the desk adds the officer
            units = dispatcher.get("/api/units").json()["units"]
            unit = next(u for u in units if u["call_sign"] == "双塔21")
            officer_id = next(x["id"] for x in unit["members"])
            r = dispatcher.post(f"/api/incidents/{incident_id}/dispatch", json={"unit_ids": [unit["id"]]})
            assert r.status_code == 200, r.text
            d.get_by_test_id("call-add-party").click()
            option = d.locator(f"[data-testid=call-party-option][data-user-id='{officer_id}']")
            expect(option).to_be_visible(timeout=10000)
            option.click()

            invite = o.get_by_test_id("call-invite")
            expect(invite).to_be_visible(timeout=10000)
            expect(invite).to_contain_text("视频通话邀请")
            shot(o, "video-officer-1-invite")
            o.get_by_test_id("call-join").click()

            officer_remote = remotes_with_frames(o, "call-remote", 2, "officer sees caller and desk")
            desk_remote = remotes_with_frames(d, "call-remote", 2, "desk sees caller and officer")
            caller_remote = remotes_with_frames(m, "video-remote", 2, "caller sees desk and officer")
            ohook = o.evaluate("() => ({j: window.baojing.call.joinedAt, f: window.baojing.call.firstFrameAt})")
            print(f"officer join-to-first-frame: {max(ohook['f'].values()) - ohook['j']} ms for both remotes")
            print("frames presented so far: caller", m.evaluate("() => window.__frames"), "desk", d.evaluate("() => window.__frames"),
                  "officer", o.evaluate("() => window.__frames"))
            parties = {int(v["party"]) for v in desk_remote} | {int(v["party"]) for v in officer_remote}
            assert len(parties) == 3, (desk_remote, officer_remote, caller_remote)
            expect(d.get_by_test_id("call-quality")).not_to_have_attribute("data-quality", "none", timeout=5000)
            shot(d, "video-desk-3-three-way")
            shot(m, "video-caller-3-three-way")
            shot(o, "video-officer-2-call")

            # ---- a snapshot of the caller's video is evidence, listed live
            d.get_by_test_id("call-snapshot").click()
            snap = d.get_by_test_id("call-view").locator("[data-testid=evidence-item][data-kind=snapshot]")
            expect(snap).to_have_count(1, timeout=10000)
            shot(d, "video-desk-4-snapshot")

            # ---- hold and resume: the caller sees it, the desk's state follows
            d.get_by_test_id("call-hold").click()
            expect(m.get_by_test_id("video-status")).to_have_attribute("data-state", "held", timeout=10000)
            expect(d.get_by_test_id("call-state")).to_have_attribute("data-state", "held")
            d.get_by_test_id("call-resume").click()
            expect(m.get_by_test_id("video-status")).to_have_attribute("data-state", "active", timeout=10000)
            expect(d.get_by_test_id("call-state")).to_have_attribute("data-state", "active", timeout=10000)
            remotes_with_frames(d, "call-remote", 2, "desk after resume")

            # ---- the caller hangs up: everyone sees the end; the recording is evidence
            m.get_by_test_id("video-hangup").click()
            expect(m.get_by_test_id("video-status")).to_have_attribute("data-state", "ended", timeout=10000)
            expect(d.get_by_test_id("call-state")).to_have_attribute("data-state", "ended", timeout=10000)
            expect(o.get_by_test_id("call-state")).to_have_attribute("data-state", "ended", timeout=10000)
            call = desk_http.get(f"/api/calls/{call_id}").json()
            assert call["status"] == "ended" and call["end_reason"] == "caller_hung_up", call

            def recording():
                media = desk_http.get(f"/api/incidents/{incident_id}/media").json()["media"]
                vids = [x for x in media if x["kind"] == "recording" and x["track"] == "video"]
                return vids or None
            video = wait_until(recording, "the video recording", 20)[0]
            body = desk_http.get(video["url"]).content
            assert len(body) == video["size"]
            with av.open(io.BytesIO(body)) as c:
                stream = c.streams.video[0]
                frames = sum(1 for _ in c.decode(stream))
                size = (stream.codec_context.width, stream.codec_context.height)
            print(f"recording: {frames} video frames, {size[0]}x{size[1]}, {video['duration_s']:.2f} s, "
                  f"{video['size']} bytes")
            assert frames >= 10
            # The ended call's view closes itself (issue 7); the incident's evidence list keeps the
            # recording (a live media.added), playable in the console.
            expect(d.get_by_test_id("call-view")).to_be_hidden(timeout=15000)
            expect(d.locator(f"[data-testid=detail-evidence] [data-testid=evidence-item][data-media-id='{video['id']}']"
                             " video")).to_have_count(1, timeout=10000)
            shot(d, "video-desk-5-ended")
            assert not any(errors.values()), errors
        except Exception:
            print(diag(pages, logs))
            raise
        finally:
            for c in (phone, desk, cop):
                c.close()
            for c in (dispatcher, desk_http, officer_http):
                c.close()
