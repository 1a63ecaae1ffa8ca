"""Downloads of blobs by read-SAS URL over one pooled HTTP session: how collect fetches a
job's outputs.

Collect runs many downloads at once in one process, so what bounds it is the client's CPU
(one interpreter lock), not the network. The storage SDK's pipeline costs about 2 ms of it
per download; a plain GET of a read-SAS URL about half that. The guarantees are
``blob.download``'s: bytes go to ``<dest>.part``, opened afresh (no planted link is
followed) and renamed once the whole body is in, so a partial file never stays; 408, 429,
5xx and broken connections are ``TemporaryError`` (with ``Retry-After``) for the engine
to retry, other answers ``PermanentError``; TLS trust is the SDK client's (the same CA
bundle, or the system's), and the environment's proxies and CA bundle apply as they do
to the SDK. The environment is read once per endpoint, not on every request as requests
does by default: that reading cost more CPU than the rest of a download.

A SAS grants what it says to whoever holds it: no error, log line or event shows one.
URLs are shown without their query, and urllib3's debug log of each request is redacted.
"""

from __future__ import annotations

import logging
import os
import re
import ssl
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any
from xml.etree import ElementTree

import requests
from requests.adapters import HTTPAdapter

from runner.errors import PermanentError, RunnerError, TargetError, TemporaryError

# The storage SDK's own timeouts (azure.storage.blob _shared/constants.py).
CONNECT_TIMEOUT = 20.0
READ_TIMEOUT = 60.0
CHUNK = 256 * 1024
_QUERY = re.compile(r"\?[^\s'\"]*")


def shown(url: str) -> str:
    """``url`` as errors show it: without its query, where a SAS would be."""
    return url.split("?", 1)[0]


def redacted(text: str) -> str:
    """``text`` with the query of every URL in it removed."""
    return _QUERY.sub("", text)


class _RedactQueries(logging.Filter):
    """urllib3 logs each request's URL at debug level, query and SAS included."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redacted(a) if isinstance(a, str) else a for a in args)
        return True


_REDACT = _RedactQueries()
logging.getLogger("urllib3.connectionpool").addFilter(_REDACT)


class BlobDownloads:
    """Downloads through one session whose connection pool holds ``workers`` connections,
    one per download in flight: none is opened twice, none waits for another."""

    def __init__(
        self,
        *,
        workers: int,
        verify: str | bool = True,
        unreachable: Callable[[str], str | None] | None = None,
    ) -> None:
        self._verify = verify
        self._unreachable = unreachable
        self._settings: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._session = requests.Session()
        # Read once per endpoint in _settings_for (proxies, REQUESTS_CA_BUNDLE); also no
        # .netrc credentials, which the SAS needs none of.
        self._session.trust_env = False
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(1, workers), max_retries=0)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    def download(self, url: str, dest: Path) -> int:
        """GET ``url`` (a read-SAS URL) into ``dest``; returns the bytes written."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_name(dest.name + ".part")
        # A link planted under the partial name would carry the bytes outside the collect
        # folder (and the rename would move the link into place): start from a fresh file.
        partial.unlink(missing_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            with os.fdopen(os.open(partial, flags, 0o644), "wb") as out:
                size = self._fetch(url, out)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(dest)
        return size

    def _fetch(self, url: str, out: Any) -> int:
        where = shown(url)
        try:
            response = self._session.get(
                url,
                stream=True,
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                allow_redirects=False,
                **self._settings_for(where),
            )
        except requests.exceptions.SSLError as exc:
            if _untrusted(exc):
                # An untrusted certificate stays untrusted: retrying cannot help.
                raise PermanentError(f"TLS failed for {where}: {_reason(exc)}") from None
            raise TemporaryError(
                f"connection failed downloading {where}: {_reason(exc)}", code="ConnectionError"
            ) from None
        except requests.exceptions.ConnectionError as exc:
            why = self._unreachable(url) if self._unreachable else None
            if why:
                raise TargetError(why) from None
            raise TemporaryError(
                f"connection failed downloading {where}: {_reason(exc)}", code="ConnectionError"
            ) from None
        except requests.exceptions.RequestException as exc:
            raise TemporaryError(
                f"connection failed downloading {where}: {_reason(exc)}", code="ConnectionError"
            ) from None
        with response:
            if response.status_code != 200:
                raise _refused(response, where)
            size = 0
            try:
                # Decoded as the SDK's download does (it decompresses by default).
                for chunk in response.iter_content(CHUNK):
                    out.write(chunk)
                    size += len(chunk)
            except requests.exceptions.RequestException as exc:
                # A read timeout, or a body cut short (urllib3 checks Content-Length).
                raise TemporaryError(
                    f"download of {where} broke off after {size} bytes: {_reason(exc)}",
                    code="ConnectionError",
                ) from None
            return size

    def _settings_for(self, url: str) -> dict[str, Any]:
        """Proxies and TLS trust for ``url``'s endpoint, as a session that trusts the
        environment (the SDK's) settles them: ``HTTPS_PROXY``/``NO_PROXY``, and
        ``REQUESTS_CA_BUNDLE`` when the trust is the system's."""
        origin = "/".join(url.split("/", 3)[:3])
        with self._lock:
            found = self._settings.get(origin)
        if found is None:
            reader = requests.Session()
            try:
                merged = reader.merge_environment_settings(origin, {}, None, self._verify, None)
            finally:
                reader.close()
            found = {"proxies": merged["proxies"], "verify": merged["verify"]}
            with self._lock:
                self._settings[origin] = found
        return found

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> BlobDownloads:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _untrusted(exc: BaseException) -> bool:
    """Whether the server's certificate failed verification, anywhere in the chain."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        reason = getattr(seen, "reason", None)
        nested = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen = next(
            (e for e in (reason, nested, seen.__cause__, seen.__context__) if e is not None), None
        )
    return False


def _reason(exc: BaseException) -> str:
    """The exception's text, its URLs' queries cut: requests and urllib3 name the URL."""
    text = redacted(str(exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _refused(response: requests.Response, where: str) -> RunnerError:
    """The error for a non-200 answer, worded as ``errors.translate`` words the SDK's."""
    status = response.status_code
    code, message = _storage_error(response)
    head = f"{status} {code}" if code else f"HTTP {status}"
    text = f"{head}: {message}" if message else head
    text = f"{text} (GET {where})"
    if status in (408, 429) or status >= 500:
        return TemporaryError(text, delay=_retry_after(response), code=code or str(status))
    return PermanentError(text, code=code or None, status=status)


def _storage_error(response: requests.Response) -> tuple[str, str]:
    code = response.headers.get("x-ms-error-code", "")
    try:
        body = response.text
    except requests.exceptions.RequestException:
        return code, ""
    if not body.lstrip().startswith("<"):
        return code, ""
    try:
        root = ElementTree.fromstring(body.lstrip("\ufeff"))
    except ElementTree.ParseError:
        return code, ""
    message = (root.findtext("Message") or "").strip()
    first = message.splitlines()[0] if message else ""
    return root.findtext("Code") or code, redacted(first)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("x-ms-retry-after-ms") or response.headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            return None
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
