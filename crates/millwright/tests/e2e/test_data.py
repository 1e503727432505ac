"""Data: upload a CSV through the form and watch its ingest job, the dataset's schema, histograms,
quarantine (filtered by reason) and history; the SQL console with paging, a chart and a CSV download;
中文; what a viewer sees."""

import random
import re
from urllib.parse import quote

from conftest import assert_no_english, shot

COLUMNS = ["UDI", "Product ID", "Type", "Air temperature [K]", "Process temperature [K]",
           "Rotational speed [rpm]", "Torque [Nm]", "Tool wear [min]", "主轴温度", "Machine failure"]
ROWS = 120
# Rows (1-based data rows) that cannot be stored: stray text in a numeric column (under the 2 % a
# numeric column tolerates) and a row with too few fields.
BAD_TORQUE = {17, 64}
SHORT_ROW = 90


def ai4i_csv(path):
    rng = random.Random(14)
    lines = [",".join(f'"{c}"' if " " in c else c for c in COLUMNS)]
    for i in range(1, ROWS + 1):
        kind = rng.choice("LMH")
        torque = "#VALUE!" if i in BAD_TORQUE else f"{rng.gauss(40, 8):.1f}"
        row = [str(i), f"{kind}{14000 + i}", kind, f"{rng.gauss(300, 2):.1f}", f"{rng.gauss(310, 1.5):.1f}",
               str(int(rng.gauss(1500, 150))), torque, str(rng.randint(0, 240)), f"{rng.gauss(45, 3):.2f}",
               str(int(rng.random() < 0.08))]
        if i == SHORT_ROW:
            row = row[:5]
        lines.append(",".join(row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_upload_ingest_and_explore_a_dataset(server, signed_in, tmp_path):
    page = signed_in("operator")
    page.goto(server.url + "/ui/data")
    assert page.locator("#datasets").get_by_text("demo_milling").count() == 1
    page.set_input_files("#upload-file", str(ai4i_csv(tmp_path / "line3.csv")))
    page.fill("#upload-name", "e2e_line3")
    page.select_option("#upload-mode", "create")
    shot(page, "data")
    # A refused name is told in the form, with the API's reason.
    page.fill("#upload-name", "bad/name")
    page.click("#upload button[type=submit]")
    page.locator("#upload output.error").wait_for()
    assert "bad/name" in page.locator("#upload output").inner_text()
    page.fill("#upload-name", "e2e_line3")
    page.click("#upload button[type=submit]")
    page.wait_for_url(re.compile(r".*/ui/jobs/\d+$"))
    # The job page follows the ingest live, then shows the result with a link back to the dataset.
    page.locator("#job-dataset").wait_for(timeout=60_000)
    assert page.locator("#job-state").get_attribute("data-state") == "succeeded"
    page.click("#job-dataset")
    page.wait_for_url(re.compile(r".*/ui/data/e2e_line3$"))

    schema = page.locator("#schema-table")
    assert schema.get_by_text("主轴温度", exact=True).count() == 1
    assert schema.locator("tr", has_text="Torque [Nm]").inner_text().count("double") == 1
    summary = page.locator("#quality-summary").inner_text()
    assert re.search(r"Rows read\s+120", summary) and re.search(r"Rows quarantined\s+3", summary)
    # One histogram per numeric column, the Chinese-named one too, with its numbers in a table.
    figures = page.locator("figure.histogram")
    assert figures.count() == 8
    chinese = figures.filter(has_text="主轴温度")
    assert chinese.locator("svg rect.bar").count() == 20
    counts = [int(c.replace(",", "")) for c in chinese.locator("details td.num").all_text_contents()]
    assert sum(counts) == ROWS - 3
    # The quality report's 1 %, 50 % and 99 % quantiles of the column are marked on it.
    assert chinese.locator("svg line.quantile").count() == 3

    # The quarantine: where each bad row came from and why; filtered by one reason.
    rows = page.locator("#quarantine-table tbody tr")
    assert rows.count() == 3
    lines = sorted(int(t) for t in page.locator("#quarantine-table tbody tr td:nth-child(3)").all_inner_texts())
    assert lines == sorted([n + 1 for n in BAD_TORQUE] + [SHORT_ROW + 1])  # the header is line 1
    assert rows.filter(has_text="#VALUE!").filter(has_text="not a valid float").count() == 2
    # ... named by the file the user uploaded, not the server's scratch copy.
    files = set(page.locator("#quarantine-table tbody tr td:nth-child(2)").all_inner_texts())
    assert files == {"line3.csv"}, files
    reason = page.locator("#quarantine-reason option", has_text="expected").get_attribute("value")
    page.select_option("#quarantine-reason", reason)
    page.click("section[aria-labelledby=quarantine] button[type=submit]")
    page.wait_for_url(re.compile(r".*reason=.*"))
    assert rows.count() == 1 and "expected 10 fields" in rows.inner_text()
    shot(page, "dataset")

    # Time travel: a version of the history opens at that version.
    page.locator("#history-table a", has_text="0").first.click()
    page.wait_for_url(re.compile(r".*\?version=0$"))
    assert page.locator("#schema-table").get_by_text("主轴温度").count() == 1

    page.goto(server.url + "/ui/lang?to=zh&back=/ui/data/e2e_line3")
    assert_no_english(page)
    page.goto(server.url + "/ui/data")
    assert_no_english(page)


def test_the_quarantine_browser_pages(server, signed_in, tmp_path):
    # Every third row has too few fields: 66 quarantined rows, more than a page of the browser (50).
    lines = ["UDI,Torque [Nm],主轴温度"]
    for i in range(1, 201):
        lines.append(f"{i},{40 + i % 7}" if i % 3 == 0 else f"{i},{40 + i % 7},{45 + i % 5}")
    short = 200 // 3
    path = tmp_path / "many_bad.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    server.cli("ingest", str(path), "--dataset", "e2e_paged")
    page = signed_in("viewer")
    page.goto(server.url + "/ui/data/e2e_paged")
    rows = page.locator("#quarantine-table tbody tr")
    assert rows.count() == 50
    pager = page.locator("section[aria-labelledby=quarantine] nav.pager")
    pager.locator("a[rel=next]").click()
    page.wait_for_url(re.compile(r".*page=2.*"))
    assert rows.count() == short - 50
    assert pager.locator("a[rel=next]").count() == 0 and pager.locator("a[rel=prev]").count() == 1
    assert page.locator("#delete-dataset").count() == 0

    # Deleting is for admins: the dataset goes to the trash and leaves the list.
    operator = signed_in("operator")
    operator.goto(server.url + "/ui/data/e2e_paged")
    assert operator.locator("#delete-dataset").count() == 0
    admin = signed_in("admin")
    admin.goto(server.url + "/ui/data/e2e_paged")
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.click("#delete-dataset")
    admin.wait_for_url(re.compile(r".*/ui/data$"))
    assert admin.locator("#datasets").get_by_text("e2e_paged").count() == 0
    assert "e2e_paged" in server.cli("datasets", "trash").stdout


def test_sql_console_pages_charts_and_downloads(server, signed_in, tmp_path):
    page = signed_in("operator")
    page.goto(server.url + "/ui/sql")
    # Each dataset's name opens its first rows.
    page.locator("main p.hint a", has_text="demo_milling__quarantine").click()
    assert page.locator("#sql-q").input_value() == 'SELECT * FROM "demo_milling__quarantine" LIMIT 100'
    assert page.locator("table.result th", has_text="reason").count() == 1
    page.fill("#sql-q", 'SELECT "UDI", "Air temperature [K]", "Torque [Nm]" FROM demo_milling ORDER BY "UDI"')
    page.click("#sql-run")
    page.wait_for_url(re.compile(r".*/ui/sql\?q=.*"))
    table = page.locator("table.result")
    assert table.locator("tbody tr").count() == 50
    assert "1–50 of 3,000" in page.locator("#sql-count").inner_text()
    page.click("nav.pager a[rel=next]")
    assert "51–100 of 3,000" in page.locator("#sql-count").inner_text()
    assert table.locator("tbody tr").first.locator("td").first.inner_text() == "51"

    # A line chart in one click: first column on x, the numeric columns as series.
    page.click("#sql-line")
    page.locator("#sql-chart canvas").first.wait_for()

    # A grouped result as bars, and the CSV of it.
    page.fill("#sql-q", 'SELECT "Type", COUNT(*) AS machines, AVG("Torque [Nm]") AS torque '
                        'FROM demo_milling GROUP BY "Type" ORDER BY "Type"')
    page.click("#sql-run")
    page.click("#sql-bars")
    # One bar chart per numeric column: a count and an average do not share a scale.
    page.locator("#sql-chart canvas").first.wait_for()
    assert page.locator("#sql-chart .chart").count() == 2
    page.locator("#sql-chart .chart").nth(1).locator("canvas").wait_for()
    shot(page, "sql")
    with page.expect_download() as download:
        page.click("#sql-csv")
    path = tmp_path / "result.csv"
    download.value.save_as(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "Type,machines,torque"
    assert [line.split(",")[0] for line in lines[1:]] == ["H", "L", "M"]
    assert sum(int(line.split(",")[1]) for line in lines[1:]) == 3000

    # A query that is not read-only SQL is refused, with the engine's reason.
    page.fill("#sql-q", "DELETE FROM demo_milling")
    page.click("#sql-run")
    assert page.locator("section[aria-labelledby=sql-result] .error").count() == 1

    page.goto(server.url + "/ui/sql?q=SELECT+%22Type%22%2C+COUNT(*)+AS+n+FROM+demo_milling+GROUP+BY+1&chart=bars")
    page.goto(server.url + "/ui/lang?to=zh&back=" + quote(page.url.split(server.url, 1)[1], safe=""))
    page.locator("#sql-chart canvas").first.wait_for()
    assert_no_english(page)


def test_a_viewer_reads_and_queries_but_cannot_upload(server, signed_in):
    page = signed_in("viewer")
    page.goto(server.url + "/ui/data")
    assert page.locator("#datasets").count() == 1
    assert page.locator("#upload").count() == 0
    assert page.locator("main form[data-api], main button[data-api], input[type=file]").count() == 0
    page.goto(server.url + "/ui/data/demo_milling")
    assert page.locator("main form[data-api], main button[data-api]").count() == 0
    # A query only reads: the API lets viewers run it (GET /api/v1/sql), and so does the console.
    page.goto(server.url + "/ui/sql")
    page.fill("#sql-q", "SELECT COUNT(*) AS n FROM demo_milling")
    page.click("#sql-run")
    assert page.locator("table.result tbody td").inner_text() == "3000"
    assert page.locator("main form[data-api], main button[data-api]").count() == 0


def test_data_pages_fit_a_tablet(server, signed_in):
    page = signed_in("operator", viewport=(768, 1024))
    for path in ["/ui/data", "/ui/data/demo_milling",
                 "/ui/sql?q=SELECT+*+FROM+demo_milling+LIMIT+60&chart=line"]:
        page.goto(server.url + path)
        # Wide tables scroll inside their box; the page itself is no wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    page.locator("#sql-chart canvas").first.wait_for()
