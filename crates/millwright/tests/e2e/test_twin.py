"""Twin and business case: a comparison started from the form on the demo's line, its results (CI whiskers,
Gantt, throughput), its business case (payback, tornado) and report; the line editor's error positions;
中文; what a viewer sees."""

import json
import re

from conftest import assert_no_english, shot

RUN_ID = re.compile(r"twin-\d{8}T\d{6}-[0-9a-f]+")


def finish_job(page, timeout=240_000):
    """Waits on a job page until the job has succeeded (the page reloads with the result)."""
    page.wait_for_url(re.compile(r".*/ui/jobs/\d+$"))
    page.wait_for_selector("#job-state[data-state=succeeded]", timeout=timeout)
    page.wait_for_load_state()
    page.wait_for_selector("#job[data-final=true]", timeout=30_000)


def demo_comparison(server):
    """The demo's comparison run: the one its report was built from."""
    summary = json.loads((server.home / "reports" / "demo" / "summary.json").read_text())
    return summary["twin"]["run_id"]


def test_compare_from_the_form_then_results_business_case_and_report(server, signed_in):
    page = signed_in("operator")
    page.goto(server.url + "/ui/twin")
    assert page.locator("#twin-runs tbody tr").count() >= 2
    shot(page, "twin")

    # The demo's line: the line file stored with its comparison.
    demo = demo_comparison(server)
    page.goto(server.url + "/ui/twin")
    form = page.locator("#compare-form")
    form.locator("select[name=line]").select_option(f"twin/{demo}/line.toml")
    form.locator("#cmp-p-run-to-failure").uncheck()
    form.locator("#cmp-p-preventive").check()
    form.locator("#cmp-p-predictive").check()
    form.locator("#cmp-reps").fill("2")
    form.locator("#cmp-horizon").fill("2d")
    form.locator("button[type=submit]").click()
    finish_job(page)
    run_id = RUN_ID.search(page.locator("#job").inner_text()).group(0)
    page.click(f"a[href='/ui/twin/runs/{run_id}']")
    page.wait_for_url(re.compile(f".*/ui/twin/runs/{run_id}$"))

    # KPIs with whiskers, one bar per policy; the Gantt chart of replication 0; throughput drawn by uPlot.
    first = page.locator("svg.whiskers").first
    assert page.locator("svg.whiskers").count() >= 4
    assert first.locator("rect.bar").count() == 2
    assert first.locator("line.whisker").count() == 6
    assert page.locator("svg.gantt").count() == 2
    assert page.locator("svg.gantt").first.locator("rect").count() > 10
    assert page.locator("#run-gantt ~ figure ul.legend li").count() >= 2
    page.locator("#throughput-chart .uplot").wait_for()
    shot(page, "twin-run")

    # Its business case: measured against the line's current practice.
    page.click(f"a[href='/ui/business/{run_id}']")
    page.wait_for_url(re.compile(f".*/ui/business/{run_id}$"))
    assert page.locator("#bc-payback").count() == 1
    page.locator("#payback-chart .uplot").wait_for()
    assert page.locator("svg#tornado rect").count() >= 2
    assert page.locator("#impact-paths tbody tr").count() >= 4

    # No report yet: the operator builds it, and it is then one click away.
    page.click("#build-report")
    finish_job(page)
    page.goto(server.url + f"/ui/business/{run_id}")
    shot(page, "business")
    page.click("a.report-link")
    page.wait_for_url(re.compile(f".*/api/v1/reports/{run_id}$"))
    assert page.locator("section#business").count() == 1
    assert page.locator("section#sensitivity img").count() >= 1

    # 中文: no English label left on the twin pages.
    for path in ["/ui/twin", f"/ui/twin/runs/{run_id}", "/ui/business", f"/ui/business/{run_id}"]:
        page.goto(server.url + "/ui/lang?to=zh&back=" + path)
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        assert_no_english(page)
    page.goto(server.url + "/ui/lang?to=en&back=/ui/")


def test_the_demo_run_has_its_report_and_the_optimisation_its_curve(server, signed_in):
    page = signed_in("viewer")
    demo = demo_comparison(server)
    page.goto(server.url + f"/ui/business/{demo}")
    # The demo's report was built from this run (it is named `demo`).
    link = page.locator("a.report-link")
    assert link.count() == 1
    assert link.get_attribute("href") == "/api/v1/reports/demo"
    assert page.locator("#bc-cards .card").count() >= 4
    page.goto(server.url + "/ui/twin")
    optimisation = page.locator("#twin-runs tbody tr", has_text="optimisation").first
    optimisation.locator("a").first.click()
    page.locator("#optimisation-chart .uplot").wait_for()
    assert page.locator("#optimisation-best").inner_text().strip() != ""
    page.goto(server.url + "/ui/lang?to=zh&back=" + page.url.split(server.url, 1)[1])
    assert_no_english(page)


def test_optimise_a_threshold_from_the_form(server, signed_in):
    page = signed_in("operator")
    page.goto(server.url + "/ui/twin")
    form = page.locator("#optimise-form")
    # The newest stored run of the demo's line (the list offers each line once).
    stored = form.locator("select[name=line] optgroup").last.locator("option").first.get_attribute("value")
    assert stored.startswith("twin/") and stored.endswith("/line.toml")
    form.locator("select[name=line]").select_option(stored)
    form.locator("#opt-policy").select_option("predictive")
    form.locator("#opt-parameter").select_option("threshold")
    form.locator("#opt-values").fill("0.2, 0.5")
    form.locator("#opt-reps").fill("1")
    form.locator("#opt-horizon").fill("2d")
    form.locator("button[type=submit]").click()
    finish_job(page)
    run_id = RUN_ID.search(page.locator("#job").inner_text()).group(0)
    page.click(f"a[href='/ui/twin/runs/{run_id}']")
    page.locator("#optimisation-chart .uplot").wait_for()
    assert page.locator("section[aria-labelledby=run-optimisation] details table tbody tr").count() == 2
    assert page.locator("section[aria-labelledby=run-optimisation] tr.chosen").count() == 1
    # An optimisation has no business case of its own.
    assert page.locator(f"a[href='/ui/business/{run_id}']").count() == 0


def test_a_line_file_with_an_error_shows_where_it_is(server, signed_in):
    page = signed_in("operator")
    page.goto(server.url + "/ui/twin")
    page.locator("#new-line summary").click()
    page.fill("#nl-file", "edited-line.toml")
    page.select_option("#nl-from", "example")
    page.locator("#new-line button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/ui/twin/new-line\?.*"))
    text = page.locator("#line-text").input_value()
    assert "[[stations]]" in text

    # A TOML syntax error: the message names its line and column.
    broken = text.replace("buffers = [10, 10, 10, 10]", "buffers = [10, 10,, 10]", 1)
    assert broken != text
    want_line = broken.splitlines().index("buffers = [10, 10,, 10]") + 1
    page.fill("#line-text", broken)
    page.click("button[name=intent][value=save]")
    error = page.locator("#line-error")
    error.wait_for()
    assert re.fullmatch(rf"line {want_line}, column \d+", error.locator(".where").inner_text()), error.inner_text()
    assert "edited-line.toml" not in error.inner_text()
    # The caret waits at the error.
    assert page.evaluate("document.activeElement.id") == "line-text"
    caret = page.evaluate("document.activeElement.selectionStart")
    assert broken[:caret].count("\n") + 1 == want_line
    assert not (server.home / "edited-line.toml").exists()
    shot(page, "line-edit")

    # 中文 shows the same place in its own words.
    page.goto(server.url + "/ui/lang?to=zh&back=/ui/twin")
    page.goto(server.url + "/ui/twin/new-line?file=edited-line.toml&from=example")
    page.fill("#line-text", broken)
    page.click("button[name=intent][value=check]")
    page.locator("#line-error").wait_for()
    assert page.locator("#line-error .where").inner_text().startswith(f"第 {want_line} 行")
    assert_no_english(page)
    page.goto(server.url + "/ui/lang?to=en&back=/ui/twin")

    # A value out of range: pointed at its field.
    page.goto(server.url + "/ui/twin/new-line?file=edited-line.toml&from=example")
    bad_value = text.replace("scrap = 0.005", "scrap = 1.5", 1)
    page.fill("#line-text", bad_value)
    page.click("button[name=intent][value=save]")
    page.locator("#line-error").wait_for()
    want_line = bad_value.splitlines().index("scrap = 1.5") + 1
    assert page.locator("#line-error .where").inner_text() == f"line {want_line}, column 1"

    # Valid: saved, listed, and a comparison can start from it.
    page.fill("#line-text", text.replace('name = "milling-line"', 'name = "edited-line"', 1))
    page.click("button[name=intent][value=save]")
    page.wait_for_url(re.compile(r".*/ui/twin/lines/edited-line\.toml\?saved=1$"))
    assert page.locator("#line-status").count() == 1
    assert (server.home / "edited-line.toml").read_text().count("edited-line") == 1
    page.goto(server.url + "/ui/twin")
    assert page.locator("#line-files a[href='/ui/twin/lines/edited-line.toml']").count() == 1
    # The save is in the audit log, with who saved it.
    audit = server.cli("audit").stdout
    assert "/ui/twin/lines/edited-line.toml" in audit and "operator" in audit

    # Names with a folder or `..` are refused.
    bad = page.goto(server.url + "/ui/twin/new-line?file=..%2Fescape.toml")
    assert bad.status == 400 or bad.status == 422


def test_viewer_sees_no_start_or_save_control(server, signed_in):
    line = server.home / "viewer-line.toml"
    if not line.exists():
        demo_line = next((server.home / "twin").glob("*/line.toml"))
        line.write_text(demo_line.read_text())
    # On a tablet: nothing wider than the screen either.
    page = signed_in("viewer", viewport=(768, 1024))
    demo = demo_comparison(server)
    for path in ["/ui/twin", f"/ui/twin/runs/{demo}", "/ui/business", f"/ui/business/{demo}",
                 "/ui/twin/lines/viewer-line.toml"]:
        page.goto(server.url + path)
        page.wait_for_load_state("networkidle")
        assert page.locator("main form, main button, main textarea").count() == 0, path
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    assert "[[stations]]" in page.locator("pre#line-text").inner_text()
    # The server refuses a viewer's save and a viewer's editor for a new file.
    csrf = page.locator("meta[name=csrf-token]").get_attribute("content")
    refused = page.context.request.post(server.url + "/ui/twin/lines/viewer-line.toml",
                                        form={"csrf": csrf, "text": "name = 'x'"})
    assert refused.status == 403
    assert page.goto(server.url + "/ui/twin/new-line?file=v.toml").status == 403
    assert "[[stations]]" in line.read_text()
