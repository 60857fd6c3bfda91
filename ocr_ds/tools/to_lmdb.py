"""Pack a recognition or detection data set into an lmdb, in MMOCR 0.x's key layout.

::

    # recognition: a label file (txt ``path TEXT`` or jsonl {"filename", "text"}) + its images
    python -m ocr_ds.tools.to_lmdb recog data/synth_recog/train_label.txt \\
        data/synth_recog/train_lmdb --img-root data/synth_recog/train
    # recognition, labels only (images stay on disk, as MMOCR's --label-only)
    python -m ocr_ds.tools.to_lmdb recog LABEL_FILE OUT_LMDB --label-only
    # detection: the images a COCO JSON names (annotations stay JSON)
    python -m ocr_ds.tools.to_lmdb det data/synth_det/instances_training.json \\
        data/synth_det/instances_test.json data/synth_det/imgs_lmdb --img-root data/synth_det/imgs

Layouts (interchangeable with MMOCR's ``recog2lmdb`` / ``lmdb_converter`` output):

* recognition: ``num-samples`` (decimal), ``label-%09d`` (1-based, UTF-8 text) and
  ``image-%09d`` (the image file's bytes as stored on disk, not re-encoded). With
  ``--label-only`` there are no images and each label is MMOCR's JSON line
  ``{"filename": ..., "text": ...}`` (read it with ``LineJsonParser``).
* detection: one value per image, keyed by the JSON's ``file_name`` (UTF-8), so
  ``LoadImageFromFile(file_client_args=dict(backend='lmdb', db_path=OUT))`` reads the image a
  sample's ``file_name`` names.

The lmdb is written into a hidden temporary directory beside OUT, committed every
``--batch-size`` samples (the map size doubles whenever lmdb reports it full), and renamed to OUT
only when complete: a failure, bad input or Ctrl-C leaves nothing behind. An existing non-empty
OUT is kept unless ``--overwrite``. Bad input (a missing label file or image, a malformed line,
an undecodable image) stops the conversion with one line naming file and line, exit code 2;
``--skip-invalid`` skips missing or undecodable images instead and reports how many.
"""
from __future__ import annotations

import argparse
import codecs
import json
import os
import sys
from typing import Iterator, Sequence

from ocr_ds.errors import CliParser, UserError, run_cli
from ocr_ds.tools._lmdb_writer import DEFAULT_BATCH, INITIAL_MAP_SIZE, LmdbWriter

LABEL_FORMATS = ("txt", "jsonl")


# -- recognition -----------------------------------------------------------------------------
def label_format_of(label_file: str, label_format: str = "auto") -> str:
    """``txt`` or ``jsonl``: as given, or from the label file's extension when ``auto``."""
    if label_format in LABEL_FORMATS:
        return label_format
    if label_format != "auto":
        raise UserError(f"--label-format: expected auto, txt or jsonl (got {label_format!r})")
    ext = os.path.splitext(label_file)[1].lower()
    if ext in (".txt", ".jsonl"):
        return ext[1:]
    raise UserError(f"{label_file}: cannot tell the label format from the extension "
                    f"{ext or '(none)'!r}; pass --label-format txt or jsonl")


def read_labels(label_file: str, label_format: str = "auto", separator: str = " ",
                encoding: str = "utf-8") -> Iterator[tuple[int, str, str]]:
    """``(line number, filename, text)`` of each annotation line; blank lines are skipped.

    txt lines are ``FILENAME<separator>TEXT`` (stripped first, as ``LineStrParser`` does): a
    text holding the separator is an error here (the dataset would cut it), use jsonl for it.
    jsonl lines are objects with string ``filename`` and ``text``.
    """
    fmt = label_format_of(label_file, label_format)
    if not os.path.isfile(label_file):
        raise UserError(f"label file not found: {label_file}")
    if not separator:
        raise UserError("--separator: expected a non-empty string")
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        raise UserError(f"--encoding: unknown encoding {encoding!r}") from None
    if codec.name == "utf-8":
        encoding = "utf-8-sig"                      # a BOM is fine, as in mmcv
    with open(label_file, encoding=encoding) as f:
        try:
            for line_no, line in enumerate(f, 1):
                if not line.strip():
                    continue
                where = f"{label_file}:{line_no}"
                if fmt == "txt":
                    fields = line.strip().split(separator)
                    if len(fields) != 2 or not fields[0] or not fields[1]:
                        raise UserError(
                            f"{where}: expected 'FILENAME{separator}TEXT' (2 fields separated "
                            f"by {separator!r}), got {len(fields)} field(s): {line.strip()!r}; "
                            "texts holding the separator need a jsonl label file")
                    yield line_no, fields[0], fields[1]
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise UserError(f"{where}: not JSON ({exc.msg})") from None
                if not isinstance(obj, dict) or not isinstance(obj.get("filename"), str) \
                        or not isinstance(obj.get("text"), str):
                    raise UserError(f"{where}: expected an object with string 'filename' and "
                                    f"'text' (got {line.strip()[:80]!r})")
                yield line_no, obj["filename"], obj["text"]
        except UnicodeDecodeError as exc:
            name = "UTF-8" if encoding == "utf-8-sig" else encoding
            raise UserError(f"{label_file}: not {name} ({exc.reason} at byte {exc.start}); "
                            "give its encoding with --encoding") from None


def _read_image(path: str, verify: bool) -> tuple[bytes | None, str]:
    """The file's bytes, or None and why (missing, undecodable)."""
    try:
        with open(path, "rb") as f:
            content = f.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None, "image not found"
    if verify:
        from ocr_ds.datasets.pipelines.loading import imfrombytes

        if imfrombytes(content, "unchanged") is None:
            return None, f"image cannot be decoded ({len(content)} bytes)"
    return content, ""


def _image(img_root: str, name: str, verify: bool, skip_invalid: bool, where: str, what: str
           ) -> bytes | None:
    """The bytes of image ``name``; None if unreadable and skipped, else a UserError."""
    path = os.path.join(img_root, name)
    content, why = _read_image(path, verify)
    if content is None and not skip_invalid:
        raise UserError(f"{where}: {why}: {path} (pass --skip-invalid to leave such {what} out)")
    return content


class _Progress:
    def __init__(self, every: int, what: str):
        self.every, self.what = every, what

    def __call__(self, done: int, total: int | None = None, force: bool = False) -> None:
        if self.every > 0 and (force or done % self.every == 0):
            of = f"/{total}" if total is not None else ""
            print(f"to_lmdb: {done}{of} {self.what}", file=sys.stderr, flush=True)


def convert_recog(label_file: str, out: str, img_root: str | None = None,
                  label_format: str = "auto", separator: str = " ", label_only: bool = False,
                  overwrite: bool = False, batch_size: int = DEFAULT_BATCH, verify: bool = True,
                  skip_invalid: bool = False, progress: int = 0,
                  map_size: int = INITIAL_MAP_SIZE, encoding: str = "utf-8") -> dict[str, int]:
    """Write the recognition lmdb (module docstring); returns ``written`` and ``skipped``.
    ``encoding``: the label file's (labels are stored as UTF-8, which the loaders read)."""
    if not label_only and not img_root:
        raise UserError("--img-root: needed to read the images (or pass --label-only)")
    if img_root and not label_only and not os.path.isdir(img_root):
        raise UserError(f"--img-root: directory not found: {img_root}")
    label_format_of(label_file, label_format)  # before anything is created
    if not os.path.isfile(label_file):
        raise UserError(f"label file not found: {label_file}")
    skipped = 0
    report = _Progress(progress, "samples")
    with LmdbWriter(out, overwrite, batch_size, map_size,
                    inputs=[label_file, img_root or ""]) as writer:
        for line_no, filename, text in read_labels(label_file, label_format, separator,
                                                   encoding):
            index = writer.samples + 1
            label_key = f"label-{index:09d}".encode()
            if label_only:
                line = json.dumps(dict(filename=filename, text=text), ensure_ascii=False)
                writer.add((label_key, line.encode("utf-8")))
            else:
                content = _image(img_root, filename, verify, skip_invalid,  # type: ignore[arg-type]
                                 f"{label_file}:{line_no}", "samples")
                if content is None:
                    skipped += 1
                    continue
                writer.add((f"image-{index:09d}".encode(), content),
                           (label_key, text.encode("utf-8")))
            report(writer.samples)
        if writer.samples == 0:
            raise UserError(f"{label_file}: no samples to write")
        writer.put(b"num-samples", str(writer.samples).encode())
    return dict(written=writer.samples, skipped=skipped)


def write_recog_lmdb(path: str, texts: Sequence[str], images: Sequence[bytes] | None = None,
                     overwrite: bool = True) -> None:
    """Write an MMOCR recognition lmdb from memory: ``num-samples``, ``label-%09d`` (values
    verbatim) and, with ``images``, ``image-%09d`` (encoded image bytes)."""
    if images is not None and len(images) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(images)} images")
    with LmdbWriter(path, overwrite=overwrite) as writer:
        for i, text in enumerate(texts, 1):
            items = [(f"label-{i:09d}".encode(), text.encode("utf-8"))]
            if images is not None:
                items.append((f"image-{i:09d}".encode(), bytes(images[i - 1])))
            writer.add(*items)
        writer.put(b"num-samples", str(len(texts)).encode())


# -- detection -------------------------------------------------------------------------------
def det_file_names(ann_files: Sequence[str]) -> list[str]:
    """Every distinct ``file_name`` of the COCO JSON files, in order of appearance."""
    from ocr_ds.datasets.textdet.icdar_dataset import load_coco

    names: dict[str, None] = {}
    for ann_file in ann_files:
        coco = load_coco(ann_file)
        for i, img in enumerate(coco["images"]):
            name = img.get("file_name") if isinstance(img, dict) else None
            if not isinstance(name, str) or not name:
                raise UserError(f"{ann_file}: images[{i}]: expected a non-empty string "
                                f"'file_name' (got {name!r})")
            names.setdefault(name, None)
    return list(names)


def convert_det(ann_files: Sequence[str], out: str, img_root: str, overwrite: bool = False,
                batch_size: int = DEFAULT_BATCH, verify: bool = True,
                skip_invalid: bool = False, progress: int = 0,
                map_size: int = INITIAL_MAP_SIZE) -> dict[str, int]:
    """Write the images of COCO JSON ``ann_files`` to an lmdb keyed by ``file_name``."""
    if not os.path.isdir(img_root):
        raise UserError(f"--img-root: directory not found: {img_root}")
    names = det_file_names(ann_files)
    if not names:
        raise UserError(f"{', '.join(ann_files)}: no images listed")
    skipped = 0
    report = _Progress(progress, "images")
    with LmdbWriter(out, overwrite, batch_size, map_size,
                    inputs=[*ann_files, img_root]) as writer:
        for done, name in enumerate(names, 1):
            content = _image(img_root, name, verify, skip_invalid, f"file_name {name!r}",
                             "images")
            if content is None:
                skipped += 1
            else:
                writer.add((name.encode("utf-8"), content))
            report(done, len(names))
        if writer.samples == 0:
            raise UserError("no image could be read; nothing to write")
    return dict(written=writer.samples, skipped=skipped)


# -- command line ----------------------------------------------------------------------------
_LOADER_HINT = (
    "       loader=dict(type='AnnFileLoader', file_format='lmdb',\n"
    "                   parser=dict(type='LineJsonParser', keys=['filename', 'text'])),\n")


def _recog_hint(out: str, label_only: bool, img_root: str | None) -> str:
    if label_only:
        return (f"read it with (images stay on disk):\n"
                f"  dict(type='OCRDataset', ann_file='{out}',\n"
                f"       img_prefix='{img_root or 'IMG_ROOT'}',\n{_LOADER_HINT}"
                f"       pipeline=[dict(type='LoadImageFromFile', ...), ...])")
    return (f"read it with (labels and images from the lmdb):\n"
            f"  dict(type='OCRDataset', ann_file='{out}', img_prefix='{out}',\n{_LOADER_HINT}"
            f"       pipeline=[dict(type='LoadImageFromLMDB', ...), ...])")


def _det_hint(out: str) -> str:
    return (f"make the first step of the training and test pipelines\n"
            f"  dict(type='LoadImageFromFile', file_client_args=dict(backend='lmdb', "
            f"db_path='{out}'))\n"
            f"and keep ann_file on the JSON (img_prefix is not used for lmdb keys)")


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(
        prog="python -m ocr_ds.tools.to_lmdb",
        description="Pack a recognition data set (labels + images) or the images of a "
                    "detection data set into an lmdb (MMOCR's key layout). The output appears "
                    "only when complete.",
        epilog="see `python -m ocr_ds.tools.to_lmdb recog --help` and `... det --help`")
    tasks = parser.add_subparsers(dest="task", required=True, metavar="{recog,det}")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--overwrite", action="store_true",
                       help="replace an existing non-empty output (only once the new one is "
                            "complete)")
        p.add_argument("--batch-size", "-b", type=int, default=DEFAULT_BATCH,
                       help=f"samples per committed transaction ({DEFAULT_BATCH})")
        p.add_argument("--no-verify", action="store_true",
                       help="store images without checking that OpenCV can decode them")
        p.add_argument("--skip-invalid", action="store_true",
                       help="leave out missing or undecodable images (counted) instead of "
                            "stopping")
        p.add_argument("--progress", type=int, default=10000, metavar="N",
                       help="print a progress line on stderr every N samples (10000; 0: never)")
        p.add_argument("--lmdb-map-size", "-m", type=int, default=INITIAL_MAP_SIZE,
                       metavar="BYTES", help="initial map size; it grows as needed "
                       f"({INITIAL_MAP_SIZE}; MMOCR's flag, there the fixed maximum)")

    recog = tasks.add_parser(
        "recog", help="recognition: label file + images -> num-samples, label-%%09d, image-%%09d",
        description="Recognition lmdb: num-samples, label-%09d (1-based) and image-%09d (the "
                    "image files' bytes), or with --label-only MMOCR's JSON label lines.")
    recog.add_argument("label_file", help="txt ('FILENAME TEXT' lines) or jsonl "
                                          "({\"filename\": ..., \"text\": ...} lines)")
    recog.add_argument("out", help="output lmdb directory")
    recog.add_argument("--img-root", "-i", help="folder the label file's filenames are relative to "
                                          "(needed unless --label-only)")
    recog.add_argument("--label-format", "-f", default="auto", choices=("auto", *LABEL_FORMATS),
                       help="label file format (auto: from the extension, .txt or .jsonl)")
    recog.add_argument("--separator", default=" ",
                       help="txt field separator (' '), as LineStrParser's separator")
    recog.add_argument("--encoding", "-e", default="utf-8",
                       help="the label file's encoding (utf-8; labels are stored as UTF-8)")
    recog.add_argument("--label-only", action="store_true",
                       help="store labels only, as MMOCR's JSON lines (images stay on disk)")
    common(recog)

    det = tasks.add_parser(
        "det", help="detection: the images a COCO JSON names, keyed by file_name",
        description="Detection lmdb: every image the COCO JSON files name, keyed by file_name, "
                    "for LoadImageFromFile(file_client_args=dict(backend='lmdb', db_path=OUT)). "
                    "The annotations stay JSON.")
    det.add_argument("ann_files", nargs="+", metavar="ANN_JSON",
                     help="COCO-style JSON(s) as IcdarDataset reads (e.g. training and test)")
    det.add_argument("out", help="output lmdb directory")
    det.add_argument("--img-root", required=True,
                     help="folder file_name is relative to (the dataset's img_prefix)")
    common(det)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.lmdb_map_size < 1:
        raise UserError(f"--lmdb-map-size: expected a positive number of bytes (got "
                        f"{args.lmdb_map_size})")
    opts = dict(overwrite=args.overwrite, batch_size=args.batch_size,
                verify=not args.no_verify, skip_invalid=args.skip_invalid,
                progress=max(0, args.progress), map_size=args.lmdb_map_size)
    if args.task == "recog":
        counts = convert_recog(args.label_file, args.out, args.img_root, args.label_format,
                               args.separator, args.label_only, encoding=args.encoding, **opts)
        what = "labels" if args.label_only else "labels + images"
        hint = _recog_hint(args.out, args.label_only, args.img_root)
    else:
        counts = convert_det(args.ann_files, args.out, args.img_root, **opts)
        what = "images"
        hint = _det_hint(args.out)
    skipped = f" ({counts['skipped']} skipped)" if counts["skipped"] else ""
    print(f"wrote {counts['written']} samples ({what}) to {args.out}{skipped}")
    print(hint)
    return 0


if __name__ == "__main__":
    run_cli(main)
