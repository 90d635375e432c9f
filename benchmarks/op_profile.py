"""Where a training step's time goes: a TensorFlow profiler trace, summed by kind of op.

For the throughput cases in `CASES` (CycleGAN at 128 px, batch 1; the AC-GAN at 28 px, batch
64), the textbook step and ganpaint's model, float32 and mixed bfloat16, are traced for a
few steps with `tf.profiler.experimental`; every op kernel event
of the trace (the `name:type` events on TensorFlow's compute threads) is summed by category:
- convolution: Conv2D and its two backprops (oneDNN `_MklNative*` kernels here), matmul;
- optimizer: every op under an optimizer's name scope, and fused `ResourceApply*` kernels;
- cast: dtype casts (mixed precision casts float32 weights to bfloat16 at every call, and
  gradients back);
- normalization, activation: ops under layers named `*norm*` / element-wise activations;
- other: the rest (losses, concatenation, padding, ...).
Times are op time summed over threads per step (ops run in parallel, so the total exceeds
the step's wall time, which is reported beside it).

    python -m benchmarks --only profile
"""

from __future__ import annotations

import collections
import glob
import os
import re
import shutil
import tempfile
import time

import keras
import tensorflow as tf
from tensorflow.tsl.profiler.protobuf import xplane_pb2

from benchmarks import throughput

STEPS = 3
CASES = ("cyclegan128", "acgan28")  # batch 1 with large layers; batch 64 with small ones
CATEGORIES = ("convolution", "optimizer", "cast", "normalization", "activation", "other")
_OPTIMIZER_SCOPE = re.compile(r"^(fused_)?(adam|rmsprop|sgd|loss_scale_optimizer)(_\d+)?$")
_ACTIVATIONS = ("LeakyRelu", "Relu", "Tanh", "Sigmoid", "Elu", "Selu")


def category(op_name: str, op_type: str) -> str:
    scopes = op_name.split("/")
    if "Conv" in op_type or "MatMul" in op_type:
        return "convolution"
    if op_type.startswith("ResourceApply") or any(_OPTIMIZER_SCOPE.match(s) for s in scopes):
        return "optimizer"
    if op_type == "Cast":
        return "cast"
    if any("norm" in s for s in scopes):
        return "normalization"
    if op_type.startswith(_ACTIVATIONS):
        return "activation"
    return "other"


def trace(run_steps, steps=STEPS):
    """Op time (ms per step) by category and by op type, and the wall ms per step, of
    `run_steps(steps)` under the profiler."""
    logdir = tempfile.mkdtemp(prefix="ganpaint_profile_")
    try:
        tf.profiler.experimental.start(logdir)
        start = time.perf_counter()
        run_steps(steps)
        wall = (time.perf_counter() - start) / steps * 1000
        tf.profiler.experimental.stop()
        space = xplane_pb2.XSpace()
        with open(
            glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True)[0], "rb"
        ) as f:
            space.ParseFromString(f.read())
    finally:
        shutil.rmtree(logdir, ignore_errors=True)
    by_category, by_type = collections.Counter(), collections.Counter()
    for plane in space.planes:
        for line in plane.lines:
            for event in line.events:
                meta = plane.event_metadata[event.metadata_id]
                if ":" not in meta.name or not meta.display_name:
                    continue  # not an op kernel event
                ms = event.duration_ps / 1e9 / steps
                by_category[category(meta.name.split(":")[0], meta.display_name)] += ms
                by_type[meta.display_name] += ms
    return by_category, by_type, wall


def _textbook_runner(case, policy):
    step, _ = throughput._with_policy(policy, case.textbook)
    batch = case.batch()
    step(*batch)  # trace + warm up
    step(*batch)

    def run_steps(n):
        for _ in range(n):
            out = step(*batch)
        float(out)

    return run_steps


def _ganpaint_runner(case, policy):
    model = throughput._with_policy(policy, lambda: case.ganpaint(False, 1))
    batch = case.batch()
    data = tf.data.Dataset.from_tensors(batch if len(batch) > 1 else batch[0]).repeat()
    model.fit(data, steps_per_epoch=2, verbose=0)  # build and trace
    iterator = iter(data)

    def run_steps(n):
        for _ in range(n):
            logs = model.train_function(iterator)
        float(keras.ops.convert_to_numpy(next(iter(logs.values()))))

    return run_steps


def run(cases=CASES) -> dict:
    """Traces of each of `cases` (names of `throughput.CASES`): each implementation in float32
    and mixed bfloat16."""
    rows, top_ops = [], {}
    for i, name in enumerate(cases):
        case = throughput.CASES[name]()
        if i == 0:
            trace(_textbook_runner(case, "float32"), steps=1)  # the first session runs slow
        for implementation, runner in (
            ("textbook", _textbook_runner),
            ("ganpaint", _ganpaint_runner),
        ):
            for precision, policy in (("float32", "float32"), ("bfloat16", "mixed_bfloat16")):
                by_category, by_type, wall = trace(runner(case, policy))
                row = {
                    "case": case.name,
                    "implementation": implementation,
                    "precision": precision,
                    "wall_ms_per_step": round(wall, 1),
                    "op_ms_per_step": round(sum(by_category.values()), 1),
                    "tensorflow": tf.__version__,
                }
                row.update({f"{c}_ms": round(by_category[c], 1) for c in CATEGORIES})
                rows.append(row)
                top_ops[f"{case.name}: {implementation} {precision}"] = {
                    t: round(ms, 1) for t, ms in by_type.most_common(8)
                }
                print(row, flush=True)
    return {
        "benchmark": "profile",
        "rows": rows,
        "top_op_types_ms": top_ops,
        "tensorflow": tf.__version__,
        "cpu_count": os.cpu_count(),
    }
