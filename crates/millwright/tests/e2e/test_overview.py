"""Sign-in, the overview, the language switch, sessions and CSRF, as a browser sees them."""

import re

from conftest import assert_no_english, english_left, shot


def test_sign_in_overview_in_both_languages(server, signed_in):
    page = signed_in("admin")
    # The demo's dataset, production model and twin comparison are on the overview.
    assert page.locator("#ov-data + table").count() == 1
    assert "demo_milling" in page.locator("section[aria-labelledby=ov-data]").inner_text()
    assert "@" in page.locator("section[aria-labelledby=ov-model]").inner_text()
    assert page.locator("section[aria-labelledby=ov-twin] a").count() >= 1
    # ... with its business case: the margin's change against current practice and the payback.
    business = page.locator("#ov-business").inner_text()
    assert "Margin" in business and "Payback" in business and "months" in business
    shot(page, "overview")
    assert english_left(page), "the check must see English labels on the English page"

    page.click("nav.langs a[hreflang=zh-CN]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "概览" in page.locator("h1").inner_text()
    assert_no_english(page)
    shot(page, "overview-zh")
    # Remembered: a new page load keeps 中文.
    page.goto(server.url + "/ui/")
    assert "概览" in page.locator("h1").inner_text()


def test_a_wrong_token_is_refused_and_nothing_needs_javascript_to_sign_in(server, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server.url + "/ui/jobs/1")
    assert "/ui/login" in page.url
    page.fill("#token", "mw_" + "0" * 64)
    page.click("button[type=submit]")
    assert page.locator("p.error[role=alert]").count() == 1
    page.fill("#token", server.tokens["viewer"])
    page.click("button[type=submit]")
    # Back to the page asked for first.
    assert page.url.endswith("/ui/jobs/1")
    cookies = {c["name"]: c for c in context.cookies()}
    session = cookies["mw_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    context.close()


def test_viewer_sees_no_admin_or_train_section(server, signed_in):
    page = signed_in("viewer")
    nav = page.locator("nav.sections").inner_text()
    assert "Admin" not in nav and "Train" not in nav
    assert page.locator("main button, main form").count() == 0
    shot(page, "overview-viewer")


def test_changes_need_the_csrf_token_and_sign_out_ends_the_session(server, signed_in):
    page = signed_in("admin")
    request = page.context.request
    # The cookie alone does not authorise a change.
    refused = request.post(server.url + "/api/v1/jobs/999/cancel")
    assert refused.status == 403
    csrf = page.locator("meta[name=csrf-token]").get_attribute("content")
    allowed = request.post(server.url + "/api/v1/jobs/999/cancel", headers={"X-CSRF-Token": csrf})
    assert allowed.status == 404  # authorised; there is no job 999
    # Reads work with the cookie.
    assert request.get(server.url + "/api/v1/datasets").ok
    page.click("header .who button[type=submit]")
    page.wait_for_url(re.compile(r".*/ui/login$"))
    assert request.get(server.url + "/api/v1/datasets").status == 401
    page.goto(server.url + "/ui/")
    assert "/ui/login" in page.url


def test_revoking_the_token_ends_its_sessions(server, signed_in):
    server.cli("token", "create", "--name", "temp", "--role", "operator")
    secret = server.cli("token", "list").stdout  # the list never shows secrets
    assert "mw_" not in secret
    made = server.cli("token", "create", "--name", "temp2", "--role", "operator").stdout.strip()
    server.tokens["temp2"] = made
    page = signed_in("temp2")
    assert page.url.endswith("/ui/")
    server.cli("token", "revoke", "temp2")
    page.goto(server.url + "/ui/")
    assert "/ui/login" in page.url


def test_hostile_next_and_language_values_stay_on_the_server(server, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.url + "/ui/login?next=https://example.com/")
    page.fill("#token", server.tokens["viewer"])
    page.click("button[type=submit]")
    assert page.url == server.url + "/ui/"
    response = page.goto(server.url + "/ui/lang?to=zh&back=//example.com/x")
    assert page.url == server.url + "/ui/"
    assert page.goto(server.url + "/ui/lang?to=klingon").status == 400
    assert response is not None
    context.close()


def test_keyboard_and_tablet(server, signed_in):
    page = signed_in("operator", viewport=(768, 1024))
    # The first Tab reaches the skip link; following it puts the focus on the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
    # Every section is reachable by keyboard from the navigation.
    links = page.locator("nav.sections a")
    assert links.count() >= 5
    for i in range(links.count()):
        assert links.nth(i).evaluate("el => el.tabIndex") == 0
    # Nothing wider than a tablet's screen.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, "overview-tablet")
