"""A large import on two cores: one process reads and checks the file, this one writes.

The reader sends chunks of checked rows (plain lists of column values, never models) through
a pipe; this process looks them up in the database and writes them. Queues of a few chunks on
either side let each go on while the other is busy, and bound how far the reader runs ahead,
so memory stays flat. An error the reader meets in the file (a bad header, text that is not
UTF-8) comes out here as the same exception. On any error or Ctrl-C the reader is stopped
before this returns; it ignores Ctrl-C itself so that only one process reports it, and it
exits by itself if this process dies.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from bordercheck.errors import BordercheckError, FieldError, ValidationFailed
from bordercheck.registry.files import read_rows
from bordercheck.registry.import_rows import FileChecks, Row

if TYPE_CHECKING:
    from bordercheck.registry.import_writer import ImportReport, RecordWriter

CHUNK_ROWS = 2000
# Chunks queued on each side: more than a batch, so that neither process waits while the
# other works through one.
AHEAD_CHUNKS = 8
# The reader runs this module's reader_main from the same source tree as this process.
_SOURCE_ROOT = str(Path(__file__).resolve().parents[2])
_START_READER = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from bordercheck.registry.import_pipeline import reader_main; reader_main()"
)


@dataclass(frozen=True)
class _Chunk:
    rows: list[Row]
    refused: list[tuple[int, list[FieldError]]]


@dataclass(frozen=True)
class _Refused:
    """A file-level error, sent as its parts: exceptions do not all survive pickling."""

    kind: type[BordercheckError]
    message: str
    detail: dict[str, Any]
    errors: list[FieldError] | None

    def error(self) -> BordercheckError:
        if issubclass(self.kind, ValidationFailed) and self.errors is not None:
            return self.kind(errors=self.errors)
        return self.kind(self.message, **self.detail)


@dataclass(frozen=True)
class _Crashed:
    traceback: str


_DONE = "done"


def run_pipeline(
    writer: RecordWriter,
    path: Path,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import ``path`` through ``writer``, with a second process reading and checking it."""
    # A plain subprocess rather than multiprocessing's spawn, which would run the caller's
    # __main__ again in the child. Its own session keeps Ctrl-C in the terminal away from it.
    reader = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-c", _START_READER, _SOURCE_ROOT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert reader.stdin is not None
    assert reader.stdout is not None
    frames = _Frames(reader.stdout)
    try:
        # A reader that fails to start shows up below as output ended (its error on stderr).
        with contextlib.suppress(BrokenPipeError), reader.stdin:
            pickle.dump((path, writer.actor, writer.bureaus, writer.new_record), reader.stdin)
        frames.start()
        while True:
            message = frames.inbox.get()
            if message == _DONE:
                break
            if message is _Frames.ENDED:
                reader.wait()
                raise RuntimeError(
                    f"the process reading {path.name} stopped unexpectedly "
                    f"(exit code {reader.returncode})"
                )
            if isinstance(message, _Refused):
                raise message.error()
            if isinstance(message, _Crashed):
                raise RuntimeError(f"reading {path.name} failed:\n{message.traceback}")
            _write_chunk(writer, message)
            if on_progress is not None:
                on_progress(writer.report.rows)
        reader.wait()
    finally:
        if reader.poll() is None:
            reader.terminate()
            reader.wait()
        frames.stop()
        reader.stdout.close()
    writer.flush()
    _report_refused_rows(writer, path)
    return writer.finish()


class _Frames(threading.Thread):
    """Unpickles the reader's messages ahead, while this process waits on the database."""

    ENDED = "ended"  # the reader's output ended without saying it was done

    def __init__(self, stream: IO[bytes]) -> None:
        super().__init__(name="bordercheck-import-frames", daemon=True)
        self.stream = stream
        self.inbox: queue.Queue[Any] = queue.Queue(maxsize=AHEAD_CHUNKS)

    def run(self) -> None:
        while True:
            try:
                # Trusted: the frames come from our own child process.
                message = pickle.load(self.stream)  # noqa: S301
            except (EOFError, OSError, ValueError, pickle.UnpicklingError):
                # Cut off (the reader stopped or was stopped): what follows is for run_pipeline.
                message = self.ENDED
            self.inbox.put(message)
            if not isinstance(message, _Chunk):
                return

    def stop(self) -> None:
        """Let the thread end (its reader has ended) without anyone reading what is left."""
        while self.is_alive():
            with contextlib.suppress(queue.Empty):
                self.inbox.get(timeout=0.05)


def _write_chunk(writer: RecordWriter, chunk: _Chunk) -> None:
    if not chunk.refused:
        writer.add_rows(chunk.rows)
        return
    # In line order, as the in-process Importer would: batches then fill up at the same rows.
    refused = iter(chunk.refused)
    pending = next(refused, None)
    for row in chunk.rows:
        while pending is not None and pending[0] < row[0]:
            writer.reject(pending[0], None, pending[1])
            pending = next(refused, None)
        writer.add(row)
    while pending is not None:
        writer.reject(pending[0], None, pending[1])
        pending = next(refused, None)


def _report_refused_rows(writer: RecordWriter, path: Path) -> None:
    """Hand the refused rows to ``on_rejected``, read again from the file, in line order."""
    if writer.on_rejected is None or not writer.unreported:
        return
    wanted = set(writer.unreported)
    errors: dict[int, list[FieldError]] = {}
    for error in writer.report.errors:
        if error.line in wanted:
            errors.setdefault(error.line, []).append(error)
    for line, raw in read_rows(path):
        found = errors.pop(line, None)
        if found is not None:
            writer.on_rejected(line, raw, found)
            if not errors:
                return


def reader_main() -> None:
    """The reader process: settings on stdin, pickled chunks of checked rows on stdout."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Keep the frames' channel to ourselves: anything printed goes to stderr instead.
    frames = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    path, actor, bureaus, new_record = pickle.load(sys.stdin.buffer)  # noqa: S301
    outbox: queue.Queue[bytes | None] = queue.Queue(maxsize=AHEAD_CHUNKS)
    sender = threading.Thread(target=_send_frames, args=(outbox, frames), daemon=True)
    sender.start()

    def send(message: object) -> None:
        frame = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        while True:
            try:
                outbox.put(frame, timeout=1)
                return
            except queue.Full:
                if not sender.is_alive():
                    # The writer has gone without stopping us (killed): no one is left to tell.
                    os._exit(1)

    _read_and_check(FileChecks(actor, bureaus, new_record), path, send)
    outbox.put(None)
    sender.join()


def _send_frames(outbox: queue.Queue[bytes | None], frames: IO[bytes]) -> None:
    # A thread of its own, so that checking goes on while the writer is busy with a batch.
    try:
        while (frame := outbox.get()) is not None:
            frames.write(frame)
            frames.flush()
        frames.close()
    except OSError:
        return


def _read_and_check(checks: FileChecks, path: Path, send: Callable[[object], None]) -> None:
    try:
        rows: list[Row] = []
        refused: list[tuple[int, list[FieldError]]] = []
        for line, raw in read_rows(path):
            row, errors = checks.check(line, raw)
            if row is None:
                refused.append((line, errors))
            else:
                rows.append(row)
            if len(rows) + len(refused) >= CHUNK_ROWS:
                send(_Chunk(rows, refused))
                rows, refused = [], []
        send(_Chunk(rows, refused))
        send(_DONE)
    except BordercheckError as exc:
        listed = exc.errors if isinstance(exc, ValidationFailed) else None
        send(_Refused(type(exc), exc.message, exc.detail, listed))
    except Exception:
        send(_Crashed(traceback.format_exc()))
