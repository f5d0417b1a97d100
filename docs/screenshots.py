"""Phone screenshots of a running shop, for the README (``make screenshots``).

Start the shop first (``make run``: the demo catalogue and schools), then::

    .venv/bin/python docs/screenshots.py                       # zh_CN, 360 × 800
    .venv/bin/python docs/screenshots.py --locale ja --width 1280 --out /tmp/shots

It drives Debian's Chromium (``/usr/bin/chromium`` or ``CHROMIUM_PATH``; never
``playwright install``) through the pages a parent on a phone sees — a product page, a
school's uniform shop and a filled cart — and saves one PNG each: ``product.png``,
``school-shop.png``, ``cart.png``. The cart gets two pieces of the product; the shop's own
cart is this browser's, so a running shop's other carts are not touched.
"""

import argparse
import os
import shutil
import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

OUT = Path(__file__).resolve().parent / "screenshots"
WAIT_MS = 15_000


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:5000")
    parser.add_argument("--locale", default="zh_CN", choices=("en", "zh_CN", "ja"))
    parser.add_argument("--width", type=int, default=360)
    parser.add_argument("--height", type=int, default=800)
    parser.add_argument("--scale", type=float, default=1, help="device pixels per CSS pixel")
    parser.add_argument("--full-page", action="store_true", help="the whole page, not one screen")
    parser.add_argument("--product", default="school-polo-short-sleeve")
    parser.add_argument("--school", default="hangzhou-xixi-primary")
    parser.add_argument("--access-code", default="", help="for a private school's shop")
    parser.add_argument("--out", type=Path, default=OUT)
    return parser.parse_args(argv)


def choose_language(page: Page, base_url: str, locale: str) -> None:
    """The header's preferences form, sent as a visitor would (it may sit in a closed menu
    on a phone, so it is submitted from the page rather than clicked)."""
    page.goto(base_url + "/")
    with page.expect_navigation():
        page.evaluate(
            """locale => {
                const select = document.getElementById('pref-locale');
                select.value = locale;
                select.form.submit();
            }""",
            locale,
        )


def fill_cart(page: Page, base_url: str, product: str) -> None:
    page.goto(f"{base_url}/products/{product}")
    page.locator("input.qty:not([disabled])").first.fill("2")
    page.get_by_test_id("add-to-cart").click()
    page.get_by_test_id("flash").wait_for()


def open_school(page: Page, base_url: str, school: str, access_code: str) -> None:
    page.goto(f"{base_url}/schools/{school}")
    form = page.get_by_test_id("access-code-form")
    if form.count():
        if not access_code:
            raise SystemExit(f"{school} is private: give --access-code")
        form.locator("input[name=code]").fill(access_code)
        form.locator("button[type=submit]").click()
        page.get_by_test_id("kit-form").wait_for()


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if chromium is None:
        print("Chromium is not installed (apt-get install -y chromium).", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    base = args.base_url.rstrip("/")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context(
            viewport={"width": args.width, "height": args.height},
            device_scale_factor=args.scale,
        )
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        choose_language(page, base, args.locale)

        def shoot(name: str) -> None:
            path = args.out / f"{name}.png"
            page.screenshot(path=str(path), full_page=args.full_page)
            print(path)

        page.goto(f"{base}/products/{args.product}")
        shoot("product")
        open_school(page, base, args.school, args.access_code)
        shoot("school-shop")
        fill_cart(page, base, args.product)
        page.goto(base + "/cart")
        shoot("cart")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
