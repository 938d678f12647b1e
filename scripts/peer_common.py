"""What the peer scripts (peer_pytorch.py, peer_keras.py) share: the IDX
reader, the seed's conv shapes, timing, the machine and context of a
convbench results file, atomic writes, and the driver that runs each
configuration x thread count in its own process.

A peer measures one framework on the seed network, the way convbench
measures its backends:
  - "train" runs: the seed CNN trained with Keras defaults (glorot-uniform,
    zero biases, Adam 1e-3/0.9/0.999/1e-7, batch 32, sparse categorical
    cross-entropy, shuffled each epoch) on the same IDX files; one run per
    epoch with the fields `convbench train --json` writes.
  - "conv" runs: the seed's three conv layers at batch 32 and 64, each pass
    (forward with bias, backward_data, backward_weights with bias gradient),
    repetitions of timed loops, the same fields as `convbench bench`.

Thread settings must be in place before the framework is imported, so every
(configuration, threads) pair runs in a child process (this script again,
with --worker) pinned to that many cores, one PU per core:
  as-installed  the affinity only; the framework's defaults otherwise
  tuned         the framework's intra-op threads = thread count, its inter-op
                pool and any BLAS pool at 1, glibc's malloc thresholds raised
                (large tensors stay in the heap instead of being unmapped and
                faulted in again every step), plus the peer's own settings.

One results file per configuration and machine:
results/peers/<peer>-<label>.json (tuned) and
results/peers/<peer>-as-installed-<label>.json, <label> the machine's;
schema "convbench-results/1", kind
"peer", context.peer says how it was run. If the framework cannot be
imported the file is still written, with no runs and
context.peer.status "not measured" and the reason.
"""
import argparse
import gzip
import json
import math
import os
import subprocess
import sys
import tempfile
import time

SCHEMA = "convbench-results/1"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
DEFAULT_OUT = os.path.join(ROOT, "results", "peers")
VENV_PYTHON = os.path.join(ROOT, "build", "peers-venv", "bin", "python")
DEBIAN_PYTHON = "/usr/bin/python3"
MODEL = "models/seed_cnn.net"
CONFIGS = ("tuned", "as-installed")
PASSES = ("forward", "backward_data", "backward_weights")

# glibc's largest mmap threshold on 64-bit (HEAP_MAX_SIZE / 2); larger values
# are ignored. Every tensor of the seed network is far below it.
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}
# Inherited settings that would silently change a configuration.
CLEARED_ENV = ("OMP_NUM_THREADS", "OMP_PROC_BIND", "OMP_PLACES", "OMP_DYNAMIC",
               "OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "MKL_NUM_THREADS",
               "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_ARENA_MAX",
               "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "TF_ENABLE_ONEDNN_OPTS",
               "TF_XLA_FLAGS", "CONVBENCH_ISA")


# ---- data: IDX files, gzipped or not (as models/data.c) -------------------

class DataError(Exception):
    pass


def _find(directory, name):
    for path in (os.path.join(directory, name), os.path.join(directory, name + ".gz")):
        if os.path.isfile(path):
            return path
    raise DataError("%s/%s[.gz]: no such file (is the data set installed? --data DIR names "
                    "another)" % (directory, name))


def _open(path):
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else open(path, "rb")


def _read_exact(f, nbytes, path, what):
    try:
        data = f.read(nbytes)
    except (OSError, EOFError) as e:    # corrupt or cut gzip stream
        raise DataError("%s: truncated or corrupt %s: %s" % (path, what, e))
    if len(data) != nbytes:
        raise DataError("%s: truncated: %d of %d %s bytes" % (path, len(data), nbytes, what))
    return data


def _idx_header(f, path, magic, ndims):
    hdr = _read_exact(f, 4 * (1 + ndims), path, "header")
    words = [int.from_bytes(hdr[i:i + 4], "big") for i in range(0, len(hdr), 4)]
    if words[0] != magic:
        raise DataError("%s: bad magic number 0x%08x (want 0x%08x: not an IDX %s file)"
                        % (path, words[0], magic, "image" if ndims == 3 else "label"))
    return words[1:]


def load_idx(directory, prefix, limit=0, classes=10):
    """(images uint8 [n,h,w], labels uint8 [n]) of DIR/PREFIX-*-idx?-ubyte[.gz]."""
    import numpy as np
    ipath = _find(directory, prefix + "-images-idx3-ubyte")
    lpath = _find(directory, prefix + "-labels-idx1-ubyte")
    with _open(ipath) as fi, _open(lpath) as fl:
        n, h, w = _idx_header(fi, ipath, 0x803, 3)
        (nl,) = _idx_header(fl, lpath, 0x801, 1)
        if not n or not h or not w or h > 4096 or w > 4096 or n > 1 << 28:
            raise DataError("%s: implausible dimensions %ux%ux%u" % (ipath, n, h, w))
        if nl != n:
            raise DataError("%s holds %u labels but %s holds %u images" % (lpath, nl, ipath, n))
        if 0 < limit < n:
            n = limit
        images = np.frombuffer(_read_exact(fi, n * h * w, ipath, "data"), np.uint8)
        labels = np.frombuffer(_read_exact(fl, n, lpath, "data"), np.uint8)
    bad = np.flatnonzero(labels >= classes)
    if bad.size:
        raise DataError("%s: label %d of item %d is out of range 0..%d"
                        % (lpath, labels[bad[0]], bad[0], classes - 1))
    return images.reshape(n, h, w), labels


# ---- the seed's conv layers (harness/shape_sets.c, set "seed") -----------------

SEED_LAYERS = (("conv1", 28, 28, 1, 32), ("conv2", 13, 13, 32, 64), ("conv3", 5, 5, 64, 64))


def seed_shapes(batches):
    """(layer, shape dict) for each seed layer at each batch size."""
    for n in batches:
        for layer, h, w, c, k in SEED_LAYERS:
            yield layer, {"n": n, "h": h, "w": w, "c": c, "k": k, "r": 3, "s": 3,
                          "stride": 1, "pad": 0}


def out_hw(s):
    return ((s["h"] + 2 * s["pad"] - s["r"]) // s["stride"] + 1,
            (s["w"] + 2 * s["pad"] - s["s"]) // s["stride"] + 1)


def conv_flops(s):
    p, q = out_hw(s)
    return 2.0 * s["n"] * s["k"] * s["c"] * s["r"] * s["s"] * p * q


# ---- timing ---------------------------------------------------------------

def stats(v):
    """(median, min, max) as results_stats computes them."""
    s = sorted(v)
    n = len(s)
    return (s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])), s[0], s[-1]


def measure(fn, repetitions, min_time):
    """Seconds per call of fn: repetitions of a loop of `iterations` calls,
    iterations chosen so one repetition lasts >= min_time. (times, iterations)"""
    fn()
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-9)
    iterations = max(1, math.ceil(min_time / once))
    times = []
    for _ in range(repetitions):
        t0 = time.perf_counter()
        for _ in range(iterations):
            fn()
        times.append((time.perf_counter() - t0) / iterations)
    return times, iterations


def conv_run(backend, config, layer, pass_, shape, threads, times, iterations, impl, peak):
    """A "conv" run with the fields results_conv_run writes, plus config."""
    med, mn, mx = stats(times)
    flops = conv_flops(shape)
    gflops = flops / med * 1e-9
    return {
        "type": "conv",
        "name": "seed/%s/b%d/%s/%s" % (layer, shape["n"], backend, pass_),
        "set": "seed", "layer": layer, "backend": backend, "config": config, "pass": pass_,
        "shape": dict(shape), "threads": threads, "repetitions": len(times),
        "iterations": iterations, "times_s": list(times), "median_s": med, "min_s": mn,
        "max_s": mx, "flops": flops, "gflops": gflops,
        "peak_gflops": peak if peak else None,
        "pct_peak": 100.0 * gflops / peak if peak else None,
        "impl": impl,
        # backward_data of the first layer is never run in training
        "in_training": not (layer == "conv1" and pass_ == "backward_data"),
    }


def time_convs(backend, config, threads, args, make_case, impl_of, peak):
    """Times every seed layer x batch x pass. make_case(shape, pass) returns a
    callable running that pass once; impl_of(fn) names what it runs."""
    runs = []
    for layer, shape in seed_shapes(args.conv_batches):
        for p in PASSES:
            fn = make_case(shape, p)
            times, iterations = measure(fn, args.repetitions, args.min_time)
            run = conv_run(backend, config, layer, p, shape, threads, times, iterations,
                           impl_of(fn), peak)
            print("  %-28s %2d thr %9.3f ms %7.1f GFLOP/s" % (
                run["name"], threads, run["median_s"] * 1e3, run["gflops"]), flush=True)
            runs.append(run)
    return runs


# ---- training records -----------------------------------------------------

def train_run(backend, config, threads, args, images, epoch, loss, accuracy, test_loss,
              test_accuracy, seconds, **extra):
    """A "train" run with the fields `convbench train --json` writes."""
    r = {"type": "train", "backend": backend, "config": config, "model": MODEL,
         "threads": threads, "batch": args.batch, "images": images, "seed": args.seed,
         "lr": args.lr, "epoch": epoch, "epochs": args.epochs, "loss": loss,
         "accuracy": accuracy, "test_loss": test_loss, "test_accuracy": test_accuracy,
         "seconds": seconds, "images_per_s": images / seconds}
    r.update(extra)
    print("Epoch %d/%d: %.1fs %.0f images/s - loss: %.4f - accuracy: %.4f - test_loss: %.4f"
          " - test_accuracy: %.4f" % (epoch, args.epochs, seconds, r["images_per_s"], loss,
                                      accuracy, test_loss, test_accuracy), flush=True)
    return r


# ---- machine and context (as harness/machine.c, results.c write them) -----


def _read(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def cpu_flags():
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def isa_supported():
    f = cpu_flags()
    return "avx512" if "avx512f" in f else "avx2" if {"avx2", "fma"} <= f else "portable"


def _topology():
    """{pu: (package, core)} of the online CPUs."""
    topo = {}
    for pu in sorted(os.sched_getaffinity(0) | set(range(os.cpu_count() or 1))):
        base = "/sys/devices/system/cpu/cpu%d/topology/" % pu
        pkg, core = _read(base + "physical_package_id"), _read(base + "core_id")
        if pkg and core:
            topo[pu] = (int(pkg), int(core))
    return topo


def core_cpus(threads):
    """The first `threads` allowed PUs, one per physical core (or None)."""
    topo, seen, picked = _topology(), set(), []
    for pu in sorted(os.sched_getaffinity(0)):
        key = topo.get(pu, (0, pu))
        if key not in seen:
            seen.add(key)
            picked.append(pu)
    return picked[:threads] if len(picked) >= threads else None


def machine():
    """The machine as convbench's own results files describe it (one writer,
    `convbench info --print-machine`: CPU identity, fingerprint, label,
    topology, caches, ISA flags), so that a peer's file and convbench's
    files of the same CPU are one machine to every reader."""
    exe = os.path.join(ROOT, "build", "convbench")
    try:
        out = subprocess.run((exe, "info", "--print-machine"), capture_output=True, text=True,
                             timeout=60, cwd=ROOT)
        if out.returncode == 0:
            return json.loads(out.stdout)
        why = out.stderr.strip()
    except (OSError, subprocess.SubprocessError, ValueError) as e:
        why = str(e)
    sys.exit("peer: cannot describe the machine with %s (run make first): %s" % (exe, why))


def _git(*cmd):
    try:
        return subprocess.run(("git", "-C", ROOT) + cmd, capture_output=True, text=True,
                              timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None


def package_version(name):
    """The installed Debian package's version, or None."""
    try:
        out = subprocess.run(("dpkg-query", "-W", "-f=${Version}", name), capture_output=True,
                             text=True, timeout=30)
        return "%s %s" % (name, out.stdout) if out.returncode == 0 and out.stdout else None
    except (OSError, subprocess.SubprocessError):
        return None


def loadavg():
    """The 1-minute load average: a shared machine's timings need it."""
    try:
        return float(_read("/proc/loadavg").split()[0])
    except (ValueError, IndexError):
        return None


def repo_relative(path):
    """A path inside the source tree as seen from its root: results files
    name the project's files, not where a checkout happens to live."""
    full = os.path.abspath(path)
    return os.path.relpath(full, ROOT) if full.startswith(ROOT + os.sep) else path


def context(argv, threads, isa, build, peer):
    commit = (_git("rev-parse", "HEAD") or "").strip()
    status = _git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"machine": machine(), "build": build,
            "git_commit": commit or "unknown",
            "git_dirty": bool(status.strip()) if status is not None else None,
            "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "command_line": " ".join(a if a and not set(a) & set(" \t\"'") else "'%s'" % a
                                     for a in [repo_relative(argv[0])] + list(argv[1:])),
            "threads": threads, "isa": isa, "isa_supported": isa_supported(),
            "framework": build.get("framework"),
            "framework_version": build.get("framework_version"),
            "peer": peer}


def machine_file():
    """This machine's file in results/, as convbench finds it (by the CPU's
    fingerprint, never the host name), or None."""
    exe = os.path.join(ROOT, "build", "convbench")
    try:
        out = subprocess.run((exe, "info", "--print-path"), capture_output=True, text=True,
                             timeout=60, cwd=ROOT)
    except (OSError, subprocess.SubprocessError):
        return None
    path = out.stdout.strip()
    return os.path.join(ROOT, path) if out.returncode == 0 and path else None


def peak_gflops(isa, threads):
    """The fp32 FMA peak from this machine's file in results/, or None."""
    path = machine_file()
    if not path:
        return None
    try:
        with open(path) as f:
            doc = json.load(f)
        for r in doc.get("runs", []):
            if r.get("type") == "peak" and r.get("isa") == isa and r.get("threads") == threads:
                return float(r["gflops"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def write_atomic(path, doc):
    """Temporary file in the same directory, fsync, rename: never half a file."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".tmp.", dir=d)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    dfd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


# ---- installation (`make peers`) -------------------------------------------

# The version the committed results were measured with; any other with a
# wheel for the venv's python is taken if it has none.
TF_REQUIREMENT = "tensorflow-cpu==2.21.0"


def _run(cmd, echo=True, **kw):
    if echo:
        print("peers: " + " ".join(cmd), flush=True)
    try:
        return subprocess.run(cmd, **kw).returncode
    except OSError as e:
        print("peers: %s: %s" % (cmd[0], e), file=sys.stderr)
        return 127


def _apt_install(pkg):
    """Installs a Debian package; None, or why not."""
    if not os.path.exists("/usr/bin/dpkg-query"):
        return "not a Debian system: install %s by hand" % pkg
    if package_version(pkg):
        return None
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    if sudo and not any(os.access(os.path.join(d, "sudo"), os.X_OK)
                        for d in os.environ.get("PATH", "").split(os.pathsep)):
        return "%s is not installed and installing it needs root (or sudo)" % pkg
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    policy = subprocess.run(["apt-cache", "policy", pkg], capture_output=True, text=True).stdout
    if "Candidate:" not in policy or "Candidate: (none)" in policy:
        _run(sudo + ["apt-get", "update", "-qq"], env=env)
    if _run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends", pkg], env=env):
        return "apt-get install %s failed (see above)" % pkg
    return None


def install():
    """Installs what the peers need; prints what is missing and why. Never
    fails: the peers are optional."""
    missing = {}
    why = _apt_install("python3-torch")
    if why:
        missing["pytorch"] = why
    base = DEBIAN_PYTHON if os.path.exists(DEBIAN_PYTHON) else sys.executable
    ok_tf = [VENV_PYTHON, "-c", "import tensorflow, keras"]
    quiet = {"echo": False, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    if not os.path.exists(VENV_PYTHON):
        if _run([base, "-m", "venv", os.path.dirname(os.path.dirname(VENV_PYTHON))]) and \
                base == DEBIAN_PYTHON and not _apt_install("python3-venv"):
            _run([base, "-m", "venv", os.path.dirname(os.path.dirname(VENV_PYTHON))])
    if not os.path.exists(VENV_PYTHON):
        missing["keras"] = "cannot create the virtual environment %s (python3-venv?)" % \
            os.path.relpath(os.path.dirname(os.path.dirname(VENV_PYTHON)))
    elif _run(ok_tf, **quiet):
        pip = [VENV_PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        if _run(pip + [TF_REQUIREMENT]) and _run(pip + [TF_REQUIREMENT.split("=")[0]]):
            missing["keras"] = "pip could not install tensorflow-cpu in %s (network? no " \
                "wheel for python %s?)" % (os.path.relpath(VENV_PYTHON), sys.version.split()[0])
        elif _run(ok_tf, **quiet):
            missing["keras"] = "tensorflow-cpu installed but `import tensorflow, keras` fails"
    for peer in ("pytorch", "keras"):
        print("peers: %-8s %s" % (peer, "not measured: " + missing[peer] if peer in missing
                                   else "ready"), flush=True)
    return 0


# ---- the driver -----------------------------------------------------------

def _int_list(text):
    v = [int(x) for x in text.split(",") if x]
    if not v or min(v) < 1:
        raise argparse.ArgumentTypeError("want a list of positive integers, e.g. 1,2")
    return v


def _configs(text):
    v = [x for x in text.split(",") if x]
    if not v or set(v) - set(CONFIGS):
        raise argparse.ArgumentTypeError("configurations are tuned and as-installed")
    return v


def parse_args(peer, argv):
    ap = argparse.ArgumentParser(
        prog="%s" % os.path.basename(sys.argv[0]),
        description="Trains the seed CNN with %s and times its conv layers; writes "
                    "convbench results files (schema %s) under --out." % (peer.title, SCHEMA))
    ap.add_argument("--epochs", type=int, default=5, help="training epochs (default 5; 0: no "
                    "training)")
    ap.add_argument("--batch", type=int, default=32, help="training batch (default 32)")
    ap.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 0.001)")
    ap.add_argument("--seed", type=int, default=1, help="weights and shuffling (default 1)")
    ap.add_argument("--limit", type=int, default=0, help="train on the first N images only")
    ap.add_argument("--data", default=DEFAULT_DATA, help="IDX files (default %(default)s)")
    ap.add_argument("--threads", type=_int_list, default=[1, 2],
                    help="thread counts, one process each (default 1,2)")
    ap.add_argument("--configs", type=_configs, default=list(CONFIGS),
                    help="tuned,as-installed (default both)")
    ap.add_argument("--conv-batches", type=_int_list, default=[32, 64],
                    help="batch sizes of the conv timings (default 32,64)")
    ap.add_argument("--repetitions", type=int, default=9, help="conv timing repetitions "
                    "(default 9)")
    ap.add_argument("--min-time", type=float, default=0.05,
                    help="seconds per conv repetition at least (default 0.05)")
    ap.add_argument("--no-conv", action="store_true", help="skip the conv timings")
    ap.add_argument("--out", default=DEFAULT_OUT, help="results directory (default "
                    "results/peers)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)       # CONFIG:THREADS:OUTFILE
    a = ap.parse_args(argv)
    if a.epochs < 0 or a.batch < 1 or a.limit < 0 or a.repetitions < 1 or a.min_time < 0:
        ap.error("--epochs, --limit >= 0; --batch, --repetitions >= 1; --min-time >= 0")
    return a


def out_path(peer, config, out):
    """results/peers/<peer>[-<config>]-<machine label>.json: one file per
    machine, so that measuring on a second machine keeps the first's."""
    return os.path.join(out, "%s%s-%s.json" % (peer.name, "" if config == "tuned" else "-" + config,
                                               machine()["label"]))


def _worker_env(peer, config, threads):
    env = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
    added = peer.env(config, threads)
    env.update(added)
    return env, added


def _reexec(peer, argv, why):
    """Runs the script under the interpreter that has the framework, if any."""
    for py in peer.interpreters:
        if (os.path.exists(py) and os.path.realpath(py) != os.path.realpath(sys.executable)
                and not os.environ.get("CONVBENCH_PEER_REEXEC")):
            os.environ["CONVBENCH_PEER_REEXEC"] = "1"
            os.execv(py, [py, os.path.abspath(sys.argv[0])] + argv)
    return why


def main(peer, argv=None):
    """peer: name, title, interpreters, probe() -> (build dict, isa),
    env(config, threads) -> added environment, worker(args, config, threads)
    -> (runs, settings dict)."""
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(peer, argv)
    if args.worker:
        config, threads, out = args.worker.split(":", 2)
        load = loadavg()
        try:
            runs, settings = peer.worker(args, config, int(threads))
        except DataError as e:
            print("%s: %s" % (peer.name, e), file=sys.stderr)
            return 2
        settings["loadavg_before"], settings["loadavg_after"] = load, loadavg()
        with open(out, "w") as f:
            json.dump({"runs": runs, "settings": settings}, f)
        return 0

    try:
        build, isa = peer.probe()
    except Exception as e:          # ImportError, or a broken installation
        why = "cannot import %s under %s: %s" % (peer.title, sys.executable,
                                                 str(e).splitlines()[0] if str(e) else type(e).__name__)
        why = _reexec(peer, argv, why)
        hint = " (`make peers` installs it)"
        print("%s: not measured: %s%s" % (peer.name, why, hint), file=sys.stderr)
        for config in args.configs:
            doc = {"schema": SCHEMA, "kind": "peer",
                   "context": context([sys.argv[0]] + argv, max(args.threads),
                                      isa_supported(), {"framework": peer.title,
                                                        "framework_version": None},
                                      {"name": peer.name, "config": config,
                                       "status": "not measured", "reason": why}),
                   "runs": []}
            write_atomic(out_path(peer, config, args.out), doc)
        return 0
    try:                            # fail early, before any child runs
        if args.epochs:
            load_idx(args.data, "train", args.limit)
            load_idx(args.data, "t10k")
    except (DataError, OSError) as e:
        print("%s: %s" % (peer.name, e), file=sys.stderr)
        return 2

    rc = 0
    for config in args.configs:
        runs, workers, failures = [], [], []
        for threads in args.threads:
            cpus = core_cpus(threads)
            if cpus is None:
                failures.append("%d threads: fewer cores than that available" % threads)
                continue
            env, added = _worker_env(peer, config, threads)
            fd, tmp = tempfile.mkstemp(prefix="peer-", suffix=".json")
            os.close(fd)
            cmd = [sys.executable, os.path.abspath(sys.argv[0])] + argv + [
                "--worker", "%s:%d:%s" % (config, threads, tmp)]
            print("== %s %s, %d thread%s (cpus %s)%s" % (
                peer.name, config, threads, "s" if threads > 1 else "",
                ",".join(map(str, cpus)),
                "".join(" %s=%s" % kv for kv in sorted(added.items()))), flush=True)
            try:
                p = subprocess.run(cmd, env=env,
                                   preexec_fn=lambda c=cpus: os.sched_setaffinity(0, c))
                if p.returncode == 0:
                    with open(tmp) as f:
                        got = json.load(f)
                    runs += got["runs"]
                    workers.append({"threads": threads, "cpus": cpus, "env": added,
                                    **got["settings"]})
                else:
                    failures.append("%d threads: exit status %d" % (threads, p.returncode))
            finally:
                os.unlink(tmp)
        peer_ctx = {"name": peer.name, "config": config,
                    "status": "measured" if not failures else "partial",
                    "description": peer.describe(config), "workers": workers,
                    "data": os.path.abspath(args.data), "epochs": args.epochs,
                    "limit": args.limit}
        if failures:
            peer_ctx["failures"] = failures
            print("%s %s: failed: %s" % (peer.name, config, "; ".join(failures)),
                  file=sys.stderr)
            rc = 1
            if not workers:         # nothing measured: leave any earlier file alone
                continue
        doc = {"schema": SCHEMA, "kind": "peer",
               "context": context([sys.argv[0]] + argv, max(args.threads),
                                  isa, build, peer_ctx),
               "runs": runs}
        path = out_path(peer, config, args.out)
        write_atomic(path, doc)
        print("%s %s: wrote %s (%d runs)" % (peer.name, config, os.path.relpath(path), len(runs)),
              flush=True)
    return rc


if __name__ == "__main__":
    if sys.argv[1:] != ["install"]:
        sys.exit("usage: %s install   (the peers run from peer_pytorch.py, peer_keras.py)"
                 % sys.argv[0])
    sys.exit(install())
