"""SymPy expressions as plain JSON data, and back, through a whitelist.

An answer leaves the student's kernel as data. This module turns a SymPy
expression into nested lists of a few node kinds and turns such data back into
an expression (or evaluates it numerically) without ``eval``, ``sympify`` or
``srepr``: every node kind and every function name is looked up in a table.

Node kinds::

    ["int", "12"]            integer (decimal string, at most MAX_DIGITS digits)
    ["rat", "1", "4"]        rational p/q
    ["float", "0.25"]        floating-point number
    ["const", "E" | "pi"]
    ["sym", "w3"]
    ["add", a, b, ...]   ["mul", a, b, ...]   ["pow", base, exponent]
    ["call", "sigma", arg]   a whitelisted function applied to one argument
    ["max", a, b, ...]   ["min", a, b, ...]
    ["piecewise", [value, condition], ...]   the first case whose condition holds
        conditions: ["true"], ["rel", "<" | "<=" | ">" | ">=" | "==" | "!=", a, b],
                    ["and", c, ...], ["or", c, ...], ["not", c]
"""
from __future__ import annotations

import functools
import math
import numbers

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from .errors import ExpressionError
from .i18n import _

MAX_DIGITS = 60
MAX_NODES = 20_000
MAX_DEPTH = 400
# Powers multiply down a chain of nested exponents: ((b**64)**64)**64 is b**262144, and SymPy
# computes numeric powers at once. So the product of the numeric exponents above any node
# is bounded, not each exponent alone: a 60-digit number stays below 600,000 digits.
MAX_POWER = 10_000

# Known functions: name -> (SymPy constructor, NumPy implementation).
KNOWN_FUNCTIONS = {
    "Abs": (sp.Abs, np.abs),
    "exp": (sp.exp, np.exp),
    "log": (sp.log, np.log),
    "tanh": (sp.tanh, np.tanh),
    "sin": (sp.sin, np.sin),
    "cos": (sp.cos, np.cos),
    "cosh": (sp.cosh, np.cosh),
    "sinh": (sp.sinh, np.sinh),
    "sech": (sp.sech, lambda v: 1.0 / np.cosh(v)),
    "sign": (sp.sign, np.sign),
}
EXTREMA = {"max": (sp.Max, np.maximum), "min": (sp.Min, np.minimum)}
RELATIONS = {"<": (sp.Lt, np.less), "<=": (sp.Le, np.less_equal), ">": (sp.Gt, np.greater),
             ">=": (sp.Ge, np.greater_equal), "==": (sp.Eq, np.equal), "!=": (sp.Ne, np.not_equal)}
LOGIC = {"and": (sp.And, np.logical_and), "or": (sp.Or, np.logical_or)}
CONSTANTS = {"E": (sp.E, math.e), "pi": (sp.pi, math.pi)}


# --------------------------------------------------------------------------- encode
def to_data(expr) -> list:
    """Encode a SymPy expression (or a plain int/float) as JSON-able nested lists."""
    if isinstance(expr, bool) or isinstance(expr, np.bool_):
        raise ExpressionError(_("got True/False where an expression is expected"))
    if isinstance(expr, numbers.Integral):
        expr = sp.Integer(int(expr))
    elif isinstance(expr, numbers.Real):
        if not math.isfinite(float(expr)):
            raise ExpressionError(_("got {value}; an answer must be finite").format(value=float(expr)))
        expr = sp.Float(float(expr))
    elif isinstance(expr, str):
        raise ExpressionError(_("got a string; write a SymPy expression (e.g. sp.Rational(1, 4)), not text"))
    elif callable(expr) and not isinstance(expr, sp.Basic):
        raise ExpressionError(_("got a function; give the expression it returns, not the function itself"))
    elif not isinstance(expr, sp.Basic):
        raise ExpressionError(_("got a {kind}; a SymPy expression is expected").format(kind=type(expr).__name__))
    counter = [0]
    return _encode(expr, counter, 0)


def _encode(e: sp.Basic, counter: list, depth: int) -> list:
    counter[0] += 1
    if counter[0] > MAX_NODES or depth > MAX_DEPTH:
        raise ExpressionError(_("the expression is too large to grade; simplify it"))
    if e is sp.nan or e.has(sp.nan):
        raise ExpressionError(_("the expression contains NaN"))
    if e.is_Integer:
        return ["int", str(int(e))]
    if e.is_Rational:
        return ["rat", str(int(e.p)), str(int(e.q))]
    if e.is_Float:
        return ["float", repr(float(e))]
    if e in (sp.oo, -sp.oo, sp.zoo):
        raise ExpressionError(_("the expression is infinite (division by zero?)"))
    for name, (const, _value) in CONSTANTS.items():
        if e == const:
            return ["const", name]
    if e.is_Symbol:
        return ["sym", e.name]
    if e.is_Add:
        return ["add", *(_encode(a, counter, depth + 1) for a in e.args)]
    if e.is_Mul:
        return ["mul", *(_encode(a, counter, depth + 1) for a in e.args)]
    if e.is_Pow:
        return ["pow", _encode(e.base, counter, depth + 1), _encode(e.exp, counter, depth + 1)]
    if isinstance(e, AppliedUndef) or type(e).__name__ in KNOWN_FUNCTIONS:
        if len(e.args) != 1:
            raise ExpressionError(_("{function} must take exactly one argument").format(function=type(e).__name__))
        return ["call", type(e).__name__, _encode(e.args[0], counter, depth + 1)]
    if isinstance(e, (sp.Max, sp.Min)):
        return ["max" if isinstance(e, sp.Max) else "min", *(_encode(a, counter, depth + 1) for a in e.args)]
    if isinstance(e, sp.Piecewise):
        return ["piecewise", *([_encode(v, counter, depth + 1), _encode_condition(c, counter, depth + 1)]
                               for v, c in e.args)]
    if isinstance(e, sp.Derivative) or isinstance(e, sp.Subs):
        raise ExpressionError(_("the expression contains an unevaluated derivative; write σ' as dsigma(...)"))
    raise ExpressionError(_("the operation {operation} is not allowed in this answer").format(operation=type(e).__name__))


def _encode_condition(c, counter: list, depth: int) -> list:
    counter[0] += 1
    if counter[0] > MAX_NODES or depth > MAX_DEPTH:
        raise ExpressionError(_("the expression is too large to grade; simplify it"))
    if c is sp.true:
        return ["true"]
    if isinstance(c, sp.core.relational.Relational) and c.rel_op in RELATIONS:
        return ["rel", c.rel_op, _encode(c.lhs, counter, depth + 1), _encode(c.rhs, counter, depth + 1)]
    if isinstance(c, (sp.And, sp.Or)):
        return ["and" if isinstance(c, sp.And) else "or", *(_encode_condition(a, counter, depth + 1) for a in c.args)]
    if isinstance(c, sp.Not):
        return ["not", _encode_condition(c.args[0], counter, depth + 1)]
    raise ExpressionError(_("the condition {condition} is not allowed in a Piecewise here").format(condition=type(c).__name__))


# --------------------------------------------------------------------------- validate
def validate(data, symbols: set[str], functions: set[str]) -> None:
    """Check shape, size, and that only the allowed symbols and functions occur.

    ``functions`` names the undefined functions allowed besides KNOWN_FUNCTIONS.

    The product of the numeric exponents a node sits under (|p| for p/q) must be at most
    MAX_POWER, and an exponent holds no power itself (no towers).

    Raises ExpressionError naming the first problem.
    """
    stack, count = [(data, 0, 1)], 0
    while stack:
        node, depth, power = stack.pop()
        count += 1
        if count > MAX_NODES or depth > MAX_DEPTH:
            raise ExpressionError(_("the expression is too large to grade"))
        if power > MAX_POWER:
            raise ExpressionError(_("the expression is too large to grade: it raises to powers whose product is "
                                    "more than {limit}; simplify it").format(limit=MAX_POWER))
        if not isinstance(node, list) or not node or not isinstance(node[0], str):
            raise ExpressionError(_("malformed expression data"))
        kind, args = node[0], node[1:]
        if kind in ("int", "rat", "float", "const", "sym"):
            if not all(isinstance(a, str) and len(a) <= MAX_DIGITS + 2 for a in args):
                raise ExpressionError(_("malformed number or name"))
            if kind == "int" and (len(args) != 1 or not _is_int(args[0])):
                raise ExpressionError(_("malformed integer"))
            if kind == "rat" and (len(args) != 2 or not all(map(_is_int, args)) or int(args[1]) == 0):
                raise ExpressionError(_("malformed rational"))
            if kind == "float" and (len(args) != 1 or not _is_finite_float(args[0])):
                raise ExpressionError(_("a number in the expression is NaN or infinite"))
            if kind == "const" and (len(args) != 1 or args[0] not in CONSTANTS):
                raise ExpressionError(_("unknown constant"))
            if kind == "sym" and len(args) != 1:
                raise ExpressionError(_("malformed name"))
            if kind == "sym" and args[0] not in symbols:
                allowed = ", ".join(sorted(symbols, key=_natural)) or _("none")
                raise ExpressionError(_("unknown symbol {symbol}; allowed here: {allowed}").format(
                    symbol=repr(str(args[0])[:20]), allowed=allowed))
        elif kind in ("add", "mul", "max", "min"):
            if len(args) < 2:
                raise ExpressionError(_("malformed sum, product, Max or Min"))
            stack.extend((a, depth + 1, power) for a in args)
        elif kind == "piecewise":
            if not args or not all(isinstance(a, list) and len(a) == 2 for a in args):
                raise ExpressionError(_("malformed Piecewise"))
            for value, condition in args:
                stack.append((value, depth + 1, power))
                stack.extend((c, d, power) for c, d in _condition_operands(condition, depth + 1))
        elif kind == "pow":
            if len(args) != 2:
                raise ExpressionError(_("malformed power"))
            stack.append((args[1], depth + 1, power))
            stack.append((args[0], depth + 1, power * _exponent_size(args[1])))
        elif kind == "call":
            if len(args) != 2 or not isinstance(args[0], str):
                raise ExpressionError(_("malformed function call"))
            if args[0] not in functions and args[0] not in KNOWN_FUNCTIONS:
                allowed = ", ".join(sorted(set(functions) | set(KNOWN_FUNCTIONS)))
                raise ExpressionError(_("the function {function} is not allowed here; allowed: {allowed}").format(
                    function=repr(args[0][:20]), allowed=allowed))
            stack.append((args[1], depth + 1, power))
        else:
            raise ExpressionError(_("unknown node kind {kind}").format(kind=repr(kind[:20])))


def _condition_operands(c, depth: int) -> list:
    """The expressions a validated Piecewise condition compares, as (node, depth); raises if malformed."""
    out, stack, seen = [], [(c, depth)], 0
    while stack:
        node, d = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise ExpressionError(_("the expression is too large to grade"))
        if d > MAX_DEPTH or not isinstance(node, list) or not node:
            raise ExpressionError(_("malformed condition"))
        if node == ["true"]:
            continue
        if node[0] == "rel" and len(node) == 4 and node[1] in RELATIONS:
            out += [(node[2], d + 1), (node[3], d + 1)]
        elif node[0] in LOGIC and len(node) >= 3:
            stack.extend((a, d + 1) for a in node[1:])
        elif node[0] == "not" and len(node) == 2:
            stack.append((node[1], d + 1))
        else:
            raise ExpressionError(_("malformed condition"))
    return out


def _conditions(node) -> list:
    """A validated condition's expressions, in walk order."""
    return [n for n, _ in _condition_operands(node, 0)]


def _exponent_size(node) -> int:
    """How much a power with this exponent multiplies its base's size: |p| for a number p or p/q,
    1 for a symbolic exponent (its value is bounded where its symbols are). An exponent holding a
    power other than a reciprocal or a root (x**(1/n) is fine, x**(n**2) is a tower) is refused."""
    if not isinstance(node, list) or not node:
        return 1  # malformed: reported when the node itself is checked
    kind = node[0]
    if kind in ("int", "rat") and len(node) > 1 and isinstance(node[1], str) and _is_int(node[1]):
        return max(1, abs(int(node[1])))
    if kind == "float" and len(node) == 2 and isinstance(node[1], str) and _is_finite_float(node[1]):
        return max(1, math.ceil(abs(float(node[1]))))
    if kind in ("const", "sym"):
        return 1
    inner = [node]
    while inner:
        n = inner.pop()
        if not isinstance(n, list) or not n:
            continue
        if n[0] == "pow" and not (len(n) == 3 and n[2] in (["int", "1"], ["int", "-1"]) or
                                  len(n) == 3 and isinstance(n[2], list) and n[2][:1] == ["rat"]
                                  and n[2][1:2] in (["1"], ["-1"])):
            raise ExpressionError(_("exponents must be numbers or expressions without powers (1/… and roots "
                                    "aside); simplify it"))
        inner.extend(a for a in n[1:] if isinstance(a, list))
    return 1


def _is_int(s: str) -> bool:
    return s.lstrip("-").isdigit() and len(s) <= MAX_DIGITS + 1


def _is_finite_float(s: str) -> bool:
    try:
        return math.isfinite(float(s))
    except ValueError:
        return False


def _natural(name: str):
    stem = name.rstrip("0123456789")
    return (stem, int(name[len(stem):] or 0))


# --------------------------------------------------------------------------- decode
def from_data(data, symbols: dict[str, sp.Symbol] | None = None,
              functions: dict[str, object] | None = None) -> sp.Expr:
    """Build the SymPy expression for validated data.

    ``functions`` maps names of undefined functions (``sigma``) to SymPy functions;
    the known functions above are always available.
    """
    symbols = symbols or {}
    functions = functions or {}

    def build(node):
        kind, args = node[0], node[1:]
        if kind == "int":
            return sp.Integer(int(args[0]))
        if kind == "rat":
            return sp.Rational(int(args[0]), int(args[1]))
        if kind == "float":
            return sp.Float(float(args[0]))
        if kind == "const":
            return CONSTANTS[args[0]][0]
        if kind == "sym":
            return symbols.get(args[0]) or sp.Symbol(args[0])
        if kind == "add":
            return sp.Add(*map(build, args))
        if kind == "mul":
            return sp.Mul(*map(build, args))
        if kind == "pow":
            return sp.Pow(build(args[0]), build(args[1]))
        if kind in EXTREMA:
            return EXTREMA[kind][0](*map(build, args))
        if kind == "piecewise":
            return sp.Piecewise(*((build(v), _condition(c, build, SYMBOLIC)) for v, c in args))
        name = args[0]
        fn = functions.get(name) or KNOWN_FUNCTIONS.get(name, (sp.Function(name),))[0]
        return fn(build(args[1]))

    return build(data)


SYMBOLIC, NUMERIC = 0, 1   # which entry of the tables above a condition is built with
TRUTH = (sp.true, np.True_)
NEGATION = (sp.Not, np.logical_not)


def _condition(node, value, kind: int):
    """A validated Piecewise condition as a SymPy boolean (SYMBOLIC) or a NumPy bool array (NUMERIC);
    ``value`` builds or evaluates the expressions it compares."""
    if node[0] == "true":
        return TRUTH[kind]
    if node[0] == "rel":
        return RELATIONS[node[1]][kind](value(node[2]), value(node[3]))
    if node[0] == "not":
        return NEGATION[kind](_condition(node[1], value, kind))
    parts = [_condition(a, value, kind) for a in node[1:]]
    return LOGIC[node[0]][0](*parts) if kind == SYMBOLIC else functools.reduce(LOGIC[node[0]][1], parts)


# --------------------------------------------------------------------------- evaluate
def evaluate(data, env: dict[str, np.ndarray], functions: dict[str, object] | None = None) -> np.ndarray:
    """Evaluate validated data in float64, element-wise over the arrays in ``env``.

    ``functions`` maps names to NumPy callables (e.g. sigma -> the sigmoid); the known
    functions are always available. Overflow and invalid operations give inf/NaN, not errors.
    """
    functions = {**{k: v[1] for k, v in KNOWN_FUNCTIONS.items()}, **(functions or {})}

    def ev(node):
        kind, args = node[0], node[1:]
        if kind == "int":
            return np.float64(float(int(args[0])))
        if kind == "rat":
            return np.float64(int(args[0]) / int(args[1]))
        if kind == "float":
            return np.float64(float(args[0]))
        if kind == "const":
            return np.float64(CONSTANTS[args[0]][1])
        if kind == "sym":
            return env[args[0]]
        if kind == "add":
            out = ev(args[0])
            for a in args[1:]:
                out = out + ev(a)
            return out
        if kind == "mul":
            out = ev(args[0])
            for a in args[1:]:
                out = out * ev(a)
            return out
        if kind == "pow":
            return np.power(ev(args[0]), ev(args[1]))
        if kind in EXTREMA:
            return functools.reduce(EXTREMA[kind][1], map(ev, args))
        if kind == "piecewise":
            conditions = [np.asarray(_condition(c, ev, NUMERIC), bool) for _, c in args]
            values = [ev(v) for v, _ in args]
            shape = np.broadcast_shapes(*(np.shape(a) for a in conditions + values))
            return np.select([np.broadcast_to(c, shape) for c in conditions],
                             [np.broadcast_to(v, shape) for v in values], np.nan)
        return functions[args[0]](ev(args[1]))

    with np.errstate(all="ignore"):
        return np.asarray(ev(data), dtype=np.float64)


def walk(data):
    """Yield every node of the data, parents before children."""
    stack = [data]
    while stack:
        node = stack.pop()
        yield node
        if node[0] in ("add", "mul", "pow", "max", "min"):
            stack.extend(node[1:])
        elif node[0] == "call":
            stack.append(node[2])
        elif node[0] == "piecewise":
            for value, condition in node[1:]:
                stack.append(value)
                stack.extend(_conditions(condition))
