"""Batch's autoscale formula language: parse a formula, evaluate it over a pool's metrics.

What Batch's autoscale docs (learn.microsoft.com/azure/batch/batch-automatic-scaling)
describe: statements ``name = expression;`` (``//`` comments, line breaks anywhere),
doubles, doubleVecs, strings, timestamps and time intervals (``TimeInterval_Minute``...),
the operators ``+ - * /``, comparisons, ``&& || !`` and ``?:``, the functions avg, len,
lg, ln, log, max, min, norm, percentile, rand, range, std, stop, sum, time and val, and
the sample methods of the service-defined metrics (GetSample, GetSamplePercent,
GetSamplePeriod, Count, HistoryBeginTime). The results list ``$TargetDedicatedNodes``,
``$TargetLowPriorityNodes`` and ``$NodeDeallocationOption`` first, then the formula's own
variables by name, doubles to six significant digits, as Batch writes them.
"""

from __future__ import annotations

import math
import random
import re
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from runner.local.batch.errors import BatchServiceError

FIRST = ("$TargetDedicatedNodes", "$TargetLowPriorityNodes", "$NodeDeallocationOption")
ALIASES = {"$TargetDedicated": FIRST[0], "$TargetLowPriority": FIRST[1]}
DEALLOCATION = ("requeue", "terminate", "taskcompletion", "retaineddata")
SAMPLE_PERIOD = 30.0  # Batch seconds between two samples of a metric
INTERVALS = {
    "TimeInterval_Zero": 0.0,
    "TimeInterval_100ns": 1e-7,
    "TimeInterval_Microsecond": 1e-6,
    "TimeInterval_Millisecond": 1e-3,
    "TimeInterval_Second": 1.0,
    "TimeInterval_Minute": 60.0,
    "TimeInterval_Hour": 3600.0,
    "TimeInterval_Day": 86400.0,
    "TimeInterval_Week": 7 * 86400.0,
    "TimeInterval_Year": 365 * 86400.0,
}
_TOKEN = re.compile(
    r"""(?P<space>\s+|//[^\n]*)
      | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<string>"[^"]*")
      | (?P<name>\$?[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>&&|\|\||<=|>=|==|!=|[-+*/<>!?:(),.;=])""",
    re.VERBOSE,
)


class FormulaError(Exception):
    """A formula Batch would refuse (``syntax``) or could not evaluate."""

    def __init__(self, message: str, *, syntax: bool = False) -> None:
        super().__init__(message)
        self.syntax = syntax


class _Stop(Exception):
    """``stop()``: the evaluation ends, keeping what was assigned before."""


@dataclass(frozen=True)
class Interval:
    seconds: float


@dataclass
class Metric:
    """A service-defined metric's samples: (local time, value), oldest first. ``scale``
    is how many local seconds stand for one second of Batch time."""

    samples: list[tuple[float, float]]
    now: float
    scale: float = 1.0

    def _ages(self) -> list[tuple[float, float]]:
        return [((self.now - at) / self.scale, value) for at, value in self.samples]

    def _window(self, start: float, end: float | None) -> tuple[list[float], float]:
        """The values sampled between ``start`` and ``end`` ago (from now to ``start``
        ago, with one interval), and how many samples Batch would have taken then."""
        low, high = (0.0, start) if end is None else (start, end)
        values = [value for age, value in self._ages() if low <= age <= high]
        return values, max(0.0, high - low) / SAMPLE_PERIOD

    def call(self, method: str, args: list[Any]) -> Any:
        if method == "GetSample":
            return self._get_sample(args)
        if method == "GetSamplePercent":
            values, expected = self._window(*_span(args, 1, 2))
            return 100.0 if expected <= 0 else min(100.0, 100.0 * len(values) / expected)
        if method == "GetSamplePeriod" and not args:
            return Interval(SAMPLE_PERIOD)
        if method == "Count" and not args:
            return float(len(self.samples))
        if method == "HistoryBeginTime" and not args:
            oldest = self.samples[0][0] if self.samples else self.now
            return datetime.now(UTC) - timedelta(seconds=(self.now - oldest) / self.scale)
        raise FormulaError(f"{method} is not a method of a metric")

    def _get_sample(self, args: list[Any]) -> list[float]:
        if len(args) == 1 and isinstance(args[0], float):
            count = int(args[0])
            return [value for _, value in self.samples[-count:]] if count > 0 else []
        percent = args[-1] if args and isinstance(args[-1], float) else None
        spans = args[:-1] if percent is not None else args
        values, expected = self._window(*_span(spans, 1, 2))
        if percent is not None and expected > 0 and 100.0 * len(values) / expected < percent:
            raise FormulaError(
                f"GetSample: fewer than {percent:g} percent of the samples are available"
            )
        return values


def _span(args: list[Any], least: int, most: int) -> tuple[float, float | None]:
    if not least <= len(args) <= most or not all(isinstance(a, Interval) for a in args):
        raise FormulaError("a sample window is one or two time intervals")
    start = args[0].seconds
    return start, (args[1].seconds if len(args) == 2 else None)


@dataclass
class Inputs:
    """What a formula reads: the pool's current and target node counts and its metrics."""

    target_dedicated: float = 0.0
    target_low_priority: float = 0.0
    current_dedicated: float = 0.0
    current_low_priority: float = 0.0
    metrics: Mapping[str, Metric] = field(default_factory=dict)


def _tokens(formula: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    at = 0
    while at < len(formula):
        match = _TOKEN.match(formula, at)
        if match is None:
            raise FormulaError(f"unexpected character {formula[at]!r}", syntax=True)
        at = match.end()
        kind = match.lastgroup or ""
        if kind != "space":
            out.append((kind, match.group()))
    return out


Node = tuple[Any, ...]


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> str:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.at >= len(self.tokens):
            raise FormulaError("the formula ends in the middle of a statement", syntax=True)
        token = self.tokens[self.at]
        if expected is not None and token[1] != expected:
            raise FormulaError(f"expected {expected!r}, found {token[1]!r}", syntax=True)
        self.at += 1
        return token

    def statements(self) -> list[tuple[str, Node]]:
        out = []
        while self.at < len(self.tokens):
            if self.peek() == ";":
                self.take()
                continue
            kind, name = self.take()
            if kind != "name":
                raise FormulaError(f"a statement starts with a name, not {name!r}", syntax=True)
            if name == "stop" and self.peek() == "(":
                self.take("(")
                self.take(")")
                out.append(("", ("stop",)))
            else:
                self.take("=")
                out.append((name, self.ternary()))
            if self.at < len(self.tokens):
                self.take(";")
        return out

    def ternary(self) -> Node:
        test = self.binary(0)
        if self.peek() != "?":
            return test
        self.take("?")
        yes = self.ternary()
        self.take(":")
        return ("?", test, yes, self.ternary())

    LEVELS = (("||",), ("&&",), ("<", "<=", "==", ">=", ">", "!="), ("+", "-"), ("*", "/"))

    def binary(self, level: int) -> Node:
        if level == len(self.LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek() in self.LEVELS[level]:
            op = self.take()[1]
            left = ("op", op, left, self.binary(level + 1))
        return left

    def unary(self) -> Node:
        if self.peek() in ("-", "!"):
            op = self.take()[1]
            return ("unary", op, self.unary())
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while self.peek() == ".":
            self.take(".")
            kind, name = self.take()
            if kind != "name":
                raise FormulaError(f"expected a member name, found {name!r}", syntax=True)
            if self.peek() == "(":
                node = ("method", node, name, self.arguments())
            else:
                node = ("member", node, name)
        return node

    def arguments(self) -> list[Node]:
        self.take("(")
        args: list[Node] = []
        while self.peek() != ")":
            args.append(self.ternary())
            if self.peek() != ")":
                self.take(",")
        self.take(")")
        return args

    def primary(self) -> Node:
        kind, text = self.take()
        if kind == "number":
            return ("value", float(text))
        if kind == "string":
            return ("value", text[1:-1])
        if kind == "name":
            if self.peek() == "(" and not text.startswith("$"):
                if text not in FUNCTIONS:
                    raise FormulaError(
                        f"{text} is not a function of the autoscale language", syntax=True
                    )
                return ("call", text, self.arguments())
            return ("name", text)
        if text == "(":
            inner = self.ternary()
            self.take(")")
            return inner
        raise FormulaError(f"unexpected {text!r}", syntax=True)


def check_formula(formula: str) -> None:
    """Batch refuses a formula it cannot parse: 400 ``AutoScalingFormulaSyntaxError``."""
    try:
        parse(formula)
    except FormulaError as err:
        raise BatchServiceError(
            "AutoScalingFormulaSyntaxError", PropertyName="autoScaleFormula", Reason=str(err)
        ) from None


def parse(formula: str) -> list[tuple[str, Node]]:
    """The formula's statements; raises ``FormulaError(syntax=True)`` as Batch refuses it."""
    statements = _Parser(_tokens(formula)).statements()
    for name, _ in statements:
        if name.startswith("$") and name in READ_ONLY:
            raise FormulaError(f"{name} is read-only", syntax=True)
    return statements


# Metrics the local nodes cannot measure: their samples are 0.
RESOURCE_METRICS = (
    "$CPUPercent",
    "$WallClockSeconds",
    "$MemoryBytes",
    "$DiskBytes",
    "$DiskReadBytes",
    "$DiskWriteBytes",
    "$DiskReadOps",
    "$DiskWriteOps",
    "$NetworkInBytes",
    "$NetworkOutBytes",
)
READ_ONLY = frozenset(
    {
        "$CurrentDedicatedNodes",
        "$CurrentDedicated",
        "$CurrentLowPriorityNodes",
        "$PreemptedNodeCount",
        "$SampleNodeCount",
        "$ActiveTasks",
        "$RunningTasks",
        "$PendingTasks",
        "$SucceededTasks",
        "$FailedTasks",
        *RESOURCE_METRICS,
    }
)


def _flat(args: list[Any]) -> list[float]:
    """A doubleVecList: doubles and doubleVecs in one vector."""
    out: list[float] = []
    for arg in args:
        if isinstance(arg, list):
            out += arg
        elif isinstance(arg, float):
            out.append(arg)
        else:
            raise FormulaError("expected doubles or doubleVecs")
    return out


def _nonempty(fn: Callable[[list[float]], float]) -> Callable[[list[Any]], float]:
    def call(args: list[Any]) -> float:
        values = _flat(args)
        if not values:
            raise FormulaError("the list of values is empty")
        return float(fn(values))

    return call


def _each(fn: Callable[[float], float]) -> Callable[[list[Any]], Any]:
    def call(args: list[Any]) -> Any:
        if len(args) == 1 and isinstance(args[0], float):
            return fn(args[0])
        return [fn(v) for v in _flat(args)]

    return call


def _percentile(args: list[Any]) -> float:
    if len(args) != 2 or not isinstance(args[1], float):
        raise FormulaError("percentile takes a doubleVec and a percentage")
    values = sorted(_flat(args[:1]))
    if not values:
        raise FormulaError("the list of values is empty")
    index = min(len(values) - 1, max(0, math.ceil(args[1] / 100 * len(values)) - 1))
    return values[index]


def _val(args: list[Any]) -> float:
    if len(args) != 2 or not isinstance(args[1], float):
        raise FormulaError("val takes a doubleVec and an index")
    values = _flat(args[:1])
    index = int(args[1])
    if not 0 <= index < len(values):
        raise FormulaError(f"val: index {index} is out of range")
    return values[index]


def _time(args: list[Any]) -> datetime:
    if not args:
        return datetime.now(UTC)
    text = args[0]
    if not isinstance(text, str):
        raise FormulaError("time takes a date and time string")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FormulaError(f"time: {text!r} is not a W3C-DTF date and time") from None


FUNCTIONS: dict[str, Callable[[list[Any]], Any]] = {
    "avg": _nonempty(statistics.fmean),
    "len": lambda args: float(len(_flat(args))),
    "lg": _each(math.log2),
    "ln": _each(math.log),
    "log": _each(math.log10),
    "max": _nonempty(max),
    "min": _nonempty(min),
    "norm": lambda args: math.sqrt(sum(v * v for v in _flat(args))),
    "percentile": _percentile,
    "rand": lambda args: random.random(),
    "range": _nonempty(lambda v: max(v) - min(v)),
    "std": lambda args: statistics.stdev(_flat(args)) if len(_flat(args)) > 1 else 0.0,
    "sum": lambda args: float(sum(_flat(args))),
    "time": _time,
    "val": _val,
}


def _arith(op: str, a: Any, b: Any) -> Any:
    fn: Callable[[float, float], float] = {
        "+": lambda x, y: x + y,
        "-": lambda x, y: x - y,
        "*": lambda x, y: x * y,
        "/": lambda x, y: x / y,
    }[op]
    if isinstance(a, float) and isinstance(b, float):
        return float(fn(a, b))
    if isinstance(a, list) and isinstance(b, float):
        return [fn(x, b) for x in a]
    if isinstance(a, float) and isinstance(b, list) and op in "+*":
        return [fn(a, y) for y in b]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [fn(x, y) for x, y in zip(a, b, strict=True)]
    if isinstance(a, Interval) and isinstance(b, float) and op in "*/":
        return Interval(fn(a.seconds, b))
    if isinstance(a, float) and isinstance(b, Interval) and op == "*":
        return Interval(a * b.seconds)
    if isinstance(a, Interval) and isinstance(b, Interval) and op in "+-":
        return Interval(fn(a.seconds, b.seconds))
    if isinstance(a, datetime) and isinstance(b, Interval) and op in "+-":
        return a + timedelta(seconds=b.seconds) if op == "+" else a - timedelta(seconds=b.seconds)
    if isinstance(a, Interval) and isinstance(b, datetime) and op == "+":
        return b + timedelta(seconds=a.seconds)
    if isinstance(a, datetime) and isinstance(b, datetime) and op == "-":
        return Interval((a - b).total_seconds())
    raise FormulaError(f"{op} does not apply to {_kind(a)} and {_kind(b)}")


def _compare(op: str, a: Any, b: Any) -> float:
    if isinstance(a, Interval) and isinstance(b, Interval):
        a, b = a.seconds, b.seconds
    same = (float, str, datetime)
    if not any(isinstance(a, t) and isinstance(b, t) for t in same) and not (
        isinstance(a, float) and isinstance(b, float)
    ):
        raise FormulaError(f"{op} does not compare {_kind(a)} with {_kind(b)}")
    result = {
        "<": a < b,
        "<=": a <= b,
        "==": a == b,
        ">=": a >= b,
        ">": a > b,
        "!=": a != b,
    }[op]
    return 1.0 if result else 0.0


def _kind(value: Any) -> str:
    names = {float: "a double", list: "a doubleVec", str: "a string", Interval: "a timeinterval"}
    if isinstance(value, datetime):
        return "a timestamp"
    if isinstance(value, Metric):
        return "a metric (read it with GetSample)"
    return names.get(type(value), type(value).__name__)


def _truth(value: Any) -> bool:
    if not isinstance(value, float):
        raise FormulaError(f"a condition is a double, not {_kind(value)}")
    return value != 0


class _Evaluation:
    def __init__(self, inputs: Inputs) -> None:
        self.inputs = inputs
        self.assigned: dict[str, Any] = {
            FIRST[0]: inputs.target_dedicated,
            FIRST[1]: inputs.target_low_priority,
            FIRST[2]: "requeue",
        }

    def name(self, name: str) -> Any:
        name = ALIASES.get(name, name)
        if name in self.assigned:
            return self.assigned[name]
        inputs = self.inputs
        if name in ("$CurrentDedicatedNodes", "$CurrentDedicated"):
            return inputs.current_dedicated
        if name == "$CurrentLowPriorityNodes":
            return inputs.current_low_priority
        if name in inputs.metrics:
            return inputs.metrics[name]
        if name in INTERVALS:
            return Interval(INTERVALS[name])
        if name in DEALLOCATION:
            return name
        raise FormulaError(f"{name} is not defined")

    def value(self, node: Node) -> Any:
        kind = node[0]
        if kind == "value":
            return node[1]
        if kind == "name":
            return self.name(node[1])
        if kind == "?":
            return self.value(node[2] if _truth(self.value(node[1])) else node[3])
        if kind == "unary":
            operand = self.value(node[2])
            if node[1] == "!":
                return 0.0 if _truth(operand) else 1.0
            return (
                _arith("*", operand, -1.0)
                if not isinstance(operand, Interval)
                else Interval(-operand.seconds)
            )
        if kind == "op":
            return self.operation(node[1], node[2], node[3])
        if kind == "call":
            return FUNCTIONS[node[1]]([self.value(a) for a in node[2]])
        if kind == "method":
            target = self.value(node[1])
            if not isinstance(target, Metric):
                raise FormulaError(f"{node[2]} is a method of metrics, not of {_kind(target)}")
            return target.call(node[2], [self.value(a) for a in node[3]])
        if kind == "member":
            return self.member(self.value(node[1]), node[2])
        raise _Stop

    def operation(self, op: str, left: Node, right: Node) -> Any:
        if op in ("&&", "||"):
            first = _truth(self.value(left))
            if (op == "&&" and not first) or (op == "||" and first):
                return 1.0 if first else 0.0
            return 1.0 if _truth(self.value(right)) else 0.0
        a, b = self.value(left), self.value(right)
        if op in ("<", "<=", "==", ">=", ">", "!="):
            return _compare(op, a, b)
        return _arith(op, a, b)

    def member(self, value: Any, name: str) -> float:
        if not isinstance(value, datetime):
            raise FormulaError(f".{name} is a member of timestamps, not of {_kind(value)}")
        parts = {
            "year": value.year,
            "month": value.month,
            "day": value.day,
            "weekday": value.isoweekday() % 7,
            "hour": value.hour,
            "minute": value.minute,
            "second": value.second,
        }
        if name not in parts:
            raise FormulaError(f"a timestamp has no member {name}")
        return float(parts[name])


@dataclass(frozen=True)
class Outcome:
    """An evaluation's variables (targets first) and the targets Batch applies."""

    variables: dict[str, Any]

    @property
    def dedicated(self) -> int:
        return _count(self.variables[FIRST[0]], FIRST[0])

    @property
    def low_priority(self) -> int:
        return _count(self.variables[FIRST[1]], FIRST[1])

    @property
    def deallocation(self) -> str:
        value = self.variables[FIRST[2]]
        if value not in DEALLOCATION:
            raise FormulaError(f"$NodeDeallocationOption must be one of {', '.join(DEALLOCATION)}")
        return str(value)

    @property
    def results(self) -> str:
        first = [(k, self.variables[k]) for k in FIRST]
        rest = sorted((k, v) for k, v in self.variables.items() if k not in FIRST)
        return ";".join(f"{k}={text(v)}" for k, v in first + rest)


def _count(value: Any, name: str) -> int:
    if not isinstance(value, float) or math.isnan(value):
        raise FormulaError(f"{name} must be a double, not {_kind(value)}")
    # Batch keeps the whole part of a target; a pool holds 0 to 1000 nodes of each kind.
    return int(min(1000.0, max(0.0, value)))


def evaluate(formula: str, inputs: Inputs) -> Outcome:
    """Runs the formula; raises ``FormulaError`` for a syntax error (``syntax``) or a
    failed evaluation."""
    run = _Evaluation(inputs)
    try:
        for name, node in parse(formula):
            value = run.value(node)
            if isinstance(value, Metric):
                raise FormulaError(f"{name} cannot hold {_kind(value)}")
            run.assigned[ALIASES.get(name, name)] = value
    except _Stop:
        pass
    except (ArithmeticError, ValueError) as exc:
        raise FormulaError(str(exc)) from None
    return Outcome(run.assigned)


def text(value: Any) -> str:
    """A value as Batch writes it in the results: doubles to six significant digits."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + ",".join(f"{v:g}" for v in value) + "]"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    if isinstance(value, Interval):
        return str(timedelta(seconds=value.seconds))
    return str(value)
