"""Issue 7: the officer page's toast follows a language switch like the rest of the page (it kept the
language it was made in)."""
import pytest
from playwright.sync_api import expect

from browsing import shot
from officer_helpers import accepted_offer


@pytest.mark.parametrize("size", ["390", "1366"])
def test_the_toast_switches_language_with_the_page(server, browser, size):
    with accepted_offer(server, browser, size, "13800138012") as page:
        toast = page.get_by_test_id("toast")
        expect(toast).to_have_text("已接受派单")
        shot(page, f"officer-toast-zh-{size}")
        page.get_by_test_id("lang-toggle").click()
        expect(toast).to_have_text("Dispatch accepted")
        expect(page.get_by_test_id("assignment-status")).to_have_attribute("data-status", "accepted")
        shot(page, f"officer-toast-en-{size}")
        page.get_by_test_id("lang-toggle").click()
        expect(toast).to_have_text("已接受派单")
