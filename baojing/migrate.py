"""Run the Alembic migrations from code (CLI and tests)."""
from alembic import command
from alembic.config import Config

from .config import ROOT


def upgrade(database_url: str, revision: str = "head") -> None:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = database_url
    command.upgrade(cfg, revision)
