"""Adding up the chain rule's terms: the one way every node and tool sums what it sends back.

The lesson's ``backward()`` starts each inbound gradient at zero and adds one term per consumer:

    self.gradients = {n: np.zeros_like(n.value) for n in self.inbound_nodes}
    for n in self.outbound_nodes:
        G = n.gradients[self]
        self.gradients[X] += np.dot(G, W.T)

``GradientSum`` does the same without a new array per step. The first term of each gradient
is written over the array this node computed in the previous step (the kernel reuses it when
its shape and dtype still fit, else makes a new one); every later term (a second consumer, or a
node read in two slots) is added into it by the kernel (``accumulate``). An inbound node that no
consumer's term reached gets zeros, as in the lesson. So once shapes settle a training step
makes no new arrays: copy a gradient you want to keep, since the next step overwrites it. (A
node's ``gradients`` dict is the sum's own record of those arrays: an array you put into it
yourself is written over too, when it fits.)

``needed`` (from ``forward_and_backward(graph, trainables=...)``) names the inbound nodes whose
gradients are wanted: the terms of the others are never computed, and reading one of them from
``gradients`` raises a KeyError that says why.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy import ndarray

if TYPE_CHECKING:
    from .node import Node


class GradientSum:
    """The gradients one ``backward()`` of `node` sends back, added up term by term.

    A built-in node keeps one for its whole life (``self.gradient_sum``), so its arrays carry
    over from step to step; a learner's node may make a new one per step. A step begins with
    ``upstream(needed)``, each consumer's G (or ``start(needed)``, for the cost, which has no
    consumer); then ``add(n, kernel, a, b)`` adds ``kernel(a, b)`` to n's gradient,
    ``add_array(n, term)`` adds an array already made, and ``gradients()`` is the finished dict
    for ``node.gradients``.
    """

    # this runs for every node at every step, so each method is a few dict operations
    __slots__ = ("_last", "_more_terms", "_sums", "needed", "node")

    def __init__(self, node: Node, needed: Collection[Node] | None = None) -> None:
        self.node = node
        self._last: dict[Node, Any] = {}  # the arrays of the previous step, written over now
        self.start(needed)

    def start(self, needed: Collection[Node] | None = None) -> GradientSum:
        """Begin a step: every sum at nothing yet. `needed`: the inbound nodes whose gradients
        are wanted (None: all)."""
        self.needed = needed
        self._sums: dict[Node, Any] = {}
        self._more_terms: dict[Node, list[Any]] | None = None  # add_array's second terms on
        return self

    def upstream(
        self, needed: Collection[Node] | None = None, shape: tuple[int, ...] | None = None
    ) -> Sequence[Any]:
        """Begin a step (as ``start(needed)``) and return G = ∂cost/∂node from each consumer, as
        it sent it; with `shape`, each G viewed in that shape (a vector of the same length in
        any orientation is accepted)."""
        self.needed = needed
        self._sums = {}
        self._more_terms = None
        if needed is not None and not needed:
            return ()  # nothing is wanted: the consumers did not send this node anything
        node = self.node
        outbound = node.outbound_nodes
        if len(outbound) == 1:  # the usual case, written out
            try:
                G = outbound[0].gradients[node]
            except KeyError:
                raise not_sent_back(node, outbound[0]) from None
            if shape is None or (type(G) is ndarray and G.shape == shape):
                return (G,)
            return (_in_shape(node, outbound[0], G, shape),)
        terms = []
        for consumer in consumers(node):
            try:
                G = consumer.gradients[node]
            except KeyError:
                raise not_sent_back(node, consumer) from None
            if shape is not None and (type(G) is not ndarray or G.shape != shape):
                G = _in_shape(node, consumer, G, shape)
            terms.append(G)
        return terms

    def add(self, inbound: Node, kernel: Callable[..., Any], a: Any, b: Any = None) -> None:
        """inbound's gradient += kernel(a, b), where the kernel takes ``out`` and ``accumulate``
        after its operands, as the core's primitives do: ``kernel(a, b, out, accumulate)``, or
        ``kernel(a, out, accumulate)`` when there is no `b`. (Operands are spelled out, not
        ``*operands``: a call through a star is slower, and this runs for every term.)"""
        needed = self.needed
        if needed is not None and inbound not in needed:
            return
        sums = self._sums
        if inbound in sums:  # a later term: added into the first
            out = sums[inbound]
            sums[inbound] = kernel(a, out, True) if b is None else kernel(a, b, out, True)
        else:  # the first term: written over last step's array (or into a new one)
            out = self._last.get(inbound)
            sums[inbound] = kernel(a, out, False) if b is None else kernel(a, b, out, False)

    def add_array(self, inbound: Node, term: Any) -> None:
        """inbound's gradient += term. A single term is passed on as it is, not copied."""
        needed = self.needed
        if needed is not None and inbound not in needed:
            return
        if inbound not in self._sums:
            self._sums[inbound] = term
        else:  # summed at the end, when every term is known (none of them is written into)
            if self._more_terms is None:
                self._more_terms = {}
            self._more_terms.setdefault(inbound, []).append(term)

    def gradients(self) -> dict[Node, Any]:
        """The gradients, keyed by inbound node (an Input: by itself); zeros for one that no
        term reached; a ``SkippedGradients`` when some were not needed."""
        node, sums = self.node, self._sums
        if self._more_terms is not None:
            for inbound, more in self._more_terms.items():
                terms = [sums[inbound], *more]
                sums[inbound] = add_up(node, terms, self._last.get(inbound))
        self._last = sums  # written over again next step
        targets = node.inbound_nodes or (node,)  # an Input's gradient is keyed by itself
        if len(sums) == len(targets):  # every gradient made (the usual case)
            return sums  # the node's gradients are this record: next step writes over them
        skipped: dict[Node, None] = {}
        for inbound in targets:
            if inbound in sums:
                continue
            if self.needed is not None and inbound not in self.needed:
                skipped[inbound] = None
            else:  # nobody reads this node: every gradient is zero, as in the lesson
                sums[inbound] = np.zeros(np.shape(inbound.value))
        return skipped_gradients(skipped, sums) if skipped else sums


def consumers(node: Node) -> Sequence[Node]:
    """The nodes that read `node`, each once: a consumer that reads it in two slots already
    summed both into its gradients[node]."""
    outbound = node.outbound_nodes
    return outbound if len(outbound) < 2 else list(dict.fromkeys(outbound))


def add_up(node: Node, terms: Sequence[Any], out: np.ndarray | None = None) -> np.ndarray:
    """terms[0] + terms[1] + ..., in `out` when it fits and is none of the terms (else a new
    array); vectors of the same length add whatever their orientation, as the kernels accept
    them."""
    first = np.asarray(terms[0])
    dtype = np.result_type(*terms, np.float32)
    if (
        out is None
        or out.shape != first.shape
        or out.dtype != dtype
        or any(out is term for term in terms)  # a consumer's own array is never written
    ):
        out = np.empty(first.shape, dtype)
    np.copyto(out, first)
    for term in terms[1:]:
        term = np.asarray(term)
        if term.shape != out.shape and term.size == out.size:
            term = term.reshape(out.shape)
        elif term.shape != out.shape and term.size != 1:
            raise ValueError(
                f"{node.label} backward: its consumers sent gradients of shapes "
                f"{out.shape} and {term.shape}, which cannot be summed"
            )
        np.add(out, term, out=out, casting="unsafe")
    return out


def _in_shape(node: Node, consumer: Node, G: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A consumer's G viewed in `shape`, or the error that names both nodes."""
    G = np.asarray(G)
    vectors = G.size == int(np.prod(shape)) and (G.ndim < 2 or 1 in G.shape) and 1 in shape
    if G.shape != shape and not vectors:
        raise ValueError(
            f"{node.label} backward: the gradient arriving from its consumer {consumer.label} "
            f"has shape {G.shape} but its value has shape {np.shape(node.value)}"
        )
    viewed: np.ndarray = G.reshape(shape)
    return viewed


class SkippedGradients(dict["Node", Any]):
    """A node's ``gradients`` after ``forward_and_backward(graph, trainables=...)`` skipped some:
    it holds those on a path to a trainable, and reading a skipped one raises a KeyError that
    says so (never a stale array from an earlier step)."""

    __slots__ = ("skipped",)
    skipped: Collection[Node]  # the inbound nodes (an Input: itself) whose gradient was skipped

    def __missing__(self, node: Node) -> Any:
        raise KeyError(why_skipped(node) if node in self.skipped else node)

    def copy(self) -> SkippedGradients:
        """A copy that still says which gradients were skipped."""
        return skipped_gradients(self.skipped, self)


def skipped_gradients(skipped: Collection[Node], computed: Iterable[Any] = ()) -> SkippedGradients:
    """A gradients dict of the (node, gradient) pairs `computed` that says `skipped` were not."""
    gradients = SkippedGradients(computed)
    gradients.skipped = skipped
    return gradients


def why_skipped(node: Node) -> str:
    """What reading a skipped gradient says: why it is missing and how to get it."""
    return (
        f"the gradient for {getattr(node, 'label', node)} was skipped: no trainable given to "
        "forward_and_backward(graph, trainables=...) depends on it; add it to trainables, or "
        "run forward_and_backward(graph) for every gradient"
    )


def not_sent_back(node: Node, consumer: Node) -> KeyError:
    """The error for a consumer whose gradients lack `node`: skipped on purpose, or forgotten."""
    gradients = consumer.gradients
    if isinstance(gradients, SkippedGradients) and node in gradients.skipped:
        return KeyError(why_skipped(node))
    return KeyError(
        f"{consumer.label}.backward() did not set gradients[{node.label}]; "
        "every node must set a gradient for each of its inbound nodes"
    )
