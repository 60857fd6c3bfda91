"""Training-target steps, one module per family (detection: PANet, FCENet, TextSnake;
recognition: SegOCR in ``seg``)."""
