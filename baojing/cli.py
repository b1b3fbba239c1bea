"""`baojing serve | migrate | demo | create-user`"""
from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from .config import ROOT, get_settings


def _with_session(fn):
    async def run():
        from . import schema  # noqa: F401  (all tables known before the first query)
        from .db import make_engine, make_sessionmaker

        engine = make_engine(get_settings().database_url)
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


def cmd_demo(_args) -> None:
    from .demo import seed

    logins = _with_session(seed)
    print("demo data ready; logins (username / password / role):")
    for u, p, r in logins:
        print(f"  {u:<11} {p}  {r}")


def cmd_create_user(args) -> None:
    from .auth.service import create_user

    password = args.password or getpass.getpass("password: ")
    _with_session(lambda s: create_user(s, args.username, password, args.role, args.display_name or args.username))
    print(f"user {args.username} created")


def cmd_serve(args) -> None:
    import uvicorn

    from .app import create_app
    from .demo import DEMO_PASSWORD, USERS

    settings = get_settings()
    host, port = args.host or settings.host, args.port or settings.port
    base = f"http://{host}:{port}"
    print(f"\nBaojing is serving on {base}\n"
          f"  caller (报警人):           {base}/m/\n"
          f"  command console (指挥中心): {base}/console/\n"
          f"  field officer (出警民警):    {base}/officer/\n"
          f"  administration (管理):      {base}/admin/\n"
          f"  API docs:                 {base}/docs\n"
          f"demo logins (password {DEMO_PASSWORD}): " + ", ".join(f"{u} ({r})" for u, _, r, _ in USERS) + "\n",
          flush=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", ws_ping_interval=20,
                ws_ping_timeout=20, proxy_headers=False, ws_per_message_deflate=False)


def main(argv: list[str] | None = None) -> None:
    from .auth.roles import ACCOUNT_ROLES

    p = argparse.ArgumentParser(prog="baojing", description="Baojing 报警 alarm platform")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="serve the web app")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.set_defaults(fn=cmd_serve)
    sub.add_parser("migrate", help="create or upgrade the database schema").set_defaults(fn=cmd_migrate)
    sub.add_parser("demo", help="seed demo districts, stations and accounts").set_defaults(fn=cmd_demo)
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
