#!/usr/bin/python3
"""Counts the twin's forward FLOPs by instrumenting it (forward hooks), independently of our ModelCost walk:
every Conv2d / Linear costs 2 x weight elements x output positions, every window attention 4 T^2 d per
window and head. Prints `flops <config> batch <b> lr <l> <count>`; the C# test pins these numbers.

    /usr/bin/python3 bench/twin/flops.py x4 1 64
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch
import torch.nn as nn

import ctmsr_twin


def count(cfg, batch, lr):
    net = ctmsr_twin.Denoiser(cfg).eval()
    total = [0]

    def layer_hook(mod, inp, out):
        positions = out.numel() // out.shape[1] if isinstance(mod, nn.Conv2d) else out.numel() // out.shape[-1]
        total[0] += 2 * mod.weight.numel() * positions

    def attention_hook(mod, inp, out):
        w, t, e = out.shape
        total[0] += 4 * w * t * t * e  # heads * d = e

    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            m.register_forward_hook(layer_hook)
    for m in net.modules():
        if isinstance(m, ctmsr_twin.WindowAttention):
            m.register_forward_hook(attention_hook)  # its qkv/proj Linear hooks count themselves
    s = cfg.scale
    with torch.no_grad():
        net(torch.zeros(batch, 3, s * lr, s * lr), torch.ones(batch), torch.zeros(batch, 3, lr, lr))
    return total[0]


if __name__ == "__main__":
    name, batch, lr = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    cfg = ctmsr_twin.Config.x4() if name == "x4" else ctmsr_twin.Config.small()
    print(f"flops {name} batch {batch} lr {lr} {count(cfg, batch, lr)}")
