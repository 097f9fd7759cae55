"""Downloads from a local HTTP server: verify, extract, refuse unsafe archives, survive drops.

The server (http.server on 127.0.0.1, a free port, in a thread) serves tiny archives
in the Caltech layout; nothing here touches the real network.
"""

from __future__ import annotations

import hashlib
import io
import socket
import tarfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorization.cli import main
from colorization.cli.download import known_hash
from colorization.data import caltech
from colorization.data.caltech import MARKER_NAME, read_marker
from colorization.data.download import DownloadError, UnsafeArchiveError, safe_extract
from colorization.data.manifest import build_manifest
from colorization.data.sources import CaltechSource

CATEGORIES = ("001.ak47", "002.american-flag", "003.backpack")
PER_CATEGORY = 5


def tiny_jpeg(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def caltech256_tar(extra=None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for c, category in enumerate(CATEGORIES):
            for i in range(PER_CATEGORY):
                _add(tar, f"256_ObjectCategories/{category}/{c + 1:03d}_{i + 1:04d}.jpg", tiny_jpeg(10 * c + i))
        if extra:
            extra(tar)
    return buffer.getvalue()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


class Server:
    """Serves ``files`` {url path: bytes}; ``drop=True`` cuts every response in half,
    ``status`` answers every request with that HTTP status, ``drip`` sends 1 KiB per
    ``drip`` seconds (a slow download)."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.drop = False
        self.status: int | None = None
        self.drip = 0.0
        self.requests = 0
        self.stopped = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.requests += 1
                data = outer.files.get(self.path.split("?")[0])
                if outer.status is not None or data is None:
                    self.send_error(outer.status or 404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                if outer.drop:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if outer.drip:
                    self._drip(data)
                    return
                self.wfile.write(data)

            def _drip(self, data):
                for start in range(0, len(data), 1024):
                    if outer.stopped:
                        return
                    try:
                        self.wfile.write(data[start : start + 1024])
                        self.wfile.flush()
                    except OSError:  # the client gave up (a timeout, a killed process)
                        return
                    time.sleep(outer.drip)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.handle_error = lambda request, address: None  # a client that hung up is what some tests do
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def stop(self):
        self.stopped = True
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = Server()
    yield srv
    srv.stop()


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


def source256(data_dir, url, data) -> CaltechSource:
    return CaltechSource("caltech256", data_dir, url=url, checksum=f"md5:{md5(data)}", progress=False, retries=0)


def leftovers(data_dir: Path) -> list[str]:
    """Files anywhere under data_dir (folders alone do not count)."""
    return sorted(p.relative_to(data_dir).as_posix() for p in data_dir.rglob("*") if p.is_file())


def test_download_verify_extract_and_split(server, tmp_path):
    data = caltech256_tar()
    server.files["/256_ObjectCategories.tar"] = data
    source = source256(tmp_path, server.url("256_ObjectCategories.tar"), data)
    records = source.records()
    assert len(records) == len(CATEGORIES) * PER_CATEGORY
    assert {r.category for r in records} == set(CATEGORIES)
    assert source.root == tmp_path / "caltech256" / "256_ObjectCategories"
    marker = read_marker(tmp_path / "caltech256")
    assert marker["checksum"] == f"md5:{md5(data)}" and marker["files"] == 15
    assert not (tmp_path / "downloads" / "256_ObjectCategories.tar").exists()  # archive removed after extraction
    manifest = build_manifest(source, workers=0, progress=False)
    assert (manifest["excluded"] == "").all()
    counts = manifest.groupby(["category", "split"]).size().unstack(fill_value=0)
    assert (counts["train"] == 3).all() and (counts["val"] == 1).all() and (counts["test"] == 1).all()


def test_second_call_needs_no_network(server, tmp_path, monkeypatch):
    data = caltech256_tar()
    server.files["/256_ObjectCategories.tar"] = data
    url = server.url("256_ObjectCategories.tar")
    first = source256(tmp_path, url, data).records()
    assert server.requests == 1
    server.stop()

    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    again = source256(tmp_path, url, data).records()
    assert again == first


def test_wrong_checksum_is_clear_and_leaves_nothing(server, tmp_path):
    data = caltech256_tar()
    server.files["/256_ObjectCategories.tar"] = data
    source = CaltechSource(
        "caltech256",
        tmp_path,
        url=server.url("256_ObjectCategories.tar"),
        checksum="md5:" + "0" * 32,
        progress=False,
        retries=0,
    )
    with pytest.raises(DownloadError, match="checksum mismatch") as info:
        source.fetch()
    assert "\n" not in str(info.value) and "256_ObjectCategories.tar" in str(info.value)
    assert leftovers(tmp_path) == []
    assert not (tmp_path / "caltech256").exists()


def test_dropped_connection_fails_then_retry_succeeds(server, tmp_path):
    data = caltech256_tar()
    server.files["/256_ObjectCategories.tar"] = data
    server.drop = True
    with pytest.raises(DownloadError, match="nothing was kept"):
        source256(tmp_path, server.url("256_ObjectCategories.tar"), data).fetch()
    assert leftovers(tmp_path) == []  # no partial file a later call could take as valid
    server.drop = False
    folder = source256(tmp_path, server.url("256_ObjectCategories.tar"), data).fetch()
    assert len(list(folder.rglob("*.jpg"))) == 15


def test_http_error_is_one_line(server, tmp_path):
    with pytest.raises(DownloadError, match="404"):
        source256(tmp_path, server.url("missing.tar"), b"x").fetch()
    assert leftovers(tmp_path) == []


def _symlink(tar):
    info = tarfile.TarInfo("256_ObjectCategories/001.ak47/link.jpg")
    info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    tar.addfile(info)


def _device(tar):
    info = tarfile.TarInfo("256_ObjectCategories/dev")
    info.type = tarfile.CHRTYPE
    tar.addfile(info)


@pytest.mark.parametrize(
    "extra, problem",
    [
        (lambda tar: _add(tar, "../evil", b"x"), "'..' in path"),
        (lambda tar: _add(tar, "256_ObjectCategories/../../evil", b"x"), "'..' in path"),
        (lambda tar: _add(tar, "/tmp/evil-absolute", b"x"), "absolute path"),
        (_symlink, "link to"),
        (_device, "device file"),
    ],
)
def test_unsafe_members_are_refused(tmp_path, extra, problem):
    archive = tmp_path / "bad.tar"
    archive.write_bytes(caltech256_tar(extra))
    dest = tmp_path / "out"
    with pytest.raises(UnsafeArchiveError, match=problem) as info:
        safe_extract(archive, dest)
    assert "refusing member" in str(info.value)
    assert list(dest.iterdir()) == []  # nothing extracted, not even the safe members
    assert not (tmp_path / "evil").exists() and not Path("/tmp/evil-absolute").exists()


def test_unsafe_download_leaves_nothing(server, tmp_path):
    data = caltech256_tar(lambda tar: _add(tar, "../evil", b"x"))
    server.files["/256_ObjectCategories.tar"] = data
    with pytest.raises(UnsafeArchiveError):
        source256(tmp_path, server.url("256_ObjectCategories.tar"), data).fetch()
    assert not (tmp_path / "caltech256").exists()
    assert MARKER_NAME not in {p.name for p in tmp_path.rglob("*")}
    assert not (tmp_path / "evil").exists()


def test_unsafe_zip_member_refused(tmp_path):
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ok.txt", "fine")
        zf.writestr("../evil.txt", "bad")
    with pytest.raises(UnsafeArchiveError, match=r"'\.\.' in path"):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()
    linked = tmp_path / "link.zip"
    with zipfile.ZipFile(linked, "w") as zf:
        info = zipfile.ZipInfo("folder/link.jpg")
        info.external_attr = (0o120777) << 16  # a symlink as zip stores it
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(UnsafeArchiveError, match="link or special file"):
        safe_extract(linked, tmp_path / "out2")


def test_caltech101_zip_wrapping_a_tar_gz(server, tmp_path):
    """The CaltechDATA layout: caltech-101.zip holding caltech-101/101_ObjectCategories.tar.gz."""
    inner = io.BytesIO()
    with tarfile.open(fileobj=inner, mode="w:gz") as tar:
        for i in range(3):
            _add(tar, f"101_ObjectCategories/ant/image_{i + 1:04d}.jpg", tiny_jpeg(i))
        _add(tar, "101_ObjectCategories/BACKGROUND_Google/tmp", tiny_jpeg(9))
    wrapper = io.BytesIO()
    with zipfile.ZipFile(wrapper, "w") as zf:
        zf.writestr("caltech-101/101_ObjectCategories.tar.gz", inner.getvalue())
        zf.writestr("caltech-101/Annotations.tar", b"not needed")
    data = wrapper.getvalue()
    server.files["/caltech-101.zip"] = data
    source = CaltechSource(
        "caltech101",
        tmp_path,
        url=server.url("caltech-101.zip"),
        checksum=f"md5:{md5(data)}",
        progress=False,
        retries=0,
    )
    folder = source.fetch()
    assert folder == tmp_path / "caltech101" / "101_ObjectCategories"
    assert sorted(r.relpath for r in source.records())[-1] == "ant/image_0003.jpg"
    assert (folder / "BACKGROUND_Google" / "tmp").is_file()
    assert leftovers(tmp_path) == sorted(
        ["caltech101/.complete.json"]
        + [f"caltech101/{p.relative_to(tmp_path / 'caltech101').as_posix()}" for p in folder.rglob("*") if p.is_file()]
    )


def test_offline_caltech101_copy_needs_no_network(tmp_path, monkeypatch, no_network):
    copy = tmp_path / "shared" / "101_ObjectCategories"
    (copy / "ant").mkdir(parents=True)
    (copy / "ant" / "image_0001.jpg").write_bytes(tiny_jpeg(1))
    monkeypatch.setenv("COLORIZATION_CALTECH101_DIR", str(copy))
    source = CaltechSource("caltech101", tmp_path / "data", progress=False)
    assert source.fetch() == copy.resolve()
    assert [r.relpath for r in source.records()] == ["ant/image_0001.jpg"]
    assert "offline copy" in source.origin


def test_published_checksums_are_recorded():
    assert caltech.CALTECH256.checksum == "md5:67b4f42ca05d46448c6bb8ecd2220f6d"
    assert caltech.CALTECH256.url.endswith("/records/nyy15-4j048/files/256_ObjectCategories.tar")
    assert caltech.CALTECH101.checksum == "md5:3138e1922a9193bfa496528edbbc45d0"
    assert caltech.CALTECH101.inner_checksum == "md5:b224c7392d521a49829488ab0f1120d9"
    assert known_hash(md5="AB" * 16) == "md5:" + "ab" * 16
    assert known_hash(sha256="0" * 64) == "sha256:" + "0" * 64
    with pytest.raises(ValueError):
        known_hash(md5="xyz")


def test_cli_download_then_offline(server, tmp_path, capsys, monkeypatch):
    data = caltech256_tar()
    server.files["/c256.tar"] = data
    argv = [
        "download",
        "caltech256",
        "--data-dir",
        str(tmp_path),
        "--url",
        server.url("c256.tar"),
        "--md5",
        md5(data),
        "--quiet",
        "--retries",
        "0",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "caltech256: 15 files in 3 categories" in out and str(tmp_path) in out
    server.stop()
    monkeypatch.setattr(socket.socket, "connect", lambda *a: (_ for _ in ()).throw(OSError("offline")))
    assert main(argv) == 0
    assert "15 files" in capsys.readouterr().out


def test_cli_bad_checksum_is_one_line(server, tmp_path, capsys):
    server.files["/c256.tar"] = caltech256_tar()
    argv = [
        "download",
        "caltech256",
        "--data-dir",
        str(tmp_path),
        "--url",
        server.url("c256.tar"),
        "--md5",
        "0" * 32,
        "--quiet",
        "--retries",
        "0",
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("colorization download:") and "checksum mismatch" in err and "\n" not in err
