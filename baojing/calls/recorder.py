"""The server's receive-only peer: it records every video alarm as evidence.

The caller's page opens a second RTCPeerConnection to party "recorder" and signals it over /ws
like any other party. Each incoming track is written to its own file (aiortc's MediaRecorder
with audio and video in one file loses the video about one run in three: docs/design.md, "Known traps"), encoded
in a worker thread so that the event loop keeps serving alarms. A new offer (an ICE restart, a
reload of the caller's page) closes the current connection and starts a new segment: aiortc does
not restart ICE, and every segment is a complete, playable file. When a track ends its file is
hashed and stored through media/service.py, linked to the call's incident.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from fractions import Fraction

import av
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp

from ..db import utcnow
from ..deps import unit_of_work
from ..media import service as media
from ..media.models import RECORDING
from . import service
from ..tasks import stop

log = logging.getLogger(__name__)

VIDEO_TIME_BASE = Fraction(1, 90_000)
# Fast enough for a few calls at once on two cores; zerolatency keeps no frames queued in x264.
X264_OPTIONS = {"preset": "veryfast", "tune": "zerolatency"}


class VideoWriter:
    """H.264 in MP4. The first frame fixes the size; later frames of another size (the caller
    switched cameras) are scaled to it, since an open encoder cannot change size."""

    mime, suffix = "video/mp4", ".mp4"

    def __init__(self, path) -> None:
        self.container = av.open(str(path), "w", format="mp4")
        self.stream = None
        self.frames = 0
        self.first_pts: int | None = None
        self.last_pts = -1

    def write(self, frame: av.VideoFrame) -> None:
        if self.stream is None:
            s = self.container.add_stream("libx264", rate=30)
            s.width, s.height = frame.width - frame.width % 2, frame.height - frame.height % 2
            s.pix_fmt = "yuv420p"
            s.codec_context.time_base = VIDEO_TIME_BASE
            s.options = dict(X264_OPTIONS)
            self.stream = s
        pts = frame.pts if frame.time_base in (None, VIDEO_TIME_BASE) else int(frame.pts * frame.time_base / VIDEO_TIME_BASE)
        if self.first_pts is None:
            self.first_pts = pts
        pts -= self.first_pts
        if pts <= self.last_pts:  # a late or repeated frame: the file's clock only goes forward
            return
        if (frame.width, frame.height) != (self.stream.width, self.stream.height) or frame.format.name != "yuv420p":
            frame = frame.reformat(width=self.stream.width, height=self.stream.height, format="yuv420p")
        frame.pts, frame.time_base = pts, VIDEO_TIME_BASE
        for packet in self.stream.encode(frame):
            self.container.mux(packet)
        self.frames += 1
        self.last_pts = pts

    def close(self) -> tuple[int, float | None]:
        if self.stream is not None:
            for packet in self.stream.encode(None):
                self.container.mux(packet)
        self.container.close()
        duration = None if self.frames == 0 else float((self.last_pts + 3000) * VIDEO_TIME_BASE)
        return self.frames, duration


class AudioWriter:
    """AAC in MP4 (.m4a); PyAV resamples and re-frames the 20 ms Opus frames for the encoder."""

    mime, suffix = "audio/mp4", ".m4a"

    def __init__(self, path) -> None:
        self.container = av.open(str(path), "w", format="mp4")
        self.stream = None
        self.frames = 0
        self.samples = 0
        self.rate = 48_000

    def write(self, frame: av.AudioFrame) -> None:
        if self.stream is None:
            self.rate = frame.sample_rate or 48_000
            self.stream = self.container.add_stream("aac", rate=self.rate)
            self.stream.layout = frame.layout.name
        # Sample-counted time: gaps from lost packets shorten the file rather than break it.
        frame.pts, frame.time_base = self.samples, Fraction(1, self.rate)
        for packet in self.stream.encode(frame):
            self.container.mux(packet)
        self.frames += 1
        self.samples += frame.samples

    def close(self) -> tuple[int, float | None]:
        if self.stream is not None:
            for packet in self.stream.encode(None):
                self.container.mux(packet)
        self.container.close()
        return self.frames, (self.samples / self.rate if self.frames else None)


def _configuration(settings) -> RTCConfiguration:
    # An explicit list, even empty: aiortc would otherwise fall back to a public STUN server.
    servers = [RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
               for s in service.ice_servers(settings, "recorder")]
    return RTCConfiguration(iceServers=servers)


class CallRecording:
    """One call's recorder: a queue of signals handled in order, one peer connection at a time."""

    def __init__(self, owner: "Recorder", call_id: int) -> None:
        self.owner, self.call_id = owner, call_id
        self.pc: RTCPeerConnection | None = None
        self.writers: list[asyncio.Task] = []
        self.inbox: asyncio.Queue = asyncio.Queue(maxsize=500)
        self.worker = asyncio.create_task(self._work())

    def put(self, party_id: int, data: dict, reply) -> bool:
        try:
            self.inbox.put_nowait((party_id, data, reply))
            return True
        except asyncio.QueueFull:
            return False

    async def _work(self) -> None:
        while True:
            party_id, data, reply = await self.inbox.get()
            try:
                await self._handle(party_id, data, reply)
            except Exception as e:
                log.warning("recorder: call %s: %s", self.call_id, e)
                reply({"type": "error", "code": "recorder_failed", "call_id": self.call_id,
                       "message_zh": "录制端无法处理该信令", "message_en": f"The recorder could not use this: {e}"})

    async def _handle(self, party_id: int, data: dict, reply) -> None:
        if "sdp" in data:
            sdp = data["sdp"]
            if sdp["type"] != "offer":
                raise ValueError("the recorder only answers offers")
            await self._segment_end()
            self.pc = pc = RTCPeerConnection(_configuration(self.owner.settings))

            @pc.on("track")
            def on_track(track):
                self.writers.append(asyncio.create_task(self._record(track)))

            @pc.on("connectionstatechange")
            async def on_state():
                if pc.connectionState in ("failed", "closed") and pc is self.pc:
                    await self._segment_end()

            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp["sdp"], type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
            # aiortc gathers before it answers: the answer holds every candidate, none trickle.
            reply({"type": "signal", "call_id": self.call_id, "from": "recorder",
                   "data": {"sdp": {"type": "answer", "sdp": pc.localDescription.sdp}}})
        elif data.get("candidate") and self.pc is not None:
            c = data["candidate"]
            text = c["candidate"].split(":", 1)[1] if c["candidate"].startswith("candidate:") else c["candidate"]
            if not text:
                return
            candidate = candidate_from_sdp(text)
            candidate.sdpMid, candidate.sdpMLineIndex = c.get("sdpMid"), c.get("sdpMLineIndex")
            await self.pc.addIceCandidate(candidate)

    async def _record(self, track) -> None:
        writer_cls = VideoWriter if track.kind == "video" else AudioWriter
        tmp, name = media.new_tmp(self.owner.settings, writer_cls.suffix)
        writer = await asyncio.to_thread(writer_cls, tmp)
        started_at: datetime | None = None
        try:
            while True:
                frame = await track.recv()
                if started_at is None:
                    started_at = utcnow()
                await asyncio.to_thread(writer.write, frame)
        except MediaStreamError:
            pass
        except Exception:
            log.exception("recorder: call %s: %s track failed; keeping what was written", self.call_id, track.kind)
        finally:
            frames, duration = await asyncio.to_thread(writer.close)
            if frames == 0:
                tmp.unlink(missing_ok=True)
            else:
                await self.owner.store(self.call_id, tmp, name, writer_cls.mime, track.kind, duration, started_at)

    async def _segment_end(self) -> None:
        pc, writers = self.pc, self.writers
        self.pc, self.writers = None, []
        if pc is not None:
            await pc.close()  # ends the remote tracks: each writer finishes and stores its file
        if writers:
            await asyncio.gather(*writers, return_exceptions=True)

    async def close(self) -> None:
        await stop(self.worker)
        await self._segment_end()


class Recorder:
    def __init__(self, state) -> None:
        self.state = state
        self.settings = state.settings
        self.calls: dict[int, CallRecording] = {}

    async def signal(self, call, party_id: int, data: dict, reply) -> None:
        rec = self.calls.get(call.id)
        if rec is None:
            if "sdp" not in data:
                return  # a candidate for a connection already closed: nothing to add it to
            rec = self.calls[call.id] = CallRecording(self, call.id)
        if not rec.put(party_id, data, reply):
            reply({"type": "error", "code": "recorder_busy", "call_id": call.id,
                   "message_zh": "录制端繁忙", "message_en": "The recorder is behind; try again"})

    async def stop(self, call_id: int) -> None:
        rec = self.calls.pop(call_id, None)
        if rec is not None:
            await rec.close()

    async def close(self) -> None:
        await asyncio.gather(*(self.stop(i) for i in list(self.calls)), return_exceptions=True)

    async def store(self, call_id: int, tmp, name: str, mime: str, track: str, duration: float | None,
                    started_at: datetime | None) -> None:
        try:
            staged = await asyncio.to_thread(media.stage_file, tmp, name, mime)
            async with unit_of_work(self.state) as session:
                incident_id = await service.incident_of(session, call_id)
                m = await media.store(session, self.settings, staged, incident_id=incident_id, call_id=call_id,
                                      kind=RECORDING, track=track, created_by="recorder", duration_s=duration,
                                      started_at=started_at)
                await media.announce(session, m, "recording_stored", "recorder")
        except Exception:
            # The file stays under tmp/ for an operator to rescue; recover() keeps it a day.
            log.exception("recorder: storing the %s recording of call %s failed (%s)", track, call_id, tmp)
