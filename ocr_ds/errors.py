"""Errors a user can cause, and how the command-line tools report them.

Anything a user can get wrong (a config value, a ``--cfg-options`` token, a flag, a data file)
raises :class:`UserError` with one line that names the key path, what was found and what was
expected. The command-line entry points catch it, print ``error: <message>`` on stderr and exit
with code 2, without a traceback. Everything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable, Iterable, NoReturn, Sequence

EXIT_USAGE = 2


class UserError(Exception):
    """A problem in what the user gave us (config, CLI, data). Reported in one line, exit 2."""

    def __init__(self, message: str):
        # one line, always: newlines in a message would break "one clear line" reporting
        super().__init__(" ".join(str(message).split("\n")))


class UserErrors(UserError):
    """Several problems found at once (a config check): reported one line each, exit 2."""

    def __init__(self, messages: Sequence[str]):
        self.messages = [" ".join(str(m).split("\n")) for m in messages]
        super().__init__(self.messages[0] if self.messages else "")


class TrainingFault(RuntimeError):
    """A fault during training (non-finite loss, a checkpoint that cannot be written): reported
    in one line with exit code 1; what was saved before stays intact."""


def bad_value(key: str, got: Any, expected: str) -> UserError:
    """Build the house-style error: ``<key>: expected <expected> (got <got!r>)``."""
    return UserError(f"{key}: expected {expected} (got {got!r})")


def unknown_name(key: str, got: Any, known: Iterable[str]) -> UserError:
    """An unknown ``type=`` (or similar) name, listing what is valid."""
    return UserError(f"{key}: unknown {got!r}; expected one of: {', '.join(sorted(known))}")


def fail(message: str | Sequence[str]) -> NoReturn:
    """Print a one-line error (or one line per message) on stderr and exit 2."""
    for line in [message] if isinstance(message, str) else message:
        print(f"error: {line}", file=sys.stderr, flush=True)
    raise SystemExit(EXIT_USAGE)


class CliParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit 2 (no usage block), as every
    other bad input; subcommand parsers inherit it."""

    def error(self, message: str) -> NoReturn:
        fail(f"{message} (see --help)")


UNSAFE_FLAG = "--allow-unsafe-pickle"


def add_unsafe_pickle_flag(parser: argparse.ArgumentParser, what: str = "a checkpoint") -> None:
    """The ``--allow-unsafe-pickle`` flag of every command that reads checkpoints."""
    parser.add_argument(UNSAFE_FLAG, action="store_true",
                        help=f"load {what} even if not weights-only (a full pickle can run "
                        "code): only for files you trust")


def check_only() -> bool:
    """True in the single check the launch scripts (launch/dist_train.sh, slurm.sh and their
    test counterparts) run before starting the ranks: train.py/test.py check their flags and the
    config (test.py also the checkpoint against the model), then exit 0 without running."""
    return os.environ.get("OCR_DS_CHECK_ONLY") == "1"


def run_cli(main: Callable[[], int | None]) -> NoReturn:
    """Run a CLI main function, turning :class:`UserError` into a one-line message and exit 2."""
    try:
        code = main()
    except UserErrors as exc:
        fail(exc.messages)
    except UserError as exc:
        fail(str(exc))
    raise SystemExit(code or 0)
