"""Secure-value fingerprints in tags: whoever can read the tags cannot test guesses.

The tags sent for a group holding a 4-digit PIN are the ones ``group_model`` builds for a
real PUT. Hashing all 10,000 PINs with the salt the tags make public (the attack that
recovers the PIN from a plain salted hash, shown working on one) matches nothing; only
the key's holder can tell the PIN.
"""

from __future__ import annotations

import hashlib
import json

from runner.backends import tags
from runner.backends.aci import group_model
from runner.plan.aci import canonical_group, salt_for
from runner.plan.canonical import FingerprintKey, fingerprint, fingerprint_key_id
from runner.spec.models import ContainerGroup

PIN = "4821"
KEY = FingerprintKey(b"a-secret-only-this-machine-has-0123")
SALT = f"{salt_for('vault', 'atm')}/app.PIN"  # what the tag name and group id tell anyone


def atm(pin: str) -> ContainerGroup:
    return ContainerGroup.model_validate(
        {
            "kind": "ContainerGroup",
            "name": "atm",
            "resourceGroup": "vault",
            "containers": [{"name": "app", "image": "busybox:1", "secureEnv": {"PIN": pin}}],
        }
    )


def plain_salted_hash(value: str) -> str:
    """How a fingerprint without a key is made: sha256 of the public salt and the value."""
    return "fp:" + hashlib.sha256(f"{SALT}\x00{value}".encode()).hexdigest()[:32]


def guess_pin(tag: str) -> str | None:
    """The attack: hash every 4-digit PIN and look for the tag (or its MAC part)."""
    for n in range(10_000):
        guess = plain_salted_hash(f"{n:04d}")
        if tag == guess or tag.rsplit(":", 1)[-1] == guess.removeprefix("fp:"):
            return f"{n:04d}"
    return None


def sent_tags(pin: str) -> dict[str, str]:
    return dict(group_model(atm(pin), workspace="w", key=KEY).tags or {})


def test_the_attack_recovers_a_pin_from_a_plain_salted_hash() -> None:
    assert guess_pin(plain_salted_hash(PIN)) == PIN


def test_hashing_every_pin_matches_no_tag_sent() -> None:
    sent = sent_tags(PIN)
    fp = tags.parse(sent).fingerprints["app.PIN"]
    assert guess_pin(fp) is None
    # runner-hash covers the canonical form, fingerprint included: no guess matches it
    # either, even hashed the way it is made, with a plain fingerprint in the key's place.
    form = canonical_group(atm(PIN))  # the PIN enters the form through its fingerprint only
    for n in range(10_000):
        form["containers"][0]["secureEnv"]["PIN"] = plain_salted_hash(f"{n:04d}")
        text = json.dumps(form, sort_keys=True, separators=(",", ":"), default=str)
        assert hashlib.sha256(text.encode()).hexdigest() != sent[tags.HASH_TAG]
    assert KEY.secret.decode() not in json.dumps(sent)


def test_only_the_keys_holder_can_tell_the_pin() -> None:
    fp = tags.parse(sent_tags(PIN)).fingerprints["app.PIN"]
    matches = [n for n in range(10_000) if fingerprint(f"{n:04d}", SALT, KEY) == fp]
    assert matches == [int(PIN)]


def test_a_fingerprint_names_its_key_by_an_id_that_tells_nothing_of_it() -> None:
    other = FingerprintKey(b"another-machine-key-0123456789")
    fp = tags.parse(sent_tags(PIN)).fingerprints["app.PIN"]
    assert fingerprint_key_id(fp) == KEY.id != other.id
    assert "secret" not in repr(KEY) and KEY.secret.decode() not in repr(KEY)
    assert fingerprint_key_id(plain_salted_hash(PIN)) is None
