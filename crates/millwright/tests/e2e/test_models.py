"""Models and runs, and Train: start a training from the form and watch its loss curve grow live, open the
new version, promote it and roll the alias back, filter the runs and compare two, in English and 中文; a
viewer finds no control that changes anything and no Train page."""

import re
import time

from conftest import assert_no_english, shot

EPOCHS = 40


def _alias_version(page, alias):
    row = page.locator(f"#alias-list tr[data-alias={alias}]")
    if row.count() == 0:
        return None
    return int(row.locator("td.num").inner_text().strip())


def _promote(page, alias, version):
    with page.expect_navigation():
        page.click(f"button[data-promote='{alias}@{version}']")
    page.wait_for_load_state()


def test_train_from_the_form_watch_it_live_then_promote_and_roll_back(server, signed_in):
    page = signed_in("operator")
    page.goto(server.url + "/ui/train")
    # The dataset is chosen by a GET form: the server renders its columns, filled in from its last
    # training (with one dataset in the lake they are there at once).
    page.select_option("#pick-dataset", "demo_milling")
    with page.expect_navigation():
        page.click("#train-dataset button[type=submit]")
    assert "dataset=demo_milling" in page.url
    assert page.locator("#train-form").count() == 1
    assert page.locator("#target").input_value() == "Machine failure"
    assert page.locator("#drop-columns input[value=UDI]").is_checked()
    page.select_option("#target", "Machine failure")
    for column in ["UDI", "Product ID", "TWF", "HDF", "PWF", "OSF", "RNF"]:
        page.check(f"#drop-columns input[value='{column}']")
    page.select_option("#model", "mlp")
    page.fill("#name", "failure")
    page.fill("#epochs", str(EPOCHS))
    page.fill("#features", "power=\"Torque [Nm]\" * \"Rotational speed [rpm]\"")
    shot(page, "train")
    with page.expect_navigation(url=re.compile(r".*/ui/jobs/\d+$")):
        page.click("#train-form button[type=submit]")

    # The loss curve is drawn while the job runs: its point count grows epoch by epoch.
    seen = []
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            points = page.get_attribute("#job-loss-chart", "data-points", timeout=500)
            state = page.get_attribute("#job-state", "data-state", timeout=500)
        except Exception:  # the page reloads itself when the job ends
            points, state = None, None
        if points:
            if not seen or seen[-1] != int(points):
                seen.append(int(points))
            if len(seen) == 3:
                assert page.locator("#job-loss-chart canvas").count() >= 1
                shot(page, "job-train")
        if state in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.05)
    assert len(seen) >= 2 and seen == sorted(seen) and seen[-1] > seen[0], f"loss points seen: {seen}"
    page.wait_for_selector("#job-state[data-state=succeeded]", timeout=120_000)
    page.wait_for_selector("#job-trained a", timeout=30_000)
    if len(seen) < 3:
        shot(page, "job-train")
    # The finished job keeps its loss curve, and reads in 中文 with no English left (legend included).
    job_path = page.url[len(server.url):]
    page.wait_for_selector("#job-loss-chart canvas")
    page.goto(server.url + "/ui/lang?to=zh&back=" + job_path)
    page.wait_for_selector("#job-loss-chart canvas")
    assert "训练集" in page.locator("#job-loss-chart").inner_text()
    assert_no_english(page)
    page.goto(server.url + "/ui/lang?to=en&back=" + job_path)
    link = page.locator("#job-trained a").first
    match = re.search(r"/ui/models/failure/(\d+)$", link.get_attribute("href"))
    assert match, link.get_attribute("href")
    version = int(match.group(1))
    assert version >= 2

    # The new version: its summary, metrics, curves drawn by the browser, confusion matrix, importance.
    link.click()
    page.wait_for_url(re.compile(rf".*/ui/models/failure/{version}$"))
    assert "mlp" in page.locator("section[aria-labelledby=v-summary]").inner_text()
    for chart in ["roc", "pr", "calibration"]:
        page.wait_for_selector(f"#{chart}-chart canvas")
    assert page.locator("#confusion tbody td.num").count() == 4
    assert page.locator("#importance-bars rect.bar").count() >= 3
    assert "power" in page.locator("section[aria-labelledby=v-importance]").inner_text()
    shot(page, "model")

    # Promote: the previous version to staging, then the new one; roll back: staging names the previous.
    page.goto(server.url + "/ui/models/failure")
    _promote(page, "staging", version - 1)
    assert _alias_version(page, "staging") == version - 1
    _promote(page, "staging", version)
    assert _alias_version(page, "staging") == version
    assert page.locator("#model-history + div table tbody tr").count() >= 2
    page.on("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("button[data-rollback=staging]")
    page.wait_for_load_state()
    assert _alias_version(page, "staging") == version - 1
    page.goto(server.url + f"/ui/models/failure/{version - 1}")
    assert "staging" in page.locator("#version-aliases").inner_text()

    # The registry lists both versions, with the alias.
    page.goto(server.url + "/ui/models")
    table = page.locator("section[aria-labelledby=model-failure] table").inner_text()
    assert f"failure@{version}" in table and "staging" in table
    shot(page, "models")


def _mlp_runs(server, page, wanted):
    """At least `wanted` finished MLP runs (short CLI trainings make up the difference)."""
    page.goto(server.url + "/ui/runs?status=finished&model=mlp")
    have = page.locator("#runs tbody tr").count()
    for i in range(have, wanted):
        server.cli("train", "--dataset", "demo_milling", "--target", "Machine failure",
                   "--drop", "UDI,Product ID,TWF,HDF,PWF,OSF,RNF", "--model", "mlp",
                   "--epochs", str(5 + 3 * i), "--name", "compare-me")


def test_runs_filter_and_compare_two(server, signed_in):
    page = signed_in("viewer")
    _mlp_runs(server, page, 2)
    page.goto(server.url + "/ui/runs")
    total = page.locator("#runs tbody tr").count()
    assert total >= 2
    # Filter by the GET form: state and model kind.
    page.select_option("#status", "finished")
    page.select_option("#model", "mlp")
    with page.expect_navigation():
        page.click("#run-filters button[type=submit]")
    assert "status=finished" in page.url and "model=mlp" in page.url
    kinds = page.locator("#runs tbody tr td:nth-child(5)").all_inner_texts()
    assert len(kinds) >= 2 and all(k == "mlp" for k in kinds), kinds
    page.select_option("#model", "logistic")
    with page.expect_navigation():
        page.click("#run-filters button[type=submit]")
    assert page.locator("#no-runs").count() == 1
    page.goto(server.url + "/ui/runs?status=finished&model=mlp")
    shot(page, "runs")

    # One run: its per-epoch loss curve.
    first = page.locator("#runs tbody tr").nth(0).get_attribute("data-run")
    second = page.locator("#runs tbody tr").nth(1).get_attribute("data-run")
    page.goto(server.url + f"/ui/runs/{first}")
    page.wait_for_selector("#epochs-loss-chart canvas")
    assert page.locator("#run-metrics + table tbody tr").count() > 3

    # Two compared: both runs' curves on one chart, the metrics' change.
    page.goto(server.url + "/ui/runs?status=finished&model=mlp")
    page.check(f"#runs tr[data-run='{first}'] input[name=a]")
    page.check(f"#runs tr[data-run='{second}'] input[name=b]")
    with page.expect_navigation():
        page.click("#run-compare button[type=submit]")
    assert f"a={first}" in page.url and f"b={second}" in page.url
    page.wait_for_selector("#epochs-loss-chart canvas")
    legend = page.locator("#epochs-loss-chart").inner_text()
    assert "A loss/train" in legend and "B loss/train" in legend
    assert page.locator("#compare-metrics tbody tr").count() > 3
    shot(page, "runs-compare")

    # The same comparison through the API agrees on the runs.
    api = page.context.request.get(server.url + f"/api/v1/runs/compare?a={first}&b={second}").json()
    assert api["a"] == first and api["b"] == second

    page.goto(server.url + f"/ui/lang?to=zh&back=/ui/runs/compare?a={first}%26b={second}")
    assert "对比" in page.locator("h1").inner_text()
    assert_no_english(page)


def test_chinese_pages_and_what_a_viewer_may_not_do(server, signed_in):
    zh = signed_in("operator", lang="zh")
    run = zh.context.request.get(server.url + "/api/v1/runs/latest").json()["id"]
    for path in ["/ui/models", "/ui/models/failure", "/ui/models/failure/1", "/ui/runs",
                 f"/ui/runs/{run}", "/ui/runs/compare", "/ui/train"]:
        response = zh.goto(server.url + path)
        assert response.status == 200, path
        assert zh.locator("html").get_attribute("lang") == "zh-CN"
        assert_no_english(zh)
    zh.goto(server.url + "/ui/models/failure/1")
    shot(zh, "model-zh")
    # Operators see promote controls; on the Chinese page too.
    zh.goto(server.url + "/ui/models/failure")
    assert zh.locator("button[data-promote]").count() >= 1

    # A tablet reads every page without scrolling sideways (wide tables scroll in their own box).
    tablet = signed_in("viewer", viewport=(768, 1024))
    for path in ["/ui/models", "/ui/models/failure", "/ui/models/failure/1", "/ui/runs", f"/ui/runs/{run}"]:
        tablet.goto(server.url + path)
        assert tablet.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    shot(tablet, "model-tablet")

    viewer = signed_in("viewer")
    for path in ["/ui/models", "/ui/models/failure", "/ui/models/failure/1", "/ui/runs",
                 f"/ui/runs/{run}"]:
        viewer.goto(server.url + path)
        assert viewer.locator("main [data-api], main button[data-promote], main button[data-rollback]").count() == 0, path
    assert viewer.locator("nav.sections a[href='/ui/train']").count() == 0
    # Asked for anyway (not by navigation: the browser would log the 403 as a console error).
    refused = viewer.context.request.get(server.url + "/ui/train")
    assert refused.status == 403
    assert "train-form" not in refused.text()
    # The API refuses a viewer's training and promote as well.
    csrf = viewer.locator("meta[name=csrf-token]").get_attribute("content")
    request = viewer.context.request
    train = request.post(server.url + "/api/v1/train", headers={"X-CSRF-Token": csrf},
                         data={"dataset": "demo_milling", "target": "Machine failure"})
    assert train.status == 403
    promote = request.post(server.url + "/api/v1/models/failure/aliases/staging",
                           headers={"X-CSRF-Token": csrf}, data={"version": 1})
    assert promote.status == 403
