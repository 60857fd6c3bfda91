"""Check a DeepSpeed hostfile before ``deepspeed --hostfile`` reads it.

DeepSpeed's runner (``deepspeed/launcher/runner.py``, ``fetch_hostfile``/``_parse_hostfile``)
answers a bad hostfile with a traceback, and a missing one with a warning, after which it trains
on the local machine only. This check accepts exactly the lines DeepSpeed accepts (each line is
stripped; blank lines and lines starting with ``#`` are skipped; every other line must match
``^(\\S+)\\s+slots=(\\d+)``, anything after the digits is ignored, as DeepSpeed ignores it) and
refuses what DeepSpeed refuses (a bad line, a host twice, no host at all), plus two things
DeepSpeed lets through: a missing file and ``slots=0``. Each problem is one line, exit 2::

    python -m ocr_ds.engine.hostfile launch/hostfile.example

``launch/ds_train.sh`` runs this check before it starts ``deepspeed --hostfile``.
"""
from __future__ import annotations

import os
import re
import sys
from collections import OrderedDict
from collections.abc import Sequence

from ocr_ds.errors import CliParser, UserError, run_cli

# DeepSpeed's pattern (runner._parse_hostfile), matched with re.search on the stripped line
PATTERN = re.compile(r"^(\S+)\s+slots=(\d+)")
EXPECTED = "expected '<host> slots=<N>' lines (blank lines and '#' comments allowed)"


def parse_hostfile(path: str) -> OrderedDict[str, int]:
    """``{host: slots}`` in file order, or a :class:`UserError` naming the file, line and fault."""
    if not os.path.isfile(path):
        raise UserError(f"hostfile {path!r}: no such file; {EXPECTED}")
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"hostfile {path!r}: cannot be read ({exc})") from None
    pool: OrderedDict[str, int] = OrderedDict()
    first_line: dict[str, int] = {}
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if line.startswith("#") or line == "":
            continue
        match = PATTERN.search(line)
        if not match:
            raise UserError(f"hostfile {path}:{number}: bad line {line!r}; {EXPECTED}")
        host, slots = match.group(1), int(match.group(2))
        if host in pool:
            raise UserError(f"hostfile {path}:{number}: host {host!r} again (first on line "
                            f"{first_line[host]}); expected each host once (write slots=N for "
                            "N ranks on one host)")
        if slots < 1:
            raise UserError(f"hostfile {path}:{number}: {host} slots={slots}; expected a "
                            "positive number of slots (devices, or CPU ranks, on that host)")
        pool[host], first_line[host] = slots, number
    if not pool:
        raise UserError(f"hostfile {path!r}: no host in it; {EXPECTED}")
    return pool


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.engine.hostfile",
                                description="Check a DeepSpeed hostfile (exit 2 if it is bad).")
    p.add_argument("hostfile")
    args = p.parse_args(argv)
    pool = parse_hostfile(args.hostfile)
    print(f"hostfile {args.hostfile}: {len(pool)} host(s), {sum(pool.values())} slot(s)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    run_cli(main)
