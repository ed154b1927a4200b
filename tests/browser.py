"""Open a page in headless Chromium and report what a user would see: console errors, image
load states, scripts, visible text; save a full-page screenshot.

Talks the Chrome DevTools Protocol over ``--remote-debugging-pipe`` (file descriptors 3 and
4, NUL-separated JSON), so it needs no websocket library and no free port. Used by the
browser test and by tests/benchmarks/report_default_suite.py.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-default-apps", "--disable-extensions", "--mute-audio",
    "--remote-debugging-pipe",
)  # fmt: skip


def find_chromium() -> str | None:
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class _Pipe:
    def __init__(self, proc, write_fd: int, read_fd: int, timeout: float):
        self.proc, self.w, self.r = proc, write_fd, read_fd
        self.deadline = time.monotonic() + timeout
        self.buf = b""
        self.next_id = 0
        self.events: list[dict] = []

    def _read_message(self) -> dict:
        while b"\0" not in self.buf:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self.r], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self.r, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"Chromium closed the pipe (exit {self.proc.poll()})")
                self.buf += chunk
        msg, _, self.buf = self.buf.partition(b"\0")
        return json.loads(msg)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._read_message()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str) -> dict:
        for i, e in enumerate(self.events):
            if e.get("method") == method:
                return self.events.pop(i)
        while True:
            e = self._read_message()
            if e.get("method") == method:
                return e
            self.events.append(e)


def _high_fd(fd: int) -> int:
    new = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return new


PAGE_STATE = """JSON.stringify({
  images: Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete,
                                                width: i.naturalWidth, height: i.naturalHeight})),
  scripts: document.scripts.length,
  text: document.body.innerText,
  title: document.title,
  broken_words: brokenWords(),
  left_numbers: leftNumbers()
})"""

# words the layout split over two lines (a name broken mid-word), and table cells holding a
# number that are not right-aligned, as the reader sees them
LAYOUT_CHECKS = r"""
function brokenWords() {
  // in table cells (names, numbers) any split counts; in prose and long cells (messages)
  // a line may end after a hyphen or a slash
  const out = [];
  for (const el of document.querySelectorAll('td, th, li, p, caption, h1, h2')) {
    const prose = !['TD', 'TH'].includes(el.tagName) || el.textContent.trim().length > 40;
    const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walk.nextNode())) {
      const re = /\S+/g;
      let m;
      while ((m = re.exec(node.data))) {
        const r = document.createRange();
        r.setStart(node, m.index);
        r.setEnd(node, m.index + m[0].length);
        const tops = new Set(Array.from(r.getClientRects()).filter(x => x.width > 0)
                             .map(x => Math.round(x.top)));
        if (tops.size > 1 && !(prose && /[-\/]/.test(m[0]))) out.push(m[0]);
      }
    }
  }
  return out;
}
function leftNumbers() {
  const number = /^[-+]?\$?\d[\d,]*(\.\d+)?( s| ms| MB|%)?( \[[-+\d.,]+, [-+\d.,]+\])?( \*)?$/;
  return Array.from(document.querySelectorAll('td'))
    .filter(td => number.test(td.textContent.trim()) &&
                  getComputedStyle(td).textAlign !== 'right')
    .map(td => td.textContent.trim());
}
"""


def inspect_page(url: str, screenshot: Path, timeout: float = 90.0,
                 first_screen: Path | None = None) -> dict:  # fmt: skip
    """Load ``url``; return {images, scripts, text, title, errors, broken_words, left_numbers};
    write ``screenshot`` (the whole page) and ``first_screen`` (what a 1280 x 900 window
    shows first)."""
    exe = find_chromium()
    if exe is None:
        raise FileNotFoundError("chromium is not installed (apt-get install -y chromium)")
    to_chrome_r, to_chrome_w = (_high_fd(fd) for fd in os.pipe())
    from_chrome_r, from_chrome_w = (_high_fd(fd) for fd in os.pipe())

    def child_fds():  # runs in the child before exec: Chromium reads fd 3, writes fd 4
        os.dup2(to_chrome_r, 3)
        os.dup2(from_chrome_w, 4)

    profile = tempfile.mkdtemp(prefix="automl-bench-chromium-")
    proc = subprocess.Popen(
        [exe, *FLAGS, f"--user-data-dir={profile}", "--window-size=1280,900", "about:blank"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        pass_fds=(3, 4), preexec_fn=child_fds, start_new_session=True,
    )  # fmt: skip
    os.close(to_chrome_r)
    os.close(from_chrome_w)
    cdp = _Pipe(proc, to_chrome_w, from_chrome_r, timeout)
    try:
        targets = cdp.send("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        session = cdp.send(
            "Target.attachToTarget", {"targetId": page["targetId"], "flatten": True}
        )["sessionId"]
        for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
            cdp.send(domain, session=session)
        cdp.send("Page.navigate", {"url": url}, session=session)
        cdp.wait_event("Page.loadEventFired")
        state = cdp.send("Runtime.evaluate", {"expression": LAYOUT_CHECKS + PAGE_STATE,
                                              "returnByValue": True}, session=session)  # fmt: skip
        if first_screen is not None:
            first = cdp.send("Page.captureScreenshot", {"format": "png"}, session=session)
            Path(first_screen).parent.mkdir(parents=True, exist_ok=True)
            Path(first_screen).write_bytes(base64.b64decode(first["data"]))
        result = json.loads(state["result"]["value"])
        size = cdp.send("Page.getLayoutMetrics", session=session)["cssContentSize"]
        shot = cdp.send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        }, session=session)  # fmt: skip
        Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
        Path(screenshot).write_bytes(base64.b64decode(shot["data"]))
        errors = []
        for e in cdp.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.exceptionThrown":
                errors.append(p.get("exceptionDetails", {}).get("text", "exception"))
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                errors.append(
                    " ".join(str(a.get("value", a.get("description"))) for a in p["args"])
                )
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                errors.append(p["entry"].get("text", "log error"))
        result["errors"] = errors
        try:
            cdp.send("Browser.close")
        except (RuntimeError, OSError, TimeoutError):  # it may exit before answering
            pass
        return result
    finally:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
        os.close(to_chrome_w)
        os.close(from_chrome_r)
        shutil.rmtree(profile, ignore_errors=True)
