"""An upload is refused for who sends it before a byte of it is read, copied or hashed
(baojing/uploadgate.py)."""
from __future__ import annotations

import pytest

from baojing.media import service as media

MB = 1024 * 1024
BOUNDARY = "gateboundary"
HEAD = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"clip.mp4\"\r\n"
        f"Content-Type: video/mp4\r\n\r\n").encode()
TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()
SIZE = 20 * MB  # under the 21 MB the body limit lets through: only the gate can stop it

ROUTES = [  # every route that takes a file, and who may send one
    ("POST", "/api/calls/1/attachments", "multipart"),
    ("POST", "/api/calls/1/snapshots", "multipart"),
    ("POST", "/api/assignments/1/photos", "multipart"),
    ("PATCH", "/api/traffic/uploads/" + "0" * 32, "chunk"),
    ("POST", "/api/keyunits/1/files", "multipart"),
    ("POST", "/api/keyunits/import", "multipart"),
    ("POST", "/api/keyunits/roster/import", "multipart"),
    ("POST", "/api/member/alarms/1/photos", "multipart"),
    ("POST", "/api/bulletins/1/photos", "multipart"),
]


class Counted:
    """A 20 MB body handed over in 256 KB pieces, counting how much of it the server asked for."""

    def __init__(self, kind: str):
        self.kind, self.sent = kind, 0

    async def __aiter__(self):
        pieces = [HEAD] if self.kind == "multipart" else []
        pieces += [b"\0" * (256 * 1024)] * (SIZE // (256 * 1024))
        pieces += [TAIL] if self.kind == "multipart" else []
        for p in pieces:
            self.sent += len(p)
            yield p

    def length(self) -> int:
        return SIZE + (len(HEAD) + len(TAIL) if self.kind == "multipart" else 0)


@pytest.mark.parametrize("method,path,kind", ROUTES, ids=[r[1].split("/")[2] + ":" + r[1].rsplit("/", 1)[1][:8]
                                                          for r in ROUTES])
async def test_an_anonymous_upload_is_refused_before_its_body_is_read_or_staged(client, app, monkeypatch,
                                                                                 method, path, kind):
    staged = []
    real_new_tmp = media.new_tmp
    monkeypatch.setattr(media, "new_tmp", lambda *a, **k: staged.append(a) or real_new_tmp(*a, **k))
    body = Counted(kind)
    headers = {"Content-Length": str(body.length()),
               "Content-Type": f"multipart/form-data; boundary={BOUNDARY}" if kind == "multipart"
               else "application/offset+octet-stream"}
    if kind == "chunk":
        headers["Upload-Offset"] = "0"
    r = await client.request(method, path, content=body, headers=headers)
    assert r.status_code == 401, r.text
    assert r.json()["message_zh"] and r.json()["message_en"]
    assert body.sent < MB, f"{body.sent} bytes read before the 401"  # at most what the transport buffers ahead
    assert staged == []
    tmp = app.state.settings.media_dir / media.TMP
    assert not tmp.exists() or list(tmp.iterdir()) == []


async def test_a_made_up_session_or_device_token_is_no_way_in_either(client):
    client.cookies.set("bj_session", "made-up")
    body = Counted("multipart")
    r = await client.post("/api/calls/1/attachments", content=body,
                          headers={"X-Device-Token": "made-up", "Content-Length": str(body.length()),
                                   "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    assert r.status_code == 401 and body.sent < MB


@pytest.mark.parametrize("username,path", [
    ("calltaker", "/api/assignments/1/photos"),   # officers' scene photos
    ("calltaker", "/api/keyunits/1/files"),       # administrators' floor plans
    ("dispatcher", "/api/keyunits/roster/import"),
    ("officer", "/api/calls/1/snapshots"),        # the desk's frames of a caller's video
])
async def test_a_logged_in_role_the_route_does_not_allow_is_refused_before_its_body_is_read(
        staff, app, monkeypatch, username, path):
    staged = []
    real_new_tmp = media.new_tmp
    monkeypatch.setattr(media, "new_tmp", lambda *a, **k: staged.append(a) or real_new_tmp(*a, **k))
    client = await staff(username)
    body = Counted("multipart")
    r = await client.post(path, content=body, headers={"Content-Length": str(body.length()),
                                                       "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    assert r.status_code == 403, r.text
    assert r.json()["message_zh"] and r.json()["message_en"]
    assert body.sent < MB, f"{body.sent} bytes read before the 403"
    assert staged == []


async def test_a_body_declared_larger_than_the_routes_file_limit_is_refused_before_it_is_read(staff, monkeypatch):
    """A desk's snapshot takes 2 MB: a 20 MB one is refused from its Content-Length alone."""
    staged = []
    real_new_tmp = media.new_tmp
    monkeypatch.setattr(media, "new_tmp", lambda *a, **k: staged.append(a) or real_new_tmp(*a, **k))
    client = await staff("calltaker")
    body = Counted("multipart")
    r = await client.post("/api/calls/1/snapshots", content=body, headers={
        "Content-Length": str(body.length()), "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    assert r.status_code == 422 and r.json()["code"] == "file_too_large", r.text
    assert "2 MB" in r.json()["message_en"] and "2 MB" in r.json()["message_zh"]
    assert body.sent < MB and staged == []
