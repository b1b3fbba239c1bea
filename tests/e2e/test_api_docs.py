"""/docs renders the API's operations in Chromium: Swagger UI comes from the installed
swagger-ui-dist package under the app's own CSP (FastAPI's default page loads it from a CDN, which
that CSP blocks, and showed a blank page)."""
from playwright.sync_api import expect

from browsing import desk_context, phone_context, shot


def test_the_api_docs_render_every_operation_with_nothing_refused(server, browser):
    for name, ctx in (("1366", desk_context(browser)), ("390", phone_context(browser, 41.566, 120.454))):
        page = ctx.new_page()
        refused, failed = [], []
        page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        page.on("pageerror", lambda e: refused.append(str(e)))
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.goto(f"{server}/docs")
        # Tags start folded (every tag open at once stops Swagger UI after a dozen operations):
        # every tag is listed, and each one opened draws all of its operations.
        tags = page.locator(".opblock-tag")
        expect(tags.first).to_be_visible(timeout=15_000)
        names = set(tags.evaluate_all("els => els.map(e => e.dataset.tag)"))
        assert {"alarms", "config", "identity", "console", "dispatch", "calls", "key units", "traffic"} <= names, names
        for tag in ("alarms", "config", "identity", "dispatch"):
            page.locator(f'.opblock-tag[data-tag="{tag}"]').click()
        for path in ("/api/config", "/api/alarms", "/api/auth/login", "/api/units"):
            expect(page.locator(".opblock-summary-path", has_text=path).first).to_be_attached(timeout=15_000)
        ops = page.locator(".opblock")
        paths = set(page.locator(".opblock-summary-path").all_inner_texts())
        assert {"/api/alarms", "/api/config", "/api/auth/login"} <= {p.strip().replace("\u200b", "") for p in paths}, paths
        assert ops.count() > 20
        # An operation opens with its parameters and responses.
        page.locator(".opblock-summary-path", has_text="/api/config").first.click()
        expect(page.locator(".opblock.is-open .responses-wrapper").first).to_be_visible()
        assert refused == [] and failed == [], (refused, failed)
        shot(page, f"docs-{name}")
        ctx.close()
