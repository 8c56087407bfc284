"""Regression data for training: the diabetes data shipped in the package, and a CSV loader.

>>> from miniflow.datasets import load_diabetes
>>> data = load_diabetes()
>>> data.data.shape, data.target.shape, data.feature_names[:3]
((442, 10), (442,), ('age', 'sex', 'bmi'))
"""

from __future__ import annotations

import array
import csv
import math
import os
import stat
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import NamedTuple, TextIO

import numpy as np

__all__ = ["Dataset", "DataError", "load_diabetes", "load_csv", "MAX_CSV_BYTES"]


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


def load_csv(path: str | Path, target: str) -> Dataset:
    """Read a comma-separated file with one header row; every other column becomes a feature.

    The file is read a line at a time into floats, so memory stays near 8 bytes a cell; a file
    over ``MAX_CSV_BYTES`` (100 MB) or one that is not a regular file (a FIFO, a device such as
    ``/dev/zero``) is refused before it is read.

    Args:
        path: the CSV file.
        target: the name of the column to predict.

    Raises:
        DataError: the file is missing, not a regular file, too large, unreadable or empty; the
            target column is missing; a cell is empty, not a number, NaN or infinite; a row has
            the wrong number of cells; there are fewer than two rows; or a column has the same
            value in every row.
    """
    path = Path(path)
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise DataError(f"{path}: is a directory, not a CSV file")
        if not stat.S_ISREG(info.st_mode):
            raise DataError(f"{path}: is not a regular file (a device or a pipe?); give a CSV file")
        if info.st_size > MAX_CSV_BYTES:
            raise DataError(
                f"{path}: is {info.st_size:,} bytes; MiniFlow reads CSV files of at most "
                f"{MAX_CSV_BYTES:,} bytes"
            )
        with open(path, newline="", encoding="utf-8-sig") as file:
            header, values = _read_table(path, _capped_lines(path, file), target)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: is not a UTF-8 text file") from None
    except (OSError, csv.Error) as error:
        raise DataError(f"{path}: cannot be read: {error}") from None

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


def _capped_lines(path: Path, file: TextIO) -> Iterator[str]:
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


def _read_table(path: Path, lines: Iterable[str], target: str) -> tuple[list[str], np.ndarray]:
    """The header and the non-blank data rows as a float array ``(rows, columns)``."""
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
    if target not in header:
        raise DataError(f"{path}: no column '{target}'; its columns are: {', '.join(header)}")
    if len(header) < 2:
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
    if n == 1:
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
