"""The ``miniflow`` command (also ``python -m miniflow``).

Each subcommand is a function ``name(args) -> exit code`` plus one ``add_command`` line in
``build_parser``; its flags, if any, come from a second small function passed there.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import numpy as np
from tqdm import tqdm

from . import MSE, Input, Linear, Sigmoid, forward_and_backward, topological_sort
from .datasets import Dataset, DataError, load_csv, load_diabetes
from .training import (
    SAMPLING,
    History,
    Model,
    ModelFileError,
    Standardiser,
    build_network,
    mse,
    predict,
    r2_score,
    split_indices,
    steps_per_epoch,
    train,
)

__all__ = ["main", "build_parser", "add_command", "CommandError"]

Split = Tuple[np.ndarray, np.ndarray]
TRAIN_HELP = "train the lesson's network (Linear, Sigmoid, Linear, MSE) with mini-batch SGD"


class CommandError(Exception):
    """A problem the user can fix (a bad flag or file): printed without a traceback, exit 2."""


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (CommandError, DataError, ModelFileError) as error:
        print(f"miniflow {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"miniflow {args.command}: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="miniflow", description="MiniFlow, the backpropagation lesson's library."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_command(commands, "demo", demo, "the lesson's backpropagation example and its gradients")
    add_command(commands, "train", train_command, TRAIN_HELP, train_flags)
    add_command(commands, "graph", graph_command, "draw the training network as SVG, DOT or Mermaid", graph_flags)
    return parser


def add_command(
    commands: Any,
    name: str,
    run: Callable[[argparse.Namespace], int],
    help: str,
    flags: Optional[Callable[[argparse.ArgumentParser], None]] = None,
) -> argparse.ArgumentParser:
    """Register a subcommand: ``run(args)`` returns the exit code; ``flags(parser)`` adds flags."""
    parser = commands.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".")
    if flags is not None:
        flags(parser)
    parser.set_defaults(run=run)
    return parser


def demo(args: argparse.Namespace) -> int:
    """The seed's example: one forward and backward pass through ``MSE(y, Sigmoid(Linear))``."""
    X, W, b, y = Input(name="X"), Input(name="W"), Input(name="b"), Input(name="y")
    cost = MSE(y, Sigmoid(Linear(X, W, b)))
    feed_dict = {
        X: np.array([[-1.0, -2.0], [-1, -2]]),
        y: np.array([1, 2]),
        W: np.array([[2.0], [3.0]]),
        b: np.array([-3.0]),
    }
    graph = topological_sort(feed_dict)
    forward_and_backward(graph)
    print(f"cost: {cost.value}")
    print([t.gradients[t] for t in [X, y, W, b]])
    return 0


def graph_command(args: argparse.Namespace) -> int:
    """Draw the training command's network: SVG, or DOT or Mermaid text for a .dot or .mmd file."""
    from .draw import draw, to_dot, to_mermaid

    net = build_network(len(load_diabetes().feature_names), args.hidden, rng=np.random.default_rng(0))
    forward_and_backward(net.graph)  # on its one-row placeholder batch, so every shape is known
    suffix = args.out.suffix.lower()
    if suffix == ".dot":
        args.out.write_text(to_dot(net.graph, trainables=net.trainables), encoding="utf-8")
    elif suffix in (".mmd", ".mermaid"):
        args.out.write_text(to_mermaid(net.graph, trainables=net.trainables), encoding="utf-8")
    else:
        draw(net.graph, trainables=net.trainables).save(args.out)
    print(f"wrote {args.out}")
    return 0


def graph_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, metavar="FILE", default=Path("net.svg"),
                        help="where to write: .svg (default net.svg), .dot or .mmd")
    parser.add_argument("--hidden", type=_count(1), metavar="N", default=10, help="sigmoid units (10)")


def _count(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        return value

    return parse


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


def _fraction(text: str) -> float:
    value = _positive(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return value


def train_flags(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--epochs", type=_count(0), default=100, metavar="N",
        help="passes over the training data (100)")
    add("--batch-size", type=_count(1), default=11, metavar="N", help="rows per SGD step (11)")
    add("--learning-rate", type=_positive, default=0.01, metavar="RATE",
        help="SGD step size (0.01)")
    add("--hidden", type=_count(1), metavar="N", help="sigmoid units (10, or the loaded model's)")
    add("--seed", type=_count(0), default=0, metavar="N",
        help="seeds the split, the weights and the batches (0)")
    add("--sampling", choices=SAMPLING, default="bootstrap",
        help="bootstrap: the lesson's resampling, n // batch draws with replacement; "
        "shuffle: every row once per epoch (bootstrap)")
    add("--dtype", choices=("float64", "float32"),
        help="float type of weights and data (float64, or the loaded model's)")
    add("--test-fraction", type=_fraction, default=0.2, metavar="F",
        help="rows held out for testing (0.2)")
    add("--data", type=Path, metavar="CSV",
        help="train on this CSV file (one header row) instead of the diabetes data")
    add("--target", metavar="COLUMN", help="the column of --data to predict")
    add("--load", type=Path, metavar="NPZ",
        help="start from a saved model; with --epochs 0, only evaluate it")
    add("--save", type=Path, metavar="NPZ",
        help="save the model: weights, standardisation, column names")
    add("--plot", type=Path, metavar="PNG", help="draw the train and test loss curves (matplotlib)")
    add("--json", action="store_true", help="print one JSON object with the results, nothing else")
    add("--quiet", action="store_true", help="no progress bar and no per-epoch lines")


def train_command(args: argparse.Namespace) -> int:
    """Train (or evaluate) the lesson's network with mini-batch SGD and report its metrics."""
    _check_outputs(args)
    data = _load_data(args)
    seeds = np.random.SeedSequence(args.seed).spawn(3)
    split_rng, init_rng, batch_rng = (np.random.default_rng(seed) for seed in seeds)
    try:
        train_rows, test_rows = split_indices(len(data.target), args.test_fraction, split_rng)
    except ValueError as error:
        raise CommandError(error) from None
    model = _model(args, data, train_rows, init_rng)
    train_set, test_set = (_standardised(model, data, rows) for rows in (train_rows, test_rows))

    chatty = not (args.json or args.quiet)
    if chatty:
        print(
            f"Training on {args.data or 'the diabetes data'}: {len(train_rows)} train rows, "
            f"{len(test_rows)} test rows, {len(data.feature_names)} features -> "
            f"{model.net.W1.value.shape[1]} sigmoid units -> {data.target_name}"
        )
    started = time.perf_counter()
    history = _fit(args, model, train_set, test_set, batch_rng, chatty)
    seconds = time.perf_counter() - started

    results = _results(args, model, history, train_set, test_set)
    if args.save is not None:
        try:
            model.save(args.save)
        except OSError as error:
            raise CommandError(f"--save {args.save}: {error.strerror or error}") from None
    if args.plot is not None:
        _plot(history, results, args.plot)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        _print_report(results, seconds)
    return 0


def _check_outputs(args: argparse.Namespace) -> None:
    """Fail before training, not after, on an output that cannot be written."""
    for flag, path in (("--save", args.save), ("--plot", args.plot)):
        if path is not None and (path.is_dir() or not path.parent.is_dir()):
            problem = "is a folder" if path.is_dir() else f"its folder {path.parent} does not exist"
            raise CommandError(f"{flag} {path}: {problem}")
    if args.plot is not None:
        if args.epochs == 0:
            raise CommandError("--plot draws the loss per epoch: it needs --epochs 1 or more")
        try:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
        except ImportError:
            raise CommandError(
                "--plot needs matplotlib: pip install 'miniflow-backprop[plot]' "
                "(or pip install matplotlib)"
            ) from None
        formats = FigureCanvasAgg.get_supported_filetypes()
        suffix = args.plot.suffix
        if suffix and suffix[1:].lower() not in formats:
            raise CommandError(
                f"--plot {args.plot}: cannot draw '{suffix}'; use one of .{', .'.join(formats)}"
            )


def _load_data(args: argparse.Namespace) -> Dataset:
    if args.data is None:
        if args.target is not None:
            raise CommandError("--target names a column of --data CSV: give --data too")
        return load_diabetes()
    if args.target is None:
        raise CommandError("--data needs --target COLUMN, the column to predict")
    return load_csv(args.data, args.target)


def _model(
    args: argparse.Namespace, data: Dataset, train_rows: np.ndarray, rng: np.random.Generator
) -> Model:
    """A new model standardised with the training rows' statistics, or a loaded one that fits the
    data."""
    if args.load is None:
        net = build_network(
            len(data.feature_names), args.hidden or 10, dtype=args.dtype or "float64", rng=rng
        )
        x_scaler, y_scaler = (Standardiser.fit(a[train_rows]) for a in (data.data, data.target))
        return Model(net, x_scaler, y_scaler, data.feature_names, data.target_name)

    model = Model.load(args.load, dtype=args.dtype)
    hidden = model.net.W1.value.shape[1]
    if args.hidden is not None and args.hidden != hidden:
        raise CommandError(
            f"--load {args.load} has {hidden} hidden units, not --hidden {args.hidden}"
        )
    if (model.feature_names, model.target_name) != (data.feature_names, data.target_name):
        raise CommandError(
            f"--load {args.load} predicts {model.target_name} from "
            f"{', '.join(model.feature_names)}; this data has {data.target_name} and "
            f"{', '.join(data.feature_names)}"
        )
    return model


def _standardised(model: Model, data: Dataset, rows: np.ndarray) -> Split:
    return model.x_scaler.transform(data.data[rows]), model.y_scaler.transform(data.target[rows])


def _fit(
    args: argparse.Namespace,
    model: Model,
    train_set: Split,
    test_set: Split,
    rng: np.random.Generator,
    chatty: bool,
) -> History:
    """Train with a progress bar on stderr (only when it is a terminal) and a line per epoch."""
    steps = steps_per_epoch(len(train_set[1]), args.batch_size, args.sampling)
    bar = tqdm(
        total=args.epochs * steps,
        unit="step",
        leave=False,
        disable=args.quiet or not sys.stderr.isatty(),
    )

    def on_step(loss: float) -> None:
        bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
        bar.update()

    def on_epoch(epoch: int, loss: float, test_loss: Optional[float]) -> None:
        if not math.isfinite(loss):
            raise CommandError(
                f"training diverged (loss {loss} in epoch {epoch}): try a smaller --learning-rate"
            )
        if chatty:
            # through the bar, so it is redrawn below the line instead of torn
            bar.write(
                f"Epoch: {epoch}, Loss: {loss:.3f}, Test loss: {test_loss:.3f}", file=sys.stdout
            )

    with bar:
        return train(
            model.net,
            *train_set,
            epochs=args.epochs,
            learning_rate=args.learning_rate,
            rng=rng,
            batch_size=args.batch_size,
            sampling=args.sampling,
            test=test_set,
            on_step=None if bar.disable else on_step,
            on_epoch=on_epoch,
        )


def _scores(prediction: np.ndarray, target: np.ndarray) -> Dict[str, Optional[float]]:
    # JSON has no NaN: an undefined R² (a constant test target) is null
    def finite(x: float) -> Optional[float]:
        return x if math.isfinite(x) else None

    return {"mse": finite(mse(prediction, target)), "r2": finite(r2_score(prediction, target))}


def _results(
    args: argparse.Namespace, model: Model, history: History, train_set: Split, test_set: Split
) -> Dict[str, Any]:
    """Everything the run measured, as JSON-ready values (MSE is on the standardised target)."""
    mean = float(np.mean(train_set[1]))
    return {
        "data": str(args.data) if args.data else "diabetes",
        "target": model.target_name,
        "features": list(model.feature_names),
        "rows": {"train": len(train_set[1]), "test": len(test_set[1])},
        "settings": {
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "learning_rate": args.learning_rate,
            "hidden": int(model.net.W1.value.shape[1]),
            "seed": args.seed,
            "sampling": args.sampling,
            "dtype": str(model.net.dtype),
            "test_fraction": args.test_fraction,
            "load": None if args.load is None else str(args.load),
        },
        "loss": {"train": history.train_loss, "test": history.test_loss},
        "network": {
            name: _scores(predict(model.net, X), y)
            for name, (X, y) in (("train", train_set), ("test", test_set))
        },
        "baseline": {
            name: _scores(np.full(len(y), mean), y)
            for name, (X, y) in (("train", train_set), ("test", test_set))
        },
        "saved": None if args.save is None else str(args.save),
        "plot": None if args.plot is None else str(args.plot),
    }


def _print_report(results: Dict[str, Any], seconds: float) -> None:
    settings = results["settings"]
    print(f"Trained {settings['epochs']} epochs in {seconds:.2f} s.")
    print(f"{'':<15}{'train MSE':>10}{'train R2':>10}{'test MSE':>10}{'test R2':>10}")
    for label, key in (("network", "network"), ("mean baseline", "baseline")):
        cells = [
            results[key][split][metric] for split in ("train", "test") for metric in ("mse", "r2")
        ]
        print(f"{label:<15}" + "".join(f"{'n/a' if c is None else f'{c:.3f}':>10}" for c in cells))
    print("(MSE of the standardised target; R2 is 0 for the mean baseline and 1 for a perfect fit)")
    for key, what in (("saved", "Saved the model to"), ("plot", "Drew the loss curves in")):
        if results[key]:
            print(f"{what} {results[key]}")


def _plot(history: History, results: Dict[str, Any], path: Path) -> None:
    """Draw the train and test loss per epoch, with the mean baseline's test loss for scale."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.2), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    epochs = np.arange(1, len(history.train_loss) + 1)
    axes.plot(epochs, history.train_loss, label="train loss (mean over the epoch's batches)")
    axes.plot(epochs, history.test_loss, label="test loss")
    baseline = results["baseline"]["test"]["mse"]
    axes.axhline(baseline, color="gray", linestyle="--", label="mean baseline, test")
    settings = results["settings"]
    axes.set(
        xlabel="epoch",
        ylabel="MSE (standardised target)",
        title=f"{results['target']}: {settings['hidden']} sigmoid units, batch "
        f"{settings['batch_size']}, learning rate {settings['learning_rate']:g}",
        # headroom above the highest line keeps the legend off the curves
        ylim=(0, 1.25 * max(baseline, *history.train_loss, *history.test_loss)),
    )
    axes.grid(alpha=0.3)
    axes.legend()
    try:
        figure.savefig(path)
    except OSError as error:
        raise CommandError(f"--plot {path}: {error.strerror or error}") from None
