"""A large import on two cores: one process reads and checks the file, this one writes.

The reader (a ``multiprocessing`` process) sends chunks of checked rows (plain lists of
column values, never models) through a bounded queue; this process looks them up in the
database and writes them. The queue holds a few chunks, which lets each go on while the other
is busy and bounds how far the reader runs ahead, so memory stays flat. An error the reader
meets in the file (a bad header, text that is not UTF-8) comes out here as the same
exception. On any error or Ctrl-C the reader is stopped before this returns; it ignores
Ctrl-C itself so that only one process reports it, and it exits by itself if this process
dies.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bordercheck.errors import BordercheckError, FieldError, ValidationFailed
from bordercheck.registry.files import read_rows
from bordercheck.registry.import_rows import FileChecks, Row, Values

if TYPE_CHECKING:
    from multiprocessing.queues import Queue

    from bordercheck.auth.actors import Actor
    from bordercheck.registry.import_writer import ImportReport, RecordWriter

CHUNK_ROWS = 2000
# Chunks queued on each side: more than a batch, so that neither process waits while the
# other works through one.
AHEAD_CHUNKS = 8
# How often a process waiting on the other checks that it is still there (seconds).
ALIVE_CHECK_SECONDS = 1.0
# How long the reader and the thread taking its messages have to end once told (seconds).
STOP_SECONDS = 10.0
# A fresh interpreter, not a fork: this process has threads (the query log's, the index's)
# and open database connections that a forked copy would share.
_PROCESSES = multiprocessing.get_context("spawn")


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
    chunks: Queue[Any] = _PROCESSES.Queue(maxsize=AHEAD_CHUNKS)
    reader = _PROCESSES.Process(
        target=reader_main,
        args=(path, writer.actor, writer.bureaus, writer.new_record, chunks),
        name="bordercheck-import-reader",
        daemon=True,
    )
    _start(reader, chunks)
    frames = _Frames(chunks, reader)
    try:
        frames.start()
        while True:
            message = frames.inbox.get()
            if message == _DONE:
                break
            if message is _Frames.ENDED:
                reader.join()
                raise RuntimeError(
                    f"the process reading {path.name} stopped unexpectedly "
                    f"(exit code {reader.exitcode})"
                )
            if isinstance(message, _Refused):
                raise message.error()
            if isinstance(message, _Crashed):
                raise RuntimeError(f"reading {path.name} failed:\n{message.traceback}")
            _write_chunk(writer, message)
            if on_progress is not None:
                on_progress(writer.report.rows)
        reader.join()
    finally:
        if reader.is_alive():
            reader.terminate()
            reader.join(STOP_SECONDS)
            if reader.is_alive():
                reader.kill()
                reader.join()
        frames.stop()
        chunks.close()
        chunks.cancel_join_thread()  # what is left in it is for nobody
    writer.flush()
    _report_refused_rows(writer, path)
    return writer.finish()


def _start(reader: BaseProcess, chunks: Queue[Any]) -> None:
    """Start ``reader``, and close this process's copy of the queue's sending end.

    The reader then holds the only one: when it ends, even halfway through sending a chunk
    (stopped after the writer failed), the queue here reads an end of file. With this
    process's copy open, reading the rest of that chunk would wait for ever.
    """
    with _sigint_ignored():  # the reader starts with Ctrl-C ignored (see reader_main)
        reader.start()
    chunks._writer.close()  # type: ignore[attr-defined]  # the reader has its own copy now


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ctrl-C ignored while the reader starts: a process started so keeps it ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread handles signals, and Ctrl-C reaches only it
        return
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


class _Frames(threading.Thread):
    """Takes the reader's messages ahead (unpickling them), while this process waits on the
    database."""

    ENDED = "ended"  # the reader ended without saying it was done

    def __init__(self, chunks: Queue[Any], reader: BaseProcess) -> None:
        super().__init__(name="bordercheck-import-frames", daemon=True)
        self.chunks = chunks
        self.reader = reader
        self.inbox: queue.Queue[Any] = queue.Queue(maxsize=AHEAD_CHUNKS)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                message = self.chunks.get(timeout=ALIVE_CHECK_SECONDS)
            except queue.Empty:
                if self.reader.is_alive():
                    continue
                message = self.ENDED  # it stopped, or was stopped, without a word
            except (EOFError, OSError, ValueError):
                message = self.ENDED
            except Exception:  # a message that cannot be read: said, never a silent end
                message = _Crashed(traceback.format_exc())
            self.inbox.put(message)
            if not isinstance(message, _Chunk):
                return

    def stop(self) -> None:
        """Let the thread end (its reader has ended) without anyone reading what is left."""
        self.stopping.set()
        deadline = time.monotonic() + STOP_SECONDS
        while self.is_alive() and time.monotonic() < deadline:
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


def reader_main(
    path: Path,
    actor: Actor,
    bureaus: dict[str, int],
    new_record: Values,
    chunks: Queue[Any],
) -> None:
    """The reader process: checked rows of ``path``, in chunks, into ``chunks``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    writer = _PROCESSES.parent_process()
    if writer is not None:
        threading.Thread(target=_end_with, args=(writer,), daemon=True).start()

    def send(message: object) -> None:
        while True:
            try:
                chunks.put(message, timeout=ALIVE_CHECK_SECONDS)
                return
            except queue.Full:
                if writer is None or not writer.is_alive():
                    # The writer has gone without stopping us (killed): no one is left to tell.
                    raise SystemExit(1) from None

    _read_and_check(FileChecks(actor, bureaus, new_record), path, send)
    chunks.close()
    chunks.join_thread()  # everything sent before this process ends


def _end_with(writer: BaseProcess) -> None:
    """End this process when the writer has gone (killed) without stopping it.

    Wherever the reader is then blocked: a put on the full queue, or flushing its last
    chunks into a pipe no one reads any more (which would otherwise wait for ever).
    """
    writer.join()  # returns when the writer process has ended, however it ended
    os._exit(1)


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
