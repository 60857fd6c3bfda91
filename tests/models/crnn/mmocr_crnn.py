"""Ref side of test_crnn_parity.py: MMOCR 0.6.3's CRNN, CTCLoss and CTCConvertor."""
import copy

import torch
from mmocr.models.builder import build_convertor, build_loss

from mmocr_common import build_model, grads_of, load_config, state_of


def model_cfg(decoder=None):
    cfg = load_config('_base_/recog_models/crnn.py')['model']
    cfg['decoder'].update(decoder or {})
    return cfg


def train_and_test(seed, img, img_metas, decoder=None):
    """A seeded CRNN's initial state; its loss and gradients on the batch; its test output."""
    model = build_model(model_cfg(decoder), seed=seed)
    state = state_of(model)
    model.train()
    losses = model.forward_train(img, copy.deepcopy(img_metas))
    losses['loss_ctc'].backward()
    model.eval()
    with torch.no_grad():
        metas = copy.deepcopy(img_metas)
        results = model.simple_test(img, metas)
        logits = model.decoder(model.extract_feat(img), None, None, metas, train_mode=False)
    return dict(config=load_config('_base_/recog_models/crnn.py')['model'], state=state,
                loss=losses['loss_ctc'].detach(), grads=grads_of(model), logits=logits,
                results=results)


def convertor_cases(cases):
    """CTCConvertor's encoding of texts and greedy decoding of logits."""
    out = []
    for case in cases:
        conv = build_convertor(dict(type='CTCConvertor', **case['args']))
        enc = conv.str2tensor(case['texts'])
        idx, scores = conv.tensor2idx(case['logits'], case['metas'])
        top_idx, top_scores = conv.tensor2idx(case['logits'], case['metas'], topk=3,
                                              return_topk=True)
        out.append(dict(num_classes=conv.num_classes(), idx2char=conv.idx2char,
                        targets=[t.long() for t in enc['targets']],
                        flatten=enc['flatten_targets'].long(),
                        lengths=enc['target_lengths'].long(), indexes=idx, scores=scores,
                        strings=conv.idx2str(idx), top_idx=top_idx, top_scores=top_scores))
    return out


def loss_cases(cases):
    """CTCLoss (with its arguments) and the logits' gradient."""
    out = []
    for case in cases:
        loss = build_loss(dict(type='CTCLoss', **case['args']))
        logits = case['logits'].clone().requires_grad_(True)
        value = loss(logits, case['targets'], case['metas'])['loss_ctc']
        value.sum().backward()
        out.append(dict(loss=value.detach(), grad=logits.grad))
    return out
