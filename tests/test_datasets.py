"""The shipped diabetes data and the CSV loader's errors."""

import csv
import io
import os
import threading
import time
import tracemalloc
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from miniflow import datasets
from miniflow.datasets import (
    MAX_CSV_BYTES,
    DataError,
    Dataset,
    DataTimeoutError,
    load_csv,
    load_csv_columns,
    load_csv_stream,
    load_diabetes,
)

FEATURES = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")


def test_load_diabetes_shapes_and_names():
    data = load_diabetes()
    assert isinstance(data, Dataset)
    assert data.data.shape == (442, 10)
    assert data.data.dtype == np.float64
    assert data.target.shape == (442,)
    assert data.target.dtype == np.float64
    assert data.feature_names == FEATURES
    assert data.target_name == "progression"
    X, y, _names, _target = data  # unpacks like a tuple
    assert X is data.data
    assert y is data.target


def test_load_diabetes_first_row_matches_the_csv():
    path = resources.files("miniflow") / "data" / "diabetes.csv"
    with path.open(newline="") as file:
        header, first = list(csv.reader(file))[:2]
    assert header == [*list(FEATURES), "progression"]
    data = load_diabetes()
    np.testing.assert_array_equal(data.data[0], [float(v) for v in first[:-1]])
    assert data.target[0] == float(first[-1]) == 151.0
    # the values are raw (unscaled), as the data's README says
    assert data.data[:, 0].min() >= 19
    assert data.data[:, 0].max() <= 79
    assert np.all(np.isfinite(data.data))
    assert np.all(np.isfinite(data.target))


def test_the_data_readme_ships_beside_it():
    note = (resources.files("miniflow") / "data" / "README.md").read_text(encoding="utf-8")
    assert "Efron" in note
    assert "BSD-3-Clause" in note


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_csv_reads_features_and_target(tmp_path):
    path = write(tmp_path, '\ufeffa,"b" ,y\n1,2,3\n\n4,5.5,-6\n7,8e1,9\n')
    data = load_csv(path, "y")
    assert data.feature_names == ("a", "b")
    assert data.target_name == "y"
    np.testing.assert_array_equal(data.data, [[1, 2], [4, 5.5], [7, 80]])
    np.testing.assert_array_equal(data.target, [3, -6, 9])


def test_load_csv_target_may_be_any_column(tmp_path):
    data = load_csv(write(tmp_path, "y,a,b\n1,2,3\n4,5,7\n"), "y")
    assert data.feature_names == ("a", "b")
    np.testing.assert_array_equal(data.target, [1, 4])


@pytest.mark.parametrize(
    ("text", "target", "message"),
    [
        ("", "y", "is empty"),
        ("\n\n", "y", "is empty"),
        ("a,b,y\n", "y", "no data rows"),
        ("a,b,y\n1,2,3\n", "y", "single data row"),
        ("a,b,y\n1,2,3\n4,5,6\n", "price", "no column 'price'; its columns are: a, b, y"),
        ("a,b,y\n1,2,3\n4,x5,6\n", "y", "row 2 (line 3), column 'b': 'x5' is not a number"),
        ("a,b,y\n1,2,3\n4,,6\n", "y", "row 2 (line 3), column 'b' is empty"),
        ("a,b,y\n1,nan,3\n4,5,6\n", "y", "row 1 (line 2), column 'b' is NaN"),
        ("a,b,y\n1,2,3\n4,5,NaN\n", "y", "row 2 (line 3), column 'y' is NaN"),
        ("a,b,y\n1,inf,3\n4,5,6\n", "y", "column 'b' is infinite"),
        ("a,b,y\n1,2,3\n4,5\n", "y", "row 2 (line 3) has 2 cells but the header has 3"),
        ("a,b,y\n1,2,3\n4,2,6\n", "y", "column 'b' has the same value in every row"),
        ("a,b,y\n1,2,3\n4,5,3\n", "y", "column 'y' has the same value in every row"),
        ("y\n1\n2\n", "y", "no features"),
        ("a,a,y\n1,2,3\n4,5,6\n", "y", "two columns are named 'a'"),
        ("a,,y\n1,2,3\n4,5,6\n", "y", "column 2 of the header has no name"),
    ],
)
def test_load_csv_errors_say_what_and_where(tmp_path, text, target, message):
    path = write(tmp_path, text)
    with pytest.raises(DataError, match="^" + str(path).replace("\\", "\\\\")) as error:
        load_csv(path, target)
    assert message in str(error.value)


def test_load_csv_missing_file_directory_and_binary(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_csv(tmp_path / "missing.csv", "y")
    with pytest.raises(DataError, match="is a directory"):
        load_csv(tmp_path, "y")
    binary = tmp_path / "data.npz"
    binary.write_bytes(b"PK\x03\x04\xff\xfe\x00\x81")
    with pytest.raises(DataError, match="not a UTF-8 text file"):
        load_csv(binary, "y")


def test_load_csv_reads_a_device_only_up_to_the_cap():
    with pytest.raises(DataError, match=f"/dev/zero: holds more than {MAX_CSV_BYTES:,} characters"):
        load_csv("/dev/zero", "y")


TOY = "a,b,y\n1,2,3\n4,5,7\n0.5,1,2\n"


def assert_toy(data):
    np.testing.assert_array_equal(data.data, [[1, 2], [4, 5], [0.5, 1]])
    np.testing.assert_array_equal(data.target, [3, 7, 2])
    assert (data.feature_names, data.target_name) == (("a", "b"), "y")


@pytest.mark.posix_only
def test_load_csv_reads_a_fifo_as_it_streams(tmp_path):
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)

    def write():
        with open(fifo, "w") as writer:  # waits for the reader to open the FIFO
            for line in TOY.splitlines(keepends=True):
                writer.write(line)
                writer.flush()
                time.sleep(0.05)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    assert_toy(load_csv(fifo, "y"))
    thread.join(timeout=10)


@pytest.mark.posix_only
def test_load_csv_gives_up_on_a_fifo_that_nothing_writes_to(tmp_path):
    os.mkfifo(tmp_path / "fifo.csv")
    started = time.monotonic()
    with pytest.raises(DataTimeoutError, match=r"fifo.csv: nothing to read for 0.2 s"):
        load_csv(tmp_path / "fifo.csv", "y", timeout=0.2)
    assert 0.2 <= time.monotonic() - started < 30


def test_load_csv_stream_reads_a_pipe_and_closes_it_only_when_told():
    for close in (True, False):
        read, write = os.pipe()
        os.write(write, TOY.encode())
        os.close(write)
        assert_toy(load_csv_stream(read, "the pipe", "y", close=close))
        if close:
            with pytest.raises(OSError, match="Bad file descriptor"):
                os.fstat(read)
        else:
            os.fstat(read)  # still open
            os.close(read)


def test_load_csv_stream_stops_at_the_cap(monkeypatch):
    monkeypatch.setattr(datasets, "MAX_CSV_BYTES", 10)
    read, write = os.pipe()
    os.write(write, TOY.encode())
    os.close(write)
    with pytest.raises(DataError, match="the pipe: holds more than 10 characters"):
        load_csv_stream(read, "the pipe", "y")


def test_load_csv_columns_needs_no_target_and_takes_one_row(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("a,b\n1,1\n")  # one row, constant columns: fine for predicting
    header, values = load_csv_columns(path)
    assert header == ("a", "b")
    np.testing.assert_array_equal(values, [[1, 1]])
    path.write_text("a,b\n")
    with pytest.raises(DataError, match="has a header but no data rows"):
        load_csv_columns(path)


def test_load_csv_refuses_a_file_over_the_cap_before_reading(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "wb") as file:
        file.truncate(MAX_CSV_BYTES + 1)  # sparse: no disk space, and never read
    with pytest.raises(DataError, match=f"is {MAX_CSV_BYTES + 1:,} bytes; MiniFlow reads"):
        load_csv(path, "y")


def test_load_csv_stops_reading_at_the_cap_even_when_the_size_said_less():
    # a file that grows while it is read, or one the system sizes as 0 (like /proc's)
    endless = io.StringIO("a,y\n" + "1,2\n" * 1000)
    lines = datasets._capped_lines(Path("grows.csv"), endless)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(datasets, "MAX_CSV_BYTES", 100)
        with pytest.raises(DataError, match=r"grows\.csv: holds more than"):
            list(lines)


def test_load_csv_keeps_about_8_bytes_a_cell(tmp_path):
    path = tmp_path / "data.csv"
    rows = 20_000
    path.write_text("a,b,c,y\n" + "".join(f"{i},{i % 7},{i % 5},{i % 3}\n" for i in range(rows)))
    tracemalloc.start()
    try:
        data = load_csv(path, "y")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert data.data.shape == (rows, 3)
    # the float cells and their copies, not a list of Python strings (~60 bytes each)
    assert peak < 40 * rows * 4
