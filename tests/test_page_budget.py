"""The caller's page must load fast on a slow 3G link: under 60 KB of JavaScript on first load,
counting every module the page loads by itself, statically or by `import()`; only modules loaded
on a caller's request (the map picker, with Leaflet) are left out."""
import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[1] / "baojing" / "web"
STATIC_IMPORT = re.compile(r'^\s*(?:import|export)\s+(?:[^"\'()]*?\s+from\s+)?["\']([^"\']+)["\']', re.M)
DYNAMIC_IMPORT = re.compile(r'\bimport\(\s*["\']([^"\']+)["\']\s*\)')
# The map picker (with Leaflet), and the video and text alarms (loaded when the caller taps 视频报警
# or 文字报警, or comes back to a call left open), and the English words (fetched when English is chosen:
# test_the_english_first_load_is_under_the_budget_too counts them).
ON_REQUEST = {"picker.js", "call.js", "callwords.js", "chat.js", "rtc.js", "i18n-en.js", "rating.js",
              # key-unit members only: loaded by the member login link or for a phone that logged in
              "member.js",
              # the length counters, loaded when the caller starts typing a name or a place
              "limit.js",
              # the tests' hook window.baojing, loaded under automation only (navigator.webdriver)
              "hook.js"}
# Scripts, and modules the page has the browser fetch ahead (fetched whether used or not).
SCRIPT = re.compile(r'<script[^>]*\bsrc=["\']([^"\']+)["\']|<link[^>]*\brel=["\']modulepreload["\'][^>]*\bhref=["\']([^"\']+)["\']')
BUDGET = 60 * 1024


def _resolve(ref: str, base: Path) -> Path:
    return WEB / ref.lstrip("/") if ref.startswith("/") else (base.parent / ref).resolve()


def first_load_js(page: Path, *also: Path) -> dict[Path, int]:
    """Every module `page` loads by itself, and those `also` (chosen by the caller) load with them."""
    todo = [_resolve(a or b, page) for a, b in SCRIPT.findall(page.read_text())] + list(also)
    seen: dict[Path, int] = {}
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        text = f.read_text()
        seen[f] = len(text.encode())
        # A static import always loads; an import() is left out only when it waits for the caller.
        refs = STATIC_IMPORT.findall(text) + [r for r in DYNAMIC_IMPORT.findall(text) if Path(r).name not in ON_REQUEST]
        todo += [_resolve(ref, f) for ref in refs]
    return seen


def _sizes(files: dict[Path, int]) -> dict[str, int]:
    return {str(f.relative_to(WEB)): n for f, n in sorted(files.items(), key=lambda x: -x[1])}


def test_the_callers_first_load_is_under_60_kb_of_javascript():
    files = first_load_js(WEB / "m" / "index.html")
    assert files, "the page loads no script at all?"
    assert sum(files.values()) < BUDGET, _sizes(files)


def test_the_english_first_load_is_under_the_budget_too():
    """A caller who chose English loads the English words on top of the page (the Chinese ones are
    the fallback every page carries)."""
    files = first_load_js(WEB / "m" / "index.html", WEB / "m" / "i18n-en.js")
    assert WEB / "m" / "i18n-en.js" in files
    assert sum(files.values()) < BUDGET, _sizes(files)
