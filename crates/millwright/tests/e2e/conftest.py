"""The dashboard's browser tests: a real `millwright serve` on a fresh home seeded by `millwright demo
--quick`, driven through the system Chromium by Playwright (never a downloaded browser).

Run by `cargo test -p millwright --test dashboard` (which sets MILLWRIGHT_BIN), or by hand:
    MILLWRIGHT_BIN=target/debug/millwright python3 -m pytest -q crates/millwright/tests/e2e

Every page a test opens is watched: a console error, an uncaught page error or a request to anything
but the server fails the test. Screenshots go to $MILLWRIGHT_E2E_OUT (default target/e2e).
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[4]
OUT = Path(os.environ.get("MILLWRIGHT_E2E_OUT", ROOT / "target" / "e2e"))

# Words that read the same in a Chinese plant's documents: abbreviations and units.
ALLOWED_LATIN = {
    "ROC", "PR", "AUC", "F1", "SQL", "CSV", "MLP", "GBDT", "CI", "KPI", "ID", "API", "UTC", "JSON",
    "OEE", "NPV", "ROI", "EUR", "CNY", "USD", "TOML", "HTML", "KB", "MB", "GB", "TB", "B",
    "Millwright", "production", "staging", "SHAP", "RMSE", "MAE", "P0", "P1", "V0", "V1", "AI",
}


def _bin():
    path = os.environ.get("MILLWRIGHT_BIN")
    if not path:
        candidate = ROOT / "target" / "debug" / "millwright"
        path = str(candidate)
    if not Path(path).exists():
        pytest.exit(f"no millwright binary at {path}: build it or set MILLWRIGHT_BIN", 2)
    return path


class Server:
    def __init__(self, home):
        self.bin = _bin()
        self.home = Path(home)
        self.tokens = {}
        self.proc = None
        self.url = None
        self.log = self.home.parent / "serve.log"

    def cli(self, *args, check=True):
        """Runs the binary on this home; returns the completed process (stdout text)."""
        done = subprocess.run(
            [self.bin, *args, "--home", str(self.home)],
            capture_output=True, text=True, timeout=600,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"millwright {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def start(self):
        self.cli("demo", "--quick")
        for name, role in [("admin", "admin"), ("operator", "operator"), ("viewer", "viewer")]:
            self.tokens[name] = self.cli("token", "create", "--name", name, "--role", role).stdout.strip()
        log = open(self.log, "w")
        self.proc = subprocess.Popen(
            [self.bin, "serve", "--home", str(self.home), "--bind", "127.0.0.1:0", "--json"],
            stdout=subprocess.PIPE, stderr=log, text=True,
        )
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError("millwright serve exited:\n" + self.log.read_text())
        self.url = json.loads(line)["listening"]

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture(scope="session")
def server():
    root = tempfile.mkdtemp(prefix="millwright-e2e-")
    s = Server(Path(root) / "home")
    try:
        s.start()
        yield s
    finally:
        s.stop()
        if os.environ.get("MILLWRIGHT_E2E_KEEP") is None:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"],
        )
        yield b
        b.close()


class Watch:
    """What a page did that it must not: console errors, page errors, requests outside the server."""

    def __init__(self, base):
        self.base = base
        self.problems = []

    def console(self, message):
        # A refused API call (a 4xx the page shows to the user) is logged by Chromium as a failed load;
        # that is the page working. Server errors and missing assets are caught in `response`.
        if message.type == "error" and not message.text.startswith(
            "Failed to load resource: the server responded with a status of 4"
        ):
            self.problems.append(f"console error: {message.text} at {message.location}")

    def response(self, response):
        if response.status >= 500 or ("/ui/static/" in response.url and response.status not in (200, 304)):
            self.problems.append(f"{response.status} for {response.url}")

    def page_error(self, error):
        self.problems.append(f"page error: {error}")

    def request(self, request):
        url = request.url
        if not (url.startswith(self.base + "/") or url == self.base or url.startswith(("data:", "blob:", "about:"))):
            self.problems.append(f"request outside the server: {url}")


@pytest.fixture
def signed_in(server, browser, request):
    """signed_in(role, lang="en") -> a Page signed in with that role's token at 1280×800."""
    contexts = []
    watches = []

    def open_as(role="admin", lang="en", viewport=(1280, 800)):
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                      locale="zh-CN" if lang == "zh" else "en-US",
                                      accept_downloads=True)
        contexts.append(context)
        watch = Watch(server.url)
        watches.append(watch)
        # Anything not for the server is refused before it leaves the browser (and reported).
        context.route(re.compile(r"^(?!" + re.escape(server.url) + r")https?://.*"), lambda route: route.abort())
        page = context.new_page()
        page.on("console", watch.console)
        page.on("pageerror", watch.page_error)
        page.on("request", watch.request)
        page.on("response", watch.response)
        page.goto(server.url + "/ui/")
        page.fill("#token", server.tokens[role])
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r".*/ui/$"))
        if lang == "zh":
            page.goto(server.url + "/ui/lang?to=zh&back=/ui/")
        return page

    yield open_as
    for context in contexts:
        context.close()
    problems = [p for w in watches for p in w.problems]
    assert not problems, "\n".join(problems)


def shot(page, name):
    """Saves a full-page screenshot under the e2e output folder."""
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)


_VISIBLE_TEXT = """
() => {
  const skip = (el) => el.closest('[translate="no"], [lang]:not([lang^="zh"]), script, style, pre, code, textarea, noscript');
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!el || skip(el)) continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden' || el.closest('[hidden]')) continue;
    const text = node.textContent.trim();
    if (text) out.push(text);
  }
  for (const el of document.querySelectorAll('[placeholder], [aria-label], [title], input[type=submit], input[type=button]')) {
    if (skip(el)) continue;
    for (const attr of ['placeholder', 'aria-label', 'title', 'value']) {
      if (attr === 'value' && !(el.type === 'submit' || el.type === 'button')) continue;
      const v = el.getAttribute(attr);
      if (v) out.push(v);
    }
  }
  out.push(document.title);
  return out;
}
"""


def english_left(page):
    """Latin words of two letters or more outside data (translate=no), code and allowed abbreviations."""
    found = []
    for text in page.evaluate(_VISIBLE_TEXT):
        for word in re.findall(r"[A-Za-z][A-Za-z]+", text):
            if word not in ALLOWED_LATIN:
                found.append((word, text[:80]))
    return found


def assert_no_english(page):
    left = english_left(page)
    assert not left, f"English left on {page.url} in 中文: {left[:20]}"
