"""Ref side (runs in the MMOCR 0.6.3 venv only): MMOCR's BERT NER for test_ner_parity.py."""
import copy

import torch
from mmocr_common import build_model, load_config, publish_checkpoint, seed_all, state_of


def _pipeline(convertor, max_len):
    from mmocr.datasets.pipelines.ner_transforms import NerTransform, ToTensorNER
    return NerTransform(label_convertor=copy.deepcopy(convertor), max_len=max_len), ToTensorNER()


def _batch(samples, convertor, max_len):
    transform, to_tensor = _pipeline(convertor, max_len)
    metas = [to_tensor(transform(dict(s)))["img_metas"] for s in samples]
    return {k: torch.stack([m[k] for m in metas]) for k in metas[0]}


def model_run(model_cfg, samples, seed, checkpoint, pretrained, config_cfg):
    """A seeded, initialised model: its state, MMOCR's checkpoint of it, its encoder as a
    ``Pretrained`` file; train losses (dropout on) and gradients, eval logits and entities on
    the batch MMOCR's pipeline makes of ``samples``; focal loss on the same logits; the keys
    and shapes of the full CLUENER config's model."""
    from mmocr.models.ner.losses import MaskedFocalLoss
    convertor = model_cfg["label_convertor"]
    model = build_model(model_cfg, seed=seed)
    out = dict(state=state_of(model))
    publish_checkpoint(model, checkpoint)
    torch.save(model.encoder.state_dict(), pretrained)
    metas = _batch(samples, convertor, convertor["max_len"])
    out["batch"] = metas
    model.train()
    seed_all(seed + 1)
    losses = model.forward_train(None, metas)
    losses["loss_cls"].backward()
    out["losses"] = {k: v.detach() for k, v in losses.items()}
    out["grads"] = {k: p.grad.detach().clone() for k, p in model.named_parameters()
                    if p.grad is not None}
    model.eval()
    with torch.no_grad():
        logits, preds = model.decoder(model.encoder(metas))
        out["logits"], out["preds"] = logits, preds
        out["entities"] = model.forward_test(None, metas)
    num_labels = model.label_convertor.num_labels
    out["focal"] = MaskedFocalLoss(num_labels=num_labels)(logits * 3, metas)["loss_cls"]
    # the CLUENER config's model: keys and shapes (built without its download)
    cfg = load_config(config_cfg["path"])["model"]
    cfg["encoder"]["init_cfg"] = None
    cfg["label_convertor"]["vocab_file"] = config_cfg["vocab_file"]
    full = build_model(cfg, init=False)
    out["full_shapes"] = {k: list(v.shape) for k, v in full.state_dict().items()}
    return out


def convert(convertor, samples, preds, masks):
    """MMOCR's convertor and pipeline on each sample (or the exception's type name), and
    ``convert_pred2entities`` of ``preds`` under ``masks``."""
    from mmocr.models.builder import build_convertor
    conv = build_convertor(copy.deepcopy(convertor))
    transform, to_tensor = _pipeline(convertor, convertor["max_len"])
    out = []
    for s in samples:
        try:
            r = transform(dict(s))
            out.append(dict(ids=conv.convert_text2id(s["text"]),
                            labels=conv.convert_entity2label(s["label"], len(s["text"])),
                            transform=r, tensors=to_tensor(dict(r))["img_metas"]))
        except Exception as exc:  # noqa: BLE001 -- MMOCR's failures are part of the answer
            out.append(type(exc).__name__)
    return dict(samples=out, entities=conv.convert_pred2entities(preds, masks),
                id2label=conv.id2label, num_labels=conv.num_labels)


def f1(cases):
    """MMOCR's ``eval_ner_f1`` of each ``(results, gt_infos)`` case (or the exception's type
    name), and NerDataset.evaluate on the first case's annotation file."""
    from mmocr.core.evaluation.ner_metric import eval_ner_f1
    out = []
    for results, gt_infos in cases:
        try:
            out.append(eval_ner_f1(results, gt_infos))
        except Exception as exc:  # noqa: BLE001
            out.append(type(exc).__name__)
    return out
