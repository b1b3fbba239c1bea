"""`baojing serve | migrate | demo | create-user`"""
from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from .config import ROOT, get_settings


BATCH_TIMEOUT_S = 600.0


def _with_session(fn):
    async def run():
        from . import schema  # noqa: F401  (all tables known before the first query)
        from .db import make_engine, make_sessionmaker

        # Batch work (anonymising months of alarms, verifying every evidence file) may run one
        # long statement and should wait behind the server's writes: longer limits than a request's.
        engine = make_engine(get_settings().database_url, timeout_s=BATCH_TIMEOUT_S, busy_timeout_s=BATCH_TIMEOUT_S)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                return await fn(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _ensure_var_dir() -> None:
    (ROOT / "var").mkdir(exist_ok=True)


def cmd_migrate(_args) -> None:
    from .migrate import upgrade

    _ensure_var_dir()
    upgrade(get_settings().database_url)
    print("database migrated")


def cmd_demo(args) -> None:
    from .demo import PATROLS, seed

    logins = _with_session(lambda s: seed(s, patrols=not args.no_patrols))
    if not args.no_patrols:
        print(f"patrol units on duty with positions: {', '.join(PATROLS)} "
              "(`baojing serve --simulate` drives them and raises an alarm now and then)")
    print("demo data ready; logins (username / password / role):")
    for u, p, r in logins:
        print(f"  {u:<11} {p}  {r}")


def cmd_create_user(args) -> None:
    from .auth.service import create_user

    password = args.password or getpass.getpass("password: ")
    _with_session(lambda s: create_user(s, args.username, password, args.role, args.display_name or args.username))
    print(f"user {args.username} created")


def cmd_audit_verify(args) -> None:
    """Exit 1 and name the first broken link when the audit chain was tampered with."""
    from .auth.audit import verify

    v = _with_session(verify)
    if v.ok and args.head and not _head_in_chain(args.head):
        print(f"audit log: the recorded head {args.head} is no longer in the chain: entries were cut off the end")
        sys.exit(1)
    if not v.ok:
        print(f"audit log BROKEN after {v.checked} good entries: {v.problem} (row id {v.broken_id})")
        sys.exit(1)
    print(f"audit log intact: {v.checked} entries; head {v.head_seq}:{v.head_hash}")


def _head_in_chain(head: str) -> bool:
    from sqlalchemy import select

    from .auth.models import AuditEntry

    seq, _, digest = head.partition(":")
    if not seq.isdigit():
        return False
    return bool(_with_session(lambda s: s.scalar(
        select(AuditEntry.id).where(AuditEntry.seq == int(seq), AuditEntry.hash == digest))))


def cmd_evidence_verify(_args) -> None:
    """Exit 1 when any evidence file changed or vanished since it was stored."""
    from .media.verify import verify

    r = _with_session(lambda s: verify(s, get_settings().media_dir))
    for m in r.missing:
        print(f"MISSING  media {m['id']} (incident {m['incident_id']}, {m['kind']}): {m['path']}")
    for m in r.changed:
        print(f"CHANGED  media {m['id']} (incident {m['incident_id']}, {m['kind']}): {m['path']} "
              f"sha256 {m['actual_sha256']} size {m['actual_size']}, stored as {m['expected_sha256']} "
              f"size {m['expected_size']}")
    print(f"evidence: {r.checked} files checked, {len(r.changed)} changed, {len(r.missing)} missing")
    if not r.ok:
        sys.exit(1)


def cmd_anonymise(args) -> None:
    """Remove personal data from old closed alarms; run it from a scheduler (e.g. nightly)."""
    from .alarms.retention import anonymise

    days = args.days if args.days is not None else get_settings().retention_days
    n = _with_session(lambda s: anonymise(s, days))
    print(f"anonymised {n['alarms']} alarms closed over {days} days ago (not cases): {n['positions']} positions "
          f"removed, {n['messages']} chat lines and {n['events']} events emptied")


def cmd_serve(args) -> None:
    import uvicorn

    from .app import create_app
    from .demo import DEMO_PASSWORD, USERS

    settings = get_settings()
    if args.simulate:
        settings = settings.model_copy(update={"simulate": True})
    host, port = args.host or settings.host, args.port or settings.port
    base = f"http://{host}:{port}"
    print(f"\nBaojing is serving on {base}\n"
          f"  caller (报警人):           {base}/m/\n"
          f"  command console (指挥中心): {base}/console/\n"
          f"  field officer (出警民警):    {base}/officer/\n"
          f"  administration (管理):      {base}/admin/\n"
          f"  account & security (账号与安全): {base}/account/\n"
          f"  API docs:                 {base}/docs\n"
          f"demo logins (password {DEMO_PASSWORD}): " + ", ".join(f"{u} ({r})" for u, _, r, _ in USERS) + "\n"
          + ("demo simulation on: patrol units drive, an alarm comes in every couple of minutes\n"
             if settings.simulate else ""),
          flush=True)
    # The database driver's thread needs the GIL back for each statement's answer; while the event
    # loop is busy (thousands of position reports) the default 5 ms handoff made every round trip of
    # an alarm wait 5 ms, and SQLite's one connection served ~200 of them a second (bench/README.md,
    # "Alarms first").
    sys.setswitchinterval(0.0005)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", ws_ping_interval=20,
                ws_ping_timeout=20, proxy_headers=False, ws_per_message_deflate=False)


def main(argv: list[str] | None = None) -> None:
    from .auth.roles import ACCOUNT_ROLES

    p = argparse.ArgumentParser(prog="baojing", description="Baojing 报警 alarm platform")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="serve the web app")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.add_argument("--simulate", action="store_true",
                   help="demo only: drive the demo patrol units along streets and raise an alarm now and then")
    s.set_defaults(fn=cmd_serve)
    sub.add_parser("migrate", help="create or upgrade the database schema").set_defaults(fn=cmd_migrate)
    d = sub.add_parser("demo", help="seed demo districts, stations, accounts and units (two patrols on duty)")
    d.add_argument("--no-patrols", action="store_true", help="leave every unit off duty (the tests' start)")
    d.set_defaults(fn=cmd_demo)
    a = sub.add_parser("audit", help="the audit log").add_subparsers(dest="audit_cmd", required=True)
    av = a.add_parser("verify", help="check the audit chain; names the first broken link")
    av.add_argument("--head", help="a head printed by an earlier verify (SEQ:HASH): also catch entries cut off the end")
    av.set_defaults(fn=cmd_audit_verify)
    e = sub.add_parser("evidence", help="evidence files").add_subparsers(dest="evidence_cmd", required=True)
    e.add_parser("verify", help="re-hash every evidence file; report changed or missing ones").set_defaults(
        fn=cmd_evidence_verify)
    an = sub.add_parser("anonymise", help="remove personal data from closed alarms past the retention period")
    an.add_argument("--days", type=int, help="retention in days (default BAOJING_RETENTION_DAYS, 180)")
    an.set_defaults(fn=cmd_anonymise)
    c = sub.add_parser("create-user", help="add a staff or key-unit account")
    c.add_argument("username")
    c.add_argument("--role", required=True, choices=ACCOUNT_ROLES)
    c.add_argument("--display-name")
    c.add_argument("--password", help="prompted for when left out")
    c.set_defaults(fn=cmd_create_user)
    args = p.parse_args(argv)
    args.fn(args)


if __name__ == "__main__":
    main(sys.argv[1:])
