"""The emulator accepts exactly what azure-batch 15's own shared-key policy signs.

Requests are signed by ``BatchSharedKeyAuthPolicy`` itself (azure/batch/_patch.py) and
checked by ``runner.local.batch.auth.verify``; no HTTP is needed to compare the two.
"""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest
from azure.batch._patch import BatchSharedKeyAuthPolicy
from azure.core.credentials import AzureNamedKeyCredential
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.rest import HttpRequest
from hypothesis import given, settings
from hypothesis import strategies as st

from runner.local.batch.auth import check_api_version, verify
from runner.local.batch.errors import BatchServiceError

ACCOUNT = "local"
KEY = base64.b64encode(b"k" * 64).decode()


def signed(method: str, url: str, **kwargs) -> HttpRequest:
    request = HttpRequest(method, url, **kwargs)
    policy = BatchSharedKeyAuthPolicy(AzureNamedKeyCredential(ACCOUNT, KEY))
    policy.on_request(PipelineRequest(request, PipelineContext(None)))
    return request


def check(request: HttpRequest, key: str = KEY) -> None:
    raw_uri = request.url.split("://", 1)[1]
    raw_uri = raw_uri[raw_uri.index("/") :]
    verify(request.method, raw_uri, dict(request.headers), ACCOUNT, key)


@pytest.mark.parametrize("method", ["DELETE", "POST", "PATCH", "PUT"])
def test_bodiless_writes_are_signed_with_content_length_zero(method):
    check(signed(method, "https://h/pools/p1?api-version=2025-06-01&timeOut=45"))


def test_json_body_and_percent_encoded_file_path():
    check(
        signed(
            "POST",
            "https://h/jobs/j/addtaskcollection?api-version=2025-06-01",
            json={"value": [{"id": "t", "commandLine": "echo hi"}]},
        )
    )
    check(
        signed("GET", "https://h/jobs/j/tasks/t/files/wd%2Fout%20file.txt?api-version=2025-06-01")
    )


def test_a_wrong_key_is_refused_with_the_string_to_sign():
    request = signed("GET", "https://h/pools?api-version=2025-06-01")
    with pytest.raises(BatchServiceError) as caught:
        check(request, base64.b64encode(b"other").decode())
    assert caught.value.code == "AuthenticationFailed" and caught.value.status == 403
    assert "/local/pools" in caught.value.values["AuthenticationErrorDetail"]


def test_missing_and_unknown_api_versions():
    with pytest.raises(BatchServiceError) as missing:
        check_api_version({})
    assert missing.value.code == "MissingRequiredQueryParameter"
    with pytest.raises(BatchServiceError) as unknown:
        check_api_version({"api-version": "2017-06-01.5.1"})
    assert unknown.value.code == "InvalidQueryParameterValue"


@settings(max_examples=200, deadline=None)
@given(
    path=st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
        min_size=1,
        max_size=20,
    ),
    params=st.dictionaries(
        st.sampled_from(["$filter", "$select", "maxresults", "timeOut", "recursive", "$skiptoken"]),
        st.text(
            alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=20
        ),
        max_size=4,
    ),
)
def test_any_path_and_query_signed_by_the_sdk_verifies(path, params):
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
    url = f"https://h/jobs/{quote(path, safe='')}/tasks?api-version=2025-06-01"
    check(signed("GET", f"{url}&{query}" if query else url))
