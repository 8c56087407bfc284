"""Writing the files a command was asked to write, and only those, safely.

``replace_file(path)`` gives a binary file to write; when the block ends without an error the
content replaces ``path`` in one step (a temporary file in the same folder, then a rename), so a
reader sees the old file or the new one, never half of one. Only a regular file is ever
replaced: a device, a FIFO or a folder at ``path`` is refused before anything is written (as
root, ``open("/dev/null", "w")`` and a rename would replace the system's ``/dev/null``).
"""

from __future__ import annotations

import errno
import os
import secrets
import signal
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import BinaryIO

__all__ = [
    "UnwritablePathError",
    "Terminated",
    "check_writable",
    "replace_file",
    "terminate_as_exception",
]

_KINDS = {
    stat.S_ISDIR: "a folder",
    stat.S_ISCHR: "a character device",
    stat.S_ISBLK: "a block device",
    stat.S_ISFIFO: "a FIFO (named pipe)",
    stat.S_ISSOCK: "a socket",
}


class UnwritablePathError(OSError):
    """A path that cannot be written, or must not be replaced; the message says why."""


class Terminated(BaseException):
    """SIGTERM arrived; raised like KeyboardInterrupt so that clean-up code runs."""


def check_writable(path: str | Path) -> Path:
    """The real path a write to ``path`` replaces (symbolic links followed), or
    ``UnwritablePathError`` if it exists and is not a regular file, its folder is missing or
    not writable, or its name is too long for the file system."""
    target = Path(os.path.realpath(path))
    try:
        info: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise _unwritable(path, error) from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS.items() if test(info.st_mode)), "not a file")
        raise UnwritablePathError(f"{path}: is {kind}, not a regular file; give a file name")
    folder = target.parent
    if not folder.is_dir():
        raise UnwritablePathError(f"{path}: its folder {Path(path).parent} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _unwritable(path, PermissionError(errno.EACCES, os.strerror(errno.EACCES)))
    return target


@contextmanager
def replace_file(path: str | Path) -> Iterator[BinaryIO]:
    """Write a new ``path`` atomically; an error (or Ctrl-C) inside the block leaves the old
    file as it was and no temporary file behind.

    A new file gets the mode ``open()`` would give it (0666 less the umask); a replaced one
    keeps its mode.
    """
    target = check_writable(path)
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    temp, fd = _create_temporary(path, target)
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException as error:
        with suppress(FileNotFoundError):  # never hide the error that got us here
            os.unlink(temp)
        if isinstance(error, OSError) and not isinstance(error, UnwritablePathError):
            raise _unwritable(path, error) from None
        raise


def _create_temporary(path: str | Path, target: Path) -> tuple[Path, int]:
    """A new file beside ``target`` named ``.NAME.RANDOM.tmp``, with NAME shortened so the
    whole name fits the file system's limit even when ``target``'s own name is at it.
    Created with mode 0666 so that the umask applies, as it does for any new file."""
    budget = _name_max(target.parent) - len(".") - len(".01234567.tmp")
    stem = target.name
    while len(os.fsencode(stem)) > budget:
        stem = stem[:-1]
    while True:
        temp = target.parent / f".{stem}.{secrets.token_hex(4)}.tmp"
        try:
            return temp, os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as error:
            raise _unwritable(path, error) from None


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):  # no pathconf (Windows), or no answer
        return 255


def _unwritable(path: str | Path, error: OSError) -> UnwritablePathError:
    return UnwritablePathError(f"{path}: cannot be written: {error.strerror or error}")


@contextmanager
def terminate_as_exception() -> Iterator[None]:
    """Inside the block, SIGTERM raises ``Terminated`` (as Ctrl-C raises KeyboardInterrupt), so
    a save in progress removes its temporary file. Does nothing outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
