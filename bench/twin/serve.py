#!/usr/bin/python3
"""Times the PyTorch side of `ctmsr bench`: one JSON request on stdin, one JSON answer on stdout
(or, with --lines, a line-per-message session that lets the caller alternate rounds; see interactive()).

Request:  {"threads": 2, "repeat": 5, "warmup": 1, "min_seconds": 0.2, "device": "cpu"|"cuda", "cases": [case, ...]}
Cases (sizes as in our engine; "pass" picks forward or backward):
  {"kind": "gemm", "m", "n", "k", "ta", "tb"}                          C = op(A) op(B)
  {"kind": "conv", "n", "cin", "h", "w", "cout", "k", "pad", "stride" (default 1), "pass": "fwd"|"bwd_data"|"bwd_weight"}
  {"kind": "attention", "windows", "ws", "heads", "d", "pass": "fwd"|"bwd"}   the twin's window attention core
  {"kind": "groupnorm", "n", "c", "h", "w", "groups", "eps", "pass": "fwd"|"bwd"}
  {"kind": "forward", "config": {...}, "batch", "lr"}     D(x; sigma=1, lq), eval, no grad
  {"kind": "train", "config": {...}, "batch", "lr"}       CT step: target D (no grad) + pred D + Charbonnier,
                                                          backward, AdamW (lr 5e-5, betas 0.9/0.9); dropout on
Answer:   {"torch": version, "threads": n, "device": d, "results": [{"seconds": median, "times": [...],
           "peak_bytes": int|null, "memory": "how peak_bytes was measured"}, ...]}
Kernel times are per call: each of `repeat` rounds runs enough calls to last min_seconds / repeat,
the median round is reported. Model cases time `repeat` single calls after `warmup` untimed ones.
Peak memory (model cases, weights and optimiser state included): on CPU the growth of the process's RSS
high-water mark over the case (VmHWM reset through /proc/self/clear_refs; ru_maxrss growth where that is
impossible, which needs one model case per process); on CUDA torch.cuda.max_memory_allocated.
"""
import json
import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch
import torch.nn.functional as F

import ctmsr_twin

DEVICE = "cpu"


def sync():
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def time_kernel(f, repeat, min_seconds):
    f(); sync()
    t = time.perf_counter(); f(); sync(); one = max(time.perf_counter() - t, 1e-7)
    reps = max(1, int(min_seconds / repeat / one))
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(reps):
            f()
        sync()
        times.append((time.perf_counter() - t) / reps)
    return times


def time_calls(f, repeat, warmup=1):
    for _ in range(warmup):
        f(); sync()
    times = []
    for _ in range(repeat):
        t = time.perf_counter(); f(); sync()
        times.append(time.perf_counter() - t)
    return times


def proc_status(key):
    """A /proc/self/status memory field in bytes (0 where /proc is absent)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def reset_hwm():
    """Resets VmHWM to the current RSS (Linux >= 4.0: write 5 to /proc/self/clear_refs); False where impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return proc_status("VmHWM") > 0
    except OSError:
        return False


def randn(*shape):
    return torch.randn(*shape, device=DEVICE)


def kernel_fn(c):
    kind = c["kind"]
    if kind == "gemm":
        m, n, k = c["m"], c["n"], c["k"]
        a = randn(k, m).t() if c.get("ta") else randn(m, k)
        b = randn(n, k).t() if c.get("tb") else randn(k, n)
        out = torch.empty(m, n, device=DEVICE)
        return lambda: torch.mm(a, b, out=out)
    if kind == "conv":
        n, cin, h, w, cout, k, p = c["n"], c["cin"], c["h"], c["w"], c["cout"], c["k"], c["pad"]
        st = c.get("stride", 1)
        x, wt, b = randn(n, cin, h, w), randn(cout, cin, k, k), randn(cout)
        if c["pass"] == "fwd":
            return lambda: F.conv2d(x, wt, b, st, p)
        dy = torch.randn_like(F.conv2d(x, wt, b, st, p))
        mask = [True, False, False] if c["pass"] == "bwd_data" else [False, True, True]
        return lambda: torch.ops.aten.convolution_backward(dy, x, wt, [cout], [st, st], [p, p], [1, 1], False, [0, 0], 1, mask)
    if kind == "attention":
        heads, d, ws = c["heads"], c["d"], c["ws"]
        att = ctmsr_twin.WindowAttention(heads * d, heads, ws).to(DEVICE)
        with torch.no_grad():
            att.relative_position_bias_table.normal_(0, 0.02)
        qkv = randn(c["windows"], ws * ws, 3 * heads * d)
        if c["pass"] == "fwd":
            def fwd():
                with torch.no_grad():
                    return att.attend(qkv)
            return fwd
        qkv.requires_grad_(True)
        y = att.attend(qkv)
        dy = torch.randn_like(y)
        return lambda: torch.autograd.grad(y, [qkv, att.relative_position_bias_table], dy, retain_graph=True)
    if kind == "groupnorm":
        x, g, b = randn(c["n"], c["c"], c["h"], c["w"]), randn(c["c"]), randn(c["c"])
        if c["pass"] == "fwd":
            return lambda: F.group_norm(x, c["groups"], g, b, c["eps"])
        for t in (x, g, b):
            t.requires_grad_(True)
        y = F.group_norm(x, c["groups"], g, b, c["eps"])
        dy = torch.randn_like(y)
        return lambda: torch.autograd.grad(y, [x, g, b], dy, retain_graph=True)
    raise ValueError(f"unknown case kind {kind}")


def model_case(c, repeat):
    cfg = ctmsr_twin.Config(**c["config"])
    b, lr = c["batch"], c["lr"]
    hr = lr * cfg.scale
    net = ctmsr_twin.Denoiser(cfg)
    ctmsr_twin.init_random(net, 1)
    net = net.to(DEVICE)
    lq = randn(b, 3, lr, lr)
    if c["kind"] == "forward":
        net.eval()
        x, sigma = randn(b, 3, hr, hr), torch.ones(b, device=DEVICE)

        def step():
            with torch.no_grad():
                return net(x, sigma, lq)
    else:
        net.train()
        opt = torch.optim.AdamW(net.parameters(), lr=5e-5, betas=(0.9, 0.9), eps=1e-8, weight_decay=0)
        xn, xn1 = randn(b, 3, hr, hr), randn(b, 3, hr, hr)
        sn, sn1 = torch.full((b,), 1 / 3, device=DEVICE), torch.full((b,), 2 / 3, device=DEVICE)

        def step():
            with torch.no_grad():
                target = net(xn, sn, lq)
            pred = net(xn1, sn1, lq)
            loss = torch.sqrt((pred - target) ** 2 + 1e-12).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return step


def main():
    global DEVICE
    req = json.load(sys.stdin)
    torch.set_num_threads(int(req.get("threads", 2)))
    DEVICE = req.get("device", "cpu")
    if DEVICE == "cuda" and not torch.cuda.is_available():
        DEVICE = "cpu"
    repeat, min_seconds = int(req.get("repeat", 5)), float(req.get("min_seconds", 0.2))
    torch.manual_seed(0)
    results = []
    for c in req["cases"]:
        if c["kind"] in ("forward", "train"):
            if DEVICE == "cuda":
                torch.cuda.reset_peak_memory_stats()
                base = torch.cuda.memory_allocated()
            else:
                base, reset = proc_status("VmRSS"), reset_hwm()
                if not reset:
                    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            times = time_calls(model_case(c, repeat), repeat, int(req.get("warmup", 1)))
            if DEVICE == "cuda":
                peak, how = torch.cuda.max_memory_allocated() - base, "torch.cuda.max_memory_allocated growth"
            elif reset:
                peak, how = proc_status("VmHWM") - base, "growth of the process's RSS high-water mark (VmHWM, reset before the case)"
            else:
                peak, how = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base, "ru_maxrss growth (process RSS high-water mark)"
        else:
            times = time_kernel(kernel_fn(c), repeat, min_seconds)
            peak, how = None, None
        results.append({"seconds": statistics.median(times), "times": times, "peak_bytes": peak, "memory": how})
    json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(), "device": DEVICE,
               "mkldnn": torch.backends.mkldnn.is_available(), "results": results}, sys.stdout)
    sys.stdout.write("\n")
    return 0


def interactive():
    """`serve.py --lines`: a session of one JSON object per line each way, so the caller can alternate our
    rounds with torch's (fair under a fluctuating load). Requests:
      {"op": "config", "threads", "device"}                  -> {"torch", "threads", "device"}
      {"op": "setup", "case": kernel case, "round_seconds"}  -> {"ok": true}  (warm-up, calls per round fixed)
      {"op": "round"}                                        -> {"seconds": per-call time of one round}
    """
    global DEVICE
    fn, reps = None, 1
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        op = req["op"]
        if op == "config":
            torch.set_num_threads(int(req.get("threads", 2)))
            DEVICE = req.get("device", "cpu")
            if DEVICE == "cuda" and not torch.cuda.is_available():
                DEVICE = "cpu"
            torch.manual_seed(0)
            answer = {"torch": torch.__version__, "threads": torch.get_num_threads(), "device": DEVICE}
        elif op == "setup":
            fn = None
            fn = kernel_fn(req["case"])
            fn(); sync()
            t = time.perf_counter(); fn(); sync(); one = max(time.perf_counter() - t, 1e-7)
            reps = max(1, int(float(req.get("round_seconds", 0.2)) / one))
            answer = {"ok": True}
        elif op == "round":
            t = time.perf_counter()
            for _ in range(reps):
                fn()
            sync()
            answer = {"seconds": (time.perf_counter() - t) / reps}
        else:
            answer = {"error": f"unknown op {op}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(interactive() if "--lines" in sys.argv[1:] else main())
