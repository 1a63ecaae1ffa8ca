"""A Jinja sandbox that also bounds work: spec templates may come from anyone.

Jinja's own sandbox stops attribute escapes (``__class__``, ``__globals__``) and ranges
over 100,000 items, but not a template that asks for gigabytes or never ends:
``'a' * 10**9``, ``'%0999999999d' % 1``, ``'x'|center(10**9)``, ``lipsum(n=10**5)``,
nested loops of ``range(100000)``, a macro calling itself twice per level. A spec value
is a name, a command line or a path, so the bounds here are far above any real use:

- text and lists made by ``*``, ``%``, ``format``, ``replace``, ``join`` and the padding
  filters and methods are checked for size before they are made;
- integer powers are checked for size before they are computed;
- a template may not nest loops, loop recursively, or define macros and call blocks;
- ``lipsum``, ``cycler``, ``joiner`` and ``namespace`` (the only way to carry state from
  one loop iteration to the next) are not offered;
- the rendered text stops at ``MAX_TEXT`` characters.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sized
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_TEXT = 1_000_000  # characters (or items) any one value or rendering may reach
MAX_INT_BITS = 4096
_REMOVED_GLOBALS = ("lipsum", "cycler", "joiner", "namespace")
# Numbers in a printf or format() spec: widths and precisions.
_PERCENT_SPEC = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_FORMAT_FIELD = re.compile(r"\{[^{}]*\}")
_FORMAT_NUMBER = re.compile(r"\d+")
_PADDING_FILTERS = ("center", "indent", "wordwrap", "truncate")
_STR_METHODS = ("center", "ljust", "rjust", "zfill", "expandtabs", "format", "format_map")


class TemplateTooLarge(SecurityError):
    """A template asked for more work or text than a spec value can need."""


def _refuse(what: str) -> TemplateTooLarge:
    return TemplateTooLarge(f"{what} would exceed {MAX_TEXT:,} characters")


def _size(value: Any) -> int:
    return len(value) if isinstance(value, Sized) else 0


def _check_repeat(left: Any, right: Any) -> None:
    for seq, times in ((left, right), (right, left)):
        repeats = isinstance(seq, str | list | tuple | bytes) and isinstance(times, int)
        if repeats and _size(seq) * max(times, 0) > MAX_TEXT:
            raise _refuse("repetition")


def _check_power(base: Any, exponent: Any) -> None:
    ints = isinstance(base, int) and isinstance(exponent, int)
    if ints and abs(base) > 1 and exponent > 0 and exponent * math.log2(abs(base)) > MAX_INT_BITS:
        raise TemplateTooLarge(f"power would exceed {MAX_INT_BITS} bits")


def _check_numbers(numbers: list[str], what: str) -> None:
    if any(n == "*" or (n.isdigit() and int(n) > MAX_TEXT) for n in numbers):
        raise _refuse(what)


def _check_percent(fmt: Any) -> None:
    if isinstance(fmt, str):
        for width, precision in _PERCENT_SPEC.findall(fmt):
            _check_numbers([width, precision], "format width")


def _check_format_string(fmt: Any) -> None:
    if isinstance(fmt, str):
        for spec in _FORMAT_FIELD.findall(fmt):
            _check_numbers(_FORMAT_NUMBER.findall(spec), "format width")


def _check_format_arguments(*args: Any, **kwargs: Any) -> None:
    mapping = args[0] if len(args) == 1 and isinstance(args[0], dict) else {}
    _check_int_args((*args, *mapping.values()), kwargs, "format width")


def _check_format_filter(fmt: Any, *args: Any, **kwargs: Any) -> None:
    _check_percent(fmt)
    _check_format_string(fmt)


def _check_int_args(args: tuple[Any, ...], kwargs: dict[str, Any], what: str) -> None:
    values = [*args, *kwargs.values()]
    if any(isinstance(v, int) and not isinstance(v, bool) and v > MAX_TEXT for v in values):
        raise _refuse(what)


def _check_replace(text: str, old: Any, new: Any, count: Any = -1) -> None:
    if isinstance(old, str) and isinstance(new, str):
        hits = len(text) + 1 if old == "" else text.count(old)
        if isinstance(count, int) and count >= 0:
            hits = min(hits, count)
        if len(text) + hits * len(new) > MAX_TEXT:
            raise _refuse("replace")


def _check_join(separator: Any, items: Any) -> None:
    if isinstance(items, Sized) and _size(separator) * len(items) > MAX_TEXT:
        raise _refuse("join")


def _guard(check: Callable[..., None], call: Callable[..., Any]) -> Callable[..., Any]:
    # wraps() keeps the ``jinja_pass_arg`` mark that tells Jinja to pass the context.
    @functools.wraps(call)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        check(*args, **kwargs)
        return call(*args, **kwargs)

    return guarded


def _guard_join(join: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(join)
    def guarded(ctx: Any, items: Any, d: str = "", attribute: Any = None) -> Any:
        items = _list(items)  # a generator is read once, here, and handed on as a list
        _check_join(d, items)
        return join(ctx, items, d, attribute)

    return guarded


class BoundedSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in _REMOVED_GLOBALS:
            self.globals.pop(name, None)
        for name in _PADDING_FILTERS:
            self.filters[name] = _guard(
                lambda *a, _n=name, **k: _check_int_args(a[1:], k, _n), self.filters[name]
            )
        self.filters["format"] = _guard(_check_format_filter, self.filters["format"])
        self.filters["replace"] = _guard(
            lambda ctx, s, old, new, count=None: _check_replace(str(s), old, new, count or -1),
            self.filters["replace"],
        )
        self.filters["join"] = _guard_join(self.filters["join"])

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repeat(left, right)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "%":
            _check_percent(left)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        if isinstance(owner, str):
            if name in _STR_METHODS:
                _check_int_args(args, kwargs, name)
            if name in ("format", "format_map"):
                _check_format_string(owner)
            elif name == "replace" and len(args) >= 2:
                _check_replace(owner, *args[:3])
            elif name == "join" and args:
                args = (_list(args[0]), *args[1:])
                _check_join(owner, args[0])
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        value = super().getattr(obj, attribute)
        if isinstance(obj, str) and attribute in ("format", "format_map") and callable(value):
            # The sandbox wraps str.format in its own safe formatter: check the spec here,
            # and the arguments at the call (a width may come from one: ``{:{w}}``).
            _check_format_string(obj)
            return _guard(_check_format_arguments, value)
        return value

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        _check_structure(tree)
        return tree


def _list(items: Any) -> Any:
    return list(items) if not isinstance(items, Sized) else items


def _check_structure(tree: nodes.Template) -> None:
    """No macros or call blocks (recursion), no recursive or nested loops: every
    template's work then stays linear in the size of its values."""
    for node in tree.find_all((nodes.Macro, nodes.CallBlock)):
        kind = "macros" if isinstance(node, nodes.Macro) else "call blocks"
        raise TemplateSyntaxError(f"{kind} are not allowed in spec templates", node.lineno)
    for loop in tree.find_all(nodes.For):
        if loop.recursive:
            raise TemplateSyntaxError(
                "recursive loops are not allowed in spec templates", loop.lineno
            )
        for inner in loop.find_all(nodes.For):
            raise TemplateSyntaxError(
                "nested loops are not allowed in spec templates", inner.lineno
            )


def render_bounded(template: Any, context: dict[str, Any]) -> str:
    """Render, stopping once the text passes ``MAX_TEXT`` characters."""
    parts: list[str] = []
    total = 0
    for chunk in template.generate(context):
        total += len(chunk)
        if total > MAX_TEXT:
            raise _refuse("the rendered text")
        parts.append(chunk)
    return "".join(parts)
