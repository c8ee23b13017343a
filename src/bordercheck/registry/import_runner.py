"""Which process runs an import, and whether it still does.

A process killed outright (``kill -9``, the machine's power) cannot mark its import as
stopped; whoever looks next must. An import names its process by host, boot, pid and the
pid's start time (a pid is reused, a start time on the same boot is not), so that a process
on the same machine can tell for sure that it is gone. A process on another machine cannot,
and leaves it be.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def _boot() -> str:
    try:
        return _BOOT_ID.read_text().strip()[:36]
    except OSError:
        return "-"


def _started(pid: int) -> str | None:
    """The process's start time in clock ticks since boot, or None if it is not running."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return "-"
    # The name (field 2) may hold spaces and parentheses: fields are counted after its end.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in {"Z", "X"}:  # a zombie has stopped running
        return None
    return fields[19]  # field 22, starttime


def this_process() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()[:80]} {_boot()} {pid} {_started(pid) or '-'}"


def gone(runner: str | None) -> bool:
    """Whether ``runner`` (``this_process()`` of some process) has surely stopped."""
    if not runner:
        return False
    try:
        host, boot, pid_text, started = runner.split(" ")
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname()[:80]:
        return False  # another machine's: nothing here can tell
    if boot != _boot():
        return boot != "-"  # the machine has started again since
    if not Path("/proc").is_dir():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    now = _started(pid)
    return now is None or (started != "-" and now not in {"-", started})
