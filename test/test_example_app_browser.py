"""The example message board, end to end in headless Chromium.

The app (``examples/message_board/app.py``) runs in this process, on the test
loop, against the test server. Selenium drives Debian's ``chromium`` through
``/usr/bin/chromedriver`` from a thread (its calls block), while the loop
serves the pages. The test posts messages and sees them listed newest first,
uploads a PNG it made and sees the browser render it, and uploads a WAV it
made and has an ``<audio>`` element seek into it: the server must see a
``Range`` request for the middle of the file and answer it with 206.

``tools/run_tests.py`` installs chromium and chromium-driver when missing
(as root, with apt-get); elsewhere the test is skipped, saying why.
"""

from __future__ import annotations

import asyncio
import importlib.util
import math
import os
import socket
import struct
import tempfile
import wave
import zlib

import pytest
from tornado.httpserver import HTTPServer

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
except ImportError:  # pragma: no cover - reported by the skip below
    webdriver = None

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP_PATH = os.path.join(REPO, "examples", "message_board", "app.py")
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
SAMPLE_RATE = 22050
WAV_SECONDS = 120
SEEK_TO = 100.0


def _missing() -> str | None:
    if webdriver is None:
        return "selenium is not installed (it is in requirements-test.txt)"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            return (
                f"{path} not found: install Debian's {package} "
                "(python3 tools/run_tests.py does, when run as root)"
            )
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


def load_example():
    spec = importlib.util.spec_from_file_location("message_board_app", APP_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_png(width: int, height: int, rgb: tuple) -> bytes:
    """A truecolour PNG of one colour, written by hand with zlib and struct."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    row = b"\x00" + bytes(rgb) * width  # filter type 0, then the pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def make_wav(path: str) -> None:
    """Two minutes of a quiet 441 Hz tone: 16-bit mono, about 5 MB."""
    samples_per_cycle = SAMPLE_RATE // 441  # 50: the cycle repeats exactly
    cycle = b"".join(
        struct.pack("<h", int(3000 * math.sin(2 * math.pi * n / samples_per_cycle)))
        for n in range(samples_per_cycle)
    )
    with wave.open(path, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(cycle * (SAMPLE_RATE * WAV_SECONDS // samples_per_cycle))


def browser(profile: str):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--window-size=1200,900")
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    # find_element waits for the element: after a click, the next page loads.
    driver.implicitly_wait(15)
    return driver


WAIT_FOR_IMAGE = """
const done = arguments[arguments.length - 1];
const img = document.querySelector("li.image img");
if (!img) { done({error: "no <img> on the page"}); return; }
const report = () => done({complete: img.complete, naturalWidth: img.naturalWidth,
                           naturalHeight: img.naturalHeight});
if (img.complete) report(); else { img.onload = report; img.onerror = report; }
"""

SEEK_AUDIO = """
const done = arguments[arguments.length - 1];
const target = arguments[0];
const audio = document.querySelector("li.audio audio");
if (!audio) { done({error: "no <audio> on the page"}); return; }
const timer = setTimeout(() => done({error: "timed out", readyState: audio.readyState,
                                     mediaError: audio.error && audio.error.code}), 25000);
function seek() {
  audio.addEventListener("seeked", () => {
    clearTimeout(timer);
    done({currentTime: audio.currentTime, duration: audio.duration,
          readyState: audio.readyState});
  }, {once: true});
  audio.currentTime = target;
}
if (audio.readyState >= 1) seek(); else audio.addEventListener("loadedmetadata", seek, {once: true});
audio.addEventListener("error", () => { clearTimeout(timer);
  done({error: "media error", mediaError: audio.error && audio.error.code}); });
"""


def drive(base: str, png_path: str, wav_path: str, profile: str) -> dict:
    """Everything the browser does; runs in a thread (Selenium's calls block)."""
    driver = browser(profile)
    seen: dict = {}
    try:
        # Messages: post two, see them listed newest first.
        for text in ("Hello from Chromium", "A second message"):
            driver.get(base + "/compose")
            driver.find_element(By.ID, "msg").send_keys(text)
            driver.find_element(By.ID, "post").click()
            driver.find_element(By.ID, "messages")  # the redirect to / has happened
        seen["messages"] = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "li.message")]

        # A picture: upload it, see it rendered.
        driver.get(base + "/uploads")
        driver.find_element(By.ID, "file").send_keys(png_path)
        driver.find_element(By.ID, "upload-button").click()
        driver.find_element(By.CSS_SELECTOR, "li.image img")
        seen["image"] = driver.execute_async_script(WAIT_FOR_IMAGE)

        # Audio: upload it, seek into the middle.
        driver.find_element(By.ID, "file").send_keys(wav_path)
        driver.find_element(By.ID, "upload-button").click()
        driver.find_element(By.CSS_SELECTOR, "li.audio audio")
        seen["seek"] = driver.execute_async_script(SEEK_AUDIO, SEEK_TO)
        seen["title"] = driver.title
    finally:
        driver.quit()
    return seen


@pytest.mark.timeout_seconds(150)
async def test_message_board_in_headless_chromium(db, tmp_path):
    example = load_example()
    requests: list = []

    def log_request(handler):
        requests.append(
            {
                "method": handler.request.method,
                "path": handler.request.path,
                "range": handler.request.headers.get("Range"),
                "conditional": "If-None-Match" in handler.request.headers
                or "If-Modified-Since" in handler.request.headers,
                "status": handler.get_status(),
                "content_range": handler._headers.get("Content-Range"),
            }
        )

    app = example.make_app(db, log_function=log_request)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    server = HTTPServer(app, max_body_size=example.MAX_UPLOAD_BYTES)
    server.add_sockets([sock])
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"

    png_path = str(tmp_path / "red-square.png")
    with open(png_path, "wb") as f:
        f.write(make_png(32, 24, (220, 30, 30)))
    wav_path = str(tmp_path / "tone.wav")
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, make_wav, wav_path)
    profile = tempfile.mkdtemp(prefix="motor-chromium-", dir=str(tmp_path))
    try:
        seen = await loop.run_in_executor(None, drive, base, png_path, wav_path, profile)
    finally:
        server.stop()
        await server.close_all_connections()

    assert seen["messages"][:2] == ["A second message", "Hello from Chromium"], seen
    assert seen["image"].get("complete") and seen["image"]["naturalWidth"] == 32, seen["image"]
    assert seen["image"]["naturalHeight"] == 24

    seek = seen["seek"]
    assert "error" not in seek, (seek, requests)
    assert abs(seek["currentTime"] - SEEK_TO) < 1, seek
    assert abs(seek["duration"] - WAV_SECONDS) < 1, seek

    # The messages and files really are in MongoDB and GridFS.
    assert await db.messages.count_documents({}) == 2
    names = sorted([doc["filename"] async for doc in db["uploads.files"].find()])
    assert names == ["red-square.png", "tone.wav"]

    # The server saw the browser ask for a byte range starting in the middle
    # of the WAV, and answered 206 with the matching Content-Range. (A
    # browser revalidating what it cached sends a conditional range request
    # too; that one rightly gets 304.)
    wav_size = os.path.getsize(wav_path)
    media = [r for r in requests if r["path"].startswith("/files/") and r["path"].endswith("tone.wav")]
    report = "\n".join(map(str, media))
    ranged = [r for r in media if r["range"]]
    assert ranged, report
    for r in ranged:
        assert r["status"] == 206 or (r["status"] == 304 and r["conditional"]), report
    seeks = [
        r
        for r in ranged
        if r["status"] == 206 and int(r["range"][6:].split("-")[0] or 0) > wav_size // 2
    ]
    assert seeks, f"no range request past the middle of the file answered 206:\n{report}"
    first = int(seeks[0]["range"][6:].split("-")[0])
    assert seeks[0]["content_range"].startswith(f"bytes {first}-"), seeks[0]
