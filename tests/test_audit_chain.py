"""The audit log is append-only and tamper-evident; evidence files are checked against their hash."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from baojing.auth import audit as audit_log
from baojing.auth.models import AuditEntry
from baojing.auth.service import Principal
from baojing.config import ROOT
from baojing.media.models import MediaFile
from baojing.media.verify import verify as verify_evidence
from builders import alarm_body

WHO = Principal("staff", "admin", 1, display_name="a")


async def _write(app, n: int) -> list[AuditEntry]:
    async with app.state.sessions() as s, s.begin():
        for i in range(n):
            await audit_log.audit(s, WHO, "test.step", "thing", i, {"i": i, "名": "张三", "nested": {"b": [1, 2.5]}})
    app.state.audit.add(WHO, "view.live", "alarm", 99)
    await app.state.audit.flush()
    async with app.state.sessions() as s:
        return list(await s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


async def _verify(app):
    async with app.state.sessions() as s:
        return await audit_log.verify(s)


async def _bypass(app, sql: str, **params):
    """What an attacker with database access does: drop the trigger, change the table."""
    async with app.state.engine.begin() as c:
        if c.dialect.name == "sqlite":
            await c.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
            await c.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
        else:
            await c.execute(text("SET LOCAL session_replication_role = replica"))
        await c.execute(text(sql), params)


async def test_entries_chain_from_requests_and_from_the_buffer(app, client, staff):
    await client.post("/api/alarms", json=alarm_body())
    await (await staff("calltaker")).get("/api/console/snapshot")
    rows = await _write(app, 3)
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:]))
    v = await _verify(app)
    assert v.ok and v.checked == len(rows) and v.head_hash == rows[-1].hash


async def test_the_database_refuses_update_and_delete(app):
    rows = await _write(app, 2)
    for sql in ("UPDATE audit_log SET actor = 'someone else' WHERE id = :i", "DELETE FROM audit_log WHERE id = :i"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with app.state.engine.begin() as c:
                await c.execute(text(sql), {"i": rows[0].id})
    assert (await _verify(app)).ok


async def test_an_edited_row_is_named(app):
    rows = await _write(app, 5)
    await _bypass(app, "UPDATE audit_log SET detail = :d WHERE id = :i", d='{"i": 99}', i=rows[2].id)
    v = await _verify(app)
    assert not v.ok and v.broken_seq == 3 and v.broken_id == rows[2].id and "changed" in v.problem


async def test_an_edit_that_recomputes_its_own_hash_breaks_the_next_link(app):
    rows = await _write(app, 4)
    forged = dict(seq=rows[1].seq, at=rows[1].at, user_id=None, actor="nobody", action=rows[1].action,
                  subject_type=rows[1].subject_type, subject_id=rows[1].subject_id, detail=rows[1].detail)
    await _bypass(app, "UPDATE audit_log SET actor = 'nobody', user_id = NULL, hash = :h WHERE id = :i",
                  h=audit_log.entry_hash(rows[1].prev_hash, forged), i=rows[1].id)
    v = await _verify(app)
    assert not v.ok and v.broken_seq == 3 and "link" in v.problem


async def test_a_deleted_row_is_named(app):
    rows = await _write(app, 5)
    await _bypass(app, "DELETE FROM audit_log WHERE id = :i", i=rows[1].id)
    v = await _verify(app)
    assert not v.ok and v.broken_seq == 3 and "missing" in v.problem


def _cli(database_url: str, *args: str, media_dir=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "BAOJING_DATABASE_URL": database_url}
    if media_dir:
        env["BAOJING_MEDIA_DIR"] = str(media_dir)
    return subprocess.run([sys.executable, "-m", "baojing.cli", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


async def test_baojing_audit_verify_names_the_first_broken_link(app, settings):
    rows = await _write(app, 4)
    ok = _cli(settings.database_url, "audit", "verify")
    assert ok.returncode == 0 and "intact" in ok.stdout
    head = ok.stdout.split("head ")[1].strip()
    await _bypass(app, "DELETE FROM audit_log WHERE id = :i", i=rows[-1].id)  # cut off the end
    assert _cli(settings.database_url, "audit", "verify").returncode == 0  # a shorter chain is valid...
    cut = _cli(settings.database_url, "audit", "verify", "--head", head)
    assert cut.returncode == 1 and "cut off" in cut.stdout  # ...unless the recorded head is gone
    await _bypass(app, "UPDATE audit_log SET action = 'x' WHERE id = :i", i=rows[1].id)
    bad = _cli(settings.database_url, "audit", "verify")
    assert bad.returncode == 1 and "entry 2 was changed" in bad.stdout


async def test_baojing_evidence_verify_reports_changed_and_vanished_files(app, settings, tmp_path, client):
    await client.post("/api/alarms", json=alarm_body())
    media = tmp_path / "media"
    (media / "2026").mkdir(parents=True)
    files = {}
    async with app.state.sessions() as s, s.begin():
        incident_id = await s.scalar(text("SELECT incident_id FROM alarms LIMIT 1"))
        for name in ("a.jpg", "b.jpg", "c.jpg"):
            data = name.encode() * 100
            (media / "2026" / name).write_bytes(data)
            m = MediaFile(incident_id=incident_id, kind="photo", mime="image/jpeg", size=len(data),
                          sha256=hashlib.sha256(data).hexdigest(), path=f"2026/{name}", created_by="test")
            s.add(m)
            await s.flush()
            files[name] = m.id
    async with app.state.sessions() as s:
        assert (await verify_evidence(s, media)).ok
    (media / "2026" / "b.jpg").write_bytes(b"edited" * 100)
    (media / "2026" / "c.jpg").unlink()
    async with app.state.sessions() as s:
        r = await verify_evidence(s, media)
    assert r.checked == 3 and [m["id"] for m in r.changed] == [files["b.jpg"]]
    assert [m["id"] for m in r.missing] == [files["c.jpg"]]
    out = _cli(settings.database_url, "evidence", "verify", media_dir=media)
    assert out.returncode == 1 and "CHANGED" in out.stdout and "MISSING" in out.stdout and "2026/c.jpg" in out.stdout
