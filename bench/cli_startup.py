"""How long the ``bordercheck`` command takes to start, for commands that need no database.

Runs each command as a new process (the installed ``bordercheck`` script beside this Python),
no settings file, and prints the median and the fastest of the wall-clock times.

    .venv/bin/python bench/cli_startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = {
    "bordercheck --help": ["--help"],
    "bordercheck version": ["version"],
    "bordercheck mrz parse LINE LINE": [
        "mrz",
        "parse",
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    executable = Path(sys.executable).parent / "bordercheck"
    env = {**os.environ, "BORDERCHECK_SETTINGS_FILE": ""}
    for name, arguments in COMMANDS.items():
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run([executable, *arguments], env=env, capture_output=True, check=True)
            times.append(time.perf_counter() - start)
        print(f"{name:34} median {statistics.median(times):.3f} s   fastest {min(times):.3f} s")


if __name__ == "__main__":
    main()
