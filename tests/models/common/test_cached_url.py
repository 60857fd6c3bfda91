"""An http(s) ``Pretrained`` checkpoint on several ranks: each node's first rank fetches what its
node lacks, every rank passes the same one barrier, so a node that already has the file never
leaves another waiting (two "nodes" here: two processes with their own torch hub cache)."""
from __future__ import annotations

import multiprocessing as mp
import os

URL = "https://example.invalid/weights/w.pth"


def _rank(rank: int, store_path: str, hubs: list[str], results) -> None:
    import torch
    import torch.distributed as tdist

    from ocr_ds.models.common import init

    os.environ["LOCAL_RANK"] = "0"  # each process is its node's first rank
    torch.hub.set_dir(hubs[rank])
    fetched = []

    def download(url, dst, **kwargs):
        fetched.append(url)
        torch.save({"w": torch.ones(1)}, dst)

    torch.hub.download_url_to_file = download
    tdist.init_process_group("gloo", store=tdist.FileStore(store_path, 2), rank=rank,
                             world_size=2)
    try:
        path = init.cached_url(URL, "model.init_cfg.checkpoint")
        results.put((rank, path, fetched))
    finally:
        tdist.destroy_process_group()


def test_a_node_with_the_file_does_not_leave_another_waiting(tmp_path):
    hubs = [str(tmp_path / "node0"), str(tmp_path / "node1")]
    # node 0 has the file already; node 1 has to fetch it
    os.makedirs(os.path.join(hubs[0], "checkpoints"))
    open(os.path.join(hubs[0], "checkpoints", "w.pth"), "wb").close()
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    procs = [ctx.Process(target=_rank, args=(r, str(tmp_path / "store"), hubs, results))
             for r in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    hung = [p for p in procs if p.is_alive()]
    for p in hung:
        p.kill()
    assert not hung, "a rank waited at the download barrier (killed after 120 s)"
    assert [p.exitcode for p in procs] == [0, 0]
    got = dict((r, (path, fetched)) for r, path, fetched in (results.get() for _ in procs))
    assert got[0] == (os.path.join(hubs[0], "checkpoints", "w.pth"), [])
    assert got[1] == (os.path.join(hubs[1], "checkpoints", "w.pth"), [URL])
