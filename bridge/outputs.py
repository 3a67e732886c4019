"""The one place that writes files: whole or not at all; and the locks that keep two syncs off one file.

Every output (the file sink's MCPs, `--graph`, `--report`) is written to a temporary file in the target's
own folder, flushed to disk and renamed over the target. A run that is killed, or fails half way, leaves the
previous file as it was; readers never see half a file. The temporary file of a killed run (named after
its process) is removed by the next run that writes the same output. `check_output_path` runs before
anything is read, so a path that cannot be written is a one-line error at the start, not after a long sync.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from bridge.errors import ConfigError, SinkTerminalError, SinkTransientError

_PROBE = ".bridge-write-probe"


def check_output_path(path: Path, what: str) -> None:
    """That `path` can be written: not a folder, its folder is one (or can be made) and accepts new files; a
    device or pipe (`/dev/stdout`) opens for writing."""
    real = resolved(path, what)
    if real.is_dir():
        raise ConfigError(f"the {what} path {path} is a folder. Give a file path.")
    if real.exists() and not real.is_file():
        try:
            os.close(os.open(real, os.O_WRONLY | os.O_NONBLOCK))
        except OSError as exc:
            raise ConfigError(f"cannot write the {what} to {path} ({exc.strerror}).") from None
        return
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


def check_outputs(outputs: Iterable[tuple[Path, str]], inputs: Iterable[Path]) -> None:
    """Every output can be written (`check_output_path`), none of them is one of the run's inputs (a sync that
    overwrote its manifest could not run again), and no two are the same file."""
    input_files = {resolved(path, "input") for path in inputs if path.is_file()}
    seen: dict[Path, str] = {}
    for path, what in outputs:
        check_output_path(path, what)
        real = resolved(path, what)
        if real in input_files:
            raise ConfigError(f"the {what} path {path} is an input of this sync; writing it would destroy it. "
                              "Choose another path.")  # fmt: skip
        if real in seen:
            raise ConfigError(
                f"the {seen[real]} and the {what} would both be written to {path}. Give each its own path."
            )
        seen[real] = what


def resolved(path: Path, what: str) -> Path:
    """The absolute path with symbolic links followed; a link that loops is named."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python 3.11)
        raise ConfigError(f"the {what} path {path} is a symbolic link that loops. Give a file path.") from None


def nearest_existing(folder: Path) -> Path:
    """`folder`, or the closest of its parents that exists."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


@contextlib.contextmanager
def atomic_output(path: Path, what: str) -> Iterator[BinaryIO]:
    """A binary file to write `path` through: renamed over `path` when the block ends without an error,
    removed when it raises. OSError becomes a ConfigError naming the file. A symbolic link is followed (the
    file it points to is replaced, the link stays); a device or pipe (`--report /dev/stdout`) is written
    directly, since it cannot be replaced."""
    if path.is_symlink():
        path = resolved(path, what)
    if path.exists() and not path.is_file():
        try:
            with path.open("wb") as stream:
                yield stream
        except OSError as exc:
            raise _write_error(path, what, exc) from None
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
        temporary = Path(name)
        os.fchmod(fd, 0o666 & ~_umask())
        out = os.fdopen(fd, "wb")
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
        pid = stale.name[len(prefix) :].split(".", 1)[0]
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


def _umask() -> int:
    """The process's umask (read by setting it, then putting it back), so outputs get the usual modes."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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


class LockFile:
    """An exclusive advisory lock (`flock`) on a file beside an output (a DataHub Lite file, a state file): one
    sync at a time uses it; released when the process ends, whatever ends it."""

    POLL_S = 0.1

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self, timeout: float, sleep: Callable[[float], None], what: str, raise_to_wait: str) -> None:
        """Wait up to `timeout` seconds for the lock, then a `SinkTransientError` naming `what` and the lock
        file (`raise_to_wait`: the setting that makes it wait longer)."""
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
        except OSError as exc:
            raise SinkTerminalError(f"{what}: cannot create the lock file {self.path} ({exc.strerror}).") from None
        waited = 0.0
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if waited >= timeout:
                    os.close(fd)
                    raise SinkTransientError(
                        f"{what}: another sync is using it (it holds {self.path}); waited {timeout:g} s. "
                        f"Run this sync again when that one has finished, or raise {raise_to_wait}."
                    ) from None
                sleep(self.POLL_S)
                waited += self.POLL_S
                continue
            self.fd = fd
            return

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
