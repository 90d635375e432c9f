"""Distribution: one MirroredStrategy step over two logical CPUs equals one single-device step on
the same global batch, for every model; a two-process MultiWorkerMirroredStrategy run trains."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import free_ports

from ganpaint import distribute, gans
from ganpaint.optimizers import FusedAdam
from ganpaint.testing import dataset, model, weights

TWO_CPUS = ["/cpu:0", "/cpu:1"]


@pytest.fixture(scope="module")
def mirrored():
    # One strategy per process (`get_strategy` makes it once): strategies created one after
    # another in a process hand out clashing collective instance keys.
    return distribute.get_strategy(devices=["/cpu:0", "/cpu:1"], verbose=False)


def test_two_logical_cpus_are_configured():
    assert len(tf.config.list_logical_devices("CPU")) >= 2


def test_get_strategy_defaults_to_one_replica_here():
    strategy = distribute.get_strategy()
    assert strategy.num_replicas_in_sync == 1
    assert distribute.global_batch_size(16, strategy) == 16


def test_get_strategy_with_devices_mirrors():
    strategy = distribute.get_strategy(devices=TWO_CPUS)
    assert isinstance(strategy, tf.distribute.MirroredStrategy)
    assert distribute.global_batch_size(16, strategy) == 32
    with pytest.raises(ValueError, match="devices"):
        distribute.get_strategy(devices=[])


def test_bad_tf_config_and_batch_sizes_are_named(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG"):
        distribute.get_strategy()
    with pytest.raises(ValueError, match="per_replica"):
        distribute.global_batch_size(0)


def test_global_batch_mean_averages_across_replicas(mirrored):
    strategy = mirrored
    values = strategy.experimental_distribute_values_from_function(
        lambda ctx: tf.constant([[1.0], [3.0]]) + 10.0 * ctx.replica_id_in_sync_group
    )
    means = strategy.run(distribute.global_batch_mean, args=(values,))
    for local in strategy.experimental_local_results(means):
        np.testing.assert_allclose(local, [[(1 + 3 + 11 + 13) / 4]])


def _one_step(kind, strategy, optimizer=lambda: keras.optimizers.SGD(0.5), n=4, **kwargs):
    with strategy.scope():
        m = model(kind, **kwargs)
        # SGD: its update is proportional to the gradient, so a wrong loss scale shows (Adam's
        # first step would hide it).
        m.compile(optimizer(), optimizer())
    m.fit(dataset(kind, batch=4, n=n), epochs=1, verbose=0)
    return m


AUGMENT = {"diff_augment": "color,translation,cutout"}


@pytest.mark.parametrize(
    "kind, kwargs",
    # One step of each kind, plain, is checked inside each recipe's whole run on 2 replicas
    # (tests/test_replicas.py: dogs_dcgan, cifar10_cgan, mnist_acgan, monet_cyclegan,
    # maps_pix2pix; ConditionalGAN with DiffAugment: dogs_sngan), and GAN and CycleGAN with
    # DiffAugment and every other small-data tool below. Here: what those leave out.
    [
        ("gan", {"loss": "ralsgan"}),
        ("pix2pix", AUGMENT),  # the input image augmented with its target
    ],
)
def test_mirrored_step_equals_single_device_step(kind, kwargs, mirrored):
    single = _one_step(kind, tf.distribute.get_strategy(), **kwargs)
    mirrored = _one_step(kind, mirrored, **kwargs)
    before = weights(model(kind, **kwargs))
    moved = sum(float(np.abs(s - b).sum()) for b, s in zip(before, weights(single)))
    assert moved > 1e-2  # the step did something...
    for s, m in zip(weights(single), weights(mirrored)):
        # atol: a bias before instance norm has a zero gradient up to round-off (~1e-6 here).
        np.testing.assert_allclose(m, s, rtol=1e-4, atol=1e-5)  # ...and the same on 2 replicas


@pytest.mark.parametrize("kind", ["gan", "cyclegan"])
def test_mirrored_small_data_step_equals_single_device_step_in_every_weight(kind, mirrored):
    # EMA copies, ADA's p and its accumulators, R1 and DiffAugment all on: every weight of
    # the model (not only the networks) is the same after a step on 2 replicas.
    kwargs = dict(
        AUGMENT,
        ema=0.5,
        ema_rampup=None,
        ada_target=0.0,
        ada_interval=1,
        augment_p=0.5,
        ada_kimg=0.016,
        r1_weight=1.0,
    )  # p moves by 0.25 a step
    single = _one_step(kind, tf.distribute.get_strategy(), **kwargs)
    replicated = _one_step(kind, mirrored, **kwargs)
    assert float(single.augmenter.p.value) not in (0.0, 1.0)  # p moved, and so must match
    for s, m in zip(single.weights, replicated.weights):
        if "pool" in s.path:
            continue  # each replica keeps its own image pool, by design
        np.testing.assert_allclose(
            np.asarray(m), np.asarray(s), rtol=1e-4, atol=1e-6, err_msg=s.path
        )


def test_mirrored_spectral_norm_step_equals_single_device_step(mirrored):
    def build():
        from ganpaint import discriminators as D
        from ganpaint import generators as G

        keras.utils.set_random_seed(7)
        return gans.GAN(
            G.dcgan_generator(8, (16, 16, 1), base_filters=8, norm=None),
            D.dcgan_discriminator((16, 16, 1), base_filters=8, norm=None, spectral_norm=True),
            seed=3,
        )

    results = []
    for strategy in (tf.distribute.get_strategy(), mirrored):
        with strategy.scope():
            m = build()
            m.compile(keras.optimizers.SGD(0.5), keras.optimizers.SGD(0.5))
        m.fit(dataset("gan", batch=4, n=4), epochs=1, verbose=0)
        results.append(m)
    for s, m in zip(results[0].weights, results[1].weights):
        np.testing.assert_allclose(
            np.asarray(m), np.asarray(s), rtol=1e-4, atol=1e-6, err_msg=s.path
        )


def test_fused_adam_updates_every_replica_as_one_device(mirrored):
    # A GAN without norms: a bias before instance norm has a zero gradient up to round-off,
    # which Adam's normalisation would blow up to +-lr on either side.
    single = _one_step("gan", tf.distribute.get_strategy(), gans.default_optimizer, n=12)
    replicated = _one_step("gan", mirrored, gans.default_optimizer, n=12)
    assert isinstance(replicated.g_optimizer, FusedAdam)
    for s, m in zip(weights(single), weights(replicated)):
        np.testing.assert_allclose(m, s, rtol=1e-4, atol=1e-6)
    for v in replicated.generator_variables + replicated.g_optimizer.variables:
        first, second = (np.asarray(c) for c in v.value.values)  # each replica's copy
        np.testing.assert_array_equal(first, second)


def test_replicas_draw_different_noise(mirrored):
    strategy = mirrored
    with strategy.scope():
        m = model("gan")
    noise = strategy.run(lambda: m.draw_noise(2, 8))
    first, second = strategy.experimental_local_results(noise)
    assert not np.allclose(first, second)


WORKER = textwrap.dedent("""
    import json, os, sys
    import numpy as np, tensorflow as tf
    from ganpaint import distribute
    from ganpaint.optimizers import FusedAdam
    from ganpaint.testing import dataset, model, weights
    strategy = distribute.get_strategy()
    assert isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy), strategy
    with strategy.scope():
        m = model("gan")
        m.compile()
    assert isinstance(m.g_optimizer, FusedAdam)
    history = m.fit(dataset("gan", batch=4, n=12), epochs=1, verbose=0).history
    print(json.dumps({"replicas": strategy.num_replicas_in_sync,
                      "steps": int(m.g_optimizer.iterations.numpy()),
                      "d_loss": history["d_loss"][-1],
                      "checksum": float(sum(np.abs(w).sum() for w in weights(m)))}))
""")


def test_multi_worker_mirrored_strategy_trains_on_two_local_processes(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    cluster = {"worker": [f"localhost:{p}" for p in free_ports(2)]}
    procs = []
    for index in range(2):
        env = dict(
            os.environ,
            TF_CPP_MIN_LOG_LEVEL="3",
            CUDA_VISIBLE_DEVICES="",
            TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, str(script)],
                env=env,
                text=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        )
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    for r in results:
        assert r["replicas"] == 2 and r["steps"] == 3 and np.isfinite(r["d_loss"])
    # Both workers hold the same weights after the synchronous steps.
    assert results[0]["checksum"] == pytest.approx(results[1]["checksum"], rel=1e-6)


# -- TPU: detection, one initialisation per process, fallbacks --------------------------------


def _pci(root, vendor, device):
    folder = root / "sys" / "bus" / "pci" / "devices" / "0000:00:04.0"
    folder.mkdir(parents=True)
    (folder / "vendor").write_text(vendor + "\n")
    (folder / "device").write_text(device + "\n")


def test_tpu_vms_without_dev_accel_are_found_by_their_pci_chips(tmp_path):
    assert not distribute.tpu_vm_present(str(tmp_path))
    _pci(tmp_path, "0x1ae0", "0x0063")  # a v5e: no /dev/accel*
    assert distribute.tpu_vm_present(str(tmp_path))
    other = tmp_path / "other"
    _pci(other, "0x10de", "0x2330")  # an NVIDIA GPU
    assert not distribute.tpu_vm_present(str(other))
    (other / "dev").mkdir()
    (other / "dev" / "accel0").write_text("")  # a v3/v4 TPU VM
    assert distribute.tpu_vm_present(str(other))


class _FakeResolver:
    def __init__(self, tpu=None):
        self.tpu = tpu

    def master(self):
        return f"grpc://{self.tpu or 'local'}"


def test_a_tpu_is_initialised_once_per_process(monkeypatch):
    calls = []
    monkeypatch.setenv("TPU_NAME", "fake-tpu")
    monkeypatch.setattr(tf.distribute.cluster_resolver, "TPUClusterResolver", _FakeResolver)
    monkeypatch.setattr(tf.config, "experimental_connect_to_cluster", lambda r: None)
    monkeypatch.setattr(tf.tpu.experimental, "initialize_tpu_system", lambda r: calls.append(r))
    monkeypatch.setattr(
        tf.distribute,
        "TPUStrategy",
        lambda r: type("FakeTPUStrategy", (), {"num_replicas_in_sync": 8})(),
    )
    monkeypatch.setattr(distribute, "_STRATEGIES", {})
    first, second = distribute.get_strategy(verbose=False), distribute.get_strategy()
    assert first is second and len(calls) == 1  # initialize_tpu_system wipes the TPU


def test_an_unreachable_tpu_falls_back_with_one_line(monkeypatch, caplog):
    import urllib.error

    def unreachable(tpu=None):
        raise urllib.error.URLError("metadata server not found")

    monkeypatch.setenv("TPU_NAME", "gone-tpu")
    monkeypatch.setattr(tf.distribute.cluster_resolver, "TPUClusterResolver", unreachable)
    with caplog.at_level("WARNING", logger="ganpaint.distribute"):
        strategy = distribute.get_strategy(verbose=False)
    assert strategy.num_replicas_in_sync == 1
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "TPU_NAME=gone-tpu" in lines[0] and "URLError" in lines[0]
    with pytest.raises(ValueError, match="Could not connect to the TPU 'gone-tpu'"):
        distribute.get_strategy(tpu="gone-tpu")  # named: an error, not a fallback


def test_get_strategy_returns_one_strategy_per_machine():
    assert distribute.get_strategy(devices=TWO_CPUS) is distribute.get_strategy(devices=TWO_CPUS)


def test_recipes_run_32_steps_per_call_on_a_tpu_and_one_elsewhere(monkeypatch):
    from ganpaint import recipes

    assert recipes.default_steps_per_execution(tf.distribute.get_strategy()) == 1
    monkeypatch.setattr(distribute, "is_tpu", lambda strategy: True)
    assert recipes.default_steps_per_execution(tf.distribute.get_strategy()) == 32
    assert recipes.get("dogs_dcgan").steps_per_execution is None  # the strategy decides


def test_a_device_the_process_does_not_have_is_refused_not_waited_on():
    # MirroredStrategy over a missing device hangs at the first step; refuse it up front.
    with pytest.raises(ValueError, match=r"names 'cpu:5', which this process does not have"):
        distribute.get_strategy(devices=["/cpu:0", "/cpu:5"], verbose=False)
