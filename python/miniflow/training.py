"""The lesson's two-layer network and its mini-batch SGD loop, on the public lesson API only.

>>> import numpy as np
>>> from miniflow.datasets import load_diabetes
>>> from miniflow.training import Standardiser, build_network, train
>>> X, y, _, _ = load_diabetes()
>>> X, y = Standardiser.fit(X).transform(X), Standardiser.fit(y).transform(y)
>>> rng = np.random.default_rng(0)
>>> net = build_network(X.shape[1], hidden=10, rng=rng)
>>> history = train(net, X, y, epochs=5, learning_rate=0.05, rng=rng)
>>> len(history.train_loss)
5
"""

from __future__ import annotations

import math
import os
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from numpy.typing import DTypeLike

from . import (
    MSE,
    Input,
    Linear,
    Node,
    Sigmoid,
    forward_and_backward,
    forward_pass,
    sgd_update,
    topological_sort,
)
from ._files import replace_file

if TYPE_CHECKING:
    from .monitor import HealthMonitor

__all__ = [
    "Network",
    "History",
    "Standardiser",
    "build_network",
    "batches",
    "train",
    "predict",
    "mse",
    "r2_score",
    "split_indices",
    "steps_per_epoch",
    "Model",
    "ModelFileError",
]

SAMPLING = ("bootstrap", "shuffle")


@dataclass
class Network:
    """The lesson's graph ``MSE(y, Linear(Sigmoid(Linear(X, W1, b1)), W2, b2))``.

    Feed a batch with ``net.X.value = ...`` and ``net.y.value = ...``, then run ``net.graph``.
    """

    X: Input
    y: Input
    W1: Input
    b1: Input
    W2: Input
    b2: Input
    output: Node
    cost: MSE
    graph: list[Node]

    @property
    def trainables(self) -> list[Input]:
        """The weights and biases, in the order ``sgd_update`` gets them."""
        return [self.W1, self.b1, self.W2, self.b2]

    @property
    def weights(self) -> dict[str, np.ndarray]:
        """The current weights and biases by name: ``W1``, ``b1``, ``W2``, ``b2``."""
        return {name: getattr(self, name).value for name in ("W1", "b1", "W2", "b2")}

    @property
    def dtype(self) -> np.dtype:
        """The float type of the weights; data is fed in the same type."""
        dtype: np.dtype = self.W1.value.dtype
        return dtype


def build_network(
    n_features: int,
    hidden: int = 10,
    *,
    dtype: DTypeLike = np.float64,
    rng: np.random.Generator | None = None,
    weights: dict[str, np.ndarray] | None = None,
) -> Network:
    """Build and sort the lesson's network: Linear → Sigmoid → Linear → MSE.

    Args:
        n_features: the number of input columns.
        hidden: the number of sigmoid units.
        dtype: float64 or float32, for the weights and the data fed later.
        rng: draws the initial weights (normal, scaled by 1/sqrt(fan-in) so the sigmoids start
            unsaturated); a fresh unseeded generator if None.
        weights: ``W1``, ``b1``, ``W2``, ``b2`` to start from instead (e.g. a saved model).
    """
    if weights is None:
        rng = np.random.default_rng() if rng is None else rng
        weights = {
            "W1": rng.standard_normal((n_features, hidden)) / np.sqrt(n_features),
            "b1": np.zeros(hidden),
            "W2": rng.standard_normal((hidden, 1)) / np.sqrt(hidden),
            "b2": np.zeros(1),
        }
    X, y = Input(name="X"), Input(name="y")
    W1, b1, W2, b2 = (Input(name=name) for name in ("W1", "b1", "W2", "b2"))
    output = Linear(Sigmoid(Linear(X, W1, b1, name="l1"), name="s1"), W2, b2, name="l2")
    cost = MSE(y, output, name="cost")

    # a one-row placeholder batch: training replaces X and y every step
    feed_dict = {X: np.zeros((1, n_features), dtype), y: np.zeros(1, dtype)}
    for node, name in ((W1, "W1"), (b1, "b1"), (W2, "W2"), (b2, "b2")):
        feed_dict[node] = np.array(weights[name], dtype=dtype)  # a copy: training changes it
    graph = topological_sort(feed_dict)
    return Network(X, y, W1, b1, W2, b2, output, cost, graph)


@dataclass
class History:
    """The mean loss of every epoch, on the training data and (if given) the test data."""

    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)


def batches(
    n: int, batch_size: int, sampling: str, rng: np.random.Generator
) -> Iterator[np.ndarray]:
    """The row indices of one epoch's batches.

    ``bootstrap`` is the lesson's ``resample``: ``n // batch_size`` batches drawn with
    replacement. ``shuffle`` visits every row once in a random order, the last batch short.
    """
    if sampling == "bootstrap":
        for _ in range(max(n // batch_size, 1)):
            yield rng.integers(0, n, size=batch_size)
    elif sampling == "shuffle":
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            yield order[start : start + batch_size]
    else:
        raise ValueError(f"sampling must be one of {', '.join(SAMPLING)}, not {sampling!r}")


def steps_per_epoch(n: int, batch_size: int, sampling: str) -> int:
    """How many batches ``batches`` yields for one epoch."""
    return max(n // batch_size, 1) if sampling == "bootstrap" else -(-n // batch_size)


def train(
    net: Network,
    X: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    learning_rate: float,
    rng: np.random.Generator,
    batch_size: int = 11,
    sampling: str = "bootstrap",
    test: tuple[np.ndarray, np.ndarray] | None = None,
    on_step: Callable[[float], None] | None = None,
    on_epoch: Callable[[int, float, float | None], None] | None = None,
    health: HealthMonitor | None = None,
) -> History:
    """Mini-batch SGD, as in the lesson: feed a batch, ``forward_and_backward``, ``sgd_update``.

    Args:
        net: from ``build_network``; its weights are updated in place.
        X, y: the training features ``(n, d)`` and target ``(n,)``.
        epochs: passes over the data.
        learning_rate: the SGD step size.
        rng: draws the batches.
        batch_size: rows per step.
        sampling: ``"bootstrap"`` or ``"shuffle"`` (see ``batches``).
        test: ``(X_test, y_test)`` to measure the loss on after every epoch.
        on_step: called after every step with the epoch's mean loss so far.
        on_epoch: called after every epoch with its number (from 1), train loss and test loss.
        health: a ``HealthMonitor`` of ``net.graph``, measured at every step (before the
            update) and closed at the end of every epoch, before ``on_epoch``.
    """
    X, y = np.asarray(X, net.dtype), np.asarray(y, net.dtype)
    history = History()
    for epoch in range(1, epochs + 1):
        loss, seen = 0.0, 0
        for rows in batches(len(X), batch_size, sampling, rng):
            net.X.value, net.y.value = X[rows], y[rows]
            # only the gradients sgd_update reads: not the data's (one product per step less)
            forward_and_backward(net.graph, trainables=net.trainables)
            if health is not None:
                health.update()
            sgd_update(net.trainables, learning_rate)
            # weighted by batch size so a short last batch counts for what it holds
            loss += net.graph[-1].value * len(rows)
            seen += len(rows)
            if on_step is not None:
                on_step(loss / seen)
        history.train_loss.append(loss / seen)
        test_loss = None
        if test is not None:
            test_loss = mse(predict(net, test[0]), test[1])
            history.test_loss.append(test_loss)
        if health is not None:
            health.end_epoch()
        if on_epoch is not None:
            on_epoch(epoch, loss / seen, test_loss)
    return history


def predict(net: Network, X: np.ndarray) -> np.ndarray:
    """The network's output for every row of ``X``, shape ``(n,)``."""
    X = np.asarray(X, net.dtype)
    net.X.value, net.y.value = X, np.zeros(len(X), net.dtype)
    forward_pass(net.graph)
    # a copy: the graph reuses its buffers on the next run
    return np.array(net.output.value, dtype=np.float64).reshape(-1)


def mse(prediction: np.ndarray, target: np.ndarray) -> float:
    """Mean squared error."""
    return float(np.mean((np.asarray(target, np.float64) - prediction) ** 2))


def r2_score(prediction: np.ndarray, target: np.ndarray) -> float:
    """The coefficient of determination: 1 is perfect, 0 is as good as predicting the mean."""
    target = np.asarray(target, np.float64)
    total = np.sum((target - target.mean()) ** 2)
    return float(1.0 - np.sum((target - prediction) ** 2) / total) if total > 0 else float("nan")


@dataclass(frozen=True)
class Standardiser:
    """Subtract each column's mean and divide by its standard deviation (fit on training data)."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, values: np.ndarray) -> Standardiser:
        values = np.asarray(values, np.float64)
        scale = values.std(axis=0)
        # a column constant in the training rows carries nothing to learn: centre it only
        scale = np.where(scale > 0, scale, 1.0)
        return cls(values.mean(axis=0), scale)

    def transform(self, values: np.ndarray) -> np.ndarray:
        scaled: np.ndarray = (np.asarray(values, np.float64) - self.mean) / self.scale
        return scaled


def split_indices(
    n: int, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Random train and test row indices, ``round(n * test_fraction)`` (at least 1) for testing.

    Raises:
        ValueError: the fraction is not strictly between 0 and 1, or it leaves fewer than two
            training rows.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"the test fraction must be between 0 and 1, not {test_fraction}")
    n_test = max(1, round(n * test_fraction))
    if n - n_test < 2:
        raise ValueError(
            f"{n} rows with a test fraction of {test_fraction} leave {n - n_test} for training; "
            "training needs at least two"
        )
    order = rng.permutation(n)
    return np.sort(order[n_test:]), np.sort(order[:n_test])


class ModelFileError(ValueError):
    """A saved model that cannot be loaded; the message says what is wrong."""


_FORMAT = "miniflow-two-layer-v1"


@dataclass
class Model:
    """A network with what it needs to be reused: the standardisation and the column names.

    The network sees standardised data: ``predict(model.net, model.x_scaler.transform(X))``
    gives standardised targets (times ``y_scaler.scale`` plus ``y_scaler.mean`` for raw ones).
    """

    net: Network
    x_scaler: Standardiser
    y_scaler: Standardiser
    feature_names: tuple[str, ...]
    target_name: str

    def save(self, path: str | Path) -> None:
        """Write an ``.npz`` file atomically: a temporary file beside it, then a rename.

        Raises:
            UnwritablePathError: ``path`` is not a regular file (a device, a FIFO, a folder),
                its folder is missing, or the file system refuses the write.
        """
        arrays: dict[str, Any] = dict(
            format=np.array(_FORMAT),
            hidden=np.array(self.net.W1.value.shape[1]),
            x_mean=self.x_scaler.mean,
            x_scale=self.x_scaler.scale,
            y_mean=self.y_scaler.mean,
            y_scale=self.y_scaler.scale,
            feature_names=np.array(self.feature_names, dtype=str),
            target_name=np.array(self.target_name),
            **self.net.weights,
        )
        with replace_file(path) as file:
            np.savez(file, **arrays)

    @classmethod
    def load(cls, path: str | Path, dtype: DTypeLike | None = None) -> Model:
        """Read a file written by ``save``; ``dtype`` defaults to the saved weights' dtype.

        Every array's shape and dtype are checked against the model's before any array is
        read, so a small file that declares huge arrays is refused without allocating them.

        Raises:
            ModelFileError: the file is missing, not a regular file, not an ``.npz`` file, or
                not a saved model (a missing, misshapen, non-finite or non-positive-scale
                array, or more than 1 GiB of arrays).
        """
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):
                kind = "a directory" if os.path.isdir(path) else "not a regular file"
                raise ModelFileError(f"{path}: is {kind}, not a saved model")
            with zipfile.ZipFile(path) as archive:
                arrays = _read_arrays(path, archive)
        except FileNotFoundError:
            raise ModelFileError(f"{path}: no such file") from None
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
            if isinstance(error, ModelFileError):
                raise
            if isinstance(error, OSError) and error.strerror:  # the system's, not the format's
                raise ModelFileError(f"{path}: cannot be read: {error.strerror}") from None
            raise ModelFileError(f"{path}: is not a saved MiniFlow model (.npz)") from None
        return cls._from_arrays(path, arrays, dtype)

    @classmethod
    def _from_arrays(cls, path: Any, arrays: dict[str, np.ndarray], dtype: Any) -> Model:
        if str(arrays["format"]) != _FORMAT:
            raise ModelFileError(f"{path}: is not a saved MiniFlow model (no '{_FORMAT}' mark)")
        for key in _FLOAT_KEYS:
            if not np.all(np.isfinite(arrays[key])):
                raise ModelFileError(f"{path}: '{key}' holds NaN or infinite values")
        for key in ("x_scale", "y_scale"):
            # standardising divides by the scale; save() only writes positive ones
            if not np.all(arrays[key] > 0):
                raise ModelFileError(f"{path}: '{key}' holds zero or negative values")
        names = tuple(str(name) for name in arrays["feature_names"])
        weights = {key: arrays[key] for key in ("W1", "b1", "W2", "b2")}
        net = build_network(
            len(names), int(arrays["hidden"]), dtype=dtype or arrays["W1"].dtype, weights=weights
        )
        return cls(
            net,
            Standardiser(arrays["x_mean"], arrays["x_scale"]),
            Standardiser(arrays["y_mean"], arrays["y_scale"]),
            names,
            str(arrays["target_name"]),
        )


_MAX_MODEL_BYTES = 1 << 30
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # np.savez and np.savez_compressed
_UNREADABLE_FLAGS = 0x1 | 0x20 | 0x40  # encrypted, compressed patched data, strong encryption
_READ_HEADER = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def _read_arrays(path: Any, archive: zipfile.ZipFile) -> dict[str, np.ndarray]:
    """The model's arrays, read only after every ``.npy`` header has been checked against the
    model's shapes and the file's size: ``np.load`` allocates whatever a header declares
    before it reads (a 3 KB file can declare terabytes)."""
    members = {name[: -len(".npy")]: name for name in archive.namelist() if name.endswith(".npy")}
    if "format" not in members:
        raise ModelFileError(f"{path}: is not a saved MiniFlow model (no '{_FORMAT}' mark)")
    missing = [key for key in _KEYS if key not in members]
    if missing:
        raise ModelFileError(f"{path}: the saved model lacks {', '.join(missing)}")

    def read(key: str) -> np.ndarray:
        with archive.open(members[key]) as member:
            return np.lib.format.read_array(member, allow_pickle=False)

    headers = {key: _header(path, archive, members[key]) for key in ("format", *_KEYS)}
    declared = sum(math.prod(shape) * dtype.itemsize for shape, dtype in headers.values())
    if declared > _MAX_MODEL_BYTES:
        raise ModelFileError(
            f"{path}: declares {declared:,} bytes of arrays; a saved model may hold at most "
            f"{_MAX_MODEL_BYTES:,}"
        )
    for key in ("format", "target_name", "feature_names"):
        shape, dtype = headers[key]
        if dtype.kind != "U" or len(shape) != (1 if key == "feature_names" else 0):
            raise ModelFileError(f"{path}: is not a saved MiniFlow model ('{key}' is not text)")
    shape, dtype = headers["hidden"]
    if shape != () or dtype.kind not in "iu":
        raise ModelFileError(f"{path}: 'hidden' should be a whole number, not {dtype} {shape}")
    h, W1 = int(read("hidden")), headers["W1"][0]
    if len(W1) != 2 or W1[1] != h or h < 1:
        raise ModelFileError(f"{path}: 'hidden' and the shape {W1} of W1 disagree")
    d = headers["feature_names"][0][0]
    expected = {
        "W1": (d, h),
        "b1": (h,),
        "W2": (h, 1),
        "b2": (1,),
        "x_mean": (d,),
        "x_scale": (d,),
        "y_mean": (),
        "y_scale": (),
    }
    for key, shape in expected.items():
        found, dtype = headers[key]
        if found != shape or dtype not in (np.float32, np.float64):
            raise ModelFileError(
                f"{path}: '{key}' should be a float32 or float64 array of shape {shape}, "
                f"not {dtype} {found}"
            )
    return {key: read(key) for key in headers}


def _header(path: Any, archive: zipfile.ZipFile, name: str) -> tuple[tuple[int, ...], np.dtype]:
    """An ``.npy`` member's declared shape and dtype, refused if its data could not fit in the
    member (as the zip directory sizes it) or a stored member in the file."""
    info = archive.getinfo(name)
    if info.flag_bits & _UNREADABLE_FLAGS or info.compress_type not in _COMPRESSIONS:
        # zipfile would raise RuntimeError (encrypted) or NotImplementedError (the others)
        raise ModelFileError(
            f"{path}: is not a saved MiniFlow model ('{name}' is encrypted or "
            "compressed in a way numpy never writes)"
        )
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version not in _READ_HEADER:
            raise ModelFileError(f"{path}: is not a saved MiniFlow model (.npz)")
        shape, _, dtype = _READ_HEADER[version](member)
    stored = info.compress_type == zipfile.ZIP_STORED
    if math.prod(shape) * dtype.itemsize > info.file_size or (
        stored and info.file_size > os.stat(path).st_size
    ):
        raise ModelFileError(
            f"{path}: '{name}' declares a {dtype} array of shape {shape}, more than the file holds"
        )
    return shape, dtype


_FLOAT_KEYS = ("W1", "b1", "W2", "b2", "x_mean", "x_scale", "y_mean", "y_scale")
_KEYS = (
    "hidden",
    "W1",
    "b1",
    "W2",
    "b2",
    "x_mean",
    "x_scale",
    "y_mean",
    "y_scale",
    "feature_names",
    "target_name",
)
