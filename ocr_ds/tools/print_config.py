"""Print the whole config, its ``_base_`` files and ``--cfg-options`` merged (MMOCR 0.6.3's
``tools/misc/print_config.py``)::

    python -m ocr_ds.tools.print_config CONFIG [--cfg-options KEY=VALUE ...]

It prints ``Config:`` and the merged config as the text of a ``.py`` file that loads back to the
same values (what ``--work-dir``'s copy of the config holds). ``--options`` is MMOCR's
deprecated name of ``--cfg-options``.
"""
from __future__ import annotations

import sys
import warnings
from typing import Sequence

from ocr_ds.errors import CliParser, UserError, run_cli


def main(argv: Sequence[str] | None = None) -> int:
    from ocr_ds.config import Config

    parser = CliParser(prog="python -m ocr_ds.tools.print_config",
                       description="Print the whole config")
    parser.add_argument("config", help="config file path (.py, .json, .yaml)")
    parser.add_argument("--cfg-options", nargs="+", default=None, metavar="KEY=VALUE",
                        help="override config keys, as for training")
    parser.add_argument("--options", nargs="+", default=None, metavar="KEY=VALUE",
                        help="deprecated name of --cfg-options")
    args = parser.parse_args(None if argv is None else list(argv))
    if args.options and args.cfg_options:
        raise UserError("--options: --options and --cfg-options cannot be both given; "
                        "--options is deprecated in favor of --cfg-options")
    if args.options:
        warnings.warn("--options is deprecated in favor of --cfg-options")
        args.cfg_options = args.options
    cfg = Config.fromfile(args.config, args.cfg_options)
    try:
        print(f"Config:\n{cfg.pretty_text}")
    except BrokenPipeError:  # `| head`: the reader has all it wanted
        sys.stdout = None
    return 0


if __name__ == "__main__":
    run_cli(main)
