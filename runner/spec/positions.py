"""YAML parsed once into plain data plus a position tree (path -> line:col).

pydantic validates the plain data; its error locations are looked up here afterwards, so
models carry no positions. Parsing is ``yaml.safe_load`` with these differences: duplicate
keys are errors, keys are always strings, unquoted dates stay strings (``apiVersion:
2019-12-01``), and aliases may not expand past ``MAX_NODES`` (YAML bombs).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# A large hand-written spec has a few thousand nodes; a billion-laughs file has 10^9.
MAX_NODES = 100_000

PathKey = str | int
Path = tuple[PathKey, ...]
MERGE_TAG = "tag:yaml.org,2002:merge"


# Hand-written specs nest a handful of levels; the composer recurses once per level, so a
# file of 5,000 opening brackets would end in a RecursionError instead of a diagnostic.
MAX_DEPTH = 64


class SpecLoader(yaml.SafeLoader):
    """SafeLoader without the YAML 1.1 timestamp resolver: dates stay the text written;
    nesting deeper than ``MAX_DEPTH`` is refused."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: object) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"values nested deeper than {MAX_DEPTH} levels; refusing to read them",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)  # type: ignore[arg-type,no-any-return]
        finally:
            self._depth -= 1


SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class Pos:
    """1-based start and end of a node."""

    line: int
    col: int
    end_line: int
    end_col: int

    @classmethod
    def of(cls, node: Node) -> Pos:
        start, end = node.start_mark, node.end_mark
        return cls(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


@dataclass
class PositionTree:
    """Where each value (and each mapping key) of one document sits in the source."""

    root: Pos
    values: dict[Path, Pos] = field(default_factory=dict)
    keys: dict[Path, Pos] = field(default_factory=dict)
    scalar_styles: dict[Path, str | None] = field(default_factory=dict)

    def lookup(self, path: Path, *, key: bool = False) -> tuple[Pos, Path]:
        """The position of ``path`` or of its nearest existing ancestor, and that path."""
        for n in range(len(path), -1, -1):
            prefix = path[:n]
            if key and n == len(path) and prefix in self.keys:
                return self.keys[prefix], prefix
            if prefix in self.values:
                return self.values[prefix], prefix
        return self.root, ()

    def key_or_value(self, path: Path) -> Pos:
        """The key naming ``path`` when there is one (the line a reader looks for)."""
        return self.keys.get(path) or self.values.get(path) or self.lookup(path)[0]


@dataclass(frozen=True)
class YamlProblem:
    message: str
    pos: Pos
    fatal: bool = False  # the data is unusable: validating it would only add noise
    path: Path | None = None  # the value it replaced with null, when there is one


@dataclass
class ParsedDocument:
    index: int
    data: Any
    positions: PositionTree
    problems: list[YamlProblem] = field(default_factory=list)


class YamlError(Exception):
    """The text is not YAML at all (a scanner or parser error): nothing else can be read."""

    def __init__(self, problem: YamlProblem):
        super().__init__(problem.message)
        self.problem = problem


def parse_documents(text: str) -> list[ParsedDocument]:
    """Every non-empty document of ``text`` with its positions. Raises ``YamlError``."""
    try:
        loader = SpecLoader(text)
    except yaml.reader.ReaderError as exc:
        raise YamlError(_reader_problem(exc, text)) from None
    documents: list[ParsedDocument] = []
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            if node is not None and not _is_null(node):
                documents.append(_Builder(loader, index).build(node))
            index += 1
    except yaml.MarkedYAMLError as exc:
        raise YamlError(_yaml_problem(exc, text)) from None
    except yaml.reader.ReaderError as exc:
        raise YamlError(_reader_problem(exc, text)) from None
    finally:
        loader.dispose()
    return documents


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _reader_problem(exc: yaml.reader.ReaderError, text: str) -> YamlProblem:
    """A character YAML does not allow (control characters); ``position`` counts characters."""
    offset = min(exc.position, len(text))
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    char = exc.character if isinstance(exc.character, int) else 0
    return YamlProblem(
        f"character U+{char:04X} is not allowed in YAML (control characters are refused)",
        Pos(line, col, line, col + 1),
    )


def _yaml_problem(exc: yaml.MarkedYAMLError, text: str) -> YamlProblem:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    lines = text.splitlines()
    source_line = lines[line - 1] if 0 < line <= len(lines) else ""
    indent = source_line[: len(source_line) - len(source_line.lstrip(" \t"))]
    if "\t" in indent:
        col = indent.index("\t") + 1
        message = "tab character in indentation: YAML indents with spaces only"
    elif "\t" in source_line and "'\\t'" in str(exc.problem):
        col = source_line.index("\t") + 1
        message = "tab character where YAML expects a token: use spaces"
    else:
        problem = (exc.problem or "invalid YAML").strip()
        context = f" ({exc.context.strip()})" if exc.context else ""
        message = f"invalid YAML: {problem}{context}"
    return YamlProblem(message, Pos(line, col, line, col + 1))


class _Builder:
    """Turns one composed node graph into plain data, recording positions on the way."""

    def __init__(self, loader: SpecLoader, index: int):
        self.loader = loader
        self.index = index
        self.count = 0
        self.active: set[int] = set()
        self.problems: list[YamlProblem] = []
        self.too_big = False

    def build(self, node: Node) -> ParsedDocument:
        tree = PositionTree(root=Pos.of(node))
        data = self._value(node, (), tree)
        return ParsedDocument(self.index, data, tree, self.problems)

    def _value(self, node: Node, path: Path, tree: PositionTree) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            if not self.too_big:
                self.too_big = True
                # Point at the top-level key being expanded: the composed alias keeps only
                # the anchor's position, which is usually far from the culprit.
                where = tree.keys.get(path[:1]) or Pos.of(node)
                self.problems.append(
                    YamlProblem(
                        f"document expands to more than {MAX_NODES} values through aliases "
                        "(a YAML bomb?); refusing to read it",
                        where,
                        fatal=True,
                    )
                )
            return None
        tree.values[path] = Pos.of(node)
        if id(node) in self.active:
            self.problems.append(
                YamlProblem(
                    "alias refers to itself (a recursive structure)", Pos.of(node), fatal=True
                )
            )
            return None
        if isinstance(node, ScalarNode):
            tree.scalar_styles[path] = node.style
            try:
                return self.loader.construct_object(node, deep=True)
            except yaml.MarkedYAMLError as exc:
                problem = YamlProblem(f"invalid value: {exc.problem}", Pos.of(node), path=path)
                self.problems.append(problem)
                return None
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self._value(item, (*path, i), tree) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self._mapping(node, path, tree)
        finally:
            self.active.discard(id(node))
        raise AssertionError(f"unexpected YAML node {node!r}")

    def _mapping(self, node: MappingNode, path: Path, tree: PositionTree) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, Pos] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merges.append(value_node)
                continue
            if not isinstance(key_node, ScalarNode):
                self.problems.append(
                    YamlProblem("mapping keys must be plain strings", Pos.of(key_node))
                )
                continue
            key = str(key_node.value)
            if key in first_seen:
                first = first_seen[key]
                self.problems.append(
                    YamlProblem(
                        f"duplicate key '{key}' (first defined at line {first.line})",
                        Pos.of(key_node),
                    )
                )
                continue
            first_seen[key] = Pos.of(key_node)
            tree.keys[(*path, key)] = Pos.of(key_node)
            result[key] = self._value(value_node, (*path, key), tree)
        for merge in merges:
            for source in self._merge_sources(merge):
                # Explicit keys win over merged ones, and so do their positions.
                scratch = PositionTree(root=tree.root)
                merged = self._value(source, path, scratch)
                if isinstance(merged, dict):
                    for key, value in merged.items():
                        result.setdefault(key, value)
                for where, pos in scratch.keys.items():
                    tree.keys.setdefault(where, pos)
                for where, pos in scratch.values.items():
                    tree.values.setdefault(where, pos)
                for where, style in scratch.scalar_styles.items():
                    tree.scalar_styles.setdefault(where, style)
        return result

    def _merge_sources(self, node: Node) -> Iterator[Node]:
        items = node.value if isinstance(node, SequenceNode) else [node]
        for item in items:
            if isinstance(item, MappingNode):
                yield item
            else:
                self.problems.append(
                    YamlProblem(
                        "a merge key '<<' takes a mapping or a list of mappings", Pos.of(item)
                    )
                )
