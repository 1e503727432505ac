"""Admin: tokens made and revoked from the page, the audit log, and the role that may see it."""

import re

from conftest import assert_no_english, shot


def test_admin_creates_a_token_signs_in_with_it_and_revokes_it(server, signed_in, browser):
    page = signed_in("admin")
    page.goto(server.url + "/ui/admin")
    page.fill("#token-name", "line_lead")
    page.select_option("#token-role", "operator")
    page.click("form[data-api='/api/v1/tokens'] button[type=submit]")
    secret_box = page.locator("#new-secret pre")
    secret_box.wait_for(state="visible")
    secret = secret_box.inner_text().strip()
    assert re.fullmatch(r"mw_[0-9a-f]{64}", secret)
    shot(page, "admin")

    # The new token signs in, as an operator.
    context = browser.new_context()
    other = context.new_page()
    other.goto(server.url + "/ui/login")
    other.fill("#token", secret)
    other.click("button[type=submit]")
    other.wait_for_url(re.compile(r".*/ui/$"))
    assert "line_lead" in other.locator("header .who").inner_text()

    page.reload()
    row = page.locator("tr", has_text="line_lead")
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button.danger").click()
    page.wait_for_load_state()
    page.locator("tr", has_text="line_lead").filter(has_text="revoked").wait_for()
    # Its session ended with it.
    other.goto(server.url + "/ui/")
    assert "/ui/login" in other.url
    context.close()

    # Both changes are in the audit log, with who made them.
    audit = page.locator("section[aria-labelledby=audit]").inner_text()
    assert "POST /api/v1/tokens" in audit and "DELETE /api/v1/tokens/line_lead" in audit

    page.goto(server.url + "/ui/lang?to=zh&back=/ui/admin")
    assert_no_english(page)
    shot(page, "admin-zh")


def test_a_bad_token_name_is_refused_with_the_reason(server, signed_in):
    page = signed_in("admin")
    page.goto(server.url + "/ui/admin")
    # The browser's own check is bypassed: the server must refuse it too.
    page.evaluate("document.getElementById('token-name').removeAttribute('pattern')")
    page.fill("#token-name", "../etc")
    page.click("form[data-api='/api/v1/tokens'] button[type=submit]")
    out = page.locator("form[data-api='/api/v1/tokens'] output")
    out.filter(has_text=re.compile("token name")).wait_for()
    assert out.get_attribute("class") == "error"


def test_operators_and_viewers_cannot_open_admin(server, signed_in):
    for role in ["operator", "viewer"]:
        page = signed_in(role)
        response = page.goto(server.url + "/ui/admin")
        assert response.status == 403
        assert page.locator("main button").count() == 0
