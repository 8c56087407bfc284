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

import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

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
    graph: List[Node]

    @property
    def trainables(self) -> List[Input]:
        """The weights and biases, in the order ``sgd_update`` gets them."""
        return [self.W1, self.b1, self.W2, self.b2]

    @property
    def weights(self) -> Dict[str, np.ndarray]:
        """The current weights and biases by name: ``W1``, ``b1``, ``W2``, ``b2``."""
        return {name: getattr(self, name).value for name in ("W1", "b1", "W2", "b2")}

    @property
    def dtype(self) -> np.dtype:
        """The float type of the weights; data is fed in the same type."""
        return self.W1.value.dtype


def build_network(
    n_features: int,
    hidden: int = 10,
    *,
    dtype: DTypeLike = np.float64,
    rng: Optional[np.random.Generator] = None,
    weights: Optional[Dict[str, np.ndarray]] = None,
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

    train_loss: List[float] = field(default_factory=list)
    test_loss: List[float] = field(default_factory=list)


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
    test: Optional[Tuple[np.ndarray, np.ndarray]] = None,
    on_step: Optional[Callable[[float], None]] = None,
    on_epoch: Optional[Callable[[int, float, Optional[float]], None]] = None,
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
    """
    X, y = np.asarray(X, net.dtype), np.asarray(y, net.dtype)
    history = History()
    for epoch in range(1, epochs + 1):
        loss, seen = 0.0, 0
        for rows in batches(len(X), batch_size, sampling, rng):
            net.X.value, net.y.value = X[rows], y[rows]
            forward_and_backward(net.graph)
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
    def fit(cls, values: np.ndarray) -> "Standardiser":
        values = np.asarray(values, np.float64)
        scale = values.std(axis=0)
        # a column constant in the training rows carries nothing to learn: centre it only
        scale = np.where(scale > 0, scale, 1.0)
        return cls(values.mean(axis=0), scale)

    def transform(self, values: np.ndarray) -> np.ndarray:
        return (np.asarray(values, np.float64) - self.mean) / self.scale


def split_indices(
    n: int, test_fraction: float, rng: np.random.Generator
) -> Tuple[np.ndarray, np.ndarray]:
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
    feature_names: Tuple[str, ...]
    target_name: str

    def save(self, path: Union[str, Path]) -> None:
        """Write an ``.npz`` file atomically: a temporary file beside it, then a rename."""
        path = Path(path)
        arrays = dict(
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
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                np.savez(file, **arrays)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, path)
        except BaseException:
            os.unlink(temp)
            raise

    @classmethod
    def load(cls, path: Union[str, Path], dtype: Optional[DTypeLike] = None) -> "Model":
        """Read a file written by ``save``; ``dtype`` defaults to the saved weights' dtype.

        Raises:
            ModelFileError: the file is missing, not an ``.npz`` file, or not a saved model.
        """
        try:
            file = np.load(path, allow_pickle=False)
            if not isinstance(file, np.lib.npyio.NpzFile):  # a lone .npy array
                raise ModelFileError(f"{path}: is not a saved MiniFlow model (.npz)")
            with file:
                arrays = {key: file[key] for key in file.files}
        except FileNotFoundError:
            raise ModelFileError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise ModelFileError(f"{path}: is a directory, not a saved model") from None
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
            if isinstance(error, ModelFileError):
                raise
            raise ModelFileError(f"{path}: is not a saved MiniFlow model (.npz)") from None
        return cls._from_arrays(path, arrays, dtype)

    @classmethod
    def _from_arrays(cls, path: Any, arrays: Dict[str, np.ndarray], dtype: Any) -> "Model":
        if str(arrays.get("format", "")) != _FORMAT:
            raise ModelFileError(f"{path}: is not a saved MiniFlow model (no '{_FORMAT}' mark)")
        missing = [key for key in _KEYS if key not in arrays]
        if missing:
            raise ModelFileError(f"{path}: the saved model lacks {', '.join(missing)}")
        names = tuple(str(name) for name in arrays["feature_names"].reshape(-1))
        W1, hidden = arrays["W1"], arrays["hidden"]
        d, h = len(names), (W1.shape[1] if W1.ndim == 2 else 0)
        if hidden.shape != () or hidden.dtype.kind not in "iu" or int(hidden) != h or h < 1:
            raise ModelFileError(f"{path}: 'hidden' and the shape {W1.shape} of W1 disagree")
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
            value = arrays[key]
            if value.shape != shape or value.dtype not in (np.float32, np.float64):
                raise ModelFileError(
                    f"{path}: '{key}' should be a float32 or float64 array of shape {shape}, "
                    f"not {value.dtype} {value.shape}"
                )
            if not np.all(np.isfinite(value)):
                raise ModelFileError(f"{path}: '{key}' holds NaN or infinite values")
        weights = {key: arrays[key] for key in ("W1", "b1", "W2", "b2")}
        net = build_network(d, h, dtype=dtype or arrays["W1"].dtype, weights=weights)
        return cls(
            net,
            Standardiser(arrays["x_mean"], arrays["x_scale"]),
            Standardiser(arrays["y_mean"], arrays["y_scale"]),
            names,
            str(arrays["target_name"]),
        )


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
