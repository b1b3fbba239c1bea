"""Browser contexts shaped like the people who use each page, and screenshots."""
from serving import BAOJING, ROOT, served  # noqa: F401  (the browser tests' server, from one place)

SHOTS = ROOT / "var" / "screenshots"


def phone_context(browser, lat: float, lon: float, accuracy: float = 20.0):
    return browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                               device_scale_factor=2, locale="zh-CN", geolocation={"latitude": lat, "longitude": lon,
                                                                                    "accuracy": accuracy},
                               permissions=["geolocation"])


def desk_context(browser):
    return browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"))
