"""The app in a real browser: Voilà serves notebooks/app.ipynb, headless Chromium uses it.

Uploads a photo, presses Colorize, waits for the result, checks that it has the
input's size and takes a screenshot: into the test's temporary folder, or where
``COLORIZATION_SCREENSHOT`` says (``make screenshot`` refreshes the README's
``results/app/screenshot.png`` that way; a plain test run never touches tracked files).
Needs Debian's Chromium at /usr/bin/chromium (CI's ``.ci/run`` installs it); skipped
only where it is absent.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import SKIMAGE_DATA

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT_ENV = "COLORIZATION_SCREENSHOT"
PHOTO = SKIMAGE_DATA / "chelsea.png"  # 451x300
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
TIMEOUT_MS = 180_000  # kernel start (TensorFlow import) and the first colorization on 2 shared cores

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.subprocess,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium; CI installs it)"
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def voila_url(tmp_path):
    port = _free_port()
    env = dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        TF_CPP_MIN_LOG_LEVEL="2",
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
    )
    log = open(tmp_path / "voila.log", "wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voila",
            str(ROOT / "notebooks" / "app.ipynb"),
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
            "--show_tracebacks=True",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                pytest.fail(f"voila exited with {server.returncode}:\n{(tmp_path / 'voila.log').read_text()[-3000:]}")
            try:  # any HTTP answer will do: GET / itself would start a kernel
                urllib.request.urlopen(url + "voila/probe", timeout=5).close()
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"voila did not answer on {url}:\n{(tmp_path / 'voila.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_upload_colorize_and_screenshot(voila_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a fresh --user-data-dir
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1120},
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(voila_url, timeout=TIMEOUT_MS)
            # ipywidgets' FileUpload keeps its <input type=file> out of the DOM: answer its file chooser
            with page.expect_file_chooser() as chooser:
                page.get_by_role("button", name=re.compile("Upload image")).click()
            chooser.value.set_files(str(PHOTO))
            expect(page.get_by_text("Input: chelsea.png (uploaded)")).to_be_visible()
            page.get_by_role("button", name="Colorize").click()
            size = page.get_by_text(re.compile(r"^result: \d+x\d+ pixels"))
            expect(size).to_be_visible()
            assert size.inner_text().startswith("result: 451x300 pixels")
            assert page.locator(".colorization-error").count() == 0
            images = page.locator(".colorization-app img")
            expect(images).to_have_count(3)
            page.wait_for_function(
                "() => [...document.querySelectorAll('.colorization-app img')]"
                ".every(i => i.complete && i.naturalWidth > 0)"
            )
            widths = images.evaluate_all("imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])")
            assert widths == [[451, 300]] * 3  # gray input, colorization, original
            assert page.locator("a.colorization-download").get_attribute("href").startswith("data:image/png;base64,")
            expect(page.get_by_text("PSNR (dB)")).to_be_visible()
            screenshot = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "screenshot.png")
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
            assert screenshot.stat().st_size > 10_000  # a rendered page, not an empty image
        finally:
            browser.close()
