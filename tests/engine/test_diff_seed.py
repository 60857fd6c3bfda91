"""``--diff-seed`` (MMOCR's ``tools/train.py`` flag): rank R's random state is seeded with
seed + R once the model is built, so augmentations and dropout differ between ranks while the
model starts the same (MMOCR's DDP copies rank 0's weights; here the model is built from the
shared seed). Read from the RNG states each rank saves with its checkpoint; without the flag
the ranks' states are equal."""
import os

import pytest
import torch

import helpers


def _states(work_dir: str) -> list[dict]:
    ckpt = os.path.join(work_dir, "epoch_1")
    return [torch.load(os.path.join(ckpt, f"ocr_ds_rng_rank{r}.pt"), weights_only=False)
            for r in (0, 1)]


@pytest.mark.slow
def test_diff_seed_seeds_each_rank_apart_from_the_same_model(tmp_path):
    runs = {}
    for name, flags in (("shared", []), ("diff", ["--diff-seed"])):
        work_dir = str(tmp_path / name)
        helpers.train(["--gpus", "2", "--seed", "3", "--work-dir", work_dir, *flags,
                       "--cfg-options", "total_epochs=1"], timeout=300)
        runs[name] = (_states(work_dir), helpers.json_log(work_dir))
    (same0, same1), log = runs["shared"]
    (diff0, diff1), diff_log = runs["diff"]
    assert torch.equal(same0["torch"], same1["torch"]) and same0["python"] == same1["python"]
    assert torch.equal(same0["numpy"][1], same1["numpy"][1])
    assert not torch.equal(diff0["torch"], diff1["torch"])
    assert diff0["python"] != diff1["python"]
    assert not torch.equal(diff0["numpy"][1], diff1["numpy"][1])
    # rank 0 keeps the seed itself, and the toy model (no dropout, fixed data) trains the same
    assert torch.equal(diff0["torch"], same0["torch"])
    losses = [[e["loss"] for e in events if e.get("mode") == "train"] for events in (log, diff_log)]
    assert losses[0] and losses[0] == losses[1]
