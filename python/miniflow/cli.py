"""The ``miniflow`` command (also ``python -m miniflow``).

Each subcommand is a function ``name(args) -> exit code`` plus one ``add_command`` line in
``build_parser``; its flags, if any, come from a second small function passed there.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, NoReturn, TypeVar

import numpy as np
from tqdm import tqdm

from . import (
    MSE,
    Input,
    Linear,
    Sigmoid,
    __version__,
    _core,
    forward_and_backward,
    topological_sort,
)
from ._files import (
    Terminated,
    UnwritablePathError,
    check_writable,
    replace_file,
    terminate_as_exception,
)
from .datasets import (
    DEFAULT_TIMEOUT,
    DataError,
    Dataset,
    DataTimeoutError,
    load_csv,
    load_csv_columns,
    load_csv_stream,
    load_diabetes,
)
from .monitor import HealthMonitor
from .training import (
    SAMPLING,
    History,
    Model,
    ModelFileError,
    Network,
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

Split = tuple[np.ndarray, np.ndarray]
_T = TypeVar("_T")
TRAIN_HELP = "train the lesson's network (Linear, Sigmoid, Linear, MSE) with mini-batch SGD"
PREDICT_HELP = "predict the target of each row of a CSV file with a model saved by train --save"
# the largest activation array a run may make, rows (or features) x hidden units: 128 MiB of
# float64, so a mistyped --hidden is refused instead of exhausting memory
MAX_CELLS = 2**24
# a loss this many times the mean baseline's is divergence, even while it is still finite
DIVERGED = 1e6
# exit codes: 2 a problem the user can fix in the command line or a file; 1 out of memory;
# 130 Ctrl-C, 143 SIGTERM and 141 a closed output pipe (`miniflow train | head`), the codes a
# shell shows for a process those signals end
EXIT_OUT_OF_MEMORY, EXIT_USAGE, EXIT_PIPE, EXIT_INTERRUPT, EXIT_TERMINATED = 1, 2, 141, 130, 143
GRAPH_FORMATS = (".svg", ".dot", ".mmd", ".mermaid", ".html")


class CommandError(Exception):
    """A problem the user can fix (a bad flag or file): printed without a traceback, exit 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help, --version, or a usage error already printed
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    try:
        with terminate_as_exception():
            code: int = args.run(args)
            sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return code
    except (CommandError, DataError, ModelFileError, UnwritablePathError) as error:
        print(f"miniflow {args.command}: error: {_one_line(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # the reader left (`miniflow train | head -3`): stop quietly, with the code of a
        # command that SIGPIPE ended, and let nothing more be written to the closed pipe
        _stdout_to_devnull()
        return EXIT_PIPE
    except MemoryError as error:
        print(f"miniflow {args.command}: out of memory: {_one_line(str(error))}", file=sys.stderr)
        return EXIT_OUT_OF_MEMORY
    except KeyboardInterrupt:
        print(f"miniflow {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPT
    except Terminated:
        print(f"miniflow {args.command}: terminated", file=sys.stderr)
        return EXIT_TERMINATED


def _one_line(text: str) -> str:
    """``text`` with its line breaks and other control characters escaped (a file name or a
    flag value may hold them), so that every message is one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _stdout_to_devnull() -> None:
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # a replaced sys.stdout without a file
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error on one line (argparse prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(
            EXIT_USAGE, f"{self.prog}: error: {_one_line(message)} (see {self.prog} --help)\n"
        )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="miniflow",
        description="MiniFlow, the backpropagation lesson's library.",
        epilog="Without a command, miniflow prints this help and exits 0. "
        "'miniflow COMMAND --help' tells more about each command.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"miniflow {__version__} (kernels: {_core.isa()})",
        help="print the version and the instruction set the kernels use on this CPU",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    parser.set_defaults(run=lambda args: _print_help(parser))
    add_command(commands, "demo", demo, "the lesson's backpropagation example and its gradients")
    add_command(commands, "train", train_command, TRAIN_HELP, train_flags)
    add_command(commands, "predict", predict_command, PREDICT_HELP, predict_flags)
    add_command(
        commands,
        "graph",
        graph_command,
        "draw the training network as SVG, DOT or Mermaid",
        graph_flags,
    )
    add_command(commands, "exercises", exercises_command, EXERCISES_HELP, exercises_flags)
    return parser


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


def add_command(
    commands: Any,
    name: str,
    run: Callable[[argparse.Namespace], int],
    help: str,
    flags: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.ArgumentParser:
    """Register a subcommand: ``run(args)`` returns the exit code; ``flags(parser)`` adds flags."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=help, description=help[0].upper() + help[1:] + "."
    )
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
    """Draw the training command's network: SVG, or DOT or Mermaid text for a .dot or .mmd file,
    or a page that steps through one training step for an .html file."""
    from .draw import draw, to_dot, to_mermaid

    suffix = args.out.suffix.lower()
    if suffix not in GRAPH_FORMATS:
        what = f"'{suffix}' files" if suffix else "a name without a suffix"
        raise CommandError(
            f"--out {args.out}: cannot write {what}; use .svg, .dot or .mmd "
            "(a browser shows the SVG and can save it as an image), or .html for a page that "
            "steps through one training step"
        )
    with _blaming("--out"):
        check_writable(args.out)
    data = load_diabetes()
    _check_size(args.hidden, len(data.target), len(data.feature_names))
    net = build_network(len(data.feature_names), args.hidden, rng=np.random.default_rng(0))
    forward_and_backward(net.graph)  # on its one-row placeholder batch, so every shape is known
    if suffix == ".dot":
        text = to_dot(net.graph, trainables=net.trainables)
    elif suffix in (".mmd", ".mermaid"):
        text = to_mermaid(net.graph, trainables=net.trainables)
    elif suffix == ".html":
        text = _training_step_page(net, data)
    else:
        text = draw(net.graph, trainables=net.trainables).svg
    with _blaming("--out"), replace_file(args.out) as file:
        file.write(text.encode("utf-8"))
    print(f"wrote {args.out}")
    return 0


def _training_step_page(net: Network, data: Dataset) -> str:
    """The step-through page of the network's first training step: the first batch of the
    standardised data (11 rows, as train's default), forward and backward."""
    from .step_through import step_through

    rows = slice(0, 11)
    net.X.value = Standardiser.fit(data.data).transform(data.data[rows])
    net.y.value = Standardiser.fit(data.target).transform(data.target[rows])
    forward_and_backward(net.graph)
    return step_through(net.graph, trainables=net.trainables).html


EXERCISES_HELP = "write the lesson's exercise notebook: a stub and a check per stage"


def exercises_command(args: argparse.Namespace) -> int:
    """Write miniflow-exercises.ipynb into the --notebook folder."""
    from .exercises.notebook import write_notebook

    if not args.notebook.is_dir():
        raise CommandError(f"--notebook {args.notebook}: no such folder")
    with _blaming("--notebook"):
        path = write_notebook(args.notebook)
    print(f"wrote {path}")
    return 0


def exercises_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--notebook",
        type=Path,
        metavar="DIR",
        required=True,
        help="the folder to write miniflow-exercises.ipynb into",
    )


def graph_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        default=Path("net.svg"),
        help="where to write: .svg (default net.svg), .dot, .mmd, or .html (a page that steps "
        "through one training step)",
    )
    parser.add_argument(
        "--hidden", type=_count(1), metavar="N", default=10, help="sigmoid units (10)"
    )


def predict_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--load", type=Path, metavar="NPZ", required=True, help="the model train --save wrote"
    )
    _data_flags(
        parser,
        "the rows to predict: a CSV file (one header row) with the model's feature columns, in "
        "any order (its target column, if there, is ignored)",
        required=True,
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="write the predictions (CSV) to FILE, replaced whole, instead of standard output",
    )


def predict_command(args: argparse.Namespace) -> int:
    """One prediction per row of --data, in the target's units, as CSV under the target's name."""
    if args.out is not None:
        with _blaming("--out"):
            check_writable(args.out)
    model = Model.load(args.load)

    def read(source: Path | int, name: str) -> tuple[tuple[str, ...], np.ndarray]:
        return load_csv_columns(source, name=name, timeout=args.data_timeout)

    header, values = _from_data(args, read)
    X = _model_columns(args, model, header, values)
    hidden = int(model.net.W1.value.shape[1])
    rows = max(1, MAX_CELLS // max(hidden, len(model.feature_names)))  # rows per forward pass
    with np.errstate(all="ignore"):  # a huge input saturates a sigmoid: no news
        standardised = np.concatenate(
            [
                predict(model.net, model.x_scaler.transform(X[i : i + rows]))
                for i in range(0, len(X), rows)
            ]
        )
        y = standardised * model.y_scaler.scale + model.y_scaler.mean
    text = "".join([_csv_cell(model.target_name), "\n", *(f"{float(v)!r}\n" for v in y)])
    if args.out is None:
        sys.stdout.write(text)
        return 0
    with _blaming("--out"), replace_file(args.out) as file:
        file.write(text.encode("utf-8"))
    print(f"wrote {len(y)} predictions of {model.target_name} to {args.out}")
    return 0


def _model_columns(
    args: argparse.Namespace, model: Model, header: tuple[str, ...], values: np.ndarray
) -> np.ndarray:
    """The model's feature columns of ``values``, in the model's order; a missing feature or a
    column the model does not know is refused, naming it."""
    features = model.feature_names
    uses = f"the model predicts {model.target_name} from {len(features)} columns: " + ", ".join(
        features
    )
    missing = [name for name in features if name not in header]
    if missing:
        raise CommandError(
            f"{_data_name(args)}: has no column {', '.join(map(repr, missing))}; {uses}"
        )
    unknown = [name for name in header if name not in features and name != model.target_name]
    if unknown:
        raise CommandError(
            f"{_data_name(args)}: has {len(header)} columns, and the model does not use "
            f"{', '.join(map(repr, unknown))}; {uses}"
        )
    return values[:, [header.index(name) for name in features]]


def _data_name(args: argparse.Namespace) -> str:
    return "standard input" if str(args.data) == "-" else str(args.data)


def _csv_cell(text: str) -> str:
    """``text`` as one CSV cell, quoted when it holds a comma, a quote or a line break."""
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _check_size(hidden: int, rows: int, features: int) -> None:
    """Refuse a network whose activations (rows x hidden) or weights (features x hidden) would
    be larger than ``MAX_CELLS`` numbers, before anything is allocated."""
    size, what = max((rows, "rows"), (features, "features"))
    if size * hidden > MAX_CELLS:
        raise CommandError(
            f"--hidden {hidden} with {size:,} {what} needs arrays of {size * hidden:,} numbers; "
            f"the command allows at most {MAX_CELLS:,} (--hidden {MAX_CELLS // size:,} here)"
        )


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
    add(
        "--epochs",
        type=_count(0),
        default=100,
        metavar="N",
        help="passes over the training data (100)",
    )
    add("--batch-size", type=_count(1), default=11, metavar="N", help="rows per SGD step (11)")
    add(
        "--learning-rate", type=_positive, default=0.01, metavar="RATE", help="SGD step size (0.01)"
    )
    add("--hidden", type=_count(1), metavar="N", help="sigmoid units (10, or the loaded model's)")
    add(
        "--seed",
        type=_count(0),
        default=0,
        metavar="N",
        help="seeds the split, the weights and the batches (0)",
    )
    add(
        "--sampling",
        choices=SAMPLING,
        default="bootstrap",
        help="bootstrap: the lesson's resampling, n // batch draws with replacement; "
        "shuffle: every row once per epoch (bootstrap)",
    )
    add(
        "--dtype",
        choices=("float64", "float32"),
        help="float type of weights and data (float64, or the loaded model's)",
    )
    add(
        "--test-fraction",
        type=_fraction,
        default=0.2,
        metavar="F",
        help="rows held out for testing (0.2)",
    )
    _data_flags(parser, "train on this CSV file (one header row) instead of the diabetes data")
    add("--target", metavar="COLUMN", help="the column of --data to predict")
    add(
        "--load",
        type=Path,
        metavar="NPZ",
        help="start from a saved model; with --epochs 0, only evaluate it",
    )
    add(
        "--save",
        type=Path,
        metavar="NPZ",
        help="save the model: weights, standardisation, column names",
    )
    add("--plot", type=Path, metavar="PNG", help="draw the train and test loss curves (matplotlib)")
    add("--json", action="store_true", help="print one JSON object with the results, nothing else")
    add("--quiet", action="store_true", help="no progress bar and no per-epoch lines")
    add(
        "--health",
        action="store_true",
        help="watch the training's health (update:data ratios, saturated units, gradient by "
        "depth): print each finding when it first appears and a summary at the end; --json "
        "includes them, --plot adds a panel of update ratios per epoch",
    )


def _data_flags(parser: argparse.ArgumentParser, help: str, required: bool = False) -> None:
    parser.add_argument(
        "--data",
        type=Path,
        metavar="CSV",
        required=required,
        help=help + "; - reads standard input, and a pipe or <(command) is read like a file",
    )
    parser.add_argument(
        "--data-timeout",
        type=_positive,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="give up on a pipe that sends nothing for this long "
        f"(a FIFO nothing writes to) ({DEFAULT_TIMEOUT:g})",
    )


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
    # a batch of every training row is the most a step can use (and a huge one would only
    # exhaust memory drawing its row numbers)
    args.batch_size = min(args.batch_size, len(train_rows))
    model = _model(args, data, train_rows, init_rng)
    train_set, test_set = (
        _standardised(args, model, data, rows) for rows in (train_rows, test_rows)
    )

    chatty = not (args.json or args.quiet)
    if chatty:
        print(
            f"Training on {args.data or 'the diabetes data'}: {len(train_rows)} train rows, "
            f"{len(test_rows)} test rows, {len(data.feature_names)} features -> "
            f"{model.net.W1.value.shape[1]} sigmoid units -> {data.target_name}"
        )
    started = time.perf_counter()
    net = model.net
    monitor = HealthMonitor(net.graph, net.trainables, args.learning_rate) if args.health else None
    # the loss is checked after every epoch: overflow on the way there is no news to print
    with np.errstate(all="ignore"):
        history = _fit(args, model, train_set, test_set, batch_rng, chatty, monitor)
        seconds = time.perf_counter() - started
        results = _results(args, model, history, train_set, test_set)
    if monitor is not None:
        results["health"] = monitor.as_dict()
    if args.save is not None:
        with _blaming("--save"):
            model.save(args.save)
    if args.plot is not None:
        with _blaming("--plot"):
            _plot(history, results, args.plot, monitor)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        _print_report(results, seconds)
        if monitor is not None:
            print(monitor.summary())
    return 0


def _check_outputs(args: argparse.Namespace) -> None:
    """Fail before training, not after, on an output that cannot or must not be written."""
    for flag, path in (("--save", args.save), ("--plot", args.plot)):
        if path is not None:
            with _blaming(flag):
                check_writable(path)
    if (
        args.save is not None
        and args.plot is not None
        and os.path.realpath(args.save) == os.path.realpath(args.plot)
    ):
        raise CommandError(f"--save and --plot both name {args.save}; give two files")
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


@contextmanager
def _blaming(flag: str) -> Iterator[None]:
    """An output path's error, prefixed with the flag that named the path."""
    try:
        yield
    except UnwritablePathError as error:
        raise CommandError(f"{flag} {error}") from None


def _load_data(args: argparse.Namespace) -> Dataset:
    if args.data is None:
        if args.target is not None:
            raise CommandError("--target names a column of --data CSV: give --data too")
        return load_diabetes()
    if args.target is None:
        raise CommandError("--data needs --target COLUMN, the column to predict")
    return _read_csv(args, args.target)


def _read_csv(args: argparse.Namespace, target: str) -> Dataset:
    """--data's CSV file, or standard input for ``-``."""

    def read(source: Path | int, name: str) -> Dataset:
        if isinstance(source, int):
            return load_csv_stream(source, name, target, timeout=args.data_timeout, close=False)
        return load_csv(source, target, timeout=args.data_timeout)

    return _from_data(args, read)


def _from_data(args: argparse.Namespace, read: Callable[[Path | int, str], _T]) -> _T:
    """``read(source, name)`` of --data: its path, or for ``-`` standard input's descriptor."""
    source: Path | int = args.data
    name = str(args.data)
    if name == "-":
        try:
            source = sys.stdin.fileno()
            os.fstat(source)
        except (AttributeError, OSError, ValueError):  # started with standard input closed
            raise CommandError("--data -: there is no standard input to read") from None
        name = "standard input"
    try:
        return read(source, name)
    except DataTimeoutError as error:
        raise CommandError(f"{error}; --data-timeout SECONDS waits longer") from None


def _model(
    args: argparse.Namespace, data: Dataset, train_rows: np.ndarray, rng: np.random.Generator
) -> Model:
    """A new model standardised with the training rows' statistics, or a loaded one that fits the
    data."""
    if args.load is None:
        _check_size(args.hidden or 10, len(data.target), len(data.feature_names))
        net = build_network(
            len(data.feature_names), args.hidden or 10, dtype=args.dtype or "float64", rng=rng
        )
        with np.errstate(all="ignore"):  # an overflow is reported below, by column
            x_scaler, y_scaler = (Standardiser.fit(a[train_rows]) for a in (data.data, data.target))
        statistics = np.vstack(
            [np.append(x_scaler.mean, y_scaler.mean), np.append(x_scaler.scale, y_scaler.scale)]
        )
        _check_columns(args, data, statistics, "its mean or spread overflows float64")
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
    _check_size(hidden, len(data.target), len(data.feature_names))
    return model


def _standardised(args: argparse.Namespace, model: Model, data: Dataset, rows: np.ndarray) -> Split:
    with np.errstate(all="ignore"):  # an overflow is reported below, by column
        X, y = (
            model.x_scaler.transform(data.data[rows]),
            model.y_scaler.transform(data.target[rows]),
        )
    # within the network's float type, with room for the products a step makes
    limit = np.sqrt(np.finfo(model.net.dtype).max)
    _check_columns(
        args, data, np.column_stack([X, y]), f"standardised, a value exceeds {limit:.1e}", limit
    )
    return X, y


def _check_columns(
    args: argparse.Namespace, data: Dataset, values: np.ndarray, why: str, limit: float = np.inf
) -> None:
    """Refuse data with a column of ``values`` (the features', then the target's) that is not
    finite and below ``limit`` in size: training on it would diverge, or ignore the column."""
    bad = ~np.all(np.abs(values) < limit, axis=0)
    if bad.any():
        name = (*data.feature_names, data.target_name)[int(np.argmax(bad))]
        raise CommandError(f"{args.data or 'the data'}: column '{name}' is too large to use: {why}")


def _fit(
    args: argparse.Namespace,
    model: Model,
    train_set: Split,
    test_set: Split,
    rng: np.random.Generator,
    chatty: bool,
    monitor: HealthMonitor | None = None,
) -> History:
    """Train with a progress bar on stderr (only when it is a terminal) and a line per epoch,
    and with a monitor, a line per health finding when it first appears."""
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

    # the mean baseline's loss: the loss of a network that learnt nothing
    baseline = float(np.var(train_set[1])) or 1.0

    def on_epoch(epoch: int, loss: float, test_loss: float | None) -> None:
        if monitor is not None and chatty:  # before a divergence stops the run: they say why
            for finding in monitor.new_findings():
                bar.write(f"Health: {finding}", file=sys.stdout)
        for what, value in (("loss", loss), ("test loss", test_loss)):
            if value is not None and not (math.isfinite(value) and value < DIVERGED * baseline):
                # with --json or --quiet no Health: line was printed: the error says why
                findings = [] if monitor is None or chatty else monitor.findings()
                said = "".join(f"; health: {finding}" for finding in findings)
                raise CommandError(
                    f"training diverged: the {what} reached {_number(value)} in epoch {epoch} "
                    f"(the mean baseline's is {_number(baseline)}): try a smaller "
                    f"--learning-rate than {args.learning_rate:g}{said}"
                )
        if chatty:
            # through the bar, so it is redrawn below the line instead of torn
            bar.write(
                f"Epoch: {epoch}, Loss: {_number(loss)}, Test loss: {_number(test_loss)}",
                file=sys.stdout,
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
            health=monitor,
        )


def _scores(prediction: np.ndarray, target: np.ndarray) -> dict[str, float | None]:
    # JSON has no NaN: an undefined R² (a constant test target) is null
    def finite(x: float) -> float | None:
        return x if math.isfinite(x) else None

    return {"mse": finite(mse(prediction, target)), "r2": finite(r2_score(prediction, target))}


def _results(
    args: argparse.Namespace, model: Model, history: History, train_set: Split, test_set: Split
) -> dict[str, Any]:
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


def _print_report(results: dict[str, Any], seconds: float) -> None:
    settings = results["settings"]
    print(f"Trained {settings['epochs']} epochs in {seconds:.2f} s.")
    print(f"{'':<15}{'train MSE':>10}{'train R2':>10}{'test MSE':>10}{'test R2':>10}")
    for label, key in (("network", "network"), ("mean baseline", "baseline")):
        cells = [
            results[key][split][metric] for split in ("train", "test") for metric in ("mse", "r2")
        ]
        print(f"{label:<15}" + "".join(f"{_number(c):>10}" for c in cells))
    print("(MSE of the standardised target; R2 is 0 for the mean baseline and 1 for a perfect fit)")
    for key, what in (("saved", "Saved the model to"), ("plot", "Drew the loss curves in")):
        if results[key]:
            print(f"{what} {results[key]}")


def _number(value: float | None) -> str:
    """At most 10 characters: 3 decimals, or 3 significant digits for large magnitudes."""
    if value is None:
        return "n/a"
    return f"{value:.3f}" if abs(value) < 1e5 else f"{value:.2e}"


def _plot(
    history: History, results: dict[str, Any], path: Path, monitor: HealthMonitor | None = None
) -> None:
    """Draw the train and test loss per epoch, with the mean baseline's test loss for scale;
    with a monitor, the update:data ratios per epoch in a second panel below."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    height = 4.2 if monitor is None else 7.4
    figure = Figure(figsize=(7, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1 if monitor is None else 2, 1, 1)
    epochs = np.arange(1, len(history.train_loss) + 1)
    # a marker on each epoch: a line through one point (--epochs 1) draws nothing
    axes.plot(epochs, history.train_loss, ".-", label="train loss (mean over the epoch's batches)")
    axes.plot(epochs, history.test_loss, ".-", label="test loss")
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
    _whole_epochs(axes, len(epochs))
    if monitor is not None:
        _plot_update_ratios(figure.add_subplot(2, 1, 2), monitor)
    suffix = path.suffix[1:].lower()
    with replace_file(path) as file:
        figure.savefig(file, format=suffix or "png")


# ---- train --health ---------------------------------------------------------------------------


def _plot_update_ratios(axes: Any, monitor: HealthMonitor) -> None:
    """Each weight's update:data ratio (log10) per epoch, against the guide of 10^-3 (the
    parameters that started at zero have none: the summary judges them by update size)."""
    from .health import GUIDE, TOO_LARGE

    for name, ratios in monitor.ratios().items():
        if any(r is not None for r in ratios):
            values = [np.nan if r is None else r for r in ratios]
            axes.plot(np.arange(1, len(ratios) + 1), values, ".-", label=name)
    axes.axhline(GUIDE, color="gray", linestyle="--", label=f"guide, $10^{{{GUIDE:g}}}$")
    axes.axhline(TOO_LARGE, color="red", linestyle=":", label="a finding above this")
    axes.set(
        xlabel="epoch",
        ylabel="log10 update:data (median step)",
        title="update:data ratio of each weight per epoch",
    )
    axes.grid(alpha=0.3)
    axes.legend(loc="best")
    _whole_epochs(axes, len(monitor.epochs))


def _whole_epochs(axes: Any, epochs: int) -> None:
    """Epoch ticks at whole numbers only: there is no epoch 1.2 (nor 0.945 around a single
    epoch, where matplotlib's integer locator gives up)."""
    from matplotlib.ticker import MaxNLocator

    if epochs <= 10:
        axes.set_xticks(np.arange(1, epochs + 1))
    else:
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
