#!/usr/bin/python3
"""Times PyTorch CPU conv2d (forward, backward-data, backward-weight) for shapes given as
N,Cin,H,W,Cout,K,stride,pad; prints `gflops <shape> fwd bwd_data bwd_weight` per shape (best of repeats).
Run with Debian's python3-torch: /usr/bin/python3 bench/torch_conv.py --threads 2 1,64,128,128,64,3,1,1"""
import sys, time
import torch

def best(f, budget=0.3, rounds=5):
    f()
    t = time.perf_counter(); f(); one = max(time.perf_counter() - t, 1e-6)
    reps = max(1, int(budget / rounds / one))
    b = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(reps): f()
        b = min(b, (time.perf_counter() - t) / reps)
    return b

def main(argv):
    threads = 2
    shapes = []
    i = 0
    while i < len(argv):
        if argv[i] == "--threads": threads = int(argv[i + 1]); i += 2; continue
        shapes.append(tuple(int(v) for v in argv[i].split(","))); i += 1
    if not shapes: shapes = [(1, 64, 128, 128, 64, 3, 1, 1)]
    torch.set_num_threads(threads)
    print(f"torch {torch.__version__} threads {torch.get_num_threads()} mkldnn {torch.backends.mkldnn.is_available()}")
    with torch.no_grad():
        for (n, cin, h, w, cout, k, s, p) in shapes:
            x = torch.randn(n, cin, h, w); wt = torch.randn(cout, cin, k, k); b = torch.randn(cout)
            y = torch.nn.functional.conv2d(x, wt, b, s, p)
            dy = torch.randn_like(y)
            oh, ow = y.shape[2], y.shape[3]
            flops = 2.0 * n * cout * oh * ow * cin * k * k
            fwd = best(lambda: torch.nn.functional.conv2d(x, wt, b, s, p))
            bd = best(lambda: torch.ops.aten.convolution_backward(dy, x, wt, [cout], [s, s], [p, p], [1, 1], False, [0, 0], 1, [True, False, False]))
            bw = best(lambda: torch.ops.aten.convolution_backward(dy, x, wt, [cout], [s, s], [p, p], [1, 1], False, [0, 0], 1, [False, True, True]))
            print(f"gflops {n},{cin},{h},{w},{cout},{k},{s},{p} {flops / fwd / 1e9:.2f} {flops / bd / 1e9:.2f} {flops / bw / 1e9:.2f}")

if __name__ == "__main__":
    main(sys.argv[1:])
