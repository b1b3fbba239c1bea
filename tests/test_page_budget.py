"""The caller's page must load fast on a slow 3G link: under 60 KB of JavaScript on first load,
counting every module the page loads by itself, statically or by `import()`; only modules loaded
on a caller's request (the map picker, with Leaflet) are left out."""
import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[1] / "baojing" / "web"
STATIC_IMPORT = re.compile(r'^\s*import\s+(?:[^"\'()]*?\s+from\s+)?["\']([^"\']+)["\']', re.M)
DYNAMIC_IMPORT = re.compile(r'\bimport\(\s*["\']([^"\']+)["\']\s*\)')
# The map picker (with Leaflet), and the video and text alarms (loaded when the caller taps 视频报警
# or 文字报警, or comes back to a call left open), and the English words (fetched when English is chosen:
# test_the_english_first_load_is_under_the_budget_too counts them).
ON_REQUEST = {"picker.js", "call.js", "callwords.js", "chat.js", "rtc.js", "i18n-en.js", "rating.js",
              # key-unit members only: loaded by the member login link or for a phone that logged in
              "member.js"}
SCRIPT = re.compile(r'<script[^>]*\bsrc=["\']([^"\']+)["\']')


def _resolve(ref: str, base: Path) -> Path:
    return WEB / ref.lstrip("/") if ref.startswith("/") else (base.parent / ref).resolve()


def first_load_js(page: Path) -> dict[Path, int]:
    todo = [_resolve(src, page) for src in SCRIPT.findall(page.read_text())]
    seen: dict[Path, int] = {}
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        text = f.read_text()
        seen[f] = len(text.encode())
        refs = STATIC_IMPORT.findall(text) + DYNAMIC_IMPORT.findall(text)
        todo += [_resolve(ref, f) for ref in refs if Path(ref).name not in ON_REQUEST]
    return seen


def test_the_callers_first_load_is_under_60_kb_of_javascript():
    files = first_load_js(WEB / "m" / "index.html")
    total = sum(files.values())
    assert files, "the page loads no script at all?"
    assert total < 60 * 1024, {str(f.relative_to(WEB)): n for f, n in files.items()}
