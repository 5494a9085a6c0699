"""Writing files: the one atomic writer, and the guard that keeps outputs off the inputs.

Every file stylebridge writes goes through :func:`stage` and :func:`publish` (or
:func:`atomic_write`, both in one): the bytes go to a hidden temporary file beside the target,
are fsynced, then renamed into place, so a killed job leaves the old file or the new one, never
half of one. Whatever the file system refuses (disk full, read-only folder, a file where a
folder should be, no permission) becomes one :class:`OutputError` line naming the target.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import StylebridgeError


class OutputError(StylebridgeError):
    """An output that must not or cannot be written: it would replace an input, it exists
    already, or the file system refused it (disk full, read-only, a file in the path)."""

    def __init__(self, path: object, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


# bytes, or a function that writes the file at the (temporary) path it is given
Payload = bytes | Callable[[str], None]


def _default_mode() -> int:
    """The permissions an ordinary ``open`` would give (mkstemp makes files 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _reason(err: OSError) -> str:
    return err.strerror or str(err) or type(err).__name__


def _write_payload(tmp: str, data: Payload) -> None:
    """The one place bytes reach the disk (tests inject a full disk here)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        with open(tmp, "wb") as fh:
            fh.write(data)
    else:
        data(tmp)


# what mkstemp makes of prefix ".NAME." and suffix ".ext": 8 random letters, digits or "_"
_STAGED_NAME = re.compile(r"\.(?P<target>.+)\.[a-z0-9_]{8}(?P<suffix>(?:\.[^.]*)?)")


def staged_target(path: str | os.PathLike) -> Path | None:
    """The file a temporary of :func:`stage` was written for, or None for any other name: a
    resumed job removes the temporaries a kill left behind, and only those."""
    path = Path(path)
    match = _STAGED_NAME.fullmatch(path.name)
    if match is None or Path(match["target"]).suffix != match["suffix"]:
        return None
    return path.with_name(match["target"])


def stage(path: str | os.PathLike, data: Payload) -> Path:
    """Write ``data`` to a fsynced temporary file beside ``path``; returns the temporary path.

    The temporary name keeps the target's suffix, so writers that pick a format from it work.
    """
    path = Path(path)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
        os.close(fd)
        _write_payload(tmp, data)
        os.chmod(tmp, _default_mode())
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as err:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise OutputError(path, f"cannot write ({_reason(err)})") from None
    except BaseException:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def publish(tmp: str | os.PathLike, path: str | os.PathLike, *, replace: bool = True) -> Path:
    """Rename a staged file into place. ``replace=False`` never clobbers: a file that appeared
    at ``path`` meanwhile (another run writing the same output) is an ``OutputError``."""
    path = Path(path)
    try:
        if replace:
            os.replace(tmp, path)
        else:
            _rename_no_clobber(Path(tmp), path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, FileExistsError):
            raise OutputError(path, "already exists; use --overwrite to replace it") from None
        raise OutputError(path, f"cannot write ({_reason(err)})") from None
    return path


def _rename_no_clobber(tmp: Path, path: Path) -> None:
    """A hard link fails when the target exists, atomically; file systems without hard links
    fall back to a check then a rename."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:
        if os.path.lexists(path):
            raise FileExistsError(path) from None
        os.replace(tmp, path)
        return
    tmp.unlink()


def atomic_write(path: str | os.PathLike, data: Payload, *, replace: bool = True) -> Path:
    """Stage then publish: the whole file appears at ``path`` at once, or nothing changes."""
    return publish(stage(path, data), path, replace=replace)


def discard(staged: Iterable[str | os.PathLike]) -> None:
    """Remove staged temporary files that will not be published."""
    for tmp in staged:
        Path(tmp).unlink(missing_ok=True)


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of an existing file or folder: the same for every name it has."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def check_outputs(
    outputs: Iterable[str | os.PathLike],
    inputs: Iterable[str | os.PathLike],
    *,
    out_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
) -> None:
    """Refuse, in one line, outputs that would replace an input (whatever name, link or case
    reaches it), an output folder that holds inputs, and, without ``overwrite``, any existing
    output file (another run's, or a file that is not ours)."""
    inputs = [Path(p) for p in inputs]
    input_ids = {_identity(p) for p in inputs} - {None}
    if out_dir is not None:
        folder_id = _identity(Path(out_dir))
        if folder_id is not None and folder_id in {_identity(p.parent) for p in inputs}:
            raise OutputError(out_dir, "holds input images; write the outputs to another folder")
    outputs = [Path(p) for p in outputs]
    for path in outputs:
        if _identity(path) in input_ids:
            raise OutputError(path, "is one of the inputs; write the output to another file")
    if overwrite:
        return
    existing = [p for p in outputs if os.path.lexists(p)]
    if existing:
        more = f" (and {len(existing) - 1} more output(s))" if len(existing) > 1 else ""
        raise OutputError(existing[0], f"already exists{more}; use --overwrite to replace it")
