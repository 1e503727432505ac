"""Loads every dashboard page reachable from the navigation, cold, and prints the timings (median of
ROUNDS) and the JS + CSS bytes. Used by run.sh."""

import shutil
import statistics
import sys

from playwright.sync_api import sync_playwright

url, token, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TIMING = """() => {
  const n = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  const assets = performance.getEntriesByType('resource')
    .filter(r => /\\.(js|css)(\\?|$)/.test(r.name))
    .reduce((sum, r) => sum + (r.decodedBodySize || 0), 0);
  return { answer: n.responseEnd - n.requestStart, dcl: n.domContentLoadedEventEnd,
           fcp: fcp ? fcp.startTime : null, load: n.loadEventEnd, html: n.decodedBodySize, assets };
}"""

with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=CHROMIUM,
                                args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
    first = browser.new_context()
    page = first.new_page()
    page.goto(url + "/ui/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/ui/")
    cookies = first.cookies()
    paths = ["/ui/"] + [a.get_attribute("href") for a in page.locator("nav.sections a").all()]
    # One level deeper: the first link of each section to a detail page.
    for section in list(paths):
        page.goto(url + section)
        for a in page.locator("main a[href^='/ui/']").all()[:1]:
            paths.append(a.get_attribute("href"))
    paths = list(dict.fromkeys(p for p in paths if p))
    first.close()
    print(f"{'page':40} {'answer':>8} {'DCL':>8} {'FCP':>8} {'load':>8} {'HTML':>9} {'JS+CSS':>9}")
    for path in paths:
        samples = []
        for _ in range(rounds):
            context = browser.new_context()
            context.add_cookies(cookies)
            tab = context.new_page()
            tab.goto(url + path, wait_until="load")
            samples.append(tab.evaluate(TIMING))
            context.close()
        med = {k: statistics.median(s[k] for s in samples if s[k] is not None)
               for k in samples[0] if any(s[k] is not None for s in samples)}
        print(f"{path:40} {med['answer']:7.1f}ms {med['dcl']:7.1f}ms {med.get('fcp', float('nan')):7.1f}ms "
              f"{med['load']:7.1f}ms {med['html']/1000:7.1f}KB {med['assets']/1000:7.1f}KB")
    browser.close()
