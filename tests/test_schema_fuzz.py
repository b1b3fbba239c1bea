"""schemathesis against the app's own OpenAPI schema: no input the schema allows (nor the invalid
input it generates next to it) may reach a server error, and every answer is one the schema
declares. Each operation is tried by an anonymous caller, a phone with a device token, and two
staff sessions (an administrator, who may use every console and admin route, and an officer).

`make test` runs a few examples per operation (BAOJING_FUZZ_EXAMPLES, default 3). The long run,
by hand (RELIABILITY.md):

    BAOJING_FUZZ_EXAMPLES=100 .venv/bin/pytest -q -m slow tests/test_schema_fuzz.py
"""
from __future__ import annotations

import os
import shutil

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, status_code_conformance

from baojing.app import create_app
from baojing.config import Settings
from baojing.demo import DEMO_PASSWORD
from serving import served

EXAMPLES = int(os.environ.get("BAOJING_FUZZ_EXAMPLES", "3"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory, sqlite_template):
    """A real `baojing serve` on its own copy of the migrated, seeded SQLite database."""
    tmp = tmp_path_factory.mktemp("fuzz")
    shutil.copy(sqlite_template, tmp / "fuzz.db")
    env = {**os.environ, "BAOJING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'fuzz.db'}",
           "BAOJING_MAP_TILES": "none", "BAOJING_MEDIA_DIR": str(tmp / "media"), "BAOJING_DEMO": "true"}
    with served(tmp, env) as base:
        yield base, tmp / "server.log"


@pytest.fixture(scope="module")
def callers(fuzz_server) -> dict[str, dict]:
    base, _ = fuzz_server
    r = httpx.post(base + "/api/device/terms", json={"version": httpx.get(base + "/api/terms").json()["version"]})
    out = {"anonymous": {}, "device": {"X-Device-Token": r.json()["device_token"]}}
    for name in ("admin", "officer"):
        r = httpx.post(base + "/api/auth/login", json={"username": name, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        out[name] = {"Cookie": f"bj_session={r.cookies['bj_session']}"}
    return out


# The schema the server publishes at /openapi.json, built from the same code without starting it.
schema = schemathesis.openapi.from_dict(create_app(Settings(map_tiles="none")).openapi())


def _try_as_everyone(case, fuzz_server, callers):
    base, log = fuzz_server
    for name, headers in callers.items():
        try:
            case.call_and_validate(base_url=base, headers=headers, checks=CHECKS, timeout=30)
        except Exception as e:
            tail = log.read_text()[-3000:]
            raise AssertionError(f"as {name}: {e}\n--- server log ---\n{tail}") from None


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_input_reaches_a_server_error(case, fuzz_server, callers):
    _try_as_everyone(case, fuzz_server, callers)


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=max(EXAMPLES, 100), deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_input_reaches_a_server_error_long(case, fuzz_server, callers):
    _try_as_everyone(case, fuzz_server, callers)
