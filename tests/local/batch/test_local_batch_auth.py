"""Shared-key signatures, checked as the Batch service checks them (api-versions are
test_local_batch_api_versions.py's)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from batch_helpers import make_pool_and_job

pytestmark = pytest.mark.integration


def test_wrong_shared_key_is_refused_with_403_authentication_failed(make_batch_client):
    wrong = base64.b64encode(b"not the account key").decode()
    client = make_batch_client(key=wrong)
    with pytest.raises(HttpResponseError) as caught:
        list(client.list_pools())
    assert caught.value.status_code == 403
    assert caught.value.error.code == "AuthenticationFailed"
    body = caught.value.response.json()
    assert body["odata.metadata"].endswith(
        "$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element"
    )
    assert body["message"]["lang"] == "en-US"
    assert "RequestId:" in body["message"]["value"]
    detail = {v["key"]: v["value"] for v in body["values"]}
    assert "is not the same as any computed signature" in detail["AuthenticationErrorDetail"]


def test_request_without_authorization_is_refused(emulator: dict[str, Any]):
    import requests

    answer = requests.get(
        f"{emulator['batch']['url']}/pools?api-version=2025-06-01",
        verify=emulator["ca_bundle"],
        timeout=10,
    )
    assert answer.status_code == 403
    assert answer.json()["code"] == "AuthenticationFailed"


def test_signature_covers_percent_encoded_paths_and_query_values(batch_client, unique_name):
    # A filter with spaces and quotes is URL-encoded on the wire and signed decoded.
    name = unique_name("sig")
    _, job_id = make_pool_and_job(batch_client, name, nodes=0)
    jobs = list(batch_client.list_jobs(filter=f"id eq '{job_id}'"))
    assert [j.id for j in jobs] == [job_id]
