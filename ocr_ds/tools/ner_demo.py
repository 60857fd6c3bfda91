"""The named entities of a sentence typed at the prompt (MMOCR 0.6.3's ``demo/ner_demo.py``,
same arguments)::

    python -m ocr_ds.tools.ner_demo configs/ner/bert_softmax/bert_softmax_cluener_18e.py ner.pth
    Please enter a sentence you want to test: 张三在北京天安门
    name: 张三
    address: 北京天安门

One line per entity the model finds, ``<category>: <its characters>``, in the model's order
(MMOCR's lines; :func:`ocr_ds.apis.text_model_inference` gives the entities). The device falls
back to the CPU where there is no GPU. A model that is not a NER model, or no sentence (or an
empty one: MMOCR's fails on it) on standard input, is one line (exit 2).
"""
from __future__ import annotations

from typing import Sequence

from ocr_ds.errors import CliParser, UserError, add_unsafe_pickle_flag, run_cli


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.ner_demo",
                  description="Named entities of a sentence typed at the prompt.")
    p.add_argument("config", help="Config file.")
    p.add_argument("checkpoint", help="Checkpoint file.")
    p.add_argument("--device", default="cuda:0", help="Device used for inference.")
    add_unsafe_pickle_flag(p)
    args = p.parse_args(argv)
    from ocr_ds.apis import init_detector, model_family, text_model_inference
    from ocr_ds.config import Config
    from ocr_ds.tools._infer_common import device_or_cpu

    cfg = Config.fromfile(args.config)
    if model_family(cfg["model"]) != "ner":
        raise UserError(f"model.type: ner_demo reads a named entity recognition model (e.g. "
                        f"NerClassifier); got {cfg['model'].get('type')!r}")
    device = device_or_cpu(args.device)
    model = init_detector(cfg, args.checkpoint, device=device,
                          allow_unsafe_pickle=args.allow_unsafe_pickle)
    try:
        sentence = input("Please enter a sentence you want to test: ")
    except EOFError:
        raise UserError("standard input: expected a sentence, got none") from None
    if not sentence.strip():
        raise UserError("standard input: expected a sentence, got an empty line")
    for entities in text_model_inference(model, sentence):
        for category, start, end in entities:
            print(f"{category}: {sentence[start:end + 1]}")
    return 0


if __name__ == "__main__":
    run_cli(main)
