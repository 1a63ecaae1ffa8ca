"""Whatever the input, loading either succeeds or raises SpecError with located diagnostics
that render: never another exception (that would be a traceback for the user)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.errors import SpecError
from runner.render.diagnostics import format_spec_error, spec_error_as_json
from runner.spec.loader import load_text

SPECS = Path(__file__).resolve().parents[2] / "specs"
EXAMPLES = [p.read_text(encoding="utf-8") for p in sorted(SPECS.glob("*.yaml"))]
SETTINGS = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def _load_or_report(text: str | bytes) -> None:
    try:
        load_text(text, "fuzz.yaml")
    except SpecError as exc:
        assert exc.diagnostics
        rendered = format_spec_error(exc)
        assert rendered.count(": error: ") == len(exc.diagnostics)
        assert spec_error_as_json(exc)["error_count"] == len(exc.diagnostics)


@SETTINGS
@given(
    st.text(alphabet=st.sampled_from(list("kind: -[]{}&*!|>'\"#\t\n {{}}%vars.0aZ")), max_size=200)
)
def test_random_yaml_like_text_never_escapes(text: str) -> None:
    _load_or_report(text)


@SETTINGS
@given(st.binary(max_size=100))
def test_random_bytes_never_escape(data: bytes) -> None:
    _load_or_report(data)


@SETTINGS
@given(
    example=st.sampled_from(EXAMPLES),
    cut=st.integers(min_value=0, max_value=4000),
    insert=st.text(alphabet=st.sampled_from(list(":-[]{}\n\t &*#'\"x9")), max_size=6),
)
def test_damaged_example_specs_never_escape(example: str, cut: int, insert: str) -> None:
    at = cut % (len(example) + 1)
    _load_or_report(example[:at] + insert + example[at + len(insert) :])


KEYS = [
    "kind",
    "name",
    "resourceGroup",
    "containers",
    "image",
    "cpu",
    "memoryInGB",
    "ports",
    "port",
    "protocol",
    "ipAddress",
    "type",
    "dnsNameLabel",
    "env",
    "secureEnv",
    "command",
    "volumes",
    "volumeMounts",
    "emptyDir",
    "vars",
    "pool",
    "id",
    "job",
    "tasks",
    "outputs",
    "forEachFile",
    "timeout",
    "collect",
    "dir",
    "teardown",
    "properties",
    "apiVersion",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        ["ContainerGroup", "BatchJob", "web", "Public", "{{ vars.x }}", "{{ file.stem }}", "20m"]
    ),
    st.text(max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=20,
)


@SETTINGS
@given(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=8))
def test_random_documents_never_escape(document: dict[str, object]) -> None:
    import yaml

    _load_or_report(yaml.safe_dump(document, allow_unicode=True))
