"""Regression data for training: the diabetes data shipped in the package, and a CSV loader.

>>> from miniflow.datasets import load_diabetes
>>> data = load_diabetes()
>>> data.data.shape, data.target.shape, data.feature_names[:3]
((442, 10), (442,), ('age', 'sex', 'bmi'))
"""

from __future__ import annotations

import array
import csv
import io
import math
import os
import select
import stat
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any, Callable, NamedTuple, TextIO, TypeVar

import numpy as np

__all__ = [
    "Dataset",
    "DataError",
    "DataTimeoutError",
    "load_diabetes",
    "load_csv",
    "load_csv_stream",
    "load_csv_columns",
    "MAX_CSV_BYTES",
]


class Dataset(NamedTuple):
    """A regression data set; unpacks as ``X, y, feature_names, target_name``.

    Attributes:
        data: the features, float64, one row per example: shape ``(n, d)``.
        target: the value to predict, float64: shape ``(n,)``.
        feature_names: the name of each column of ``data``.
        target_name: the name of the target column.
    """

    data: np.ndarray
    target: np.ndarray
    feature_names: tuple[str, ...]
    target_name: str


class DataError(ValueError):
    """A data file that cannot be trained on; the message says what is wrong and where."""


def load_diabetes() -> Dataset:
    """The diabetes data of Efron et al., "Least Angle Regression" (2004), shipped in the package.

    442 patients, 10 raw (unscaled) baseline measurements (age, sex, bmi, bp, s1–s6) and the
    disease progression one year later as the target. Source and licence: ``data/README.md``.
    """
    with resources.as_file(resources.files(__package__) / "data" / "diabetes.csv") as path:
        return load_csv(path, target="progression")


MAX_CSV_BYTES = 100_000_000
# how long a pipe may stay silent before reading it gives up (a FIFO that no one writes to)
DEFAULT_TIMEOUT = 60.0


class DataTimeoutError(DataError):
    """A pipe, FIFO or device that gave no data (and no end) for the whole timeout."""


def load_csv(path: str | Path, target: str, *, timeout: float | None = DEFAULT_TIMEOUT) -> Dataset:
    """Read a comma-separated file with one header row; every other column becomes a feature.

    The file is read a line at a time into floats, so memory stays near 8 bytes a cell. A regular
    file over ``MAX_CSV_BYTES`` (100 MB) is refused before it is read. A FIFO (named pipe), a
    process substitution such as ``<(grep ... data.csv)`` or a device is read as it streams,
    within the same cap (``/dev/zero`` stops there).

    Args:
        path: the CSV file.
        target: the name of the column to predict.
        timeout: the longest wait, in seconds, for more data from a pipe, FIFO or device that
            has neither data nor an end (a FIFO that nothing writes to); ``None`` waits for ever.

    Raises:
        DataError: the file is missing, a folder, too large, unreadable or empty; the target
            column is missing; a cell is empty, not a number, NaN or infinite; a row has the
            wrong number of cells; there are fewer than two rows; or a column has the same
            value in every row. ``DataTimeoutError`` (a DataError): a pipe stayed silent for
            ``timeout`` seconds.
    """
    return _load(Path(path), str(path), lambda name, file: _dataset(name, file, target), timeout)


def load_csv_stream(
    fd: int, name: str, target: str, *, timeout: float | None = DEFAULT_TIMEOUT, close: bool = True
) -> Dataset:
    """``load_csv`` of what an open file descriptor gives (standard input is 0), as it streams:
    within ``MAX_CSV_BYTES``, waiting at most ``timeout`` seconds at a time for more. ``name``
    stands for the source in messages; ``close`` closes ``fd`` at the end."""
    return _load(fd, name, lambda name, file: _dataset(name, file, target), timeout, close)


def load_csv_columns(
    source: str | Path | int, *, name: str | None = None, timeout: float | None = DEFAULT_TIMEOUT
) -> tuple[tuple[str, ...], np.ndarray]:
    """The header and the values ``(rows, columns)`` of a CSV file (a path, or an open file
    descriptor that is left open, named ``name`` in messages) with at least one data row: the
    checks of ``load_csv`` that do not need a target or a second row."""
    if isinstance(source, int):
        header, values = _load(source, name or str(source), _columns, timeout, close=False)
    else:
        header, values = _load(Path(source), name or str(source), _columns, timeout)
    return tuple(header), values


_T = TypeVar("_T")


def _load(
    source: Path | int,
    name: str,
    parse: Callable[[str, TextIO], _T],
    timeout: float | None,
    close: bool = True,
) -> _T:
    """``parse(name, file)`` of a path or an open file descriptor: a regular file as it is, any
    other (a pipe, a FIFO, a device) through a reader that waits at most ``timeout``."""
    if isinstance(source, Path):
        try:
            info = os.stat(source)
            if stat.S_ISDIR(info.st_mode):
                raise DataError(f"{name}: is a directory, not a CSV file")
            if stat.S_ISREG(info.st_mode):
                if info.st_size > MAX_CSV_BYTES:
                    raise DataError(
                        f"{name}: is {info.st_size:,} bytes; MiniFlow reads CSV files of at most "
                        f"{MAX_CSV_BYTES:,} bytes"
                    )
                with open(source, newline="", encoding="utf-8-sig") as file:
                    return parse(name, file)
            # a FIFO opened without O_NONBLOCK waits in open() for a writer, beyond any timeout
            fd = os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError:
            raise DataError(f"{name}: no such file") from None
        except OSError as error:
            raise DataError(f"{name}: cannot be read: {error}") from None
        source, close = fd, True
    raw = _WaitingReader(source, name, timeout, close)
    try:
        with io.TextIOWrapper(
            io.BufferedReader(raw, 1 << 16), encoding="utf-8-sig", newline=""
        ) as file:
            return parse(name, file)
    except OSError as error:
        raise DataError(f"{name}: cannot be read: {error.strerror or error}") from None
    finally:
        raw.close()


class _WaitingReader(io.RawIOBase):
    """Reads ``fd`` as data arrives, raising ``DataTimeoutError`` after ``timeout`` seconds with
    neither data nor an end. Where ``select`` cannot wait on a pipe (Windows), reads block."""

    def __init__(self, fd: int, name: str, timeout: float | None, close: bool) -> None:
        super().__init__()
        self._fd, self._name, self._timeout, self._close_fd = fd, name, timeout, close
        self._can_wait = os.name == "posix"

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def readinto(self, buffer: Any) -> int:
        while True:
            if self._can_wait:
                # a signal (Ctrl-C) ends the wait with its exception
                ready, _, _ = select.select([self._fd], [], [], self._timeout)
                if not ready:
                    raise DataTimeoutError(
                        f"{self._name}: nothing to read for {self._timeout:g} s "
                        "(is anything writing to it?)"
                    )
            try:
                data = os.read(self._fd, len(buffer))
            except BlockingIOError:  # woken without data after all
                continue
            buffer[: len(data)] = data
            return len(data)

    def close(self) -> None:
        if not self.closed and self._close_fd:
            os.close(self._fd)
        super().close()


def _columns(path: str, file: TextIO, target: str | None = None) -> tuple[list[str], np.ndarray]:
    """The header and values of an open CSV file, with ``target`` among the columns if given
    (and then at least two rows); ``path`` names it in messages."""
    try:
        return _read_table(path, _capped_lines(path, file), target)
    except UnicodeDecodeError:
        raise DataError(f"{path}: is not a UTF-8 text file") from None
    except csv.Error as error:
        raise DataError(f"{path}: cannot be read: {error}") from None


def _dataset(path: str, file: TextIO, target: str) -> Dataset:
    """The Dataset of an open CSV file; ``path`` names it in messages."""
    header, values = _columns(path, file, target)

    constant = [name for name, column in zip(header, values.T) if np.all(column == column[0])]
    if constant:
        names = ", ".join(f"'{name}'" for name in constant)
        raise DataError(
            f"{path}: column {names} has the same value in every row; it carries no information "
            "and cannot be standardised: remove it"
        )

    t = header.index(target)
    features = tuple(name for j, name in enumerate(header) if j != t)
    return Dataset(np.delete(values, t, axis=1), values[:, t].copy(), features, target)


def _capped_lines(path: str | Path, file: TextIO) -> Iterator[str]:
    """The file's lines, stopping with a DataError past ``MAX_CSV_BYTES`` characters (a file
    that grows while it is read, or a regular file the system sizes as 0, like /proc's)."""
    left = MAX_CSV_BYTES
    while True:
        line = file.readline(left + 1)
        if not line:
            return
        left -= len(line)
        if left < 0:
            raise DataError(f"{path}: holds more than {MAX_CSV_BYTES:,} characters")
        yield line


def _read_table(
    path: str | Path, lines: Iterable[str], target: str | None
) -> tuple[list[str], np.ndarray]:
    """The header and the non-blank data rows as a float array ``(rows, columns)``; with a
    ``target``, it must be a column beside others, and there must be two rows or more."""
    reader = csv.reader(lines)
    # blank lines are skipped; the first other line is the header
    rows = (row for row in reader if any(cell.strip() for cell in row))
    header = [name.strip() for name in next(rows, [])]
    if not header:
        raise DataError(f"{path}: is empty; expected a header row and data rows")
    for j, name in enumerate(header):
        if not name:
            raise DataError(f"{path}: column {j + 1} of the header has no name")
        if name in header[:j]:
            raise DataError(f"{path}: two columns are named '{name}'")
    if target is not None and target not in header:
        raise DataError(f"{path}: no column '{target}'; its columns are: {', '.join(header)}")
    if target is not None and len(header) < 2:
        raise DataError(f"{path}: the target '{target}' is the only column; there are no features")

    cells = array.array("d")
    n = 0
    for n, row in enumerate(rows, start=1):
        if len(row) != len(header):
            raise DataError(
                f"{path}: row {n} (line {reader.line_num}) has {len(row)} cells but the header "
                f"has {len(header)} columns"
            )
        where = f"{path}: row {n} (line {reader.line_num}), column"
        cells.extend(_number(cell, f"{where} '{name}'") for cell, name in zip(row, header))
    if n == 0:
        raise DataError(f"{path}: has a header but no data rows")
    if n == 1 and target is not None:
        raise DataError(f"{path}: has a single data row; training needs at least two")
    return header, np.frombuffer(cells, dtype=np.float64).reshape(n, len(header))


def _number(cell: str, where: str) -> float:
    """A cell as a finite float, or a DataError saying where and why not."""
    text = cell.strip()
    if not text:
        raise DataError(f"{where} is empty (a missing value)")
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{where}: '{text}' is not a number") from None
    if math.isnan(value):
        raise DataError(f"{where} is NaN (a missing value)")
    if math.isinf(value):
        raise DataError(f"{where} is infinite")
    return value
