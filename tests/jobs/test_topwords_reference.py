"""The task script agrees with a plain whole-text reference on random texts."""

from __future__ import annotations

import io
import re
import string
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from runner.jobs import topwords

SEPARATORS = re.compile("[ \t\n\r\x0b\x0c]+")
# Letters, ASCII punctuation, every ASCII separator, Unicode spaces that are not
# separators, multibyte characters of 2 to 4 bytes, and the BOM character.
ALPHABET = st.sampled_from(
    list("abcAB") + list(".,;'\"()-!") + list(" \t\n\r\x0b\x0c")
    + ["\u00a0", "\u2003", "é", "日", "😀", "\ufeff"]
)  # fmt: skip


def reference(text: str) -> Counter[str]:
    """The definition, written the obvious way over the whole decoded text."""
    words = (token.strip(string.punctuation) for token in SEPARATORS.split(text))
    return Counter(word for word in words if word)


def counted(data: bytes, chunk_size: int) -> dict[str, int]:
    raw = topwords.count_raw_tokens(topwords.read_chunks(io.BytesIO(data), chunk_size))
    return topwords.merge_words(raw)


@settings(max_examples=400, deadline=None)
@given(
    text=st.text(alphabet=ALPHABET, max_size=120),
    bom=st.booleans(),
    chunk_size=st.integers(min_value=1, max_value=9),
    n=st.integers(min_value=0, max_value=8),
)
def test_counts_and_top_n_match_the_reference(
    text: str, bom: bool, chunk_size: int, n: int
) -> None:
    data = ("\ufeff" if bom else "").encode() + text.encode()
    # A BOM in front of the file is not text, whether added here or drawn by hypothesis.
    expected = reference(data.decode("utf-8-sig"))
    words = counted(data, chunk_size)
    # Same words, same counts, same first-appearance order.
    assert list(words.items()) == list(expected.items())
    assert topwords.top_words(words, n) == expected.most_common(n)


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet=ALPHABET, max_size=60),
    cut=st.integers(min_value=0, max_value=60),
    bad=st.sampled_from([b"\xff", b"\xc3", b"\xe6\x97", b"\xed\xa0\x80", b"\x80"]),
)
def test_invalid_utf8_anywhere_is_detected(text: str, cut: int, bad: bytes) -> None:
    # Cut between characters so that the inserted bytes alone make the data invalid.
    cut = min(cut, len(text))
    corrupted = text[:cut].encode() + bad + b"a" + text[cut:].encode()
    try:
        counted(corrupted, chunk_size=3)
    except UnicodeDecodeError:
        return
    raise AssertionError(f"accepted invalid UTF-8: {corrupted!r}")
