#!/usr/bin/env python3
"""Keras (TensorFlow backend) on the seed network: the seed's own framework.

Trains the seed CNN exactly as the Keras article that started convbench
writes it (Sequential, Conv2D/MaxPooling2D/Dense with default initializers,
Adam defaults, sparse categorical cross-entropy, model.fit with shuffle), on
the IDX files read by scripts/peer_common.py, and times the seed's conv
layers per pass; writes results/peers/keras-<label>.json (tuned) and
results/peers/keras-as-installed-<label>.json (<label>: the machine's). TensorFlow comes from PyPI's
tensorflow-cpu in build/peers-venv (`make peers`); run under another python
the script re-runs itself with the venv's. `--help` lists the options.

TensorFlow links no BLAS library: its matrix products and convolutions run on
Eigen and oneDNN on TF's own intra-op thread pool, so there is no second pool
to set to 1; its inter-op pool (independent ops run side by side) is set to 1
in the tuned configuration instead.

Epoch time: model.fit's training steps only (from on_epoch_begin to the start
of the validation pass), as `convbench train` times its epochs. Epoch 1
includes tracing the training function, as a Keras user sees it.

Conv timings: each pass is a tf.function (compiled like the training step)
around tf.nn.conv2d + bias_add (forward), Conv2DBackpropInput (backward_data)
and Conv2DBackpropFilter + the bias gradient (backward_weights), the ops
TensorFlow's Conv2D gradient runs; one call per pass, so the figure includes
TF's per-call dispatch (some microseconds).
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common as pc  # noqa: E402

# XLA for the training step and the conv timings of the tuned configuration
# (Keras's jit_compile). Off: on this CPU XLA's convolutions (Eigen) lose to
# TF's oneDNN kernels; the as-installed run keeps Keras's "auto".
TUNED_JIT = False
# Training steps per tf.function call in the tuned configuration (Keras's
# steps_per_execution): fewer Python round trips per epoch; same arithmetic.
TUNED_STEPS_PER_EXECUTION = 50


def _onednn(tf):
    try:
        from tensorflow.python.util import _pywrap_util_port
        return bool(_pywrap_util_port.IsMklEnabled()) and \
            os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") not in ("0", "false", "False")
    except ImportError:
        return None


class Keras:
    name = "keras"
    title = "Keras"
    interpreters = (pc.VENV_PYTHON,)

    def probe(self):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf
        import keras
        build = {"framework": self.title,
                 "framework_version": "keras %s, tensorflow %s" % (keras.__version__,
                                                                   tf.__version__),
                 "keras": keras.__version__, "tensorflow": tf.__version__,
                 "package": "tensorflow-cpu %s (PyPI)" % tf.__version__,
                 "python": sys.version.split()[0], "python_executable": pc.repo_relative(sys.executable),
                 "compiler": tf.sysconfig.get_build_info().get("cpu_compiler", "unknown"),
                 "onednn": _onednn(tf), "blas": "none (Eigen and oneDNN on TF's thread pools)"}
        # oneDNN picks its ISA at run time: the best the CPU has
        return build, pc.isa_supported()

    def describe(self, config):
        if config == "tuned":
            return ("process pinned to N cores (one PU per core); TF intra-op threads N, "
                    "inter-op threads 1; no BLAS pool (Eigen/oneDNN run on the intra-op pool); "
                    "oneDNN ops on (TF's default); jit_compile=%s; steps_per_execution=%d; "
                    "MALLOC_MMAP_THRESHOLD_=%s, "
                    "MALLOC_TRIM_THRESHOLD_=%s; first layer's input needs no gradient (inputs "
                    "are not variables)" % (TUNED_JIT, TUNED_STEPS_PER_EXECUTION, pc.MALLOC_ENV["MALLOC_MMAP_THRESHOLD_"],
                                            pc.MALLOC_ENV["MALLOC_TRIM_THRESHOLD_"]))
        return ("process pinned to N cores (one PU per core); TF intra-op threads N and "
                "nothing else: inter-op pool, jit_compile (\"auto\"), steps_per_execution (1) and "
                "glibc malloc at their defaults")

    def env(self, config, threads):
        return dict(pc.MALLOC_ENV) if config == "tuned" else {}

    def worker(self, args, config, threads):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        if config == "tuned":
            tf.config.threading.set_inter_op_parallelism_threads(1)
        jit = TUNED_JIT if config == "tuned" else "auto"
        steps = TUNED_STEPS_PER_EXECUTION if config == "tuned" else 1
        settings = {"intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
                    "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
                    "jit_compile": jit, "steps_per_execution": steps, "onednn": _onednn(tf),
                    "first_input_requires_grad": False}
        runs = []
        if args.epochs:
            train_runs, settings["jit_compile_resolved"] = self.train(tf, args, config,
                                                                      threads, jit, steps)
            runs += train_runs
        if not args.no_conv:
            conv_jit = settings.get("jit_compile_resolved", jit is True)
            peak = pc.peak_gflops(pc.isa_supported(), threads)
            runs += pc.time_convs(self.name, config, threads, args,
                                  lambda s, p: self.conv_case(tf, s, p, conv_jit),
                                  lambda fn: fn.impl, peak)
        return runs, settings

    def train(self, tf, args, config, threads, jit, steps):
        import keras
        import numpy as np
        from keras import layers
        xi, yi = pc.load_idx(args.data, "train", args.limit)
        xt, yt = pc.load_idx(args.data, "t10k")
        to_x = lambda a: (a.astype(np.float32) / 255.0)[..., None]  # noqa: E731
        x, y, x_test, y_test = to_x(xi), yi.astype(np.int32), to_x(xt), yt.astype(np.int32)
        keras.utils.set_random_seed(args.seed)
        model = keras.Sequential([
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"), layers.Flatten(),
            layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax")])
        params = model.count_params()
        assert params == 93322, params
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=args.lr, beta_1=0.9,
                                                      beta_2=0.999, epsilon=1e-7),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                      jit_compile=jit, steps_per_execution=steps)
        n = x.shape[0]
        print("%s %s, %d threads: %d parameters, training on %d images, testing on %d, batch %d"
              % (self.title, config, threads, params, n, x_test.shape[0], args.batch),
              flush=True)
        runs = []
        peer = self

        class Clock(keras.callbacks.Callback):
            """Times each epoch's training steps; records the epoch with its test figures."""
            def on_epoch_begin(self, epoch, logs=None):
                self.t1 = None
                self.t0 = time.perf_counter()

            def on_test_begin(self, logs=None):       # validation starts: training ended
                if self.t1 is None:
                    self.t1 = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                t1 = self.t1 if self.t1 is not None else time.perf_counter()
                runs.append(pc.train_run(
                    peer.name, config, threads, args, n, epoch + 1, float(logs["loss"]),
                    float(logs["accuracy"]), float(logs["val_loss"]),
                    float(logs["val_accuracy"]), t1 - self.t0,
                    includes_tracing=epoch == 0))

        model.fit(x, y, batch_size=args.batch, epochs=args.epochs, shuffle=True, verbose=0,
                  validation_data=(x_test, y_test), callbacks=[Clock()])
        return runs, bool(model.jit_compile)

    @staticmethod
    def conv_case(tf, s, pass_, jit):
        n, c, h, w, k, r = s["n"], s["c"], s["h"], s["w"], s["k"], s["r"]
        p, q = pc.out_hw(s)
        g = tf.random.Generator.from_seed(42)
        x = g.uniform([n, h, w, c], -0.5, 0.5)
        wt = g.uniform([r, s["s"], c, k], -0.5, 0.5)
        bias = g.uniform([k], -0.5, 0.5)
        dy = g.uniform([n, p, q, k], -0.5, 0.5)
        strides, pad = [1, s["stride"], s["stride"], 1], "VALID" if s["pad"] == 0 else \
            [[0, 0], [s["pad"]] * 2, [s["pad"]] * 2, [0, 0]]
        cases = {
            "forward": lambda: tf.nn.bias_add(tf.nn.conv2d(x, wt, strides, pad), bias),
            "backward_data": lambda: tf.raw_ops.Conv2DBackpropInput(
                input_sizes=[n, h, w, c], filter=wt, out_backprop=dy, strides=strides,
                padding=pad if isinstance(pad, str) else "EXPLICIT",
                explicit_paddings=[] if isinstance(pad, str) else sum(pad, [])),
            "backward_weights": lambda: (tf.raw_ops.Conv2DBackpropFilter(
                input=x, filter_sizes=[r, s["s"], c, k], out_backprop=dy, strides=strides,
                padding=pad if isinstance(pad, str) else "EXPLICIT",
                explicit_paddings=[] if isinstance(pad, str) else sum(pad, [])),
                tf.reduce_sum(dy, [0, 1, 2])),
        }
        fn = tf.function(cases[pass_], jit_compile=bool(jit))
        fn.impl = "XLA:CPU" if jit else ("TF %s (oneDNN)" % {
            "forward": "Conv2D + BiasAdd", "backward_data": "Conv2DBackpropInput",
            "backward_weights": "Conv2DBackpropFilter + bias sum"}[pass_]
            if _onednn(tf) else "TF Eigen")
        return fn


if __name__ == "__main__":
    sys.exit(pc.main(Keras()))
