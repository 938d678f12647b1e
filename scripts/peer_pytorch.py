#!/usr/bin/env python3
"""PyTorch on the seed network: the peer convbench must beat.

Trains the seed CNN in PyTorch (Debian's CPU-only python3-torch, under
/usr/bin/python3) with the Keras defaults the C trainer uses, and times the
seed's conv layers per pass; writes results/peers/pytorch-<label>.json (tuned) and
results/peers/pytorch-as-installed-<label>.json (<label>: the machine's). scripts/peer_common.py has the data
reader, timing, results schema and driver; `--help` lists the options.

Model: NCHW, as PyTorch users write it; the tuned configuration converts the
model and its inputs to channels_last (NHWC in memory, the layout oneDNN
prefers and PyTorch's CPU performance guide recommends for CNNs). Flatten order (c,h,w) instead of
Keras's (h,w,c) permutes dense weights only; the parameter count is the same
93,322. Loss: cross_entropy on logits, PyTorch's fused softmax + NLL (the
same function as softmax then sparse categorical cross-entropy). Adam: torch's
(eps added to sqrt(v_hat); Keras adds it to sqrt(v) before bias correction,
a difference of order eps).

Conv timings call the op autograd runs in training: aten::convolution for
forward (with bias) and aten::convolution_backward with an output mask for
backward_data (input gradient) and backward_weights (weight and bias
gradients); impl names the convolution backend aten selects for the shape
(Mkldnn: oneDNN; Slow2d: im2col + BLAS).
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common as pc  # noqa: E402


def _settings(torch, config, threads):
    """Applies the thread settings of a configuration; returns what is in force."""
    default = torch.get_num_threads()
    torch.set_num_threads(threads)                  # the thread count, in both
    if config == "tuned":
        torch.set_num_interop_threads(1)            # no inter-op parallelism in this net
    return {"framework_default_threads": default, "intra_op_threads": torch.get_num_threads(),
            "inter_op_threads": torch.get_num_interop_threads(),
            "first_input_requires_grad": False}


def _blas_library():
    """The BLAS shared object the process mapped (OpenBLAS variant matters)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line and ".so" in line}
        return ", ".join(sorted(os.path.realpath(p) for p in libs)) or "unknown"
    except OSError:
        return "unknown"


class PyTorch:
    name = "pytorch"
    title = "PyTorch"
    interpreters = (pc.DEBIAN_PYTHON,)

    def probe(self):
        import torch
        cfg = torch.__config__.show()
        cap = next((ln.split(":", 1)[1].strip() for ln in cfg.splitlines()
                    if "CPU capability usage" in ln), "unknown")
        isa = {"AVX512": "avx512", "AVX2": "avx2", "DEFAULT": "portable"}.get(cap, cap.lower())
        build = {"framework": self.title, "framework_version": torch.__version__,
                 "package": pc.package_version("python3-torch"),
                 "python": sys.version.split()[0], "python_executable": pc.repo_relative(sys.executable),
                 "cpu_capability": cap, "mkldnn": torch.backends.mkldnn.is_available(),
                 "blas": _blas_library(),
                 "compiler": next((ln.strip(" -") for ln in cfg.splitlines()
                                   if ln.strip().startswith("- GCC")), "unknown")}
        return build, isa

    def describe(self, config):
        if config == "tuned":
            return ("process pinned to N cores (one PU per core); torch.set_num_threads(N), "
                    "torch.set_num_interop_threads(1); channels_last model and inputs; "
                    "OMP_NUM_THREADS=N; OpenBLAS pool at 1 "
                    "(OPENBLAS_NUM_THREADS=1); MALLOC_MMAP_THRESHOLD_=%s, "
                    "MALLOC_TRIM_THRESHOLD_=%s; first layer's input needs no gradient"
                    % (pc.MALLOC_ENV["MALLOC_MMAP_THRESHOLD_"],
                       pc.MALLOC_ENV["MALLOC_TRIM_THRESHOLD_"]))
        return ("process pinned to N cores (one PU per core); torch.set_num_threads(N) and "
                "nothing else: NCHW tensors, OpenBLAS and glibc malloc at their defaults")

    def env(self, config, threads):
        if config != "tuned":
            return {}
        return dict(pc.MALLOC_ENV, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS="1")

    def worker(self, args, config, threads):
        import numpy as np
        import torch
        import torch.nn.functional as F
        settings = _settings(torch, config, threads)
        settings["blas"] = _blas_library()
        fmt = torch.channels_last if config == "tuned" else torch.contiguous_format
        settings["memory_format"] = str(fmt).replace("torch.", "")
        runs = []
        if args.epochs:
            runs += self.train(torch, F, np, args, config, threads, fmt)
        if not args.no_conv:
            peak = pc.peak_gflops(self.probe()[1], threads)
            runs += pc.time_convs(self.name, config, threads, args,
                                  lambda s, p: self.conv_case(torch, s, p, fmt), self.impl_of, peak)
        return runs, settings

    def train(self, torch, F, np, args, config, threads, fmt):
        nn = torch.nn
        xi, yi = pc.load_idx(args.data, "train", args.limit)
        xt, yt = pc.load_idx(args.data, "t10k")
        to_x = lambda a: torch.from_numpy(a.astype(np.float32) / 255.0).unsqueeze(1)  # noqa: E731
        x, y = to_x(xi), torch.from_numpy(yi.astype(np.int64))
        x_test, y_test = to_x(xt), torch.from_numpy(yt.astype(np.int64))
        torch.manual_seed(args.seed)
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(),
            nn.Linear(64 * 3 * 3, 64), nn.ReLU(), nn.Linear(64, 10))
        for m in model:
            if isinstance(m, (nn.Conv2d, nn.Linear)):     # Keras defaults
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        model = model.to(memory_format=fmt)
        params = sum(p.numel() for p in model.parameters())
        assert params == 93322, params
        opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-7)
        gen = torch.Generator().manual_seed(args.seed)
        n, b = x.shape[0], args.batch
        print("%s %s, %d threads: %d parameters, training on %d images, testing on %d, batch %d"
              % (self.title, config, threads, params, n, x_test.shape[0], b), flush=True)
        runs = []
        for epoch in range(1, args.epochs + 1):
            model.train()
            order = torch.randperm(n, generator=gen)
            loss_sum = torch.zeros((), dtype=torch.float64)
            right = torch.zeros((), dtype=torch.int64)
            t0 = time.perf_counter()
            for i in range(0, n, b):
                idx = order[i:i + b]
                xb, yb = x[idx].contiguous(memory_format=fmt), y[idx]  # no grad for xb
                out = model(xb)
                loss = F.cross_entropy(out, yb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                with torch.no_grad():
                    loss_sum += loss.double() * yb.shape[0]
                    right += (out.argmax(1) == yb).sum()
            seconds = time.perf_counter() - t0
            test_loss, test_acc = self.evaluate(torch, F, model, x_test, y_test, b, fmt)
            runs.append(pc.train_run(self.name, config, threads, args, n, epoch,
                                     loss_sum.item() / n, right.item() / n, test_loss, test_acc,
                                     seconds))
        return runs

    @staticmethod
    def evaluate(torch, F, model, x, y, batch, fmt):
        model.eval()
        loss, right = 0.0, 0
        with torch.no_grad():
            for i in range(0, x.shape[0], batch):
                out = model(x[i:i + batch].contiguous(memory_format=fmt))
                loss += F.cross_entropy(out, y[i:i + batch], reduction="sum").item()
                right += (out.argmax(1) == y[i:i + batch]).sum().item()
        return loss / x.shape[0], right / x.shape[0]

    @staticmethod
    def conv_case(torch, s, pass_, fmt):
        n, c, h, w, k, r = s["n"], s["c"], s["h"], s["w"], s["k"], s["r"]
        p, q = pc.out_hw(s)
        g = torch.Generator().manual_seed(42)
        x = torch.rand(n, c, h, w, generator=g) - 0.5
        wt = torch.rand(k, c, r, s["s"], generator=g) - 0.5
        bias = torch.rand(k, generator=g) - 0.5
        dy = torch.rand(n, k, p, q, generator=g) - 0.5
        x, wt, dy = (t.contiguous(memory_format=fmt) for t in (x, wt, dy))
        st, pad = [s["stride"]] * 2, [s["pad"]] * 2
        back = torch.ops.aten.convolution_backward
        cases = {
            "forward": lambda: torch.ops.aten.convolution(x, wt, bias, st, pad, [1, 1], False,
                                                          [0, 0], 1),
            "backward_data": lambda: back(dy, x, wt, [k], st, pad, [1, 1], False, [0, 0], 1,
                                          [True, False, False]),
            "backward_weights": lambda: back(dy, x, wt, [k], st, pad, [1, 1], False, [0, 0], 1,
                                             [False, True, True]),
        }
        fn = cases[pass_]

        def run():
            with torch.no_grad():
                return fn()
        # what aten's convolution (and so autograd) dispatches to for this shape
        select = getattr(torch._C, "_select_conv_backend", None)
        run.impl = ("aten ConvBackend.%s" % select(x, wt, bias, st, pad, [1, 1], False, [0, 0],
                                                   1).name if select else None)
        return run

    @staticmethod
    def impl_of(fn):
        return fn.impl


if __name__ == "__main__":
    sys.exit(pc.main(PyTorch()))
