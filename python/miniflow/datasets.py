"""Regression data for training: the diabetes data shipped in the package, and a CSV loader.

>>> from miniflow.datasets import load_diabetes
>>> data = load_diabetes()
>>> data.data.shape, data.target.shape, data.feature_names[:3]
((442, 10), (442,), ('age', 'sex', 'bmi'))
"""

from __future__ import annotations

import csv
import math
from importlib import resources
from pathlib import Path
from typing import List, NamedTuple, Tuple, Union

import numpy as np

__all__ = ["Dataset", "DataError", "load_diabetes", "load_csv"]


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
    feature_names: Tuple[str, ...]
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


def load_csv(path: Union[str, Path], target: str) -> Dataset:
    """Read a comma-separated file with one header row; every other column becomes a feature.

    Args:
        path: the CSV file.
        target: the name of the column to predict.

    Raises:
        DataError: the file is missing, unreadable or empty; the target column is missing; a
            cell is empty, not a number, NaN or infinite; a row has the wrong number of cells;
            there are fewer than two rows; or a column has the same value in every row.
    """
    path = Path(path)
    header, rows, lines = _read_rows(path)
    if target not in header:
        raise DataError(f"{path}: no column '{target}'; its columns are: {', '.join(header)}")
    if len(header) < 2:
        raise DataError(f"{path}: the target '{target}' is the only column; there are no features")
    if not rows:
        raise DataError(f"{path}: has a header but no data rows")
    if len(rows) < 2:
        raise DataError(f"{path}: has a single data row; training needs at least two")

    values = np.empty((len(rows), len(header)))
    for i, (row, line) in enumerate(zip(rows, lines)):
        if len(row) != len(header):
            raise DataError(
                f"{path}: row {i + 1} (line {line}) has {len(row)} cells but the header has "
                f"{len(header)} columns"
            )
        for j, cell in enumerate(row):
            values[i, j] = _number(cell, f"{path}: row {i + 1} (line {line}), column '{header[j]}'")

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


def _read_rows(path: Path) -> Tuple[List[str], List[List[str]], List[int]]:
    """The header, the non-blank data rows and each row's line number in the file."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file)
            # blank lines are skipped; the first other line is the header
            rows, lines = [], []
            for row in reader:
                if any(cell.strip() for cell in row):
                    rows.append(row)
                    lines.append(reader.line_num)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not a CSV file") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: is not a UTF-8 text file") from None
    except (OSError, csv.Error) as error:
        raise DataError(f"{path}: cannot be read: {error}") from None

    if not rows:
        raise DataError(f"{path}: is empty; expected a header row and data rows")
    header = [name.strip() for name in rows.pop(0)]
    lines.pop(0)
    for j, name in enumerate(header):
        if not name:
            raise DataError(f"{path}: column {j + 1} of the header has no name")
        if name in header[:j]:
            raise DataError(f"{path}: two columns are named '{name}'")
    return header, rows, lines


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
