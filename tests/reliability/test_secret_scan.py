"""The secret scanner itself: it finds what it must, and never prints a secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from secret_scan import SecretScanner

KEY = "k3y/with+signs=="


def test_finds_a_value_as_written_url_encoded_and_json_escaped(tmp_path: Path) -> None:
    scanner = SecretScanner({"account key": KEY, "quoted": 'a"b\\c-secret'}, record=False)
    assert scanner.scan_text(f"x {KEY} y", "plain")
    assert scanner.scan_text("url=k3y%2Fwith%2Bsigns%3D%3D", "encoded")
    assert scanner.scan_text('{"v": "a\\"b\\\\c-secret"}', "json")
    assert not scanner.scan_text("k3y/with+signs", "a prefix is not the key")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "log.txt").write_text(f"key={KEY}\n")
    (tmp_path / "link").symlink_to(tmp_path / "sub" / "log.txt")
    found = scanner.scan_tree(tmp_path)
    assert [f.where for f in found] == [str(tmp_path / "sub" / "log.txt")]
    assert scanner.count == 4
    assert KEY not in scanner.report() and KEY not in repr(scanner)


@pytest.mark.parametrize(
    "text",
    [
        "https://a.blob/c/b?se=2030&sp=r&sig=abcDEF123%2B%3D",
        "https%3A%2F%2Fa.blob%2Fc%3Fsv%3D1%26sig%3DabcDEF1234",
        "?sig=ZmFrZXNpZ25hdHVyZQ==",
    ],
)
def test_finds_sas_signatures(text: str) -> None:
    assert SecretScanner({}, record=False).scan_text(text, "here")


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="too short"):
        SecretScanner({"pin": "1234"}, record=False)
