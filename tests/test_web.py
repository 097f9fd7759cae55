"""The zero-install page (colorization/web): its build, and the page itself in headless Chromium.

Build refusals (an existing or foreign OUTDIR, a tarball failing its sha256 or npm's integrity, a tarball without
the page's files) run without a network or a browser: a local HTTP server plays the registry. The page tests build
real pages (``python -m colorization.web.build``, the pinned ONNX Runtime Web from the cache or the registry; skipped
only when neither is there), serve them with ``python -m http.server`` on 127.0.0.1 and drive Debian's Chromium
with Playwright, as tests/test_app_browser.py does: the page's colorization of a sample is compared with
``colorization.colorize`` of the same file by the same exported network, pixel by pixel.

Tolerance of page vs Python, per photo, on R, G, B codes: mean |diff| <= 0.5, 99th percentile <= 3, max <= 8.
Measured (docs/web.md): sRGB photos (chelsea, coffee, grace_hopper) match to one code on a few pixels in a million
for fp32, int8 and the classification head alike, since the page repeats Python's float32 steps (Pillow's resize
included); rocket.jpg carries an Adobe RGB profile, which Chromium's colour management converts to sRGB a code or two
differently from LittleCMS: mean 0.10 (fp32) to 0.27 (int8, whose quantized network amplifies input changes),
99th percentile 1-2, max 3-5. The bounds leave room for other browser versions' decoders, and would still catch
any step done differently (a browser resize instead of Pillow's: mean above 1; another rounding of L: max above 8).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import http.server
import io
import json
import socket
import subprocess
import sys
import tarfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from colorization.web import build as web_build
from colorization.web import contents, runtime

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
MEAN_TOLERANCE, P99_TOLERANCE, MAX_TOLERANCE = 0.5, 3, 8
TIMEOUT_MS = 180_000


# --- build refusals: no network, no browser ----------------------------------------------------------------
def fake_tarball(files: dict[str, bytes]) -> bytes:
    """A gzipped tarball with ``files`` under ``package/``, as npm packs them."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def fake_package(content: bytes, url: str, **pins) -> runtime.NpmPackage:
    """The runtime's pins for a fake tarball at ``url``: its own hashes, unless ``pins`` gives others."""
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(content).digest()).decode()
    pins = {"integrity": integrity, "sha256": hashlib.sha256(content).hexdigest(), **pins}
    return dataclasses.replace(runtime.ORT_WEB, name="fake-runtime", version="1.0.0", tarball=url, **pins)


@pytest.fixture
def registry():
    """``registry(content)``: the address of ``content`` on a local HTTP server (the registry's stand-in)."""
    servers = []

    def serve(content: bytes) -> str:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/fake-runtime-1.0.0.tgz"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def run_main(args, monkeypatch, package=None, cache=None) -> tuple[int, str]:
    """``python -m colorization.web.build ARGS`` in this process, with ``package`` as the pinned runtime."""
    import contextlib

    if package is not None:
        monkeypatch.setattr(runtime, "ORT_WEB", package)
    if cache is not None:
        monkeypatch.setattr(runtime, "cache_folder", lambda: cache)
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        status = web_build.main([str(arg) for arg in args])
    lines = [line for line in errors.getvalue().splitlines() if not line.startswith(("building ", "downloading "))]
    return status, "\n".join(lines)


def no_download(*_args, **_kwargs):
    raise AssertionError("the build went on to download after it should have refused")


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_foreign_outdir_is_refused_untouched(tmp_path, monkeypatch, overwrite):
    outdir = tmp_path / "page"
    outdir.mkdir()
    (outdir / "mine.txt").write_text("keep me")
    monkeypatch.setattr(runtime, "fetch_package", no_download)
    status, error = run_main([outdir, *(["--overwrite"] if overwrite else [])], monkeypatch)
    assert status == 2 and len(error.splitlines()) == 1, error
    assert str(outdir) in error and ("--overwrite" in error)
    assert (outdir / "mine.txt").read_text() == "keep me" and sorted(p.name for p in tmp_path.iterdir()) == ["page"]


@pytest.mark.parametrize("weights", ["nonsense", "missing.keras"])
def test_weights_that_name_no_file_are_refused_before_any_download(tmp_path, monkeypatch, weights):
    monkeypatch.setattr(runtime, "fetch_package", no_download)
    status, error = run_main([tmp_path / "page", "--weights", weights], monkeypatch)
    assert status == 2 and len(error.splitlines()) == 1 and weights in error, error
    assert list(tmp_path.iterdir()) == []


def test_an_outdir_that_is_a_file_is_refused(tmp_path, monkeypatch):
    blocker = tmp_path / "page"
    blocker.write_text("a file")
    monkeypatch.setattr(runtime, "fetch_package", no_download)
    status, error = run_main([blocker / "web"], monkeypatch)
    assert status == 2 and len(error.splitlines()) == 1 and "is not a folder" in error, error
    assert blocker.read_text() == "a file"


@pytest.mark.parametrize("wrong", ["sha256", "integrity"])
def test_a_tarball_failing_its_hash_is_refused_and_nothing_is_left(tmp_path, monkeypatch, registry, wrong):
    content = fake_tarball({"dist/ort.wasm.bundle.min.mjs": b"//", "dist/ort-wasm-simd-threaded.wasm": b"\0asm"})
    bad = {"sha256": "0" * 64} if wrong == "sha256" else {"integrity": "sha512-" + base64.b64encode(b"x" * 64).decode()}
    package = fake_package(content, registry(content), **bad)
    cache = tmp_path / "cache"
    status, error = run_main([tmp_path / "page"], monkeypatch, package, cache)
    assert status == 2 and len(error.splitlines()) == 1, error
    assert ("checksum mismatch" if wrong == "sha256" else "not npm's fake-runtime 1.0.0") in error
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cache"]  # no OUTDIR, no temporaries
    assert not list(cache.iterdir()), "a refused tarball was kept"


def test_a_tarball_without_the_page_files_is_refused_and_a_killed_build_is_cleaned(tmp_path, monkeypatch, registry):
    content = fake_tarball({"dist/ort.wasm.bundle.min.mjs": b"//"})  # no .wasm
    package = fake_package(content, registry(content))
    outdir = tmp_path / "page"
    stale = tmp_path / ".page.build-killed"  # what a killed build leaves
    (stale / "ort").mkdir(parents=True)
    status, error = run_main([outdir], monkeypatch, package, tmp_path / "cache")
    assert status == 2 and len(error.splitlines()) == 1 and "dist/ort-wasm-simd-threaded.wasm" in error, error
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cache"]  # no OUTDIR, no temporaries


def test_the_pinned_runtime_is_npms():
    """The pins are the registry's own: version, tarball address and dist.integrity (skipped offline)."""
    package = runtime.ORT_WEB
    try:
        with urllib.request.urlopen(
            f"https://registry.npmjs.org/{package.name}/{package.version}", timeout=10
        ) as reply:
            dist = json.load(reply)["dist"]
    except OSError as error:
        pytest.skip(f"registry.npmjs.org cannot be reached ({error}); the pins are checked where it can")
    assert (dist["tarball"], dist["integrity"]) == (package.tarball, package.integrity)


# --- real builds, served, in Chromium ------------------------------------------------------------------------
def runtime_available() -> bool:
    if runtime.cached_package(runtime.ORT_WEB) is not None:
        return True
    try:
        urllib.request.urlopen(urllib.request.Request(runtime.ORT_WEB.tarball, method="HEAD"), timeout=10).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def build_page(tmp_path_factory):
    """``build_page(weights, precision)``: the built page's folder (one build per pair, by the command line)."""
    if not runtime_available():
        pytest.skip(f"registry.npmjs.org cannot be reached and {runtime.ORT_WEB.filename} is not in the cache")
    built = {}

    def make(weights: str = "paper", precision: str = "fp32") -> Path:
        if (weights, precision) not in built:
            outdir = tmp_path_factory.mktemp("web") / f"{weights}-{precision}"
            command = [sys.executable, "-m", "colorization.web.build", str(outdir), "--weights", weights]
            done = subprocess.run([*command, "--precision", precision], capture_output=True, text=True, cwd=ROOT)
            assert done.returncode == 0, done.stderr[-3000:]
            assert done.stdout.startswith(f"{outdir}: the page, ") and " MB in " in done.stdout
            built[weights, precision] = outdir
        return built[weights, precision]

    return make


@pytest.mark.slow
@pytest.mark.subprocess
def test_the_manifest_records_every_file(build_page):
    from colorization.io.files import sha256_file
    from colorization.weights import reference_weights, registered_vividness

    outdir = build_page()
    manifest = json.loads((outdir / "manifest.json").read_text())
    on_disk = sorted(p.relative_to(outdir).as_posix() for p in outdir.rglob("*") if p.is_file())
    assert sorted([*manifest["files"], "manifest.json"]) == on_disk
    for name, entry in manifest["files"].items():
        assert entry == {"bytes": (outdir / name).stat().st_size, "sha256": sha256_file(outdir / name)}
    assert manifest["total_bytes"] == sum(entry["bytes"] for entry in manifest["files"].values())
    model = manifest["model"]
    assert model["provenance"]["source_sha256"] == sha256_file(reference_weights("paper"))
    assert (model["input"], model["output"], model["head"]) == ("L", "ab_scaled", "regression")
    assert model["vividness"]["default"] == registered_vividness(reference_weights("paper"))
    assert set(manifest["onnxruntime_web"]["files"]) == {
        "ort/ort.wasm.bundle.min.mjs",
        "ort/ort-wasm-simd-threaded.wasm",
    }
    assert [Path(s["file"]).suffix for s in manifest["samples"]] == [".jpg"] * len(contents.SAMPLES)


@pytest.mark.slow
@pytest.mark.subprocess
def test_overwrite_replaces_an_earlier_build(build_page, tmp_path):
    import shutil

    outdir = tmp_path / "page"
    shutil.copytree(build_page(), outdir)
    (outdir / "left-over.txt").write_text("from the earlier build")
    done = subprocess.run(
        [sys.executable, "-m", "colorization.web.build", str(outdir)], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 2 and "--overwrite" in done.stderr.splitlines()[-1]
    command = [sys.executable, "-m", "colorization.web.build", str(outdir), "--overwrite"]
    assert subprocess.run(command, capture_output=True, cwd=ROOT).returncode == 0
    assert not (outdir / "left-over.txt").exists() and (outdir / "manifest.json").is_file()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["page"]


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
# the canvas's pixels, as base64 of its RGBA bytes, with its size
CANVAS_PIXELS_JS = """id => {
    const canvas = document.getElementById(id);
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let text = "";
    for (let i = 0; i < data.length; i += 0x8000) text += String.fromCharCode.apply(null, data.subarray(i, i + 0x8000));
    return [canvas.width, canvas.height, btoa(text)];
}"""
SETTLED_JS = "() => ['done', 'error'].includes(document.body.dataset.state)"


def in_chromium(test):
    """A test of the page in Chromium: slow, browser, subprocess; skipped only where Debian's Chromium is absent."""
    absent = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)")
    for mark in (pytest.mark.slow, pytest.mark.browser, pytest.mark.subprocess, absent):
        test = mark(test)
    return test


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def serve():
    """``serve(folder)``: its address on ``python -m http.server`` at 127.0.0.1 (one server per folder)."""
    servers = {}

    def start(folder: Path) -> str:
        if folder not in servers:
            port = free_port()
            command = [
                sys.executable,
                "-m",
                "http.server",
                str(port),
                "--bind",
                "127.0.0.1",
                "--directory",
                str(folder),
            ]
            servers[folder] = (subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), port)
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/manifest.json", timeout=5).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"python -m http.server did not answer on port {port}")
                    time.sleep(0.2)
        return f"http://127.0.0.1:{servers[folder][1]}/"

    yield start
    for server, _ in servers.values():
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
            accept_downloads=True,
        )
        yield context
        context.close()


def open_page(browser, url: str):
    """A new tab on the page, once it is ready (the network loaded)."""
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.wait_for_function("() => document.body.dataset.state !== 'loading'")
    assert page.evaluate("document.body.dataset.state") == "ready", page.inner_text("#error")
    return page


def canvas_pixels(page, canvas_id: str) -> np.ndarray:
    width, height, data = page.evaluate(CANVAS_PIXELS_JS, canvas_id)
    return np.frombuffer(base64.b64decode(data), np.uint8).reshape(height, width, 4)


def difference(page_rgb: np.ndarray, python_rgb: np.ndarray) -> dict:
    """Page vs Python on R, G, B codes: mean, 99th percentile and max of |difference|."""
    assert page_rgb.shape == python_rgb.shape, (page_rgb.shape, python_rgb.shape)
    diff = np.abs(page_rgb.astype(np.int16) - python_rgb.astype(np.int16))
    return {"mean": float(diff.mean()), "p99": float(np.percentile(diff, 99)), "max": int(diff.max())}


def within_tolerance(measured: dict) -> bool:
    return measured["mean"] <= MEAN_TOLERANCE and measured["p99"] <= P99_TOLERANCE and measured["max"] <= MAX_TOLERANCE


def colorize_in_page(page, sample: str) -> dict:
    """Pick ``sample`` and wait for its colorization; the page's status line and timings."""
    page.select_option("#sample", sample)
    page.wait_for_function(SETTLED_JS)
    assert page.evaluate("document.body.dataset.state") == "done", page.inner_text("#error")
    return {"status": page.inner_text("#status"), **page.evaluate("window.colorizationPage.timing")}


BUILDS = [("paper", "fp32"), ("paper", "int8"), ("classification", "fp32")]


@in_chromium
@pytest.mark.parametrize("weights,precision", BUILDS)
def test_the_page_colorizes_every_sample_as_python_does(build_page, serve, browser, weights, precision):
    """Each sample at the model's default vividness: full size, gray and colour within tolerance of Python's."""
    from colorization import colorize
    from colorization.colorize import neutral_gray
    from colorization.export.runtime import load_onnx
    from colorization.io.images import load_image

    outdir = build_page(weights, precision)
    model = load_onnx(outdir / "model.onnx")
    page = open_page(browser, serve(outdir))
    measured = {}
    for sample in json.loads((outdir / "manifest.json").read_text())["samples"]:
        timing = colorize_in_page(page, sample["file"])
        image = load_image(outdir / sample["file"])
        colour = canvas_pixels(page, "colour")
        assert colour.shape == (sample["height"], sample["width"], 4)  # the photo's own size
        assert (colour[..., 3] == 255).all()
        measured[sample["file"]] = {**difference(colour[..., :3], colorize(model, image).rgb), **timing}
        assert difference(canvas_pixels(page, "gray")[..., :3], neutral_gray(image.rgb))["max"] <= 1
    page.close()
    print(f"\npage vs Python, {weights} {precision}: {json.dumps(measured, indent=1)}")
    assert all(within_tolerance(value) for value in measured.values()), measured


@in_chromium
@pytest.mark.parametrize("vividness", [1.0, 4.0])
def test_the_vividness_slider_redraws_as_python_at_that_vividness(build_page, serve, browser, vividness):
    from colorization import colorize
    from colorization.export.runtime import load_onnx

    outdir = build_page()
    page = open_page(browser, serve(outdir))
    colorize_in_page(page, "samples/chelsea.jpg")
    before = page.evaluate("window.colorizationPage.renders")
    page.locator("#vividness").fill(f"{vividness:g}")
    page.wait_for_function(f"() => window.colorizationPage.renders > {before}")
    assert page.inner_text("#vividness-value") == f"{vividness:.2f}"
    expected = colorize(load_onnx(outdir / "model.onnx"), outdir / "samples" / "chelsea.jpg", vividness=vividness)
    measured = difference(canvas_pixels(page, "colour")[..., :3], expected.rgb)
    page.close()
    assert within_tolerance(measured), measured


@in_chromium
def test_save_downloads_the_colorization_as_a_full_size_png(build_page, serve, browser):
    from PIL import Image

    page = open_page(browser, serve(build_page()))
    assert page.locator("#save").is_disabled()  # nothing to save yet
    colorize_in_page(page, "samples/coffee.jpg")
    with page.expect_download() as download:
        page.click("#save")
    assert download.value.suggested_filename == "coffee-colorized.png"
    with Image.open(download.value.path()) as saved:
        assert saved.format == "PNG" and saved.size == (600, 400)
        assert np.array_equal(np.asarray(saved.convert("RGBA")), canvas_pixels(page, "colour"))
    page.close()


def encoded(image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


@in_chromium
def test_the_newest_photo_wins(build_page, serve, browser):
    """Pick a sample and, before it is done, another: the page ends with the second, and no error."""
    page = open_page(browser, serve(build_page()))
    page.select_option("#sample", "samples/rocket.jpg")
    page.select_option("#sample", "samples/grace_hopper.jpg")
    page.wait_for_function(SETTLED_JS)
    assert page.evaluate("document.body.dataset.state") == "done", page.inner_text("#error")
    assert page.inner_text("#status").startswith("grace_hopper.jpg: 512x600 pixels")
    assert canvas_pixels(page, "colour").shape == (600, 512, 4)
    page.close()


def huge_png(_outdir) -> bytes:
    """A real PNG of 8000 x 6000 pixels (48 megapixels) in a few hundred kilobytes."""
    from PIL import Image

    return encoded(Image.new("L", (8000, 6000)), "PNG")


def cut_short(sample: str, fraction: float, fmt: str = "JPEG"):
    """The sample JPEG ``sample`` (as it is, or encoded as ``fmt``) cut short at ``fraction`` of its bytes."""

    def make(outdir: Path) -> bytes:
        from PIL import Image

        path = outdir / "samples" / sample
        data = path.read_bytes() if fmt == "JPEG" else encoded(Image.open(path), fmt)
        return data[: int(len(data) * fraction)]

    return make


BAD_UPLOADS = [  # name, MIME type, content (or how to make it from the built page), what the one line says
    ("notes.txt", "text/plain", b"plain text, not a picture", "not an image this browser can decode"),
    ("photo.jpg", "image/jpeg", b"\xff\xd8\xff\xe0 not really a JPEG", "truncated or corrupt image data"),
    ("photo.webp", "image/webp", b"RIFF\x10\x00\x00\x00WEBPVP8 garbage", "not an image this browser can decode"),
    ("empty.png", "image/png", b"", "empty file (0 bytes)"),
    ("drawing.svg", "image/svg+xml", b"<svg xmlns='http://www.w3.org/2000/svg' width='9' height='9'/>", "SVG drawing"),
    ("huge.png", "image/png", huge_png, "above the page's 40-megapixel limit"),
    ("half.jpg", "image/jpeg", cut_short("chelsea.jpg", 0.5), "truncated or corrupt image data"),
    ("nearly.jpg", "image/jpeg", cut_short("coffee.jpg", 0.98), "truncated or corrupt image data"),
    ("half.png", "image/png", cut_short("coffee.jpg", 0.5, "PNG"), "truncated or corrupt image data"),
]


@in_chromium
def test_a_bad_upload_is_one_line_and_costs_nothing_else(build_page, serve, browser):
    outdir = build_page()
    page = open_page(browser, serve(outdir))
    crashes = []
    page.on("pageerror", lambda error: crashes.append(str(error)))
    colorize_in_page(page, "samples/chelsea.jpg")
    shown = canvas_pixels(page, "colour")
    for name, mime, content, message in BAD_UPLOADS:
        payload = {"name": name, "mimeType": mime, "buffer": content(outdir) if callable(content) else content}
        page.set_input_files("#upload", files=[payload])
        page.wait_for_function(SETTLED_JS)
        error = page.locator("#error")
        assert page.evaluate("document.body.dataset.state") == "error" and error.is_visible(), name
        assert error.inner_text().startswith(f"{name}: ") and message in error.inner_text(), error.inner_text()
        assert "\n" not in error.inner_text()
        assert np.array_equal(canvas_pixels(page, "colour"), shown)  # the last colorization stays
    page.set_input_files("#upload", str(outdir / "samples" / "rocket.jpg"))  # and the page goes on
    page.wait_for_function(SETTLED_JS)
    assert page.evaluate("document.body.dataset.state") == "done" and not page.locator("#error").is_visible()
    assert canvas_pixels(page, "colour").shape == (427, 640, 4)
    assert crashes == []
    page.close()


def good_uploads(outdir: Path) -> dict[str, bytes]:
    """Uploads that the page must read as Python's load_image does: EXIF-rotated, grayscale, 16-bit, with alpha."""
    from PIL import Image

    with Image.open(outdir / "samples" / "chelsea.jpg") as photo:
        exif = Image.Exif()
        exif[0x0112] = 6  # stored 451x300, shown turned a quarter: 300x451
        alpha = photo.convert("RGBA")
        alpha.putalpha(Image.linear_gradient("L").resize(photo.size).point(lambda v: 255 if v > 100 else v))
        gray = photo.convert("L")
        deep = Image.fromarray(np.asarray(gray, np.uint16) * 257)  # 16 bits, the same colours as 8
        return {
            "rotated.jpg": encoded(photo, "JPEG", quality=90, exif=exif.tobytes()),
            "gray.jpg": encoded(gray, "JPEG", quality=90),
            "deep.png": encoded(deep, "PNG"),
            "alpha.png": encoded(alpha, "PNG"),
        }


@in_chromium
def test_uploads_are_read_as_python_reads_them(build_page, serve, browser, tmp_path):
    """Orientation, gray, 16 bits and alpha: the page's colorization has Python's size, alpha and colours."""
    from colorization import colorize
    from colorization.export.runtime import load_onnx

    outdir = build_page()
    model = load_onnx(outdir / "model.onnx")
    page = open_page(browser, serve(outdir))
    measured = {}
    for name, content in good_uploads(outdir).items():
        (tmp_path / name).write_bytes(content)
        page.set_input_files("#upload", str(tmp_path / name))
        page.wait_for_function(SETTLED_JS)
        assert page.evaluate("document.body.dataset.state") == "done", page.inner_text("#error")
        expected = colorize(model, tmp_path / name)
        colour = canvas_pixels(page, "colour")
        assert colour.shape[:2] == expected.rgb.shape[:2], name
        opaque = np.ones(colour.shape[:2], bool) if expected.alpha is None else expected.alpha == 255
        if expected.alpha is not None:
            assert np.array_equal(colour[..., 3], expected.alpha)
        measured[name] = difference(colour[..., :3][opaque], expected.rgb[opaque])
    page.close()
    print(f"\nuploads, page vs Python: {measured}")
    assert all(within_tolerance(value) for value in measured.values()), measured


@in_chromium
def test_a_page_without_its_model_or_served_from_disk_says_so_in_one_line(build_page, serve, browser, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(build_page(), broken)
    (broken / "model.onnx").unlink()
    for url, message in (
        (serve(broken), "model.onnx: HTTP 404"),
        ((broken / "index.html").as_uri(), "must be served over http(s)"),
    ):
        page = browser.new_page()
        page.goto(url)
        page.wait_for_function("() => document.body.dataset.state === 'error'", timeout=60_000)
        text = page.inner_text("#error")
        assert message in text and "\n" not in text, text
        page.close()


PIPELINE_JS = """async ([width, height, rgba, ab]) => {
    const step = await import("./colorize.js");
    const bytes = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    const photo = { data: bytes(rgba), width, height };
    const view = step.networkView(photo);
    const input = step.networkInput(view);
    const out = step.render(photo, new Float32Array(bytes(ab).buffer));
    const text = (array) => {
        const u8 = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
        let s = "";
        for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
        return btoa(s);
    };
    return [text(view), text(input), text(out)];
}"""
# (height, width): as is (256), enlarged, squeezed (Pillow 13 resamples rows first, or columns first where the height
# shrinks much more), shrunk by Pillow's block reduction first (over 2x, in one direction or both), one pixel
PIPELINE_SHAPES = [
    (256, 256),
    (300, 451),
    (451, 300),
    (3, 700),
    (700, 3),
    (1, 1),
    (530, 1100),
    (1300, 1200),
    (257, 2000),
    (2000, 257),
    (1300, 600),
    (1025, 1024),
]


@in_chromium
def test_the_pages_steps_are_pythons_on_any_shape(build_page, serve, browser):
    """colorize.js's networkView, networkInput and render against Python's, on random pixels and strong chroma."""
    from colorization.colorize import network_input, network_view, render

    page = open_page(browser, serve(build_page()))
    rng = np.random.default_rng(0)
    worst = {}
    for height, width in PIPELINE_SHAPES:
        rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        ab = rng.normal(0, 40, (256, 256, 2)).astype(np.float32)  # many colours outside sRGB: the gamut mapping
        rgba = np.concatenate([rgb, np.full((height, width, 1), 255, np.uint8)], axis=-1)
        encoded = [base64.b64encode(array.tobytes()).decode() for array in (rgba, ab)]
        view, scaled, out = (base64.b64decode(text) for text in page.evaluate(PIPELINE_JS, [width, height, *encoded]))
        assert np.array_equal(np.frombuffer(view, np.uint8).reshape(256, 256, 3), network_view(rgb)), (height, width)
        expected_input = network_input(network_view(rgb)[None])[0, ..., 0]
        assert np.array_equal(np.frombuffer(scaled, np.float32).reshape(256, 256), expected_input)
        colour = np.frombuffer(out, np.uint8).reshape(height, width, 4)
        worst[height, width] = difference(colour[..., :3], render(rgb, ab))
    page.close()
    assert all(value["max"] <= 1 and value["mean"] <= 1e-3 for value in worst.values()), worst
