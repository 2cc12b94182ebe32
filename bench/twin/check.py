#!/usr/bin/python3
"""Proves the twin computes CTMSR's D: loads a model fixture (param.*, input.*, output.D, act.*), runs
the twin in float32 (eval mode) and prints the relative L2 error of D and of each captured activation.
Exit 0 when D is within --bound (default 1e-4), 1 otherwise, 3 when torch is missing.

    /usr/bin/python3 bench/twin/check.py ../shared/fixtures/ctmsr_small.safetensors
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import torch
except ImportError as e:  # the caller (a test) skips on this code
    print(f"torch is not importable: {e}", file=sys.stderr)
    sys.exit(3)

import ctmsr_twin
import safetensors_io


def rel_l2(a, b):
    a, b = a.double(), b.double()
    return float((a - b).norm() / b.norm())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fixture")
    ap.add_argument("--bound", type=float, default=1e-4)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    tensors, meta = safetensors_io.load(args.fixture)
    cfg = ctmsr_twin.Config.from_metadata(meta)
    net = ctmsr_twin.Denoiser(cfg).eval()
    state = {k[len("param."):]: v for k, v in tensors.items() if k.startswith("param.")}
    net.load_state_dict(state, strict=True)  # every official key, no extra: the names are the checkpoint's
    capture = {}
    with torch.no_grad():
        d = net(tensors["input.x"], tensors["input.sigma"], tensors["input.lq"], capture)
    worst = 0.0
    for k, v in tensors.items():
        if k.startswith("act."):
            e = rel_l2(capture[k[len("act."):]], v)
            worst = max(worst, e)
            print(f"{k:40s} rel L2 {e:.2e}")
    e = rel_l2(d, tensors["output.D"])
    print(f"{'output.D':40s} rel L2 {e:.2e} (bound {args.bound:.0e})")
    ok = e < args.bound and worst < args.bound
    print(f"twin {'MATCHES' if ok else 'DIFFERS FROM'} the fixture: D rel L2 {e:.3e}, worst activation {worst:.3e}, "
          f"{sum(p.numel() for p in net.parameters())} parameters, torch {torch.__version__}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
