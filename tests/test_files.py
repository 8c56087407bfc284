"""The one way the command writes files: only regular files, atomically, with the umask's mode,
and nothing left behind when the write fails or is interrupted."""

import errno
import os
import re
import signal
import stat

import pytest

from miniflow._files import (
    Terminated,
    UnwritablePathError,
    check_writable,
    replace_file,
    terminate_as_exception,
)


@pytest.fixture
def umask():
    """Set the umask for one test (restored after)."""
    saved = os.umask(0o022)
    yield os.umask
    os.umask(saved)


def write(path, data=b"new"):
    with replace_file(path) as file:
        file.write(data)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_writes_a_new_file_with_the_umasks_mode(tmp_path, umask):
    for mask, expected in ((0o022, 0o644), (0o077, 0o600), (0o002, 0o664)):
        umask(mask)
        path = tmp_path / f"out{mask:o}.bin"
        write(path)
        assert path.read_bytes() == b"new"
        assert mode(path) == expected


def test_an_existing_file_keeps_its_mode_and_is_replaced_whole(tmp_path, umask):
    umask(0o077)
    path = tmp_path / "model.npz"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    write(path)
    assert path.read_bytes() == b"new"
    assert mode(path) == 0o640
    assert os.listdir(tmp_path) == ["model.npz"]


def test_a_symbolic_link_is_followed_not_replaced(tmp_path):
    target = tmp_path / "real.npz"
    target.write_bytes(b"old")
    link = tmp_path / "link.npz"
    link.symlink_to(target)
    write(link)
    assert link.is_symlink()
    assert target.read_bytes() == b"new"


def make_fifo(tmp_path):
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


def make_device(tmp_path):
    """A character device like /dev/null (1, 3), made here so a failure cannot harm the real one."""
    path = tmp_path / "null"
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root (CAP_MKNOD)")
    return path


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (make_fifo, "a FIFO (named pipe)"),
        (make_device, "a character device"),
        (lambda tmp_path: tmp_path, "a folder"),
    ],
)
def test_anything_but_a_regular_file_is_refused_and_left_alone(tmp_path, make, kind):
    path = make(tmp_path)
    before = os.stat(path)
    with pytest.raises(UnwritablePathError, match=re.escape(f"is {kind}, not a regular file")):
        write(path)
    after = os.stat(path)
    assert (after.st_mode, after.st_ino, after.st_rdev) == (
        before.st_mode,
        before.st_ino,
        before.st_rdev,
    )
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]


def test_a_link_to_a_fifo_is_refused(tmp_path):
    link = tmp_path / "link"
    link.symlink_to(make_fifo(tmp_path))
    with pytest.raises(UnwritablePathError, match="is a FIFO"):
        check_writable(link)


def test_a_name_at_the_file_name_limit_still_gets_a_temporary_name_that_fits(tmp_path):
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    path = tmp_path / ("m" * (limit - 4) + ".npz")
    write(path)
    assert os.listdir(tmp_path) == [path.name]


def test_a_name_over_the_limit_and_a_missing_folder_are_one_line_errors(tmp_path):
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    with pytest.raises(UnwritablePathError, match="cannot be written: File name too long"):
        write(tmp_path / ("m" * (limit + 1)))
    with pytest.raises(UnwritablePathError, match=r"its folder .*missing does not exist"):
        write(tmp_path / "missing" / "model.npz")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("error", [KeyboardInterrupt(), ValueError("bad data")])
def test_an_error_while_writing_leaves_the_old_file_and_no_temporary(tmp_path, error):
    path = tmp_path / "model.npz"
    path.write_bytes(b"old")
    with pytest.raises(type(error)), replace_file(path) as file:
        file.write(b"half of the ne")
        raise error
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["model.npz"]


def test_a_failing_rename_is_an_unwritable_path_error_and_cleans_up(tmp_path, monkeypatch):
    def refuse(source, target):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(UnwritablePathError, match="cannot be written: Permission denied"):
        write(tmp_path / "model.npz")
    assert os.listdir(tmp_path) == []


def test_sigterm_while_writing_removes_the_temporary_file(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(b"old")
    with pytest.raises(Terminated), terminate_as_exception(), replace_file(path) as file:
        file.write(b"half")
        os.kill(os.getpid(), signal.SIGTERM)
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["model.npz"]
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # the handler is gone again
