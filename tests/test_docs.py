"""The repository stands alone: every document its code and docs cite is in it."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CITED = re.compile(r"\b((?:docs/)?[A-Za-z_-]+\.md)\b")


def test_every_cited_markdown_file_exists():
    missing = []
    for path in [*ROOT.glob("baojing/**/*.py"), *ROOT.glob("baojing/web/**/*.js"), *ROOT.glob("tests/**/*.py"),
                 *ROOT.glob("bench/*.py"), *ROOT.glob("docs/*.md"), ROOT / "README.md"]:
        for name in CITED.findall(path.read_text(errors="replace")):
            if not ((ROOT / name).exists() or (path.parent / name).exists() or (ROOT / "docs" / name).exists()):
                missing.append(f"{path.relative_to(ROOT)}: {name}")
    assert missing == []
