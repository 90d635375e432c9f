"""Pick the `tf.distribute` strategy for the machine a notebook runs on, and the few things
every piece of ganpaint needs to know about it.

>>> strategy = get_strategy()            # TPU, several GPUs, TF_CONFIG workers, or the default
>>> with strategy.scope():               # build networks and compile inside
...     model = ...
>>> batch = global_batch_size(16, strategy)   # 16 per replica

Under every strategy, ganpaint models weight each example's loss by 1 / (global batch), so a
step on 8 TPU cores with a global batch of 64 updates the weights as one device would with the
same 64 images, a partial last batch included (`batch_share`). Batch norm is synchronised
across replicas and dropout and noise are drawn for the whole global batch, each replica
taking its slice (docs/distributed.md lists what still differs, and why).

Reading a number out of a variable under a strategy (`MirroredVariable`,
`TPUMirroredVariable`) goes through `value`, never `float(v)`, which these variables refuse.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import shutil
import tempfile
import threading

import numpy as np
import tensorflow as tf

log = logging.getLogger(__name__)

# -- reading values ------------------------------------------------------------------------------


def value(x):
    """A Python number (or a numpy array) from a variable, a tensor or a number: works on
    `MirroredVariable`s and `TPUMirroredVariable`s, which `float(v)` refuses, in the
    cross-replica context (callbacks, `fit`'s caller)."""
    import keras

    array = np.asarray(keras.ops.convert_to_numpy(x))
    return array.item() if array.ndim == 0 else array


# -- the TPU -------------------------------------------------------------------------------------

# TPU chips' PCI ids (Google's vendor id, then v2/v3, v4, v5p, v5e, v6e, 7x), as JAX's
# hardware_utils reads them: a TPU VM without /dev/accel* (v5e, v6e) still lists its chips.
_GOOGLE_PCI_VENDOR = "0x1ae0"
_TPU_PCI_DEVICES = ("0x0027", "0x0056", "0x005e", "0x0062", "0x0063", "0x006f", "0x0076")


def tpu_vm_present(root: str = "/") -> bool:
    """Whether this machine has TPU chips attached (a TPU VM: Kaggle's and Cloud's current
    TPUs): `/dev/accel*` (v2-v4), or a Google TPU among the PCI devices (v5e, v6e, ...)."""
    if glob.glob(os.path.join(root, "dev", "accel*")):
        return True
    for device in glob.glob(os.path.join(root, "sys", "bus", "pci", "devices", "*")):
        try:
            with open(os.path.join(device, "vendor")) as f:
                vendor = f.read().strip()
            if vendor != _GOOGLE_PCI_VENDOR:
                continue
            with open(os.path.join(device, "device")) as f:
                if f.read().strip() in _TPU_PCI_DEVICES:
                    return True
        except OSError:
            continue
    return False


def _tpu_resolver(tpu: str | None):
    """A TPU cluster resolver, or None when there is no TPU.

    Colab's and Kaggle's older TPU nodes announce themselves with `COLAB_TPU_ADDR`/`TPU_NAME`;
    a TPU VM (Kaggle's current TPUs, Cloud TPU VMs) has the chips as local devices and needs
    `tpu="local"`. An auto-detected TPU that cannot be reached is one logged line and the
    GPU/CPU strategy; a TPU named by `tpu` that cannot be reached is an error.
    """
    if tpu is None:
        if os.environ.get("TPU_NAME") or os.environ.get("COLAB_TPU_ADDR"):
            tpu = ""
        elif os.environ.get("TPU_ACCELERATOR_TYPE") or tpu_vm_present():
            tpu = "local"
        else:
            return None
        explicit = False
    else:
        explicit = True
    try:
        return tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
    except Exception as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        if explicit:
            raise ValueError(f"Could not connect to the TPU {tpu!r}: {reason}") from None
        log.warning(
            "ganpaint: a TPU seemed present (%s) but could not be reached (%s: %s); "
            "using the GPU/CPU strategy instead.",
            _tpu_hint(),
            type(exc).__name__,
            reason,
        )
        return None


def _tpu_hint() -> str:
    for name in ("TPU_NAME", "COLAB_TPU_ADDR", "TPU_ACCELERATOR_TYPE"):
        if os.environ.get(name):
            return f"{name}={os.environ[name]}"
    return "TPU chips on this machine"


# One strategy per machine and process: `initialize_tpu_system` wipes the TPU's memory, and a
# process may hold one MultiWorkerMirroredStrategy; strategies made one after another can also
# hand out clashing collective keys. So `get_strategy()` makes each once and returns it again.
_STRATEGIES: dict[tuple, tf.distribute.Strategy] = {}


def _tpu_strategy(resolver, tpu):
    key = ("tpu", resolver.master() or str(tpu))
    if key not in _STRATEGIES:
        try:
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
        except Exception as exc:
            raise ValueError(
                f"Found a TPU ({tpu or 'auto-detected'}) but could not initialise "
                f"it: {str(exc).splitlines()[0] if str(exc) else exc!r}"
            ) from exc
        _STRATEGIES[key] = tf.distribute.TPUStrategy(resolver)
    return _STRATEGIES[key]


def _once(key, make):
    if key not in _STRATEGIES:
        _STRATEGIES[key] = make()
    return _STRATEGIES[key]


def _device_names(devices) -> tuple[str, ...]:
    """`devices` as "/type:index" names ("gpu:1", "/GPU:1" and "/device:GPU:1" alike)."""
    names = []
    for name in devices:
        spec = tf.DeviceSpec.from_string(name if str(name).startswith("/") else f"/{name}")
        if not spec.device_type:
            raise ValueError(
                f"`devices` entries name a device type and index, e.g. 'gpu:0' or "
                f"'cpu:1'. Received: {name!r}"
            )
        names.append(f"/{spec.device_type.lower()}:{spec.device_index or 0}")
    return tuple(names)


def _split_cpu(devices) -> None:
    """Before TensorFlow starts, split the CPU into as many logical devices as `devices`
    names (cpu:0 .. cpu:k), so that several replicas can be tried on a CPU-only machine."""
    wanted = 1 + max(
        (int(n.rsplit(":", 1)[1]) for n in devices if n.startswith("/cpu:")), default=0
    )
    if wanted < 2:
        return
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu) or []
    if len(current) >= wanted:
        return
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * wanted
        )
    except RuntimeError:  # TensorFlow has started: `_check_devices` says what there is
        pass


def _check_devices(devices):
    """Every name in `devices` must be a device of this process: MirroredStrategy over a name
    that is not one waits forever at its first step instead of failing."""
    have = tf.config.list_logical_devices()
    known = set()
    for device in have:
        spec = tf.DeviceSpec.from_string(device.name)
        known.add((spec.device_type.upper(), spec.device_index))
    for name in devices:
        spec = tf.DeviceSpec.from_string(name)
        if ((spec.device_type or "").upper(), spec.device_index or 0) not in known:
            from ganpaint.errors import UserError

            names = ", ".join(d.name.split("device:")[-1].lower() for d in have)
            what = f"names {name.lstrip('/')!r}, which this process does not have (it has {names})"
            raise UserError(
                f"`devices` {what}. Name devices from `tf.config.list_logical_devices()`; CPU "
                "devices split the CPU only before TensorFlow starts. "
                f"Received: devices={list(devices)!r}",
                cli=f"--devices {what}: name devices it has, e.g. --devices "
                f"{','.join(n for n in names.split(', ')[:2])}.",
            )


def get_strategy(
    tpu: str | None = None, devices: list[str] | None = None, verbose: bool = True
) -> tf.distribute.Strategy:
    """The right strategy for this machine, in order of preference:

    1. a TPU (`tpu` names it; otherwise found from the Colab/Kaggle/TPU-VM environment)
       -> `TPUStrategy`;
    2. `TF_CONFIG` with several workers -> `MultiWorkerMirroredStrategy`;
    3. more than one GPU, or `devices` given -> `MirroredStrategy`;
    4. otherwise the default strategy (one GPU or the CPU).

    Each is made once per process: later calls return the same strategy (a TPU is
    initialised once; `initialize_tpu_system` would wipe its memory).

    Args:
        tpu: str. TPU name or address; "local" on a TPU VM. Defaults to auto-detection.
        devices: list of device names for `MirroredStrategy`, e.g. `["gpu:0", "gpu:1"]`.
            CPU devices beyond cpu:0 (`["cpu:0", "cpu:1"]`) split the CPU into logical
            devices when TensorFlow has not started yet: several replicas on a CPU machine.
        verbose: bool. Log the choice and the number of replicas.

    Returns:
        A `tf.distribute.Strategy`; `strategy.num_replicas_in_sync` is the replica count.
    """
    if devices:  # before anything starts TensorFlow's devices
        _split_cpu(_device_names(devices))
    resolver = _tpu_resolver(tpu)
    if resolver is not None:
        strategy = _tpu_strategy(resolver, tpu)
    elif _workers_in_tf_config() > 1:
        strategy = _once(
            ("workers", os.environ.get("TF_CONFIG")), tf.distribute.MultiWorkerMirroredStrategy
        )
    elif devices is not None:
        if not devices:
            raise ValueError(
                f"`devices` must name at least one device. Received: devices={devices!r}"
            )
        devices = _device_names(devices)
        _check_devices(devices)
        strategy = _once(
            ("mirrored", devices), lambda: tf.distribute.MirroredStrategy(list(devices))
        )
    elif len(tf.config.list_logical_devices("GPU")) > 1:
        strategy = _once(("mirrored", "gpus"), tf.distribute.MirroredStrategy)
    else:
        strategy = tf.distribute.get_strategy()
    if verbose:
        log.info(
            "ganpaint: %s with %d replica(s)",
            type(strategy).__name__,
            strategy.num_replicas_in_sync,
        )
    return strategy


def current_strategy() -> tf.distribute.Strategy:
    """The strategy of the scope that is open, else `get_strategy()` (made once per process):
    what `recipes.build` uses when given none."""
    if tf.distribute.has_strategy():
        return tf.distribute.get_strategy()
    return get_strategy(verbose=False)


def _workers_in_tf_config() -> int:
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return 0
    try:
        cluster = json.loads(raw).get("cluster", {})
    except (json.JSONDecodeError, AttributeError) as exc:
        raise ValueError(f"The TF_CONFIG environment variable is not valid JSON: {raw!r}") from exc
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def is_tpu(strategy) -> bool:
    return isinstance(
        strategy,
        (tf.distribute.TPUStrategy, getattr(tf.distribute.experimental, "TPUStrategy", ())),
    )


def is_multi_worker(strategy) -> bool:
    """Whether `strategy` spans several processes (MultiWorkerMirroredStrategy in a cluster)."""
    extended = getattr(strategy, "extended", None)
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and bool(
        getattr(extended, "_in_multi_worker_mode", lambda: False)()
    )


def is_chief(strategy=None) -> bool:
    """Whether this process writes the run: always, except on the non-chief workers of a
    multi-worker cluster (TF's `should_checkpoint`, as Keras' checkpoint callbacks use)."""
    strategy = strategy or tf.distribute.get_strategy()
    if not is_multi_worker(strategy):
        return True
    return bool(strategy.extended.should_checkpoint)


def task_id(strategy=None) -> int:
    """This worker's index in the cluster (0 outside one)."""
    strategy = strategy or tf.distribute.get_strategy()
    if not is_multi_worker(strategy):
        return 0
    return int(strategy.cluster_resolver.task_id or 0)


def scratch_folder(out_dir: str, strategy=None) -> str:
    """A non-chief worker's own folder for what it would write into `out_dir` (Keras'
    convention for multi-worker checkpoints): local, emptied now, deleted by
    `remove_scratch`. The same path for the same run and worker, so one a kill left behind is
    emptied by the next start."""
    import hashlib

    key = hashlib.sha256(os.fspath(out_dir).encode()).hexdigest()[:12]
    folder = os.path.join(
        tempfile.gettempdir(), "ganpaint-worker-scratch", f"{key}-worker{task_id(strategy)}"
    )
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    return folder


def remove_scratch(folder: str | None) -> None:
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def gather_ints(values, strategy=None, width: int | None = None) -> np.ndarray:
    """Every worker's `values` (a list of ints), one row per replica: [replicas, width].

    A collective: every worker must call it at the same point, with the same `width` (the
    list is padded with -1 to it). Outside a multi-process cluster, one row of `values`.
    """
    strategy = strategy or tf.distribute.get_strategy()
    width = width or len(values)
    row = (list(values) + [-1] * width)[:width]
    if not is_multi_worker(strategy):
        return np.asarray([row], np.int64)
    local = tf.constant([row], tf.int64)
    per_replica = strategy.experimental_distribute_values_from_function(lambda _: local)
    return np.asarray(strategy.gather(per_replica, axis=0)).astype(np.int64)


def global_batch_size(per_replica: int, strategy: tf.distribute.Strategy | None = None) -> int:
    """`per_replica * num_replicas_in_sync`: the batch size to give the dataset.

    Example:
    >>> global_batch_size(16)   # one device
    16
    """
    if not isinstance(per_replica, int) or per_replica < 1:
        raise ValueError(
            f"`per_replica` must be a positive int. Received: per_replica={per_replica!r}"
        )
    strategy = strategy or tf.distribute.get_strategy()
    return per_replica * strategy.num_replicas_in_sync


# -- inside a step (the replica context) ---------------------------------------------------------


def num_replicas() -> int:
    """Replicas in sync in the current context (1 outside any strategy)."""
    context = tf.distribute.get_replica_context()
    if context is not None:
        return context.num_replicas_in_sync
    return tf.distribute.get_strategy().num_replicas_in_sync


def replica_id():
    """This replica's index (a tensor under a strategy, 0 outside one)."""
    context = tf.distribute.get_replica_context()
    return 0 if context is None else context.replica_id_in_sync_group


# What `begin_step` learnt of the step being traced, per replica: MirroredStrategy traces each
# replica's step in a thread of its own.
_STEP = threading.local()


def begin_step(batch_size):
    """Called by every train step before it draws anything: records this replica's place in
    the global batch (its first row and the global batch size, from one all-reduce of the
    replicas' batch sizes) for `global_slice`, and its share for `step_share`, and returns
    the share (`batch_share`). On one replica, 1.

    The record is per thread: MirroredStrategy traces each replica's step in its own thread,
    interleaved at every all-reduce, so state kept on a shared object would be the last
    replica's."""
    context = tf.distribute.get_replica_context()
    _STEP.layout = None
    graph = tf.compat.v1.get_default_graph()
    if context is None or context.num_replicas_in_sync == 1:
        _STEP.share = (graph, tf.constant(1.0))
        return _STEP.share[1]
    replicas = context.num_replicas_in_sync
    me = tf.cast(context.replica_id_in_sync_group, tf.int32)
    local = tf.cast(batch_size, tf.float32)
    sizes = context.all_reduce(
        tf.distribute.ReduceOp.SUM, tf.one_hot(me, replicas, dtype=tf.float32) * local
    )
    sizes = tf.cast(tf.round(sizes), tf.int32)
    start = tf.reduce_sum(tf.where(tf.range(replicas) < me, sizes, 0))
    total = tf.reduce_sum(sizes)
    _STEP.layout = (graph, start, total, tf.cast(batch_size, tf.int32))
    _STEP.share = (graph, local / tf.maximum(tf.cast(total, tf.float32), 1.0))
    return _STEP.share[1]


def step_share():
    """This replica's share of the global batch, as recorded by `begin_step` in the step
    being traced; `1 / replicas` in a step that did not call it."""
    graph, share = getattr(_STEP, "share", None) or (None, None)
    if graph is not tf.compat.v1.get_default_graph():
        return tf.constant(1.0 / num_replicas())
    return share


def batch_share(batch_size):
    """This replica's share of the global batch, `local / global`: what its per-example mean
    loss is weighted by, so that every example of the global batch counts 1 / global. With
    equal slices it is 1 / replicas; a partial last batch (5 images on 2 replicas: 3 and 2)
    gets 3/5 and 2/5, not 1/2 each. 1 on one replica."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return tf.constant(1.0)
    local = tf.cast(batch_size, tf.float32)
    return local / tf.maximum(context.all_reduce(tf.distribute.ReduceOp.SUM, local), 1.0)


def global_slice(draw, batch):
    """This replica's rows of a draw made for the whole global batch.

    `draw(n)` draws [n, ...] from a seed that every replica shares; each replica takes its own
    rows, so N replicas see exactly the numbers one device draws for the same global batch
    (MirroredStrategy and TPUStrategy give each replica a contiguous slice of the global
    batch, in replica order). Inside a step that called `begin_step` the slices follow the
    replicas' actual batch sizes (a partial last batch), and a batch of m times the step's
    (real and fake images concatenated into one call) is read as m global batches one after
    another, as one device concatenates them; elsewhere the slices are `batch` each."""
    replicas = num_replicas()
    if replicas == 1:
        return draw(batch)
    layout = getattr(_STEP, "layout", None)
    if layout is None or layout[0] is not tf.compat.v1.get_default_graph():
        start = tf.cast(replica_id(), tf.int32) * batch
        return draw(batch * replicas)[start : start + batch]
    _, start, total, local = layout
    parts = tf.cast(batch, tf.int32) // tf.maximum(local, 1)
    full = draw(parts * total)
    rest = tf.shape(full)[1:]
    full = tf.reshape(full, tf.concat([[parts, total], rest], 0))
    mine = full[:, start : start + local]
    return tf.reshape(mine, tf.concat([[parts * local], rest], 0))


def global_batch_mean(x):
    """Mean over the batch axis across all replicas (keepdims), differentiable.

    On one device this is `mean(x, axis=0)`; under a strategy it all-reduces the per-replica
    sums, so relativistic losses compare against the average of the whole global batch.
    """
    context = tf.distribute.get_replica_context()
    x = tf.convert_to_tensor(x)
    if context is None or context.num_replicas_in_sync == 1:
        return tf.reduce_mean(x, axis=0, keepdims=True)
    total = context.all_reduce(tf.distribute.ReduceOp.SUM, tf.reduce_sum(x, axis=0, keepdims=True))
    count = context.all_reduce(tf.distribute.ReduceOp.SUM, tf.cast(tf.shape(x)[0], x.dtype))
    return total / count
