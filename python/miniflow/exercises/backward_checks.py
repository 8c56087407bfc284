"""The checks of a learner's backward(): the gradients' keys and shapes, then agreement with
self-diagnosing finite differences of the learner's own forward() (``miniflow.differences``),
then two consumers, then a second backward(); a hint for each classic mistake."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..differences import compare
from ..node import Input, Node
from .harness import (
    Consumer,
    Stop,
    attempt,
    build,
    entry_text,
    first_difference,
    number,
    numbers,
    same,
    shape_of,
    with_consumers,
)
from .node_checks import NodeExercise, Values, computes, forward_outcomes
from .result import Outcome

BACKWARD_CHECKS = (
    ("runs", "backward() runs"),
    ("keys", "gradients are keyed by the inbound nodes"),
    ("shapes", "each gradient has the shape of its node's value"),
    ("differences", "backward() agrees with finite differences of forward()"),
    ("consumers", "gradients add up over two consumers"),
    ("repeat", "a second backward() gives the same gradients"),
)


def backward_outcomes(exercise: NodeExercise, kind: type) -> list[Outcome]:
    """The backward stage: forward first (backward is differenced against it), then each of
    ``BACKWARD_CHECKS`` on the first case, then each on the next case, and so on (the first
    case is square, where a transposed product still runs and its numbers tell which it is);
    the first failure stops the rest."""
    forward = forward_outcomes(exercise, kind)
    is_cost = bool(getattr(exercise.reference, "is_cost", False))
    checks = [c for c in BACKWARD_CHECKS if not (is_cost and c[0] == "consumers")]
    ran: dict[str, Outcome] = {}
    failed = not forward[0].passed
    for values in [] if failed else exercise.backward_cases(np.random.default_rng(16)):
        for check, title in checks:
            try:
                _BACKWARD[check](exercise, kind, values)
            except Stop as stop:
                ran[check] = Outcome(check, title, False, stop.hint, stop.detail)
                failed = True
                break
            ran.setdefault(check, Outcome(check, title, True))
        if failed:
            break
    return forward + [ran.get(check, Outcome(check, title, None)) for check, title in checks]


def _upstreams(exercise: NodeExercise, values: Values, count: int) -> list[np.ndarray]:
    """`count` upstream gradients of the op's output shape (none for the cost)."""
    if getattr(exercise.reference, "is_cost", False):
        return []
    shape = np.shape(exercise.run_forward(exercise.reference, values).value)
    rng = np.random.default_rng(count)
    return [rng.normal(size=shape) for _ in range(count)]


def _run(
    exercise: NodeExercise, kind: type, values: Values, upstreams: Sequence[np.ndarray]
) -> tuple[Node, list[Input]]:
    node, inputs = build(kind, exercise.names, values)
    attempt("forward()", node.forward)
    with_consumers(node, upstreams)
    attempt("backward()", node.backward)
    if not isinstance(node.gradients, dict):
        raise Stop("backward() must set self.gradients to a dict, keyed by the inbound nodes")
    return node, inputs


def _expected(
    exercise: NodeExercise, values: Values, upstreams: Sequence[np.ndarray]
) -> dict[str, np.ndarray]:
    """MiniFlow's gradients for these inputs and consumers, by input name."""
    node, inputs = _run(exercise, exercise.reference, values, upstreams)
    return {n: np.array(node.gradients[i], dtype=float) for n, i in zip(exercise.names, inputs)}


def _run_beside_reference(
    exercise: NodeExercise, kind: type, values: Values, consumers: int
) -> tuple[Node, list[Input], dict[str, np.ndarray], list[np.ndarray]]:
    """The learner's node run with `consumers` upstream gradients, MiniFlow's gradients for the
    same, and those upstream gradients."""
    upstreams = _upstreams(exercise, values, consumers)
    node, inputs = _run(exercise, kind, values, upstreams)
    return node, inputs, _expected(exercise, values, upstreams), upstreams


def _runs(exercise: NodeExercise, kind: type, values: Values) -> None:
    _run(exercise, kind, values, _upstreams(exercise, values, 1))


def _keys(exercise: NodeExercise, kind: type, values: Values) -> None:
    node, inputs = _run(exercise, kind, values, _upstreams(exercise, values, 1))
    wrong = [k for k in node.gradients if k not in inputs]
    missing = [n for n, i in zip(exercise.names, inputs) if i not in node.gradients]
    if wrong or missing:
        keys = ", ".join(_key_text(k, node) for k in node.gradients) or "none"
        raise Stop(
            "gradients are keyed by the wrong node: key each by the inbound node it is the "
            "gradient of (self.inbound_nodes[i])",
            f"your keys: {keys}; missing: {', '.join(missing)}",
        )


def _key_text(key: Any, node: Node) -> str:
    if key is node:
        return "the node itself (self)"
    if isinstance(key, Consumer):
        return "its consumer"
    if isinstance(key, Node):
        return key.name or type(key).__name__
    return repr(key)


def _shapes(exercise: NodeExercise, kind: type, values: Values) -> None:
    node, inputs, expected, _ = _run_beside_reference(exercise, kind, values, 1)
    for name, inbound in zip(exercise.names, inputs):
        grad = numbers(f"gradients[{name}]", node.gradients[inbound])
        mine, want = grad.shape, np.shape(inbound.value)
        if mine in (want, expected[name].shape):
            continue
        if grad.ndim == 2 and mine == want[::-1] and same(grad.T, expected[name]):
            raise Stop(f"gradients[{name}] is transposed: it has shape {mine}, {name} {want}")
        raise Stop(
            f"gradients[{name}] has shape {shape_of(grad)} but {name}.value has shape "
            f"{shape_of(inbound.value)}: a gradient has the shape of what it is the gradient of"
        )


def _differences(exercise: NodeExercise, kind: type, values: Values) -> None:
    node, inputs, expected, upstreams = _run_beside_reference(exercise, kind, values, 1)
    G = upstreams[0] if upstreams else np.array(1.0)
    for name, inbound in zip(exercise.names, inputs):
        mine = numbers(f"gradients[{name}]", node.gradients[inbound])
        agreement = compare(node, inbound, mine, G, 1e-6, 1e-6)
        if agreement.ok:
            continue
        hint = _diagnose(exercise, name, values, mine, G) or (
            f"∂cost/∂{name} disagrees with the finite differences of your forward(); "
            + (agreement.note or "")
        )
        where = f"{name} has shape {shape_of(inbound.value)}"
        raise Stop(hint, _entry(name, mine, expected[name], where))


def _entry(name: str, mine: Any, expected: np.ndarray, where: str) -> str:
    """The first entry of gradients[name] that is off, with the number it should be."""
    mine = np.asarray(mine, dtype=float)
    want = expected.reshape(mine.shape)
    index = first_difference(mine, want) or ()
    return (
        f"gradients[{name}]{entry_text(index)} is {number(mine[index])}, expected "
        f"{number(want[index])} ({where})"
    )


def _diagnose(exercise: NodeExercise, name: str, values: Values, mine: Any, G: Any) -> str:
    """The hint of the classic mistake `mine` matches, or ""."""
    mistakes = list(exercise.backward_mistakes.get(name, ()))
    reference = exercise.reference
    function = getattr(reference, "reference", None)  # an activation's f, in numpy
    if function is not None:  # the classic mistakes its class declares, from (x, f(x), G)
        for hint, wrong in getattr(reference, "mistakes", ()):
            mistakes.append((hint, lambda x, G, wrong=wrong: wrong(x, function(x), G)))
    for hint, wrong in mistakes:
        if computes(mine, wrong, values, G):
            return hint
    if not getattr(reference, "is_cost", False):
        ones = _expected(exercise, values, [np.ones(np.shape(G))])[name]
        if same(mine, ones):
            return "the upstream gradient is missing: multiply by what each consumer sent back"
    want = _expected(exercise, values, [G] if not getattr(reference, "is_cost", False) else [])
    return _factor_hint(mine, want[name], name)


def _factor_hint(mine: Any, want: np.ndarray, name: str) -> str:
    """A gradient off by a constant factor: the sign, the 2 of a square, or another."""
    a, b = np.asarray(mine, dtype=float).reshape(-1), want.reshape(-1)
    if a.size != b.size or not np.any(b):
        return ""
    factor = float(np.dot(a, b) / np.dot(b, b))
    if not same(a, factor * b) or abs(factor) < 1e-12:
        return ""
    if abs(factor + 1) < 1e-6:
        return f"∂cost/∂{name} has the wrong sign"
    if abs(factor - 0.5) < 1e-6:
        return f"∂cost/∂{name} is half what it should be: the 2 of the square is missing"
    return f"∂cost/∂{name} is {factor:.4g} times what it should be"


def _consumers(exercise: NodeExercise, kind: type, values: Values) -> None:
    node, inputs, expected, upstreams = _run_beside_reference(exercise, kind, values, 2)
    for name, inbound in zip(exercise.names, inputs):
        mine = numbers(f"gradients[{name}]", node.gradients[inbound])
        if same(mine, expected[name]):
            continue
        if same(mine, _expected(exercise, values, upstreams[-1:])[name]):
            hint = "only the last consumer counts: add up (+=) the gradient from every consumer"
        elif same(mine, _expected(exercise, values, upstreams[:1])[name]):
            hint = "only the first consumer counts: loop over every node in self.outbound_nodes"
        else:
            hint = f"with two consumers ∂cost/∂{name} is off: sum what each consumer sent back"
        raise Stop(
            hint,
            _entry(
                name,
                mine,
                expected[name],
                f"{name} has shape {shape_of(inbound.value)}; the node has two consumers",
            ),
        )


def _repeat(exercise: NodeExercise, kind: type, values: Values) -> None:
    node, inputs = _run(exercise, kind, values, _upstreams(exercise, values, 2))
    first = {
        i: numbers(f"gradients[{n}]", node.gradients[i]).copy()
        for n, i in zip(exercise.names, inputs)
    }
    attempt("a second backward()", node.backward)
    for name, inbound in zip(exercise.names, inputs):
        if not same(node.gradients.get(inbound), first[inbound]):
            raise Stop(
                f"a second backward() changes gradients[{name}]: start each gradient at zero "
                "inside backward() (not in __init__ or forward()), then add the terms"
            )


_BACKWARD: dict[str, Callable[[NodeExercise, type, Values], None]] = {
    "runs": _runs,
    "keys": _keys,
    "shapes": _shapes,
    "differences": _differences,
    "consumers": _consumers,
    "repeat": _repeat,
}
