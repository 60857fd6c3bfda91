"""A generated regression dataset for engine tests: image -> a fixed linear map of its pixels."""
from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset


class ToyDataset(Dataset):
    def __init__(self, num_samples: int = 64, in_channels: int = 1, size: int = 8,
                 out_features: int = 4, seed: int = 0, test_mode: bool = False, **kwargs: Any):
        g = torch.Generator().manual_seed(seed)
        self.imgs = torch.randn(num_samples, in_channels, size, size, generator=g)
        w = torch.randn(in_channels * size * size, out_features, generator=torch.Generator().manual_seed(1234))
        self.targets = self.imgs.flatten(1) @ w / (in_channels * size * size) ** 0.5
        self.test_mode = test_mode

    def __len__(self) -> int:
        return len(self.imgs)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"img": self.imgs[i], "target": self.targets[i], "img_metas": {"index": i}}

    def evaluate(self, results: list[dict[str, Any]], metric: Any = None, logger: Any = None,
                 **kwargs: Any) -> dict[str, float]:
        if len(results) != len(self):
            raise ValueError(f"expected {len(self)} results, got {len(results)}")
        pred = torch.tensor([r["pred"] for r in results])
        mse = float(((pred - self.targets) ** 2).mean())
        return {"neg_mse_acc": -mse, "mse_loss": mse}
