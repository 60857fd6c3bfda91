"""FCENet's parts beyond parity: what ZeRO-3 needs from the loss, and bad configs."""
import pytest
import torch

from ocr_ds import registry
from ocr_ds.errors import UserError


def test_every_level_output_reaches_the_loss_without_text():
    """ZeRO-3 gathers a layer's weights again for every output its backward passes through:
    a level without text on one rank must still be in the graph (as 0 x prediction), or the
    ranks' collectives disagree (seen as a gloo size mismatch on 2 CPU ranks)."""
    loss = registry.build(registry.COMPONENTS, dict(type="FCELoss", fourier_degree=5,
                                                    num_sample=50), "loss")
    preds = [[torch.randn(2, 4, s, s, requires_grad=True),
              torch.randn(2, 22, s, s, requires_grad=True)] for s in (16, 8, 4)]
    maps = [torch.zeros(2, 25, s, s) for s in (16, 8, 4)]
    for m in maps:
        m[:, 2] = 1                           # effective everywhere, no text anywhere
    maps[0][:, 0, 3:6, 3:9] = 1               # text on the finest level only
    maps[0][:, 1, 4:5, 4:8] = 1
    out = loss(preds, 1.0, *maps)
    sum(out.values()).backward()
    for cls, reg in preds:
        assert cls.grad is not None and reg.grad is not None
    assert reg.grad.abs().sum() == 0          # the empty levels' gradients are zero
    assert out["loss_reg_x"] > 0 and torch.isfinite(out["loss_text"])


def test_bad_fcenet_arguments_are_one_line_errors():
    with pytest.raises(UserError, match="model.bbox_head.fourier_degree"):
        registry.build(registry.COMPONENTS, dict(type="FCEHead", in_channels=8,
                                                 scales=(8, 16, 32), fourier_degree=1),
                       "model.bbox_head")
    with pytest.raises(UserError, match="model.neck.add_extra_convs"):
        registry.build(registry.COMPONENTS, dict(type="mmdet.FPN", in_channels=[4, 8],
                                                 out_channels=4, num_outs=3,
                                                 add_extra_convs="on_top"), "model.neck")
    loss = registry.build(registry.COMPONENTS, dict(type="FCELoss", fourier_degree=4,
                                                    num_sample=50), "loss")
    with pytest.raises(UserError, match="same fourier_degree"):
        loss([[torch.zeros(1, 4, 2, 2), torch.zeros(1, 18, 2, 2)]] * 3, 1.0,
             *[torch.zeros(1, 25, 2, 2)] * 3)
