"""The app in a real browser: Voilà serves notebooks/app.ipynb, headless Chromium uses it.

Uploads a photo, presses Colorize, waits for the result, checks that it has the
input's size and takes a screenshot: into the test's temporary folder, or where
``COLORIZATION_SCREENSHOT`` says (``make screenshot`` refreshes the README's
``results/app/screenshot.png`` that way; a plain test run never touches tracked files).
Then types a higher value into the vividness slider and sees the colorization come back,
by itself, more colourful; then chooses Levin et al. (gray without points), clicks on the gray
input and sees a colour point listed at the clicked pixel, drawn there, and the colorization come
back in colour, the picked one at that pixel.
Needs Debian's Chromium at /usr/bin/chromium (CI's ``.ci/run`` installs it); skipped
only where it is absent.
"""

from __future__ import annotations

import math
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
VIVIDNESS_HINT = "1 = the network's own (mean) colours; more = more colourful"
# mean of max(R, G, B) - min(R, G, B) over an <img>'s pixels: 0 for gray, more for more colour
COLOURFULNESS_JS = """img => {
    const canvas = document.createElement("canvas");
    [canvas.width, canvas.height] = [img.naturalWidth, img.naturalHeight];
    const context = canvas.getContext("2d");
    context.drawImage(img, 0, 0);
    const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0;
    for (let i = 0; i < data.length; i += 4) {
        sum += Math.max(data[i], data[i + 1], data[i + 2]) - Math.min(data[i], data[i + 1], data[i + 2]);
    }
    return sum / (data.length / 4);
}"""
# [r, g, b] of an <img>'s pixel (x, y) in its own pixels
PIXEL_JS = """(img, [x, y]) => {
    const canvas = document.createElement("canvas");
    [canvas.width, canvas.height] = [img.naturalWidth, img.naturalHeight];
    const context = canvas.getContext("2d");
    context.drawImage(img, 0, 0);
    return [...context.getImageData(x, y, 1, 1).data.slice(0, 3)];
}"""
ALL_IMAGES_SHOWN_JS = (
    "() => [...document.querySelectorAll('.colorization-app img')].every(i => i.complete && i.naturalWidth > 0)"
)
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
            page.wait_for_function(ALL_IMAGES_SHOWN_JS)
            widths = images.evaluate_all("imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])")
            assert widths == [[451, 300]] * 3  # gray input, colorization, original
            assert page.locator("a.colorization-download").get_attribute("href").startswith("data:image/png;base64,")
            expect(page.get_by_text("PSNR (dB)")).to_be_visible()
            screenshot = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "screenshot.png")
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
            assert screenshot.stat().st_size > 10_000  # a rendered page, not an empty image
            _more_vividness_is_more_colour(page, images.nth(1))
            _a_click_puts_a_colour_point(page, images.nth(0), images.nth(1))
        finally:
            browser.close()


def _more_vividness_is_more_colour(page, colorization) -> None:
    """Type the slider's top value into its readout: the colorization comes back, without a press, more colourful."""
    from playwright.sync_api import expect

    from colorization.app.parts import VIVIDNESS_SLIDER
    from colorization.vividness import AS_TRAINED
    from colorization.weights import reference_weights, registered_vividness

    default = registered_vividness(reference_weights("paper")) or AS_TRAINED  # the page's first model
    top = VIVIDNESS_SLIDER["max"]
    assert default < top

    app = page.locator(".colorization-app")
    expect(app.get_by_text(VIVIDNESS_HINT)).to_be_visible()
    expect(app.get_by_text("Vividness", exact=True)).to_be_visible()
    before = colorization.evaluate(COLOURFULNESS_JS)
    readout = page.locator(".colorization-app .colorization-vividness .widget-readout")
    expect(readout).to_have_text(f"{default:.2f}")  # the paper's network: its default
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(f"{top:g}")
    page.keyboard.press("Enter")
    expect(page.get_by_text(re.compile(rf"^result: 451x300 pixels .*vividness {top:.2f}"))).to_be_visible()
    expect(page.get_by_text("Done.")).to_be_visible()
    page.wait_for_function(ALL_IMAGES_SHOWN_JS)
    after = colorization.evaluate(COLOURFULNESS_JS)
    assert after > 1.2 * before, (before, after)
    assert page.locator(".colorization-error").count() == 0


def _pixel_under(pointer, box, image_wh) -> tuple[int, int]:
    """The image pixel (x, y) at the centre of the CSS pixel under ``pointer`` (integral client coordinates)
    on an ``image_wh`` image shown in ``box``: ipyevents sends the pointer's offset from the box, rounded."""
    pixel = []
    for at, corner, shown, side in zip(
        pointer, (box["x"], box["y"]), (box["width"], box["height"]), image_wh, strict=True
    ):
        offset = math.floor(at - corner + 0.5)
        pixel.append(min(side - 1, math.floor((offset + 0.5) * side / shown)))
    return pixel[0], pixel[1]


def _a_click_puts_a_colour_point(page, gray_input, colorization) -> None:
    """Levin et al. without points is gray; a click on the gray input puts a point at the clicked pixel
    (listed, drawn there) in the colour picker's colour, and the photo comes back in colour, that colour there."""
    from playwright.sync_api import expect

    from colorization.app.hints import DEFAULT_COLOUR
    from colorization.app.markers import picked_rgb

    page.get_by_role("button", name="Levin et al.").click()
    expect(page.get_by_text(re.compile(r"^result: 451x300 pixels .*Levin et al\., 0 points"))).to_be_visible()
    page.wait_for_function(ALL_IMAGES_SHOWN_JS)
    assert colorization.evaluate(COLOURFULNESS_JS) < 1 and gray_input.evaluate(COLOURFULNESS_JS) < 1
    box = gray_input.bounding_box()  # the preview as the page shows it (CSS pixels; not always 451x300)
    pointer = (math.floor(box["x"] + 0.3 * box["width"]), math.floor(box["y"] + 0.4 * box["height"]))
    x, y = _pixel_under(pointer, box, (451, 300))
    page.mouse.click(*pointer)
    expect(page.get_by_text(re.compile(r"^result: 451x300 pixels .*Levin et al\., 1 point\)"))).to_be_visible()
    expect(page.get_by_text("Done.")).to_be_visible()
    page.wait_for_function(ALL_IMAGES_SHOWN_JS)
    points = page.locator(".colorization-points li")
    expect(points).to_have_count(1)
    assert points.inner_text().split() == [f"({x},", f"{y})", DEFAULT_COLOUR]
    assert gray_input.evaluate(PIXEL_JS, [x, y]) == picked_rgb(DEFAULT_COLOUR)  # the marker is drawn at that pixel
    r, g, b = colorization.evaluate(PIXEL_JS, [x, y])
    assert r > max(g, b) + 20, (r, g, b)  # the picked red, there
    assert colorization.evaluate(COLOURFULNESS_JS) > 5
    assert page.locator(".colorization-error").count() == 0
