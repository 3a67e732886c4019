"""The one place that writes files: whole or not at all.

Every output (the file sink's MCPs, `--graph`, `--report`) is written to a temporary file in the target's
own folder, flushed to disk and renamed over the target. A run that is killed, or fails half way, leaves the
previous file as it was; readers never see half a file. The temporary file of a killed run (named after
its process) is removed by the next run that writes the same output. `check_output_path` runs before
anything is read, so a path that cannot be written is a one-line error at the start, not after a long sync.
"""

from __future__ import annotations

import contextlib
import glob
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from bridge.errors import ConfigError

_PROBE = ".bridge-write-probe"


def check_output_path(path: Path, what: str) -> None:
    """That `path` can be written: not a folder, its folder is one (or can be made) and accepts new files."""
    if path.is_dir():
        raise ConfigError(f"the {what} path {path} is a folder. Give a file path.")
    folder = nearest_existing(path.parent)
    if not folder.is_dir():
        raise ConfigError(f"cannot write the {what} to {path}: {folder} is a file, not a folder. Check the path.")
    try:
        fd = os.open(folder / f"{_PROBE}.{os.getpid()}", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return  # another check of ours, at this very moment: the folder takes files
    except OSError as exc:
        raise ConfigError(
            f"cannot write the {what} to {path}: {folder} does not accept new files ({exc.strerror}). "
            "Check the folder's permissions, or choose another path."
        ) from None
    os.close(fd)
    (folder / f"{_PROBE}.{os.getpid()}").unlink()


def nearest_existing(folder: Path) -> Path:
    """`folder`, or the closest of its parents that exists."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


@contextlib.contextmanager
def atomic_output(path: Path, what: str) -> Iterator[BinaryIO]:
    """A binary file to write `path` through: renamed over `path` when the block ends without an error,
    removed when it raises. OSError becomes a ConfigError naming the file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path)
        out = temporary.open("wb")
    except OSError as exc:
        raise _write_error(path, what, exc) from None
    try:
        with out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        if isinstance(exc, OSError):
            raise _write_error(path, what, exc) from None
        raise
    _sync_folder(path.parent)


def remove_stale_temporaries(path: Path) -> None:
    """The temporary files of `path` that runs which were killed left behind (their process is gone)."""
    prefix = f".{path.name}."
    for stale in path.parent.glob(f"{glob.escape(prefix)}*.tmp"):
        pid = stale.name[len(prefix) : -len(".tmp")]
        if pid.isdigit() and not _running(int(pid)):
            with contextlib.suppress(OSError):
                stale.unlink()


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def write_output(path: Path, data: bytes, what: str) -> None:
    """Write `data` to `path` atomically (see `atomic_output`)."""
    with atomic_output(path, what) as out:
        out.write(data)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every file system lets a folder be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_error(path: Path, what: str, exc: OSError) -> ConfigError:
    return ConfigError(f"cannot write the {what} to {path} ({exc.strerror or exc}). Check the path and free space.")
