"""The issue's 'done when': a newcomer runs `millwright demo`, then `millwright serve`, opens the printed
address, signs in with the printed token and finds the demo's dataset, model, twin comparison and business
case, in English and in Chinese."""

import re
import subprocess
import tempfile
from pathlib import Path

from conftest import Watch, _bin, assert_no_english, shot


def test_demo_then_serve_then_sign_in_with_the_printed_token(browser):
    home = Path(tempfile.mkdtemp(prefix="millwright-newcomer-")) / "home"
    binary = _bin()
    subprocess.run([binary, "demo", "--quick", "--home", str(home)], check=True,
                   capture_output=True, timeout=600)
    serve = subprocess.Popen([binary, "serve", "--home", str(home), "--bind", "127.0.0.1:0"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        printed = "".join(serve.stdout.readline() for _ in range(4))
        address = re.search(r"dashboard: (http://\S+/ui/)", printed).group(1)
        token = re.search(r"admin token (mw_[0-9a-f]{64})", printed).group(1)

        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        watch = Watch(address.removesuffix("/ui/"))
        page.on("console", watch.console)
        page.on("pageerror", watch.page_error)
        page.on("request", watch.request)
        page.on("response", watch.response)
        page.goto(address)
        page.fill("#token", token)
        page.click("button[type=submit]")
        page.wait_for_url(address)
        for lang in ["en", "zh"]:
            if lang == "zh":
                page.click("nav.langs a[hreflang=zh-CN]")
                page.wait_for_load_state()
            main = page.locator("main").inner_text()
            assert "demo_milling" in main and "failure@1" in main, main
            assert page.locator("#ov-business").count() == 1
            # The comparison and its business case, one click each.
            page.click("section[aria-labelledby=ov-twin] a[href^='/ui/twin/runs/']")
            assert page.locator("svg").count() >= 2
            page.go_back()
            page.click("section[aria-labelledby=ov-twin] a[href^='/ui/business/']")
            page.wait_for_selector("#bc-cards")
            if lang == "zh":
                assert_no_english(page)
            shot(page, f"newcomer-business-{lang}")
            page.go_back()
        context.close()
        assert not watch.problems, watch.problems
    finally:
        serve.terminate()
        serve.wait(timeout=30)
