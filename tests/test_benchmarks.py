"""The benchmarks' bookkeeping (not their timings): FLOP counts, op categories, merged rows."""
import json
import os
import sys

import keras
import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")
sys.path.insert(0, BENCH)

import flops  # noqa: E402
import op_profile  # noqa: E402
import run as bench_run  # noqa: E402


def test_flops_are_counted_from_the_layers():
    model = keras.Sequential([
        keras.Input((8, 8, 3)),
        keras.layers.Conv2D(4, 3, strides=2, padding="same"),   # 4x4 out: 2*16*3*4*9
        keras.layers.Conv2DTranspose(2, 4, strides=2, padding="same"),  # 2*16*4*2*16
        keras.layers.Flatten(), keras.layers.Dense(5)])           # 2*128*5
    assert flops.forward_flops(model) == 2 * 16 * 3 * 4 * 9 + 2 * 16 * 4 * 2 * 16 + 2 * 128 * 5


@pytest.mark.parametrize("name, op_type, expected", [
    ("gradient_tape/g_5/up6_conv_1/conv_transpose/Conv2DBackpropFilter",
     "_MklNativeConv2DBackpropFilter", "convolution"),
    ("adam_1/mul_44", "Mul", "optimizer"),
    ("StatefulPartitionedCall/fused_adam/ResourceApplyAdam_3", "ResourceApplyAdam", "optimizer"),
    ("d_y_1/down2_conv_1/convolution/Cast", "Cast", "cast"),
    ("f_5/down2_norm_1/moments/SquaredDifference", "SquaredDifference", "normalization"),
    ("g_5/down1_act_1/LeakyRelu", "LeakyRelu", "activation"),
    ("g_5/skip1_1/concat", "ConcatV2", "other"),
])
def test_profile_categories(name, op_type, expected):
    assert op_profile.category(name, op_type) == expected


def test_throughput_rows_replace_the_same_cases(tmp_path):
    path = tmp_path / "throughput.json"
    old = {"benchmark": "throughput", "peak": {"old": 1},
           "rows": [{"case": "A", "v": 1}, {"case": "B", "v": 1}, {"case": "B", "v": 2}]}
    path.write_text(json.dumps(old))
    new = {"benchmark": "throughput", "peak": {"new": 1},
           "rows": [{"case": "B", "v": 3}, {"case": "C", "v": 3}]}
    merged = bench_run._write(str(path), new, "case")
    assert merged["rows"] == [{"case": "A", "v": 1}, {"case": "B", "v": 3}, {"case": "C", "v": 3}]
    assert json.loads(path.read_text())["rows"] == merged["rows"]
