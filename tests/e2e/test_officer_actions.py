"""The officer's status buttons: on a wide screen one compact row (they took 210 px of a 1366×768
screen, toast included, in two phone-sized rows); on a phone the big thumb targets stay. Chinese and
English; screenshots var/screenshots/officer-actions-*.png."""
import pytest
from playwright.sync_api import expect

from browsing import shot
from officer_helpers import accepted_offer

BUTTONS = ("status-en-route", "nav-primary", "status-on-scene", "status-backup", "status-clear")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("size", ["390", "1366"])
def test_the_status_buttons_are_one_row_on_a_wide_screen_and_thumb_sized_on_a_phone(server, browser, size, lang):
    with accepted_offer(server, browser, size, "13800138013", lang) as page:
        bar = page.get_by_test_id("status-actions")
        expect(bar).to_be_visible()
        expect(bar.get_by_test_id("toast")).to_be_visible()  # "accepted", a line of the bar
        page.wait_for_timeout(300)
        shot(page, f"officer-actions-{lang}-{size}")
        boxes = {t: page.get_by_test_id(t).bounding_box() for t in BUTTONS}
        height = bar.bounding_box()["height"]
        for t in BUTTONS:  # each label whole
            assert page.get_by_test_id(t).evaluate("(el) => el.scrollWidth <= el.clientWidth + 1"), t
        if size == "1366":
            # One row of buttons still easy to hit (the toast a line above it), less than 130 px
            # of the screen in all (it was 210).
            assert height <= 130, height
            assert len({round(b["y"]) for b in boxes.values()}) == 1, boxes
            assert all(48 <= b["height"] <= 60 for b in boxes.values()), boxes
        else:
            # The phone's thumb targets: the next step 76 px, the rest 56 px and more.
            assert boxes["status-en-route"]["height"] >= 76 and boxes["nav-primary"]["height"] >= 76, boxes
            assert all(boxes[t]["height"] >= 56 for t in BUTTONS[2:]), boxes
        # The bar covers none of the card: its end scrolls clear above the bar.
        page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
        last = page.locator("#card > *:not([hidden])").last
        assert last.bounding_box()["y"] + last.bounding_box()["height"] <= bar.bounding_box()["y"] + 1
