"""Resident memory a process keeps after freeing 160 MB of 4 MB tensors, after
``setup_cpu_malloc(MODE)`` (test_cpu_malloc_modes.py runs it in a fresh process per mode).
Prints the setting, then ``[growth while they live, growth after they are freed]`` in MiB."""
import json
import sys

from ocr_ds.engine.allocator import setup_cpu_malloc

print(setup_cpu_malloc(sys.argv[1], cpu=True))
import torch  # noqa: E402


def rss_mib() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) // 1024 for line in f if line.startswith("VmRSS:"))


# a 16 MB block mapped and freed: glibc's own rule now serves everything under 16 MB from the
# heap (as after DeepSpeed frees the full parameters it partitioned)
big = torch.ones(2**22)
del big
base = rss_mib()
blocks = [torch.ones(2**20) for _ in range(40)]   # 40 x 4 MB, touched (gathered parameters)
pin = torch.ones(256)                              # something small that stays alive
full = rss_mib()
del blocks
print(json.dumps([full - base, rss_mib() - base]))
