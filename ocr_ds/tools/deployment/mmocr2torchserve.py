"""Package a text detector or recogniser for TorchServe (MMOCR 0.6.3's
``tools/deployment/mmocr2torchserve.py``, same arguments)::

    python -m ocr_ds.tools.deployment.mmocr2torchserve CONFIG CHECKPOINT \\
        --output-folder model_store [--model-name NAME] [--model-version 1.0] [-f]
    torchserve --start --model-store model_store --models NAME=NAME.mar --disable-token-auth
    curl -T demo.jpg http://127.0.0.1:8080/predictions/NAME

Writes ``OUTPUT_FOLDER/NAME.mar`` (NAME: ``--model-name``, else the checkpoint's name without
its extension, as MMOCR) with MMOCR's manifest: ``config.py`` (the merged config, as
``print_config`` dumps it), the weights and the handler ``mmocr_handler.py``
(:mod:`ocr_ds.deployment.mmocr_handler`). CHECKPOINT is any of our checkpoints (a training
checkpoint directory at any ZeRO stage, a work dir, a ``.pth``) or an MMOCR one; the archive
holds its weights as one weights-only file ``<checkpoint name>.pth`` (MMOCR copies the file as
it is), checked against the config's model before anything is written. Needs
``torch-model-archiver`` here and ``torchserve`` + ``ocr_ds`` where it serves
(``pip install 'ocr_ds[serve]'``).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Sequence

import torch

from ocr_ds.errors import CliParser, UserError, add_unsafe_pickle_flag, run_cli

HANDLER = Path(__file__).resolve().parents[2] / "deployment" / "mmocr_handler.py"
# torch-model-archiver's own rule for a model name
NAME_RULE = r"^[A-Za-z0-9][A-Za-z0-9_\-.]*$"


def build_parser() -> CliParser:
    p = CliParser(prog="python -m ocr_ds.tools.deployment.mmocr2torchserve",
                  description="Convert MMOCR models to TorchServe `.mar` format.")
    p.add_argument("config", help="config file path")
    p.add_argument("checkpoint", help="checkpoint (a .pth, a checkpoint directory or a work dir)")
    p.add_argument("--output-folder", required=True,
                   help="Folder where `{model_name}.mar` will be created.")
    p.add_argument("--model-name", default=None,
                   help="If not None, used for naming the `{model_name}.mar` file that will be "
                   "created under `output_folder`. If None, `{Path(checkpoint_file).stem}` "
                   "will be used.")
    p.add_argument("--model-version", default="1.0", help="Number used for versioning.")
    p.add_argument("-f", "--force", action="store_true",
                   help="overwrite the existing `{model_name}.mar`")
    add_unsafe_pickle_flag(p)
    return p


def require_archiver() -> None:
    try:
        import model_archiver  # noqa: F401
    except ImportError:
        raise UserError("torch-model-archiver is not installed: pip install 'ocr_ds[serve]' "
                        "(or pip install torch-model-archiver)") from None


def _weights(config, checkpoint: str, allow_unsafe_pickle: bool) -> dict:
    """The checkpoint's weights file, after checking they fit the config's model (one line if
    not), and that the model is one the handler serves."""
    from ocr_ds.apis import model_family
    from ocr_ds.checkpoint_io import load_checkpoint_any
    from ocr_ds.tools._infer_common import build_with_weights, strip_pretrained
    from ocr_ds.tools.export import weights_file

    family = model_family(config["model"])
    if family not in ("textdet", "textrecog"):
        raise UserError(f"model.type: the TorchServe handler serves text detectors and "
                        f"recognisers (images in, boundaries or texts out); got "
                        f"{config['model'].get('type')!r}, a {family or 'unknown'} model")
    state, meta = load_checkpoint_any(checkpoint, allow_unsafe_pickle)
    build_with_weights(strip_pretrained(config["model"]), state, f"checkpoint {checkpoint}")
    keep = {k: meta[k] for k in ("CLASSES", "epoch", "iter") if k in meta}
    return weights_file(state, keep)


def mmocr2torchserve(config_file: str, checkpoint_file: str, output_folder: str,
                     model_name: str | None = None, model_version: str = "1.0",
                     force: bool = False, allow_unsafe_pickle: bool = False) -> str:
    """Write ``output_folder/<model_name>.mar``; returns its path."""
    from model_archiver.model_packaging import package_model
    from model_archiver.model_packaging_utils import ModelExportUtils

    from ocr_ds.config import Config
    from ocr_ds.outputs import check_dir_creatable

    if not os.path.isfile(config_file):
        raise UserError(f"config: file not found (got {config_file!r})")
    stem = Path(os.path.normpath(checkpoint_file)).stem
    name = model_name or stem
    if not re.match(NAME_RULE, name):
        what = "--model-name" if model_name else "the checkpoint's name (give --model-name)"
        raise UserError(f"{what}: expected letters, digits, '_', '-' or '.', starting with a "
                        f"letter or digit (TorchServe's rule for model names); got {name!r}")
    check_dir_creatable(output_folder, "--output-folder")
    final = os.path.join(output_folder, f"{name}.mar")
    if os.path.exists(final) and not force:
        raise UserError(f"{final} already exists: -f/--force overwrites it")
    config = Config.fromfile(config_file)
    weights = _weights(config, checkpoint_file, allow_unsafe_pickle)
    os.makedirs(output_folder, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output_folder, prefix=f".{name}.") as tmp:
        config.dump(f"{tmp}/config.py")
        torch.save(weights, f"{tmp}/{stem}.pth")
        shutil.copyfile(HANDLER, f"{tmp}/mmocr_handler.py")
        os.makedirs(f"{tmp}/out")
        args = argparse.Namespace(
            model_file=f"{tmp}/config.py", serialized_file=f"{tmp}/{stem}.pth",
            handler=f"{tmp}/mmocr_handler.py", model_name=name, version=model_version,
            export_path=f"{tmp}/out", force=False, requirements_file=None, extra_files=None,
            config_file=None, runtime="python", archive_format="default")
        # the archiver gathers the files in gettempdir()/<model name>: a fixed path that two
        # archivers of one name at once would share; ours is private
        shared, tempfile.tempdir = tempfile.tempdir, tmp
        try:
            package_model(args, ModelExportUtils.generate_manifest_json(args))
        finally:
            tempfile.tempdir = shared
        os.replace(f"{tmp}/out/{name}.mar", final)     # whole, or not at all
    return final


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    require_archiver()
    final = mmocr2torchserve(args.config, args.checkpoint, args.output_folder, args.model_name,
                             args.model_version, args.force, args.allow_unsafe_pickle)
    print(final)
    print(f"wrote {final}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    run_cli(main)
