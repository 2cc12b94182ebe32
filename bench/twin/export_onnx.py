#!/usr/bin/python3
"""Exports the twin's D(x; sigma, lq) to ONNX (opset 16) for the ONNX Runtime column of `ctmsr bench`.

usage: export_onnx.py OUT.onnx --config JSON --batch B --lr L [--seed S]
The graph has fixed shapes (x [B,3,sL,sL], sigma [B], lq [B,3,L,L] -> d [B,3,sL,sL]) and the timing
weights of ctmsr_twin.init_random: ONNX Runtime then runs the same function, at the same sizes, as the twin
and our engine. Written to a temporary name first and renamed, so a cache never holds a torn file.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch

import ctmsr_twin


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--config", required=True, help="the twin's Config fields as JSON")
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--lr", type=int, required=True)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    cfg = ctmsr_twin.Config(**json.loads(a.config))
    net = ctmsr_twin.Denoiser(cfg).eval()
    ctmsr_twin.init_random(net, a.seed)
    hr = a.lr * cfg.scale
    x = torch.randn(a.batch, 3, hr, hr)
    sigma = torch.ones(a.batch)
    lq = torch.randn(a.batch, 3, a.lr, a.lr)
    tmp = a.out + f".{os.getpid()}.tmp"
    with torch.no_grad():
        torch.onnx.export(net, (x, sigma, lq), tmp, input_names=["x", "sigma", "lq"], output_names=["d"],
                          opset_version=16, do_constant_folding=True)
    os.replace(tmp, a.out)
    print(json.dumps({"onnx": a.out, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
