"""Real WebRTC parties in Python (aiortc) that signal through the app's /ws exactly as the pages
will: {"type": "signal", "call_id", "to", "data": {"sdp"} | {"candidate"}}."""
from __future__ import annotations

import asyncio
import json
import time

import av
from aiortc import (RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription,
                    VideoStreamTrack)
from aiortc.sdp import candidate_from_sdp

RAMP = bytes(range(256)) * 4


class SyntheticVideo(VideoStreamTrack):
    """A camera stand-in: a moving grey ramp, 320x240 at aiortc's 30 fps clock."""

    def __init__(self, width: int = 320, height: int = 240) -> None:
        super().__init__()
        self.width, self.height, self.n = width, height, 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        f = av.VideoFrame(self.width, self.height, "yuv420p")
        shift = (self.n * 4) % 256
        f.planes[0].update(RAMP[shift:shift + self.width] * self.height)
        for p in f.planes[1:]:
            p.update(bytes([128]) * p.buffer_size)
        f.pts, f.time_base = pts, time_base
        self.n += 1
        return f


def configuration(ice_servers: list[dict]) -> RTCConfiguration:
    # Always an explicit list: aiortc's default would reach for a public STUN server.
    return RTCConfiguration(iceServers=[RTCIceServer(**s) for s in ice_servers])


def split_candidates(sdp: str) -> tuple[str, list[dict]]:
    """The SDP without its candidates, and the candidates as a browser trickles them."""
    lines, cands, mid, index = [], [], None, -1
    for line in sdp.splitlines():
        if line.startswith("m="):
            index += 1
        if line.startswith("a=mid:"):
            mid = line[6:]
        if line.startswith("a=candidate:"):
            cands.append({"candidate": line[2:], "sdpMid": mid, "sdpMLineIndex": index})
        elif line != "a=end-of-candidates":
            lines.append(line)
    return "\r\n".join(lines) + "\r\n", cands


class Party:
    """One party of one call: its socket, and a peer connection per remote party."""

    def __init__(self, ws, call_id: int, ice_servers: list[dict], name: str) -> None:
        self.ws, self.call_id, self.ice, self.name = ws, call_id, ice_servers, name
        self.pcs: dict[object, RTCPeerConnection] = {}
        self.answer_tracks = lambda: [SyntheticVideo()]  # what this party sends when it is offered a call
        self.frames: dict[object, int] = {}
        self.first_frame_at: dict[object, float] = {}
        self.first_frame = asyncio.Event()
        self.errors: list[dict] = []
        self._reader = asyncio.create_task(self._read())
        self._tasks: set[asyncio.Task] = set()

    async def send(self, to, data: dict) -> None:
        await self.ws.send(json.dumps({"type": "signal", "call_id": self.call_id, "to": to, "data": data}))

    def _pc(self, remote) -> RTCPeerConnection:
        pc = self.pcs[remote] = RTCPeerConnection(configuration(self.ice))

        @pc.on("track")
        def on_track(track):
            if track.kind == "video":
                task = asyncio.create_task(self._count(remote, track))
                self._tasks.add(task)

        return pc

    async def _count(self, remote, track) -> None:
        try:
            while True:
                await track.recv()
                if remote not in self.first_frame_at:
                    self.first_frame_at[remote] = time.perf_counter()
                    self.first_frame.set()
                self.frames[remote] = self.frames.get(remote, 0) + 1
        except Exception:
            return

    async def offer(self, to, tracks=(), receive=("video", "audio"), trickle: bool = False) -> RTCPeerConnection:
        pc = self._pc(to)
        for t in tracks:
            pc.addTrack(t)
        for kind in receive:
            pc.addTransceiver(kind, direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
        if trickle:  # as a browser does: the description first, then each candidate on its own
            sdp, cands = split_candidates(sdp)
            await self.send(to, {"sdp": {"type": "offer", "sdp": sdp}})
            for c in cands:
                await self.send(to, {"candidate": c})
            await self.send(to, {"candidate": None})
        else:
            await self.send(to, {"sdp": {"type": "offer", "sdp": sdp}})
        return pc

    async def _read(self) -> None:
        async for text in self.ws:
            m = json.loads(text)
            if m.get("type") == "error":
                self.errors.append(m)
            if m.get("type") == "signal" and m.get("call_id") == self.call_id:
                try:
                    await self._on_signal(m["from"], m["data"])
                except Exception as e:  # keep reading; the test sees it in .errors
                    self.errors.append({"type": "local", "error": repr(e)})

    async def _on_signal(self, remote, data: dict) -> None:
        if "sdp" in data and data["sdp"]["type"] == "offer":
            pc = self._pc(remote)
            await pc.setRemoteDescription(RTCSessionDescription(**data["sdp"]))
            for t in self.answer_tracks():
                pc.addTrack(t)
            await pc.setLocalDescription(await pc.createAnswer())
            await self.send(remote, {"sdp": {"type": "answer", "sdp": pc.localDescription.sdp}})
        elif "sdp" in data and remote in self.pcs:
            await self.pcs[remote].setRemoteDescription(RTCSessionDescription(**data["sdp"]))
        elif data.get("candidate") and remote in self.pcs:
            c = data["candidate"]
            cand = candidate_from_sdp(c["candidate"].split(":", 1)[1])
            cand.sdpMid, cand.sdpMLineIndex = c["sdpMid"], c["sdpMLineIndex"]
            await self.pcs[remote].addIceCandidate(cand)

    async def wait_connected(self, remote, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pc = self.pcs.get(remote)
            if pc is not None and pc.connectionState == "connected":
                return
            if pc is not None and pc.connectionState == "failed":
                raise AssertionError(f"{self.name}: connection to {remote} failed")
            await asyncio.sleep(0.02)
        raise AssertionError(f"{self.name}: no connection to {remote} in {timeout} s; errors: {self.errors}")

    async def close(self) -> None:
        self._reader.cancel()
        for pc in self.pcs.values():
            await pc.close()
        for t in self._tasks:
            t.cancel()
        await self.ws.close()

