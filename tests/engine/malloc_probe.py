"""Minor page faults per training step of a small conv net, after ``setup_cpu_malloc(MODE)``
(test_allocator.py runs it in a fresh process per mode). Prints the setting, then the faults
of each of 8 steps as a JSON list."""
import json
import resource
import sys

from ocr_ds.engine.allocator import setup_cpu_malloc

print(setup_cpu_malloc(sys.argv[1], cpu=True))
import torch  # noqa: E402

torch.manual_seed(0)
torch.set_num_threads(1)
net = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.BatchNorm2d(16),
                          torch.nn.ReLU(), torch.nn.Conv2d(16, 1, 3, padding=1))
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
# 16-channel activations of 19 MB each: what glibc hands back to the kernel by default
x = torch.randn(2, 3, 384, 384)
faults = []
for _ in range(8):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    loss = net(x).square().mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(json.dumps(faults))
