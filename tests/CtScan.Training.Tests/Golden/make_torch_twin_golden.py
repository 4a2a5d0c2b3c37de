#!/usr/bin/python3
"""Golden values for CtScanNet from the PyTorch twin (shared/reference/torch_model.py).

Builds CT3DNet, applies keras_like_init(seed=1337), and records per-tensor sums of the state dictionary, the first
values of block1's kernel, and the eval-mode output for a deterministic input
x[i, j, k] = ((i*131 + j*71 + k*29) % 256) / 255 (float32, shape 1x1x128x128x64). No RNG is shared with the test
except torch's CPU generator (mt19937) behind torch.rand, which TorchSharp's libtorch uses too.

usage: make_torch_twin_golden.py PATH/TO/torch_model.py > torch_twin_golden.json
Needs Debian's python3-torch and python3-numpy (apt); not a dependency of the product or its CI.
"""
import importlib.util
import json
import sys

import numpy as np
import torch


def main(argv):
    spec = importlib.util.spec_from_file_location("torch_model", argv[1])
    twin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(twin)
    torch.set_num_threads(2)
    model = twin.CT3DNet()
    twin.keras_like_init(model, seed=1337)
    model.eval()
    i, j, k = np.meshgrid(np.arange(128), np.arange(128), np.arange(64), indexing="ij")
    x = (((i * 131 + j * 71 + k * 29) % 256) / 255).astype(np.float32)
    with torch.no_grad():
        y = model(torch.from_numpy(x)[None, None])
    sums = {name: float(t.double().sum()) for name, t in model.state_dict().items() if t.is_floating_point()}
    json.dump({
        "torch": torch.__version__,
        "seed": 1337,
        "input": "x[i,j,k] = ((i*131 + j*71 + k*29) % 256) / 255, float32, 1x1x128x128x64",
        "block1KernelFirstValues": [float(v) for v in model.block1[0].weight.flatten()[:8]],
        "stateSums": sums,
        "output": float(y.item()),
    }, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main(sys.argv)
