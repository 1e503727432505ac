"""Live updates survive a dropped event stream: the job page reconnects by itself and keeps drawing.

The browser reaches the server through a small TCP relay the test can cut, as a flaky plant network or a
restarting proxy would; cookies do not depend on the port, so the signed-in session works through it.
"""

import re
import socket
import threading
import time
from urllib.parse import urlparse

DROP = ["UDI", "Product ID", "TWF", "HDF", "PWF", "OSF", "RNF"]


class Relay:
    """Forwards TCP connections to the server; `cut()` closes every open one (new ones still work)."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.open += [client, upstream]
            for a, b in [(client, upstream), (upstream, client)]:
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self):
        with self.lock:
            sockets, self.open = self.open, []
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self):
        self.listener.close()
        self.cut()


def _points(page):
    value = page.get_attribute("#job-loss-chart", "data-points", timeout=1000)
    return int(value) if value else 0


def _wait_points(page, more_than, seconds):
    """Polls from Python: the page's CSP forbids the string evaluation wait_for_function uses."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if _points(page) > more_than:
            return
        time.sleep(0.1)
    raise AssertionError(f"the loss curve did not grow past {more_than} points in {seconds} s")


def test_the_job_page_reconnects_after_the_stream_drops(server, browser):
    relay = Relay(urlparse(server.url).port)
    base = f"http://127.0.0.1:{relay.port}"
    context = browser.new_context()
    errors = []
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(base + "/ui/login")
        page.fill("#token", server.tokens["operator"])
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r".*/ui/$"))
        csrf = page.locator("meta[name=csrf-token]").get_attribute("content")
        started = context.request.post(
            base + "/api/v1/train",
            headers={"X-CSRF-Token": csrf},
            data={"dataset": "demo_milling", "target": "Machine failure", "drop": DROP,
                  "model": "mlp", "name": "live_check", "epochs": 400},
        )
        assert started.status == 202, started.text()
        job = started.json()["id"]
        page.goto(f"{base}/ui/jobs/{job}")
        _wait_points(page, 1, 120)
        banner = page.locator("#live-status")
        assert banner.is_hidden()

        # The connection breaks: the page says it is reconnecting, then the browser reconnects by itself.
        relay.cut()
        banner.wait_for(state="visible", timeout=30_000)
        before = _points(page)
        banner.wait_for(state="hidden", timeout=30_000)
        # The stream replays the job from its start: the curve is whole again and keeps growing.
        _wait_points(page, before, 60)

        # Stop the long training; the page shows the cancelled state by itself.
        page.click("button[data-api$='/cancel']")
        page.wait_for_selector("#job-state[data-state=cancelled]", timeout=60_000)
        assert not errors, errors
    finally:
        context.close()
        relay.close()
