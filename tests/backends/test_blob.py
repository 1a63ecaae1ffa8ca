"""Blob backend through the real storage SDK against a directly started Azurite: uploads
carry their Content-MD5, listings read it back with ownership, SAS URLs grant exactly
what they say until they expire, downloads refuse to leave their folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from runner.backends import blob
from runner.backends.batch_metadata import blob_metadata
from runner.backends.sas import EXPIRY_MARGIN, sas_expiry, signer_for
from runner.engine.inputs import content_md5
from runner.errors import RunnerError
from runner.plan.batch_desired import LocalFile

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from azure.storage.blob import BlobServiceClient

    from runner.local.azurite import AzuriteError, start_azurite

    try:
        info = start_azurite(tmp_path_factory.mktemp("azurite"))
    except AzuriteError as exc:
        if os.environ.get("RUNNER_REQUIRE_SERVICES") == "1":
            pytest.fail(f"Azurite is required: {exc}")
        pytest.skip(f"Azurite not available: {exc}")
    try:
        yield BlobServiceClient.from_connection_string(info.connection_string, retry_total=0)
    finally:
        info.stop()


def local_file(tmp_path: Path, name: str, data: bytes, container: str) -> LocalFile:
    path = tmp_path / name
    path.write_bytes(data)
    md5, size = content_md5(path)
    return LocalFile(path=path, container=container, blob=name, md5=md5, size=size)


def test_upload_sets_content_md5_and_listing_reads_it_with_owner(service, tmp_path):
    assert blob.create_container(service, "md5-check", blob_metadata("tw", "ws")) is True
    assert blob.create_container(service, "md5-check", {}) is False
    f = local_file(tmp_path, "alice.txt", b"Alice was beginning\n", "md5-check")
    blob.upload(service, f, blob_metadata("tw", "ws"))

    listed = blob.read_blobs(service, "md5-check")[("md5-check", "alice.txt")]
    assert listed.md5 == f.md5
    assert listed.owner.owned_by("ws", "tw")
    containers = blob.read_containers(service, ["md5-check", "absent-container"])
    assert list(containers) == ["md5-check"]
    assert containers["md5-check"].owned_by("ws", "tw")


def test_large_upload_in_blocks_still_carries_content_md5(service, tmp_path):
    blob.create_container(service, "md5-blocks", {})
    data = os.urandom(70 * 1024 * 1024)  # above the SDK's single-put limit of 64 MiB
    f = local_file(tmp_path, "big.bin", data, "md5-blocks")
    blob.upload(service, f, {})
    assert blob.read_blobs(service, "md5-blocks")[("md5-blocks", "big.bin")].md5 == f.md5


def test_read_sas_reads_one_blob_and_nothing_else(service, tmp_path):
    blob.create_container(service, "sas-read", {})
    blob.upload(service, local_file(tmp_path, "a.txt", b"A", "sas-read"), {})
    blob.upload(service, local_file(tmp_path, "b.txt", b"B", "sas-read"), {})
    key = service.credential.account_key
    signer = signer_for(service, key, sas_expiry(timedelta(minutes=5)))

    url = signer.read_blob("sas-read", "a.txt")
    assert requests.get(url, timeout=10).content == b"A"
    other = url.replace("/a.txt?", "/b.txt?")
    assert requests.get(other, timeout=10).status_code == 403
    put = requests.put(url, data=b"x", headers={"x-ms-blob-type": "BlockBlob"}, timeout=10)
    assert put.status_code == 403


def test_write_sas_creates_blobs_but_cannot_read_or_list(service):
    blob.create_container(service, "sas-write", {})
    signer = signer_for(service, service.credential.account_key, sas_expiry(timedelta(minutes=5)))
    container_url = signer.write_container("sas-write")
    base, token = container_url.split("?", 1)
    put = requests.put(
        f"{base}/t1/out.txt?{token}",
        data=b"result",
        headers={"x-ms-blob-type": "BlockBlob"},
        timeout=10,
    )
    assert put.status_code == 201
    assert requests.get(f"{base}/t1/out.txt?{token}", timeout=10).status_code == 403
    listing = requests.get(f"{base}?restype=container&comp=list&{token}", timeout=10)
    assert listing.status_code == 403
    assert blob.list_names(service, "sas-write") == ["t1/out.txt"]


def test_expired_sas_is_refused(service, tmp_path):
    blob.create_container(service, "sas-expired", {})
    blob.upload(service, local_file(tmp_path, "a.txt", b"A", "sas-expired"), {})
    past = datetime.now(UTC) - timedelta(minutes=1)
    signer = signer_for(service, service.credential.account_key, past)
    assert requests.get(signer.read_blob("sas-expired", "a.txt"), timeout=10).status_code == 403


def test_sas_expiry_is_the_timeout_plus_a_small_margin_never_more():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert sas_expiry(timedelta(minutes=20), now) == now + timedelta(minutes=20) + EXPIRY_MARGIN
    assert timedelta(minutes=5) >= EXPIRY_MARGIN


def test_signer_url_carries_expiry_and_least_permissions(service):
    expiry = sas_expiry(timedelta(minutes=20))
    signer = signer_for(service, service.credential.account_key, expiry)
    read = signer.read_blob("c", "x.txt")
    write = signer.write_container("c")
    assert "sp=r&" in read and "sr=b" in read
    assert "sp=cw&" in write and "sr=c" in write
    assert expiry.strftime("%Y-%m-%dT%H:%M:%SZ").replace(":", "%3A") in read


def test_download_writes_inside_the_folder_and_refuses_escapes(service, tmp_path):
    blob.create_container(service, "dl-check", {})
    blob.upload(service, local_file(tmp_path, "r.txt", b"top words", "dl-check"), {})
    out = tmp_path / "out"
    dest = blob.safe_destination(out, "sub/r.txt")
    assert blob.download(service, "dl-check", "r.txt", dest) == 9
    assert dest.read_bytes() == b"top words"
    assert not list(out.rglob("*.part"))
    for bad in ("../x.txt", "/etc/passwd", "a/../../x", "", "C:/x", "a\\..\\..\\x", "./x"):
        with pytest.raises(RunnerError):
            blob.safe_destination(out, bad)


def test_delete_container_reports_whether_it_existed(service):
    blob.create_container(service, "gone", {})
    assert blob.delete_container(service, "gone") is True
    assert blob.delete_container(service, "never-there") is False
    assert blob.read_blobs(service, "never-there") == {}
