"""Downloads that cannot succeed fail fast, in one line, and leave nothing behind.

Every server here is started by the test on 127.0.0.1 (the local HTTP server of
``test_data_download.py``, or a bare socket that accepts and never answers); each
test is bounded to a few seconds, whatever the default timeouts and retries are.
"""

from __future__ import annotations

import gzip
import io
import os
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from types import SimpleNamespace

import pytest

from colorization.cli import main
from colorization.data import caltech
from colorization.data import download as dl
from colorization.data.download import DownloadError, UnsafeArchiveError, fetch_file, safe_extract
from colorization.data.paths import mark_folder
from colorization.data.sources import CaltechSource
from tests.test_data_download import Server, _add, caltech256_tar, leftovers, md5, source256


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


ZEROS = "md5:" + "0" * 32


@pytest.fixture
def no_sleep(monkeypatch):
    """Retries without waiting between attempts (the waits are not what is tested)."""
    monkeypatch.setattr(dl, "time", SimpleNamespace(sleep=lambda seconds: None))  # only download's waits


def _cli_download(data_dir, url, checksum="0" * 32, *extra):
    return main(["download", "caltech256", "--data-dir", str(data_dir), "--url", url, "--md5", checksum, *extra])


def _one_line_error(capsys, command="download") -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"colorization {command}:") and "\n" not in err and "Traceback" not in err, err
    return err


# --- what cannot succeed: refused before any network, or not retried -----------------------
@pytest.mark.parametrize(
    "url, problem",
    [
        ("file:///etc/passwd", "unsupported URL scheme 'file'"),
        ("ftp://127.0.0.1/256_ObjectCategories.tar", "unsupported URL scheme 'ftp'"),
        ("127.0.0.1/256_ObjectCategories.tar", "no URL scheme"),
        ("http:///256_ObjectCategories.tar", "no host"),
    ],
)
def test_unsupported_urls_are_refused_before_any_network(tmp_path, capsys, no_network, url, problem):
    assert _cli_download(tmp_path / "data", url) == 2
    err = _one_line_error(capsys)
    assert problem in err and url in err and "No connection adapters" not in err
    assert not (tmp_path / "data").exists()  # nothing created, not even the data folder


def test_http_4xx_is_not_retried(server, tmp_path, no_sleep):
    server.status = 404
    with pytest.raises(DownloadError, match="HTTP 404") as info:
        fetch_file(server.url("x.tar"), ZEROS, tmp_path, "x.tar", progress=False, retries=5)
    assert server.requests == 1 and "retrying would not help" in str(info.value)
    assert leftovers(tmp_path) == []


def test_temporary_server_errors_are_retried(server, tmp_path, no_sleep):
    server.status = 503
    with pytest.raises(DownloadError, match="HTTP 503"):
        fetch_file(server.url("x.tar"), ZEROS, tmp_path, "x.tar", progress=False, retries=2)
    assert server.requests == 3
    assert leftovers(tmp_path) == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again: nothing listens there


def test_nothing_listening_fails_at_once_with_the_default_retries(tmp_path, capsys):
    started = time.perf_counter()
    assert _cli_download(tmp_path, f"http://127.0.0.1:{_free_port()}/c256.tar", "0" * 32, "--quiet") == 2
    assert time.perf_counter() - started < 5  # was ~3 s of waits per retry before
    assert "cannot connect (Connection refused)" in _one_line_error(capsys)
    assert leftovers(tmp_path) == []


@pytest.fixture
def silent_port():
    """A server that accepts connections and never sends a byte."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_a_server_that_never_answers_costs_one_read_timeout(tmp_path, silent_port):
    started = time.perf_counter()
    with pytest.raises(DownloadError, match=r"sent nothing for 0\.5 s"):
        fetch_file(
            f"http://127.0.0.1:{silent_port}/x.tar",
            ZEROS,
            tmp_path,
            "x.tar",
            progress=False,
            retries=2,
            read_timeout=0.5,
        )
    assert time.perf_counter() - started < 3  # no retry: three attempts and waits would be > 3.5 s
    assert leftovers(tmp_path) == []


def test_a_host_that_never_accepts_costs_one_connect_timeout(tmp_path):
    """A full accept queue drops new connection attempts, as an unreachable host does."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port, queued = listener.getsockname()[1], []
    try:
        for _ in range(64):  # fill the queue until a connection attempt hangs
            client = socket.socket()
            client.settimeout(0.2)
            try:
                client.connect(("127.0.0.1", port))
            except OSError:
                client.close()
                break
            queued.append(client)
        else:
            pytest.skip("this kernel never dropped a connection attempt")
        started = time.perf_counter()
        with pytest.raises(DownloadError, match=r"no connection within 0\.5 s"):
            fetch_file(
                f"http://127.0.0.1:{port}/x.tar",
                ZEROS,
                tmp_path,
                "x.tar",
                progress=False,
                retries=2,
                connect_timeout=0.5,
            )
        assert time.perf_counter() - started < 3
    finally:
        for client in queued:
            client.close()
        listener.close()
    assert dl.CONNECT_TIMEOUT <= 10  # the default: a few seconds


def test_quiet_prints_nothing_but_the_result(server, tmp_path, capsys):
    data = caltech256_tar()
    server.files["/c256.tar"] = data
    assert _cli_download(tmp_path, server.url("c256.tar"), md5(data), "--quiet") == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "15 files" in captured.out
    assert _cli_download(tmp_path / "again", server.url("c256.tar"), md5(data)) == 0  # not quiet: says so
    assert f"downloading {server.url('c256.tar')}" in capsys.readouterr().err


# --- temporaries a killed download left -------------------------------------------------------
def test_stale_temporaries_of_our_naming_are_removed_and_nothing_else(server, tmp_path):
    data = caltech256_tar()
    server.files["/256_ObjectCategories.tar"] = data
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    stale = downloads / f"{dl.TEMP_PREFIX}download-k1ll3d.part"
    stale.write_bytes(data[:1000])
    others = [downloads / "tmpab12cd34", downloads / ".256_ObjectCategories.tar.part", downloads / "notes.txt"]
    for other in others:
        other.write_text("not the package's")
    mark_folder(tmp_path / "caltech256", caltech.DATASET_KIND, caltech.MARKER_NAME)  # as a killed extraction left it
    stale_extract = tmp_path / "caltech256" / f"{dl.TEMP_PREFIX}extract-k1ll3d"
    (stale_extract / "256_ObjectCategories").mkdir(parents=True)
    source256(tmp_path, server.url("256_ObjectCategories.tar"), data).fetch()
    assert not stale.exists() and not stale_extract.exists()
    assert all(other.read_text() == "not the package's" for other in others)


def _wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.subprocess
def test_kill_9_during_a_download_then_the_next_run_cleans_up_and_succeeds(server, tmp_path):
    data = caltech256_tar()
    server.files["/c256.tar"] = data
    server.drip = 0.2  # 5 KiB/s: the download takes seconds, time enough to kill it
    downloads = tmp_path / "downloads"
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
    ]
    child = subprocess.Popen([sys.executable, "-m", "colorization", *argv], stderr=subprocess.DEVNULL)
    try:
        assert _wait_for(lambda: server.requests == 1 and any(downloads.glob(f"{dl.TEMP_PREFIX}*")), 30)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    assert [p.name for p in downloads.iterdir()][0].startswith(dl.TEMP_PREFIX)  # what kill -9 leaves
    server.drip = 0.0
    assert main(argv) == 0
    assert not list(downloads.glob(f"{dl.TEMP_PREFIX}*"))


@pytest.mark.subprocess
def test_a_temporary_in_use_by_another_process_is_left_alone(server, tmp_path):
    """The downloads folder's lock: a second download waits, it never removes the first one's file."""
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    busy = downloads / f"{dl.TEMP_PREFIX}download-busy.part"
    busy.write_bytes(b"in progress")
    code = (
        "import sys, time\n"
        "from colorization.data.paths import folder_lock\n"
        "with folder_lock(sys.argv[1]):\n"
        "    print('locked', flush=True)\n"
        "    time.sleep(60)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(downloads)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        data = caltech256_tar()
        server.files["/256_ObjectCategories.tar"] = data
        done = threading.Event()
        worker = threading.Thread(
            target=lambda: (source256(tmp_path, server.url("256_ObjectCategories.tar"), data).fetch(), done.set())
        )
        worker.start()
        assert not done.wait(1.0) and busy.exists()  # waiting, the other process's file untouched
    finally:
        holder.kill()
        holder.wait(10)
    worker.join(30)
    assert done.is_set() and not busy.exists()  # once the holder is gone, its file is stale


# --- archives: refused ones are deleted, extraction is capped ---------------------------------
def test_a_refused_archive_is_deleted_from_downloads(server, tmp_path, capsys):
    data = caltech256_tar(lambda tar: _add(tar, "../evil", b"x"))
    server.files["/c256.tar"] = data
    assert _cli_download(tmp_path, server.url("c256.tar"), md5(data), "--quiet") == 2
    err = _one_line_error(capsys)
    assert "refusing member '../evil'" in err and "the downloaded archive was deleted" in err
    assert leftovers(tmp_path) == []


def _bomb(size: int) -> bytes:
    """A tar.gz of one file of ``size`` zero bytes (a few KB compressed)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("256_ObjectCategories/001.ak47/zeros.jpg")
        info.size = size
        tar.addfile(info, io.BytesIO(bytes(size)))
    return buffer.getvalue()


def test_extraction_is_capped_at_a_multiple_of_the_archive(server, tmp_path, capsys):
    data = _bomb(20 << 20)  # 20 MiB from ~20 KiB
    assert len(data) < 100_000
    server.files["/c256.tar.gz"] = data
    assert _cli_download(tmp_path, server.url("c256.tar.gz"), md5(data), "--quiet") == 2
    err = _one_line_error(capsys)
    assert f"refusing to extract more than {2 * len(data):,} bytes" in err and "deleted" in err
    assert leftovers(tmp_path) == [] and not (tmp_path / "caltech256").exists()


def test_extraction_cap_is_a_parameter_and_counts_only_extracted_members(tmp_path):
    archive = tmp_path / "a.tar"
    archive.write_bytes(caltech256_tar())
    total = sum(m.size for m in tarfile.open(archive) if m.isfile())
    with pytest.raises(UnsafeArchiveError, match="refusing to extract more than"):
        safe_extract(archive, tmp_path / "small", max_bytes=total - 1)
    assert list((tmp_path / "small").iterdir()) == []
    assert len(safe_extract(archive, tmp_path / "exact", max_bytes=total)) == 1
    zipped = tmp_path / "a.zip"
    with zipfile.ZipFile(zipped, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big/zeros.bin", bytes(1 << 20))
        zf.writestr("small.txt", b"abc")
    with pytest.raises(UnsafeArchiveError, match="refusing to extract more than"):
        safe_extract(zipped, tmp_path / "z", max_bytes=1000)
    assert safe_extract(zipped, tmp_path / "z", only="small.txt", max_bytes=1000) == ["small.txt"]


def test_the_real_caltech101_fits_its_cap():
    """The recorded size covers the real image folder (when the offline copy is here)."""
    from colorization.data.paths import offline_caltech101_dir

    folder = offline_caltech101_dir()
    if folder is None:
        pytest.skip("no offline Caltech-101 copy on this machine")
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert total <= caltech.CALTECH101.size  # so the cap, twice that, never refuses the real archive


def test_a_corrupt_gzip_is_one_line_and_deleted(server, tmp_path, capsys):
    data = gzip.compress(caltech256_tar())[:-300]  # truncated stream
    server.files["/c256.tar.gz"] = data
    assert _cli_download(tmp_path, server.url("c256.tar.gz"), md5(data), "--quiet") == 2
    assert "corrupt archive" in _one_line_error(capsys)
    assert leftovers(tmp_path) == []


# --- the data folder ----------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["download", "prepare"])
@pytest.mark.parametrize("blocker", ["data", "data/downloads"])
def test_a_file_where_a_data_folder_should_be_is_one_line(server, tmp_path, capsys, command, blocker):
    data = caltech256_tar()
    server.files["/c256.tar"] = data
    (tmp_path / blocker).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / blocker).write_text("a file")
    argv = [
        command,
        "caltech256",
        "--data-dir",
        str(tmp_path / "data"),
        "--url",
        server.url("c256.tar"),
        "--md5",
        md5(data),
        "--quiet",
    ]
    if command == "prepare":
        argv += ["--out", str(tmp_path / "out")]
    assert main(argv) == 2
    err = _one_line_error(capsys, command)
    assert f"{tmp_path / blocker}: exists and is not a folder" in err
    assert (tmp_path / blocker).read_text() == "a file"


def test_a_dataset_folder_the_package_did_not_make_is_never_written_into(server, tmp_path, capsys):
    data = caltech256_tar()
    server.files["/c256.tar"] = data
    mine = tmp_path / "caltech256" / "256_ObjectCategories"
    mine.mkdir(parents=True)
    (mine / "my-photo.jpg").write_bytes(b"mine")
    assert _cli_download(tmp_path, server.url("c256.tar"), md5(data), "--quiet") == 2
    err = _one_line_error(capsys)
    assert str(tmp_path / "caltech256") in err and "move it away" in err
    assert server.requests == 0  # refused before the download
    assert (mine / "my-photo.jpg").read_bytes() == b"mine" and len(list(mine.iterdir())) == 1


def test_an_earlier_versions_extraction_is_still_recognised(server, tmp_path):
    data = caltech256_tar()
    server.files["/c256.tar"] = data
    source = CaltechSource(
        "caltech256", tmp_path, url=server.url("c256.tar"), checksum=f"md5:{md5(data)}", progress=False, retries=0
    )
    folder = source.fetch()
    marker = caltech.read_marker(tmp_path / "caltech256")
    legacy = {k: v for k, v in marker.items() if k not in ("format", "kind")}
    caltech.write_text_atomic(tmp_path / "caltech256" / caltech.MARKER_NAME, __import__("json").dumps(legacy))
    assert CaltechSource("caltech256", tmp_path, checksum=f"md5:{md5(data)}", progress=False).fetch() == folder
    other = caltech256_tar(lambda tar: _add(tar, "256_ObjectCategories/004.extra/x.jpg", b"x"))
    server.files["/c256.tar"] = other  # a new checksum: extracted again into the adopted folder
    again = CaltechSource(
        "caltech256", tmp_path, url=server.url("c256.tar"), checksum=f"md5:{md5(other)}", progress=False, retries=0
    ).fetch()
    assert (again / "004.extra" / "x.jpg").is_file()
    assert caltech.read_marker(tmp_path / "caltech256")["format"] == "colorization"


def test_a_transfer_that_breaks_off_is_retried(server, tmp_path, no_sleep):
    data = caltech256_tar()  # smaller than one chunk: nothing reaches the file before the drop
    server.files["/x.tar"] = data
    server.drop = True
    with pytest.raises(DownloadError, match="the transfer broke off") as info:
        fetch_file(server.url("x.tar"), f"md5:{md5(data)}", tmp_path, "x.tar", progress=False, retries=2)
    assert server.requests == 3 and "run again to retry" in str(info.value)
    assert leftovers(tmp_path) == []


def test_a_transfer_that_stalls_midway_is_retried(server, tmp_path, no_sleep):
    data = caltech256_tar()
    server.files["/x.tar"] = data
    server.drip = 1.0  # the first KiB, then silence longer than the read timeout
    started = time.perf_counter()
    with pytest.raises(DownloadError, match="the transfer broke off"):
        fetch_file(
            server.url("x.tar"), f"md5:{md5(data)}", tmp_path, "x.tar", progress=False, retries=1, read_timeout=0.3
        )
    assert server.requests == 2 and time.perf_counter() - started < 3
    assert leftovers(tmp_path) == []
