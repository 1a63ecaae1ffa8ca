"""What a container group's containers trust: the local target's certificate.

On Azure a container reaches Azure Storage over HTTPS with the public CAs of its image. The
local target's endpoints present the target's own self-signed certificate, so each
container of a group gets, at ``docker run`` only (the group's API view is unchanged), a
read-only bundle at the path curl, Alpine, Debian, OpenSSL and Python's ``ssl`` read, and
the variables that point tools there. The bundle is this machine's CAs and the target's
certificate: the image's own bundle is covered by it, and CAs only the image adds are not
trusted.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from runner.local.tls import CERT_FILE

BUNDLE_PATH = "/etc/ssl/certs/ca-certificates.crt"
BUNDLE_FILE = "container-ca-bundle.pem"
# OpenSSL (and Python's ssl, Go's crypto/x509), curl, and Python's requests (certifi else).
TRUST_VARIABLES = ("SSL_CERT_FILE", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE")
_SYSTEM_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
)


def write_bundle(state_dir: Path) -> Path:
    """The bundle file in ``state_dir`` (this machine's CAs, then the target's
    certificate), rewritten only when that changed: running containers have it mounted."""
    cert = (state_dir / CERT_FILE).read_bytes()
    system = _system_bundle()
    text = (system.rstrip(b"\n") + b"\n" if system else b"") + cert
    path = state_dir / BUNDLE_FILE
    if path.exists() and path.read_bytes() == text:
        return path
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(text)
    tmp.chmod(0o644)
    tmp.replace(path)
    return path


def _system_bundle() -> bytes:
    found = ssl.get_default_verify_paths().cafile
    for candidate in ([found] if found else []) + list(_SYSTEM_BUNDLES):
        try:
            return Path(candidate).read_bytes()
        except OSError:
            continue
    return b""


def trust_options(bundle: Path) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """``docker run`` volumes and environment that make a container trust ``bundle``."""
    volumes = {str(bundle): {"bind": BUNDLE_PATH, "mode": "ro"}}
    return volumes, dict.fromkeys(TRUST_VARIABLES, BUNDLE_PATH)
