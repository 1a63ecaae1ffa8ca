"""Hostile input: spec templates that try to leave the sandbox or exhaust the machine,
YAML built to blow up the parser, and collected files whose names try to leave the
collect folder.

Loading must end, quickly and within a memory bound, in a valid spec or a ``SpecError``
whose diagnostics point into the file: never another exception. The random schedules of
tests/spec/test_spec_fuzz.py cover YAML structure; the fuzz here composes template
expressions from the dangerous pieces (repeats, powers, widths, ranges, loops), adds a
per-example deadline and measures peak memory with tracemalloc.
"""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.backends import blob
from runner.engine import collect
from runner.errors import PermanentError, RunnerError, SpecError
from runner.spec.loader import load_text

MEMORY_BOUND = 64 * 1024 * 1024  # bytes a single hostile document may make the loader take
IMAGE_LINE = 6  # the line of ``image:`` in the document below


def document(image: str) -> str:
    quoted = image.replace("\\", "\\\\").replace('"', '\\"')
    return (
        "kind: ContainerGroup\n"
        "name: fuzz\n"
        "resourceGroup: rg\n"
        "containers:\n"
        "  - name: main\n"
        f'    image: "{quoted}"\n'
    )


@contextmanager
def memory_bound() -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_BOUND, f"loading took {peak / 1e6:.0f} MB"


def load_or_located_error(text: str) -> SpecError | None:
    """Loads ``text``: a valid spec gives None, a refusal its located ``SpecError``."""
    try:
        load_text(text, "hostile.yaml")
    except SpecError as exc:
        assert exc.diagnostics
        for d in exc.diagnostics:
            assert d.span is not None and d.span.file == "hostile.yaml", d
            assert d.span.line >= 1 and d.span.col >= 1, d
        return exc
    return None


ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__.os }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ self._TemplateReference__context }}",
    "{{ self.__init__.__globals__ }}",
    "{{ env.__globals__['os'] }}",
    "{{ vars.__class__.__base__.__subclasses__() }}",
    "{{ request.application.__globals__ }}",
    "{{ config.items() }}",
    "{{ ().__class__.__bases__[0].__subclasses__() }}",
    "{{ '{0.__class__}'.format('') }}",
    "{{ ''|attr('__class__') }}",
    "{% set x = ''.__class__ %}{{ x }}",
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("template", ESCAPES)
def test_sandbox_escapes_are_refused_at_their_line(template: str) -> None:
    with memory_bound():
        error = load_or_located_error(document(template))
    assert error is not None, f"{template} loaded"
    assert error.diagnostics[0].span is not None
    assert error.diagnostics[0].span.line == IMAGE_LINE
    summary = error.diagnostics[0].summary
    assert "unsafe" in summary or "undefined" in summary, summary


EXHAUSTION = [
    "{{ range(10**9) | list }}",
    "{{ 'a' * 10**9 }}",
    "{{ [1] * 10**9 }}",
    "{{ (range(100000) | list) * 100000 }}",
    "{{ ('a' ~ 'b') * 99999999 }}",
    "{{ 2 ** 99999999 }}",
    "{{ 10 ** 100000000 }}",
    "{{ '%0999999999d' % 1 }}",
    "{{ '%*d' % (999999999, 1) }}",
    "{{ '{0:>999999999}'.format(1) }}",
    "{{ 'n{:{w}}'.format(1, w=10**9) }}",
    "{{ '%0999999999d' | format(1) }}",
    "{{ 'x' | center(999999999) }}",
    "{{ 'x' | indent(999999999, true) }}",
    "{{ 'x'.ljust(999999999) }}",
    "{{ 'x'.zfill(999999999) }}",
    "{{ ('x' * 100000) | replace('x', 'x' * 100000) }}",
    "{{ ('x' * 100000).replace('', 'yyyyyyyyyyyy') }}",
    "{{ ('x' * 1000).join(range(100000) | list) }}",
    "{{ range(100000) | join('x' * 1000) }}",
    "{{ lipsum(n=100000) }}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}",
    "{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "{% for x in [[1]] recursive %}{{ loop(x) }}{{ loop(x) }}{% endfor %}",
    "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}"
    "{% endfor %}{{ ns.s }}",
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("template", EXHAUSTION)
def test_templates_that_would_exhaust_the_machine_are_refused(template: str) -> None:
    with memory_bound():
        error = load_or_located_error(document(template))
    assert error is not None, f"{template} loaded"
    assert error.diagnostics[0].span is not None
    assert error.diagnostics[0].span.line == IMAGE_LINE


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ 'a-%s' % 'b' }}", "a-b"),
        ("{{ '%05d' % 42 }}", "00042"),
        ("{{ 'x' * 3 }}", "xxx"),
        ("{{ 2 ** 10 }}", "1024"),
        ("{{ 'v{}'.format(1) }}", "v1"),
        ("{{ ['a', 'b'] | join('-') }}", "a-b"),
        ("{{ 'a.b' | replace('.', '/') }}", "a/b"),
        ("{% for i in range(3) %}{{ i }}{% endfor %}", "012"),
    ],
)
def test_ordinary_templates_still_render(template: str, expected: str) -> None:
    loaded = load_text(document(template), "ok.yaml")
    assert loaded[0].spec.containers[0].image == expected  # type: ignore[union-attr]


YAML_ATTACKS = {
    "billion laughs": "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "kind: ContainerGroup\n",
    "aliases to a big list": "a: &a [" + ", ".join(["x" * 100] * 1000) + "]\n"
    "b: [" + ", ".join(["*a"] * 1000) + "]\n",
    "deep flow nesting": "kind: ContainerGroup\nvars: " + "[" * 5000 + "]" * 5000 + "\n",
    "deep block nesting": "kind: ContainerGroup\nvars:\n"
    + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(2000)),
    "deep flow mappings": "vars: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n",
    "recursive alias": "a: &a [*a]\n",
    "unknown tag": "kind: !!python/object/apply:os.system [id]\n",
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(YAML_ATTACKS))
def test_yaml_built_to_blow_up_the_parser_is_refused(name: str) -> None:
    with memory_bound():
        error = load_or_located_error(YAML_ATTACKS[name])
    assert error is not None


@pytest.mark.timeout(60)
def test_a_file_over_the_size_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    from runner.spec.loader import load_specs
    from runner.spec.source import MAX_SPEC_BYTES

    big = tmp_path / "big.yaml"
    with big.open("w") as f:
        f.write("kind: ContainerGroup\nvars:\n")
        line = "  k{}: " + "v" * 100 + "\n"
        for i in range(MAX_SPEC_BYTES // 100 + 1):
            f.write(line.format(i))
    with pytest.raises(SpecError, match="too large"), memory_bound():
        load_specs([big])


# --- fuzz -------------------------------------------------------------------------------

ATOMS = st.sampled_from(
    [
        "1",
        "10",
        "100000",
        "10**9",
        "'x'",
        "'ab' * 3",
        "[1, 2]",
        "range(100000)",
        "range(10)",
        "vars",
        "''",
        "'%0999d'",
        "'{0:>99999999}'",
        "env",
        "self",
        "cycler",
        "lipsum",
        "loop",
        "none",
    ]
)
OPERATORS = st.sampled_from(["*", "**", "%", "~", "+", "//", "-"])
SUFFIXES = st.sampled_from(
    [
        "",
        " | list",
        " | join('-')",
        " | center(99999999)",
        " | replace('x', 'yy')",
        " | string",
        " | length",
        " | format(1)",
        ".__class__",
        ".format(1)",
        ".ljust(10**8)",
        "()",
        "[0]",
        " | attr('__globals__')",
    ]
)


@st.composite
def expressions(draw: st.DrawFn) -> str:
    parts = [draw(ATOMS) + draw(SUFFIXES)]
    for _ in range(draw(st.integers(0, 3))):
        parts.append(draw(OPERATORS))
        parts.append(draw(ATOMS) + draw(SUFFIXES))
    return " ".join(parts)


@st.composite
def templates(draw: st.DrawFn) -> str:
    expr = draw(expressions())
    shape = draw(st.sampled_from(["{{ %s }}", "{%% for i in %s %%}{{ i }}{%% endfor %%}", "%s"]))
    return "pre-" + shape % expr if shape != "%s" else "{{ (" + expr + ") | string }}"


FUZZ = settings(
    max_examples=int(os.environ.get("RUNNER_FUZZ_EXAMPLES", "60")),
    deadline=5000,  # ms per example: a hang fails the example instead of the whole run
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@FUZZ
@given(templates())
def test_random_templates_end_in_a_spec_or_a_located_error(template: str) -> None:
    with memory_bound():
        load_or_located_error(document(template))


@pytest.mark.chaos
@settings(FUZZ, max_examples=2000)
@given(templates())
def test_random_templates_many_more(template: str) -> None:
    with memory_bound():
        load_or_located_error(document(template))


# --- collected names --------------------------------------------------------------------

LEAVING = ["../x", "../../etc/passwd", "/etc/passwd", "a/../../x", "a/../..", "..", "", "."]


@pytest.mark.parametrize("name", LEAVING)
def test_blob_names_leaving_the_collect_folder_are_refused(tmp_path: Path, name: str) -> None:
    root = tmp_path / "out"
    with pytest.raises(RunnerError, match="outside"):
        blob.safe_destination(root, name)


def test_a_symlink_in_the_collect_folder_does_not_lead_out(tmp_path: Path) -> None:
    root, outside = tmp_path / "out", tmp_path / "elsewhere"
    root.mkdir()
    outside.mkdir()
    (root / "task1").symlink_to(outside, target_is_directory=True)
    (root / "result.txt").symlink_to(outside / "result.txt")
    for name in ("task1/stdout.txt", "result.txt"):
        with pytest.raises(RunnerError, match="outside"):
            blob.safe_destination(root, name)
        with pytest.raises(PermanentError, match="outside"):
            collect.safe_write(root, name, "x")
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("name", ["../x.log", "/tmp/x.log", "a/../../x.log", "link/x.log"])
def test_container_log_names_leaving_the_collect_folder_are_refused(
    tmp_path: Path, name: str
) -> None:
    root, outside = tmp_path / "out", tmp_path / "elsewhere"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(PermanentError, match="outside"):
        collect.safe_write(root, name, "x")
    assert list(outside.iterdir()) == []
    assert sorted(p.name for p in root.iterdir()) == ["link"]


@pytest.mark.integration
def test_a_download_does_not_follow_a_planted_partial_file_link(
    blob_service: object, unique_name: object, tmp_path: Path
) -> None:
    """A download goes through ``<name>.part``: a symlink planted under that name must
    not carry the blob's bytes outside the collect folder."""
    name = unique_name("hostile")  # type: ignore[operator]
    container = blob_service.create_container(name)  # type: ignore[attr-defined]
    try:
        container.upload_blob("t1/result.txt", b"payload")
        root, outside = tmp_path / "out", tmp_path / "elsewhere"
        (root / "t1").mkdir(parents=True)
        outside.mkdir()
        (root / "t1" / "result.txt.part").symlink_to(outside / "stolen.txt")
        dest = blob.safe_destination(root, "t1/result.txt")
        blob.download(blob_service, name, "t1/result.txt", dest)  # type: ignore[arg-type]
        assert dest.read_bytes() == b"payload"
        assert not dest.is_symlink()
        assert list(outside.iterdir()) == []
    finally:
        container.delete_container()
