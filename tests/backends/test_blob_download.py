"""Collect's downloads by read-SAS URL (``blob_download.py``) against the local target's
Azurite, through the ``BlobStore`` apply makes: the bytes arrive whole inside the collect
folder, a planted link carries nothing out of it, a failure leaves no partial file, a
body cut short is worth a retry, and no error shows the SAS."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from runner.backends import blob
from runner.backends.blob_store import BlobStore, blob_store
from runner.backends.sas import SasSigner, sas_expiry
from runner.backends.target import local_target
from runner.errors import PermanentError, TemporaryError

pytestmark = pytest.mark.integration


@pytest.fixture
def store(emulator: dict[str, Any]) -> BlobStore:
    return blob_store(local_target(emulator), "local")


@pytest.fixture
def container(store: BlobStore, blob_service: Any, unique_name: Any) -> Iterator[str]:
    name = unique_name("dl")
    store.create_container(name, {})
    try:
        yield name
    finally:
        blob_service.delete_container(name)


def signer_of(store: BlobStore) -> SasSigner:
    return store.signer(sas_expiry(timedelta(minutes=5)))


def assert_no_sas(text: str, url: str) -> None:
    query = url.split("?", 1)[1]
    assert "sig=" not in text
    assert query not in text


def test_a_download_writes_the_blob_inside_the_folder_through_a_fresh_partial_file(
    store: BlobStore, blob_service: Any, container: str, tmp_path: Path
) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB, several chunks
    blob_service.get_blob_client(container, "t1/out.bin").upload_blob(data)
    root, outside = tmp_path / "out", tmp_path / "elsewhere"
    (root / "t1").mkdir(parents=True)
    outside.mkdir()
    (root / "t1" / "out.bin.part").symlink_to(outside / "stolen.bin")
    dest = blob.safe_destination(root, "t1/out.bin")

    with store.downloads(workers=2) as downloads:
        size = downloads.download(signer_of(store).read_blob(container, "t1/out.bin"), dest)

    assert size == len(data)
    assert dest.read_bytes() == data
    assert not dest.is_symlink()
    assert list(outside.iterdir()) == []
    assert sorted(p.name for p in (root / "t1").iterdir()) == ["out.bin"]


def test_a_missing_blob_is_a_permanent_error_that_leaves_nothing_and_hides_the_sas(
    store: BlobStore, container: str, tmp_path: Path
) -> None:
    url = signer_of(store).read_blob(container, "t1/absent.txt")
    dest = tmp_path / "out" / "t1" / "absent.txt"

    with store.downloads(workers=1) as downloads, pytest.raises(PermanentError) as caught:
        downloads.download(url, dest)

    assert caught.value.status == 404
    assert f"{container}/t1/absent.txt" in str(caught.value)
    assert_no_sas(str(caught.value), url)
    assert list(dest.parent.iterdir()) == []


class CuttingRelay:
    """A TCP relay to ``upstream`` that closes each connection once ``limit`` bytes of
    the answer have passed: a body cut short, as a dropped connection leaves it."""

    def __init__(self, upstream: tuple[str, int], limit: int) -> None:
        self.upstream, self.limit = upstream, limit
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        upstream = socket.create_connection(self.upstream)

        def forward() -> None:
            try:
                while data := client.recv(65536):
                    upstream.sendall(data)
            except OSError:
                pass

        threading.Thread(target=forward, daemon=True).start()
        passed = 0
        try:
            while passed < self.limit and (data := upstream.recv(65536)):
                data = data[: self.limit - passed]
                client.sendall(data)
                passed += len(data)
        except OSError:
            pass
        finally:
            # shutdown, not only close: the forwarding thread still reads these sockets.
            for s in (client, upstream):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def close(self) -> None:
        self.server.close()


def test_a_body_cut_short_is_a_temporary_error_and_leaves_no_partial_file(
    store: BlobStore, blob_service: Any, container: str, tmp_path: Path
) -> None:
    blob_service.get_blob_client(container, "t1/big.bin").upload_blob(b"x" * (1 << 20))
    url = signer_of(store).read_blob(container, "t1/big.bin")
    parts = urlsplit(url)
    relay = CuttingRelay((parts.hostname or "127.0.0.1", parts.port or 80), limit=100_000)
    cut = parts._replace(netloc=f"127.0.0.1:{relay.port}").geturl()
    dest = tmp_path / "out" / "t1" / "big.bin"
    try:
        with store.downloads(workers=1) as downloads, pytest.raises(TemporaryError) as caught:
            downloads.download(cut, dest)
    finally:
        relay.close()

    assert "broke off" in str(caught.value)
    assert_no_sas(str(caught.value), cut)
    assert list(dest.parent.iterdir()) == []


def test_tls_trust_is_the_ca_bundle_the_sdk_clients_are_given(
    emulator: dict[str, Any], tmp_path: Path
) -> None:
    """The local target's Blob endpoint is plain HTTP; its Batch endpoint serves TLS with
    the local CA, which the system's trust does not hold."""
    from runner.backends.blob_download import BlobDownloads

    url = emulator["batch"]["url"].rstrip("/") + "/anything?sig=secret-signature"
    dest = tmp_path / "out" / "x"
    with BlobDownloads(workers=1) as system, pytest.raises(PermanentError) as untrusted:
        system.download(url, dest)
    assert "TLS failed" in str(untrusted.value)
    assert "secret-signature" not in str(untrusted.value)

    trusting = BlobDownloads(workers=1, verify=emulator["ca_bundle"])
    with trusting, pytest.raises(PermanentError) as answered:
        trusting.download(url, dest)
    assert answered.value.status is not None  # the request went through and was answered
    assert "secret-signature" not in str(answered.value)
    assert list(dest.parent.iterdir()) == []
