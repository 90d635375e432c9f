"""Pick the `tf.distribute` strategy for the machine a notebook runs on.

>>> strategy = get_strategy()            # TPU, several GPUs, TF_CONFIG workers, or the default
>>> with strategy.scope():               # build networks and compile inside
...     model = ...
>>> batch = global_batch_size(16, strategy)   # 16 per replica

Under every strategy, ganpaint models average their losses over the *global* batch (each
replica's mean divided by the number of replicas, gradients summed), so a step on 8 TPU cores
with a global batch of 64 updates the weights as one device would with the same 64 images.
"""
from __future__ import annotations

import json
import logging
import os

import tensorflow as tf

log = logging.getLogger(__name__)


def _tpu_resolver(tpu: str | None):
    """A TPU cluster resolver, or None when there is no TPU.

    Colab's and Kaggle's older TPU nodes announce themselves with `COLAB_TPU_ADDR`/`TPU_NAME`;
    a TPU VM (Kaggle's current TPUs, Cloud TPU VMs) has the chips as local devices and needs
    `tpu="local"`.
    """
    if tpu is None:
        if os.environ.get("TPU_NAME") or os.environ.get("COLAB_TPU_ADDR"):
            tpu = ""
        elif os.path.exists("/dev/accel0") or os.environ.get("TPU_ACCELERATOR_TYPE"):
            tpu = "local"
        else:
            return None
        explicit = False
    else:
        explicit = True
    try:
        return tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
    except (ValueError, RuntimeError, tf.errors.OpError) as exc:
        if explicit:
            raise ValueError(f"Could not connect to the TPU {tpu!r}: {exc}") from exc
        log.warning("ganpaint: a TPU seemed present but could not be reached (%s); "
                    "using the GPU/CPU strategy instead.", exc)
        return None


def get_strategy(tpu: str | None = None, devices: list[str] | None = None,
                 verbose: bool = True) -> tf.distribute.Strategy:
    """The right strategy for this machine, in order of preference:

    1. a TPU (`tpu` names it; otherwise found from the Colab/Kaggle/TPU-VM environment)
       -> `TPUStrategy`;
    2. `TF_CONFIG` with several workers -> `MultiWorkerMirroredStrategy`;
    3. more than one GPU, or `devices` given -> `MirroredStrategy`;
    4. otherwise the default strategy (one GPU or the CPU).

    Args:
        tpu: str. TPU name or address; "local" on a TPU VM. Defaults to auto-detection.
        devices: list of device names for `MirroredStrategy`, e.g. `["/cpu:0", "/cpu:1"]`.
        verbose: bool. Log the choice and the number of replicas.

    Returns:
        A `tf.distribute.Strategy`; `strategy.num_replicas_in_sync` is the replica count.
    """
    resolver = _tpu_resolver(tpu)
    if resolver is not None:
        try:
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
        except (ValueError, RuntimeError, tf.errors.OpError) as exc:
            raise ValueError(f"Found a TPU ({tpu or 'auto-detected'}) but could not initialise "
                             f"it: {str(exc).splitlines()[0]}") from exc
        strategy = tf.distribute.TPUStrategy(resolver)
    elif _workers_in_tf_config() > 1:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    elif devices is not None:
        if not devices:
            raise ValueError(f"`devices` must name at least one device. Received: devices={devices!r}")
        strategy = tf.distribute.MirroredStrategy(devices)
    elif len(tf.config.list_logical_devices("GPU")) > 1:
        strategy = tf.distribute.MirroredStrategy()
    else:
        strategy = tf.distribute.get_strategy()
    if verbose:
        log.info("ganpaint: %s with %d replica(s)", type(strategy).__name__,
                 strategy.num_replicas_in_sync)
    return strategy


def _workers_in_tf_config() -> int:
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return 0
    try:
        cluster = json.loads(raw).get("cluster", {})
    except (json.JSONDecodeError, AttributeError) as exc:
        raise ValueError(f"The TF_CONFIG environment variable is not valid JSON: {raw!r}") from exc
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def global_batch_size(per_replica: int, strategy: tf.distribute.Strategy | None = None) -> int:
    """`per_replica * num_replicas_in_sync`: the batch size to give the dataset.

    Example:
    >>> global_batch_size(16)   # one device
    16
    """
    if not isinstance(per_replica, int) or per_replica < 1:
        raise ValueError(f"`per_replica` must be a positive int. Received: per_replica={per_replica!r}")
    strategy = strategy or tf.distribute.get_strategy()
    return per_replica * strategy.num_replicas_in_sync


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
