"""The benchmarks' bookkeeping (not their timings): FLOP counts, op categories, merged rows."""

import json
import os

import keras
import numpy as np
import pytest

from benchmarks import (
    blend_probe,
    common,
    flops,
    judges,
    known_answer,
    known_answer_sweeps,
    op_profile,
    output_forms,
    search_sweeps,
    step_variants,
    textbook,
)
from benchmarks import run as bench_run


def test_flops_are_counted_from_the_layers():
    model = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(4, 3, strides=2, padding="same"),  # 4x4 out: 2*16*3*4*9
            keras.layers.Conv2DTranspose(2, 4, strides=2, padding="same"),  # 2*16*4*2*16
            keras.layers.Flatten(),
            keras.layers.Dense(5),
        ]
    )  # 2*128*5
    assert flops.forward_flops(model) == 2 * 16 * 3 * 4 * 9 + 2 * 16 * 4 * 2 * 16 + 2 * 128 * 5


@pytest.mark.parametrize(
    "name, op_type, expected",
    [
        (
            "gradient_tape/g_5/up6_conv_1/conv_transpose/Conv2DBackpropFilter",
            "_MklNativeConv2DBackpropFilter",
            "convolution",
        ),
        ("adam_1/mul_44", "Mul", "optimizer"),
        (
            "StatefulPartitionedCall/fused_adam/ResourceApplyAdam_3",
            "ResourceApplyAdam",
            "optimizer",
        ),
        ("d_y_1/down2_conv_1/convolution/Cast", "Cast", "cast"),
        ("f_5/down2_norm_1/moments/SquaredDifference", "SquaredDifference", "normalization"),
        ("g_5/down1_act_1/LeakyRelu", "LeakyRelu", "activation"),
        ("g_5/skip1_1/concat", "ConcatV2", "other"),
    ],
)
def test_profile_categories(name, op_type, expected):
    assert op_profile.category(name, op_type) == expected


def test_throughput_rows_replace_the_same_cases(tmp_path):
    path = tmp_path / "throughput.json"
    old = {
        "benchmark": "throughput",
        "peak": {"old": 1},
        "rows": [{"case": "A", "v": 1}, {"case": "B", "v": 1}, {"case": "B", "v": 2}],
    }
    path.write_text(json.dumps(old))
    new = {
        "benchmark": "throughput",
        "peak": {"new": 1},
        "rows": [{"case": "B", "v": 3}, {"case": "C", "v": 3}],
    }
    merged = bench_run._write(str(path), new, "case")
    assert merged["rows"] == [{"case": "A", "v": 1}, {"case": "B", "v": 3}, {"case": "C", "v": 3}]
    assert json.loads(path.read_text())["rows"] == merged["rows"]


def test_result_rows_merge_by_key_and_survive_writers_side_by_side(tmp_path):
    """`common.merge_rows`, which every search writes its rows with: a row replaces the row of
    its key and keeps the others in their order; writers in threads of their own (as
    processes side by side end at once) lose none of each other's rows."""
    import threading

    path = str(tmp_path / "results" / "rows.json")
    key = lambda r: (r["task"], r["setting"])
    common.merge_rows(path, [{"task": "a", "setting": "x", "v": 1}], key, "test")
    common.merge_rows(path, [{"task": "b", "setting": "x", "v": 2}], key, "test")
    merged = common.merge_rows(path, [{"task": "a", "setting": "x", "v": 3}], key, "test")
    assert [(r["task"], r["v"]) for r in merged] == [("b", 2), ("a", 3)]

    def write(i):
        for j in range(10):
            common.merge_rows(path, [{"task": f"t{i}", "setting": str(j)}], key, "test")

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(path) as f:
        saved = json.load(f)
    assert saved["benchmark"] == "test" and len(saved["rows"]) == 2 + 40
    assert sorted(os.listdir(tmp_path / "results")) == ["rows.json"]  # no lock, no temporary


def test_the_blend_probe_reads_the_mask_and_the_new_picture_along_training():
    rows = blend_probe.probe("warm", size=16, budgets=(1, 2), content_gradient="full")
    assert [r["step"] for r in rows] == [1, 2] and rows[0]["content_gradient"] == "full"
    for r in rows:
        assert 0.0 <= r["mask_p10"] <= r["mask_mean"] <= r["mask_p90"] <= 1.0
        assert r["mask_mean"] < 0.1  # it starts nearly closed: sigmoid(-3) = 0.047
        assert r["photo"] == rows[0]["photo"] and 0 < r["out"] < 2 and 0 < r["content"] < 2


def test_quality_rows_give_mean_sd_and_each_seed():
    runs = [
        {"seed": 0, "l1": 0.25, "seconds": 10.0},
        {"seed": 1, "l1": 0.15, "seconds": 12.0},
        {"seed": 2, "l1": 0.20, "seconds": 14.0},
    ]
    row = common.summary("task", "impl", 600, runs)
    assert row["seeds"] == 3 and row["steps"] == 600
    assert row["l1"] == pytest.approx(0.2) and row["l1_std"] == pytest.approx(0.05)  # ddof=1
    assert row["l1_per_seed"] == [0.25, 0.15, 0.2]
    assert row["seconds"] == 12.0 and "seconds_std" not in row
    assert common.summary("t", "i", 1, runs[:1])["l1_std"] == 0.0


def test_quality_long_task_rows_do_not_replace_the_short_ones(tmp_path):
    from benchmarks import quality

    short = quality.cycle_task_name(quality.CYCLE_SIZE, quality.CYCLE_STEPS)
    long = quality.cycle_task_name(quality.CYCLE_SIZE, 4 * quality.CYCLE_STEPS)
    assert short != long
    path = tmp_path / "quality.json"
    path.write_text(json.dumps({"rows": [{"task": short, "v": 1}, {"task": "digits", "v": 1}]}))
    merged = bench_run._write(str(path), {"rows": [{"task": long, "v": 2}]}, "task")
    assert [r["task"] for r in merged["rows"]] == [short, "digits", long]


def test_few_shot_task_runs_end_to_end_at_a_tiny_budget(monkeypatch, tmp_path):
    from benchmarks import few_shot, report

    monkeypatch.setattr(few_shot, "CURVE_EVERY", 2)
    rows = few_shot.few_shot_digits(seeds=(0,), rows=("plain", "ada_target 0.6"), budgets={30: 4})
    assert [r["implementation"] for r in rows] == [
        "plain",
        "ada_target 0.6",
        "(no model: the training digits, repeated)",
    ]
    assert rows[-1]["nearest_train_distance"] == 0.0 and rows[-1]["fid_classifier"] > 0
    assert {r["judge_sha256"] for r in rows} == {judges.record()["judge_sha256"]}
    for r in rows[:2]:
        assert r["steps"] == 4 and r["fid_curve"]["steps"] == [2, 4]
        assert -1.0 <= r["overfit_gap"] <= 1.0 and r["nearest_train_distance"] > 0
    result = {"rows": rows}
    table = report.few_shot_table(result)
    assert "| 30, 4 | plain |" in table and "1.00×" in table
    assert report.few_shot_curves(result, str(tmp_path / "curves.png"))
    assert (tmp_path / "curves.png").stat().st_size > 1000


def test_the_stored_digit_judge_is_the_recorded_one_and_reads_digits():
    manifest = json.load(open(judges.MANIFEST))[judges.DIGIT]
    assert judges.sha256(os.path.join(judges.JUDGES, judges.DIGIT)) == manifest["sha256"]
    assert judges.record() == {
        "judge": "benchmarks/judges/digit_classifier.keras",
        "judge_sha256": manifest["sha256"],
    }
    accuracy = judges.check_digit_judge()
    assert accuracy == pytest.approx(manifest["held_out_accuracy"], abs=1e-4)
    assert accuracy > 0.9


def test_a_changed_digit_judge_is_refused_with_the_fix(monkeypatch, tmp_path):
    changed = tmp_path / judges.DIGIT
    changed.write_bytes(open(os.path.join(judges.JUDGES, judges.DIGIT), "rb").read() + b"x")
    (tmp_path / "judges.json").write_text(open(judges.MANIFEST).read())
    monkeypatch.setattr(judges, "JUDGES", str(tmp_path))
    monkeypatch.setattr(judges, "MANIFEST", str(tmp_path / "judges.json"))
    with pytest.raises(ValueError, match="digit_classifier.keras has SHA-256 .*--retrain"):
        judges.digit_judge()
    changed.unlink()
    with pytest.raises(FileNotFoundError, match="benchmarks.judges --retrain"):
        judges.digit_judge()


def test_the_texture_set_splits_each_photograph_into_disjoint_blocks():
    from benchmarks import textures

    train, train_labels = textures.load("train")
    held_out, held_labels = textures.load("held_out")
    assert train.shape == (4000, 32, 32, 3) and held_out.shape == (1000, 32, 32, 3)
    assert np.bincount(train_labels).tolist() == [400] * 10
    assert np.bincount(held_labels).tolist() == [100] * 10
    assert -1.0 <= train.min() and train.max() <= 1.0 and train.dtype == np.float32
    # Grey textures are grey, colour ones are not.
    spread = [np.ptp(train[train_labels == c], axis=-1).max() for c in range(10)]
    assert all(s == 0 for s in spread[:4]) and all(s > 0.1 for s in spread[4:])
    # Every crop lies within one block, and no block gives crops to both splits.
    for label in range(10):
        blocks = {}
        for split in ("train", "held_out"):
            corners = textures.crop_corners((160, 240), label, split)
            assert len(corners) == textures.PER_CLASS[split]
            for y, x in corners:
                assert y // 40 == (y + 31) // 40 and x // 40 == (x + 31) // 40
            blocks[split] = {(y // 40, x // 40) for y, x in corners}
        assert not blocks["train"] & blocks["held_out"]
        assert all((i + 2 * j) % 4 == 0 for i, j in blocks["held_out"])
    np.testing.assert_array_equal(textures.load("held_out")[0], held_out)
    with pytest.raises(ValueError, match="split"):
        textures.load("test")


def test_the_stored_texture_judge_is_the_recorded_one_and_reads_textures():
    manifest = json.load(open(judges.MANIFEST))[judges.TEXTURE]
    assert judges.record(judges.TEXTURE) == {
        "judge": "benchmarks/judges/texture_classifier.keras",
        "judge_sha256": manifest["sha256"],
    }
    accuracy = judges.held_out_accuracy(judges.TEXTURE)
    assert accuracy == pytest.approx(manifest["held_out_accuracy"], abs=1e-4)
    assert accuracy > 0.85


def test_conditional_benchmarks_run_end_to_end_on_both_sets(monkeypatch):
    from benchmarks import conditional, report

    rows = conditional.conditional_textures(seeds=(0,), steps=2)
    assert [r["implementation"] for r in rows] == [
        *conditional.OPTIMIZER_ROWS,
        conditional.LABEL_MAP,
        "cifar10_cgan recipe (its settings)",
    ]
    assert list(conditional.OPTIMIZER_ROWS) == list(report.CONDITIONAL_OPTIMIZERS)
    assert {r["judge_sha256"] for r in rows} == {judges.record(judges.TEXTURE)["judge_sha256"]}
    assert all(r["task"] == "conditional textures 32px, obvious build, 2 steps" for r in rows)
    assert all(0.0 <= r["class_accuracy"] <= 1.0 and r["fid_classifier"] > 0 for r in rows)
    digits = conditional.conditional_defaults(
        seeds=(0,), steps=(2, 4), rows=[conditional.LABEL_MAP]
    )
    assert [(r["task"], r["steps"]) for r in digits] == [
        ("conditional digits 28px, obvious build, 2 steps", 2),
        ("conditional digits 28px, obvious build, 4 steps", 4),
    ]
    assert digits[0]["judge_sha256"] == judges.record()["judge_sha256"]
    monkeypatch.setattr(conditional, "CONDITIONAL_EVERY", 2)
    study = conditional.conditional_digits(
        seeds=(0,), steps=(2, 4), rows=("label map (G and D), bce",)
    )
    assert [r["task"] for r in study] == [
        "conditional digits 28px, 2 steps",
        "conditional digits 28px, 4 steps",
    ]
    table = report.conditional_table({"rows": rows + digits}, obvious=True, labelled_set="textures")
    assert table.count("\n") == len(rows) + 1 and "cifar10_cgan" in table  # a header of two
    candidate = conditional.obvious_conditional(0, (32, 32, 3), optimizers=(4e-4, 1e-4))
    rates = [
        float(keras.ops.convert_to_numpy(o.learning_rate))
        for o in (candidate.g_optimizer, candidate.d_optimizer)
    ]
    assert rates == pytest.approx([4e-4, 1e-4])
    # Each row's players get the Adam its name says.
    for name, settings in report.CONDITIONAL_OPTIMIZERS.items():
        pair = settings if isinstance(settings, tuple) else (settings, settings)
        for opt, want in zip(conditional._adams(settings), pair):
            assert (float(opt.learning_rate), opt.beta_1, opt.beta_2) == pytest.approx(
                (want["learning_rate"], want["beta_1"], want["beta_2"])
            ), name


def test_the_conditional_optimizer_is_taken_only_where_the_held_out_checks_hold():
    from benchmarks import report

    names = list(report.CONDITIONAL_OPTIMIZERS)[:3]  # 2e-4 (the paper's), 4e-4, 8e-4
    rates = {name: report.CONDITIONAL_OPTIMIZERS[name]["learning_rate"] for name in names}

    def quality(digits, textures, long):
        rows = []
        for task, rates in (
            ("conditional digits 28px, obvious build, 600 steps", digits),
            ("conditional textures 32px, obvious build, 600 steps", textures),
            ("conditional digits 28px, obvious build, 2400 steps", long),
        ):
            rows += [
                {"task": task, "implementation": n, "class_accuracy": a}
                for n, a in zip(names, rates)
                if a is not None
            ]
        return {"rows": rows}

    def rate(*args):
        settings, why = report.conditional_optimizer(quality(*args))
        return settings["learning_rate"], why

    assert report.CONDITIONAL_BASE == names[0] and rates[names[0]] == 2e-4
    # 8e-4 leads on the digits but loses on the textures: 4e-4, the next, is taken.
    chosen, why = rate([0.86, 0.90, 0.93], [0.83, 0.84, 0.80], [0.95, 0.96, 0.97])
    assert chosen == 4e-4 and "textures" in why
    # A candidate without its held-out rows is never taken.
    assert rate([0.86, 0.90, 0.93], [0.83, None, 0.90], [0.95, None, 0.97])[0] == 8e-4
    assert rate([0.86, 0.90, 0.93], [0.83, None, None], [0.95, None, None])[0] == 2e-4
    # The paper's rate leads on the digits: it stays.
    chosen, why = rate([0.95, 0.90, 0.93], [0.83, 0.84, 0.90], [0.95, 0.96, 0.97])
    assert chosen == 2e-4 and "no candidate beat it" in why


def test_defaults_search_runs_each_family_end_to_end_at_a_tiny_budget(monkeypatch, tmp_path):
    from benchmarks import defaults_search, report

    monkeypatch.setattr(defaults_search, "RESULTS", str(tmp_path / "search_{family}.json"))
    monkeypatch.setattr(
        defaults_search, "CYCLE_STAGES", {"loss": {"bce": dict(loss="bce", pool_size=0)}}
    )
    monkeypatch.setattr(
        defaults_search,
        "FAMILIES",
        dict(
            defaults_search.FAMILIES,
            cyclegan=dict(
                defaults_search.FAMILIES["cyclegan"], stages=defaults_search.CYCLE_STAGES
            ),
        ),
    )
    defaults_search.main(["--family", "cyclegan", "--steps", "2", "--seeds", "0"])
    defaults_search.main(["--family", "pix2pix", "--stage", "loss", "--steps", "2", "--seeds", "0"])
    cyc = defaults_search.load("cyclegan")
    pix = defaults_search.load("pix2pix")
    assert [r["implementation"] for r in cyc] == ["loss=bce, pool_size=0"]
    assert {r["implementation"] for r in pix} == {
        "paper setting",
        "loss=lsgan",
        "loss=hinge",
        "loss=ralsgan",
        "TF tutorial pix2pix step",
    }
    assert all(0 < r["l1_to_true_map"] < 2 and r["seeds"] == 1 for r in pix)
    # The 2-step pix2pix search feeds the defaults record and its README table.
    record = report.defaults_record({"pix2pix": {"rows": pix}}, None)
    assert record["pix2pix"]["paper"] == dict(
        loss="bce", l1_weight=100.0, learning_rate=2e-4, beta_1=0.5, beta_2=0.999
    )
    assert record["pix2pix"]["chosen"] != "TF tutorial pix2pix step"
    assert "| pix2pix |" in report.defaults_table(record)


def test_the_winner_is_taken_at_the_longest_budget_measured_twice():
    from benchmarks import report

    def row(name, steps, l1):
        return {"implementation": name, "steps": steps, "l1_to_true_painting": l1, "setting": {}}

    rows = [
        row("fast start", 600, 0.05),
        row("slow start", 600, 0.08),
        row("fast start", 2400, 0.04),
        row("slow start", 2400, 0.03),
        row("only long", 9600, 0.01),
    ]
    assert report.search_winner("cyclegan", rows)["implementation"] == "slow start"
    assert report.search_winner("cyclegan", rows[:2])["implementation"] == "fast start"
    # A gain within the seeds' spread keeps the paper's setting.
    close = [
        dict(row("paper setting", 600, 0.223), l1_to_true_painting_std=0.002),
        dict(row("a bit better", 600, 0.219), l1_to_true_painting_std=0.003),
    ]
    assert report.search_winner("cyclegan", close)["implementation"] == "paper setting"
    close[1]["l1_to_true_painting"] = 0.21
    assert report.search_winner("cyclegan", close)["implementation"] == "a bit better"


# -- known-answer tasks (issue 25) ----------------------------------------------------------------


def test_known_answer_suites_are_fixed_disjoint_and_cover_every_task():
    for tasks, suites in (
        (known_answer.TRANSLATION, known_answer.TRANSLATION_SUITES),
        (known_answer.PAIRED, known_answer.PAIRED_SUITES),
    ):
        tuning, held_out = set(suites["tuning"]), set(suites["held_out"])
        assert not tuning & held_out and tuning | held_out == set(tasks)
    assert len(known_answer.TRANSLATION) >= 8 and len(known_answer.PAIRED) >= 4


def test_each_known_answer_half_has_as_many_far_tasks_as_near_ones():
    for suite, tasks in known_answer.TRANSLATION_SUITES.items():
        near = 0
        for name in tasks:
            task = known_answer.translation_task(name, 32)
            near += (
                float(np.mean(np.abs(task["test"] - task["truth"]))) < known_answer.NEAR_IDENTITY
            )
        assert len(tasks) - near >= near, suite
    assert known_answer.TRANSLATION_SUITES["held_out"][-3:] == ("night", "infrared", "abstraction")
    # The tables published before issue 38 show issue 25's members: each suite's first five.
    from benchmarks import report

    for suite, tasks in report.ISSUE_25_TASKS.items():
        assert tasks == known_answer.TRANSLATION_SUITES[suite][:5]


def test_known_answer_transforms_do_what_they_say():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (2, 32, 32, 3)).astype("uint8")
    x = images.astype("float32")
    assert (known_answer.warm(images)[..., 0] >= images[..., 0]).all()
    assert (known_answer.cool(images)[..., 2] >= images[..., 2]).all()
    assert (known_answer.gamma(images) >= images).all()  # gamma < 1 brightens
    np.testing.assert_array_equal(known_answer.swap_rb(images), images[..., ::-1])
    assert known_answer.blur(images).astype("float32").std() < x.std()
    assert known_answer.sharpen(images).astype("float32").std() >= x.std() - 1
    assert len(np.unique(known_answer.posterize(images))) <= 4
    sketch = known_answer.sketch(images)
    assert (sketch[..., 0] == sketch[..., 2]).all()  # grey
    for transform in list(known_answer.TRANSLATION.values()) + [
        known_answer.cartoon,
        known_answer.halftone,
    ]:
        out = transform(images)
        assert out.dtype == np.uint8 and out.shape == images.shape


def test_known_answer_tasks_split_photos_into_disjoint_domains_and_held_out_photos():
    photos = known_answer.photographs(32)
    a, b, test = known_answer.split(photos)
    assert len(a) + len(b) + len(test) == len(photos) >= 40
    task = known_answer.translation_task("warm")
    np.testing.assert_allclose(task["test"], known_answer.to_unit(test))
    np.testing.assert_allclose(task["truth"], known_answer.to_unit(known_answer.warm(test)))
    pairs = known_answer.paired_task("deblur")["pairs"]
    assert pairs.shape == (len(a) + len(b), 32, 64, 3)


def test_known_answer_cyclegan_runs_end_to_end_and_merges_rows(tmp_path):
    path = str(tmp_path / "known_answer_cyclegan.json")
    argv = [
        "--task",
        "warm",
        "--setting",
        "default",
        "--setting",
        "tutorial",
        "--steps",
        "1",
        "2",
        "--seeds",
        "0",
        "--size",
        "16",
        "--out",
        path,
    ]
    assert known_answer.main(argv) == 0
    rows = json.load(open(path))["rows"]
    assert {(r["setting"], r["steps"]) for r in rows} == {
        ("default", 1),
        ("default", 2),
        ("tutorial", 1),
        ("tutorial", 2),
    }
    assert all(r["suite"] == "tuning" and np.isfinite(r["l1_to_truth"]) for r in rows)
    assert (
        known_answer.main(
            argv[:4] + ["--steps", "1", "--seeds", "0", "--size", "16", "--out", path]
        )
        == 0
    )
    assert len(json.load(open(path))["rows"]) == 4  # the same rows replaced, not added


def test_known_answer_pix2pix_runs_end_to_end_and_names_bad_settings(tmp_path, capsys):
    path = str(tmp_path / "known_answer_pix2pix.json")
    settings = [
        "default",
        "tutorial",
        "paper, moving averages",
        "paper, dropout on at inference",
    ]  # every way of translating
    argv = [
        "--family",
        "pix2pix",
        "--task",
        "deblur",
        "--steps",
        "1",
        "--seeds",
        "0",
        "--size",
        "16",
        "--out",
        path,
    ] + [arg for s in settings for arg in ("--setting", s)]
    assert known_answer.main(argv) == 0
    rows = json.load(open(path))["rows"]
    assert {(r["setting"], r["suite"]) for r in rows} == {(s, "held_out") for s in settings}
    assert all(np.isfinite(r["l1_to_truth"]) and r["unchanged_l1"] > 0 for r in rows)
    with pytest.raises(SystemExit):
        known_answer.main(["--family", "pix2pix", "--setting", "paper, no pool"])
    assert "--setting 'paper, no pool' is not a pix2pix setting" in capsys.readouterr().err


def test_known_answer_table_gives_mean_and_mean_rank_with_the_best_in_bold():
    from benchmarks import report

    def row(task, setting, l1):
        return {
            "task": task,
            "setting": setting,
            "steps": 600,
            "suite": "tuning",
            "size": 32,
            "width": "small",
            "l1_to_truth": l1,
            "l1_to_truth_std": 0.01,
            "seeds": 2,
            "unchanged_l1": 0.1,
            "near_identity": task == "warm",
        }

    result = {
        "rows": [
            row("warm", "a", 0.08),
            row("warm", "b", 0.2),
            row("gamma", "a", 0.3),
            row("gamma", "b", 0.1),
        ]
    }
    table = report.known_answer_table(result, "tuning", 600, ["a", "b"])
    assert "| warm (near identity) | 0.100 | **0.080 ± 0.010** | 0.200 ± 0.010 |" in table
    assert "| **mean** | | 0.190 | 0.150 |" in table
    assert "| **mean rank** | | 1.5 | 1.5 |" in table


@pytest.mark.parametrize("order", ["fresh fakes", "d first"])
def test_step_variants_update_in_their_order(order):
    """One step of each order, checked against the losses recomputed from the weights each
    update should have seen: "d first" reports the generators' loss against the updated
    discriminators; "fresh fakes" the discriminators' loss on the updated generators' fakes."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    real_a, real_b = (tf.constant(rng.uniform(-1, 1, (1, 32, 32, 3)), "float32") for _ in range(2))
    model = step_variants.OrderedCycleGAN(
        *known_answer.cyclegan_networks(32, 0, 8, True), seed=0, order=order
    )
    model.compile()
    generators, discriminators = (model.g_ab, model.g_ba), (model.d_a, model.d_b)
    before = [net.get_weights() for net in generators + discriminators]
    logs = model.train_step((real_a, real_b))
    after = [net.get_weights() for net in generators + discriminators]
    for old, new in zip(before, after):  # every network moved
        assert any(not np.array_equal(o, n) for o, n in zip(old, new))
    seen = {"d first": before[:2] + after[2:], "fresh fakes": after[:2] + before[2:]}[order]
    for net, weights in zip(generators + discriminators, seen):
        net.set_weights(weights)
    if order == "d first":
        expected = {"g_loss": model.generator_losses(real_a, real_b)["g_loss"]}
    else:
        fake_a, fake_b = model.g_ba(real_b, training=True), model.g_ab(real_a, training=True)
        expected = {
            f"d_{d}_loss": 0.5 * model.discriminator_loss(*model._calls(net, [real, fake], True))[0]
            for d, net, real, fake in (
                ("a", model.d_a, real_a, fake_a),
                ("b", model.d_b, real_b, fake_b),
            )
        }
    for name, value in expected.items():
        np.testing.assert_allclose(float(logs[name]), float(value), rtol=1e-5)
    with pytest.raises(ValueError, match="order"):
        step_variants.OrderedCycleGAN(*known_answer.cyclegan_networks(32, 0, 8), order="x")


def test_throughput_rows_merge_by_case_and_keep_each_runs_peak(tmp_path):
    path = str(tmp_path / "throughput.json")
    first = {
        "peak": {"float32_gflops": 200.0},
        "rows": [{"case": "a", "v": 1}, {"case": "b", "v": 1}],
    }
    bench_run._write(path, first, "case")
    second = {"peak": {"float32_gflops": 500.0}, "rows": [{"case": "b", "v": 2}]}
    merged = bench_run._write(path, second, "case")
    assert [(r["case"], r["v"]) for r in merged["rows"]] == [("a", 1), ("b", 2)]
    assert merged["peak_by_case"] == {
        "a": {"float32_gflops": 200.0},
        "b": {"float32_gflops": 500.0},
    }
    third = {"peak": {"float32_gflops": 300.0}, "rows": [{"case": "c", "v": 3}]}
    merged = bench_run._write(path, third, "case")
    assert merged["peak_by_case"]["a"] == {"float32_gflops": 200.0}
    assert merged["peak_by_case"]["c"] == {"float32_gflops": 300.0}


def test_xla_cpu_runs_each_setting_in_its_own_process_and_keeps_a_failed_one(monkeypatch):
    import subprocess
    from types import SimpleNamespace

    from benchmarks import report, xla_cpu

    calls = []

    def fake_run(argv, cwd, env, capture_output, text):
        calls.append((argv[-1], env.get("TF_ENABLE_ONEDNN_OPTS"), env.get("XLA_FLAGS")))
        if env.get("XLA_FLAGS"):  # an XLA that does not know the flag aborts at start-up
            return SimpleNamespace(
                returncode=134, stdout="", stderr="F0000 parse_flags_from_env.cc] Unknown flags\n"
            )
        row = {
            "configuration": argv[-1],
            "case": "conv",
            "graph_steps_per_s": 150.0,
            "xla_steps_per_s": 50.0,
            "xla_vs_graph": 0.333,
            "windows": 4,
        }
        return SimpleNamespace(returncode=0, stdout="log line\n" + json.dumps([row]), stderr="")

    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setenv("XLA_FLAGS", "--a_flag_of_the_user")  # not passed on: each names its own
    result = xla_cpu.run()
    assert calls == [
        ("oneDNN on", None, None),
        ("oneDNN off", "0", None),
        ("XLA asked for oneDNN", None, "--xla_cpu_use_onednn=true"),
    ]
    assert [r["configuration"] for r in result["rows"]] == list(xla_cpu.CONFIGURATIONS)
    assert "Unknown flags" in result["rows"][-1]["error"]
    table = report.xla_cpu_table(result)
    assert "| conv | oneDNN off | 150.00 | 50.00 | 0.33× |" in table
    assert "| - | XLA asked for oneDNN | failed: F0000" in table


def test_profile_rows_merge_by_case_and_keep_the_other_cases_top_ops_and_note(tmp_path):
    path = str(tmp_path / "profile.json")
    first = {
        "rows": [{"case": "a", "v": 1}],
        "top_op_types_ms": {"a: textbook": {"Conv": 1}},
        "note": "rows of case a: before and after",
    }
    bench_run._write(path, first, "case")
    second = {"rows": [{"case": "b", "v": 2}], "top_op_types_ms": {"b: textbook": {"Mul": 2}}}
    merged = bench_run._write(path, second, "case")
    assert [(r["case"], r["v"]) for r in merged["rows"]] == [("a", 1), ("b", 2)]
    assert merged["top_op_types_ms"] == {"a: textbook": {"Conv": 1}, "b: textbook": {"Mul": 2}}
    assert merged["note"] == "rows of case a: before and after"
    again = bench_run._write(path, {"rows": [{"case": "a", "v": 3}], "top_op_types_ms": {}}, "case")
    assert [(r["case"], r["v"]) for r in again["rows"]] == [("a", 3), ("b", 2)]


def test_the_search_sweeps_rows_are_recipe_settings_and_published_rows():
    from ganpaint import recipes

    for family, task in search_sweeps.TASKS.items():
        published = search_sweeps.published_rows(task)
        size, batch, filters = (28, 64, 64) if family == "conditional" else (64, 1, 32)
        for name, variant in task["rows"]:
            assert name in published, (family, name)
            recipe = recipes.get(task["recipe"], settings=variant, **task["overrides"])
            assert (recipe.image_size, recipe.batch_size, recipe.base_filters) == (
                size,
                batch,
                filters,
            )
            assert recipe.epochs * recipe.steps_per_epoch == search_sweeps.STEPS
    # The labelled search's recipe builds the three lines' networks, weights and all, and
    # each row's Adam.
    from benchmarks import conditional
    from ganpaint import families

    task = search_sweeps.TASKS["conditional"]
    name, variant = task["rows"][3]
    recipe = recipes.get(task["recipe"], settings=variant, **task["overrides"])
    assert recipe.label_smoothing is None and recipe.dropout == 0.0 and recipe.augment is None
    assert (recipe.g_learning_rate, recipe.beta_1, recipe.beta_2) == (4e-4, 0.0, 0.999), name
    keras.utils.set_random_seed(4)
    built = families.family("cgan").networks(recipe)
    theirs = conditional.obvious_conditional(4, (28, 28, 1))
    for mine, net in zip(built.values(), (theirs.generator, theirs.discriminator)):
        for a, b in zip(mine.get_weights(), net.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)


def test_the_known_answer_settings_are_recipe_variants_with_the_known_answer_networks():
    from ganpaint import families, recipes

    assert known_answer_sweeps.recipe_settings("identity start, gate") is None
    assert known_answer_sweeps.recipe_settings("default, d first") is None  # an update order
    assert known_answer_sweeps.recipe_settings("paper") == {
        "model.preset": "paper",
        "networks.generator.residual": False,
    }
    assert known_answer_sweeps.recipe_settings("default, lr 2e-4") == {
        "networks.generator.residual": True,
        "networks.generator.input_skip": False,
        "optimizer.g_learning_rate": 2e-4,
        "optimizer.d_learning_rate": 2e-4,
    }
    overrides = known_answer_sweeps.run_overrides("cyclegan", 32, 600)
    assert overrides["generator"] == "resnet"
    mapped = 0
    for name in known_answer.CYCLE_SETTINGS:
        variant = known_answer_sweeps.recipe_settings(name)
        if variant is not None:  # every one a recipe accepts
            recipes.get("monet_cyclegan", settings=variant, **overrides)
            mapped += 1
    assert mapped >= 15
    # The recipe builds the known-answer networks: the same weights from the same seed, with
    # the builder's default output (the blend) and with the input skip's.
    for name, residual in (("default", None), ("input skip", True)):
        variant = known_answer_sweeps.recipe_settings(name)
        recipe = recipes.get("monet_cyclegan", settings=variant, **overrides)
        keras.utils.set_random_seed(3)
        built = families.family("cyclegan").networks(recipe)
        theirs = known_answer.cyclegan_networks(32, 3, 16, residual)
        assert [type(g.layers[-1]).__name__ for g in theirs[:2]] == [
            "BlendOutput" if residual is None else "ResidualTanh"
        ] * 2
        for mine, net in zip(built.values(), theirs, strict=True):
            for a, b in zip(mine.get_weights(), net.get_weights(), strict=True):
                np.testing.assert_array_equal(a, b)
    # pix2pix: the same, with its norm and dropout settings said as the networks section's.
    assert known_answer_sweeps.recipe_settings("paper, dropout on at inference", "pix2pix") is None
    assert known_answer_sweeps.recipe_settings("paper, instance norm", "pix2pix") == {
        "model.preset": "paper",
        "networks.norm": "instance",
        "networks.d_norm": "instance",
    }
    overrides = known_answer_sweeps.run_overrides("pix2pix", 32, 600)
    assert overrides == known_answer_sweeps.task_overrides(32, 600, family="pix2pix")
    assert (overrides["generator"], overrides["norm"]) == ("unet", "batch")
    for name in known_answer.PIX_SETTINGS:
        variant = known_answer_sweeps.recipe_settings(name, "pix2pix")
        if variant is not None:
            recipes.get("maps_pix2pix", settings=variant, **overrides)
    variant = known_answer_sweeps.recipe_settings("paper, instance norm", "pix2pix")
    recipe = recipes.get("maps_pix2pix", settings=variant, **overrides)
    keras.utils.set_random_seed(5)
    built = families.family("pix2pix").networks(recipe)
    theirs = known_answer.pix2pix_networks(32, 5, 16, norm="instance")
    for mine, net in zip(built.values(), theirs):
        for a, b in zip(mine.get_weights(), net.get_weights()):
            np.testing.assert_array_equal(a, b)


def test_the_tutorials_step_as_a_recipe_is_its_objective_optimizers_and_output():
    """The TF CycleGAN tutorial's step (`textbook.cyclegan_step`), said as recipe settings:
    its loss (non-saturating BCE, no pool), its weights (cycle `lam`, identity half of it),
    its Adam and its plain tanh output; and the blend said explicitly is the builders'."""
    import inspect

    from ganpaint import families, recipes

    lam = inspect.signature(textbook.cyclegan_step).parameters["lam"].default
    overrides = known_answer_sweeps.run_overrides("cyclegan", 32, 600)
    model = recipes.build_model(
        "monet_cyclegan", settings=known_answer_sweeps.recipe_settings("tutorial"), **overrides
    )
    assert (model.adversarial.name, model.pool_size) == ("bce", 0)
    assert model.cycle_weight == lam and model.identity_weight * model.cycle_weight == lam * 0.5
    tutorial_adam = textbook.adam()
    for opt in (model.g_optimizer, model.d_optimizer):
        assert float(opt.learning_rate) == float(tutorial_adam.learning_rate)
        assert opt.beta_1 == tutorial_adam.beta_1 and opt.beta_2 == tutorial_adam.beta_2
    for g in (model.g_ab, model.g_ba):
        assert g.layers[-1].get_config()["activation"] == "tanh"
    blend = recipes.get(
        "monet_cyclegan", settings=known_answer_sweeps.recipe_settings("blend"), **overrides
    )
    keras.utils.set_random_seed(0)
    built = families.family("cyclegan").networks(blend)
    assert type(built["g_ab"].layers[-1]).__name__ == "BlendOutput"
    # The seventh round's candidate, measured on `output_forms`' head, as a recipe says it.
    opened = recipes.get(
        "monet_cyclegan",
        settings=known_answer_sweeps.recipe_settings("blend full, open start"),
        **overrides,
    )
    g = families.family("cyclegan").networks(opened)["g_ab"]
    assert g.layers[-1].content_gradient == "full"
    assert float(g.get_layer("out_mask").bias.numpy()[0]) == 0.0
    task = known_answer.CYCLE_SETTINGS["blend full, open start"]
    assert (task["output"], task["content_gradient"]) == ("blend, open", "full")
    assert output_forms.OPEN_START == 0.0


def test_the_recipes_own_networks_keep_their_generator_and_take_the_task_budget():
    from ganpaint import recipes

    overrides = known_answer_sweeps.run_overrides("cyclegan", 32, 600, networks="recipe")
    assert "generator" not in overrides and overrides["backbone_weights"] is None
    for name, generator in (
        ("monet_cyclegan", "unet"),
        ("cans_efficientnet_cyclegan", "efficientnet"),
    ):
        for setting in ("recipe", "recipe, paper preset", "recipe, resnet generator"):
            variant = known_answer_sweeps.recipe_settings(setting, networks="recipe")
            recipe = recipes.get(name, settings=variant, **overrides)
            assert (recipe.image_size, recipe.batch_size) == (32, 1)
            assert recipe.epochs * recipe.steps_per_epoch == 600
            assert recipe.generator == ("resnet" if "resnet" in setting else generator)
    with pytest.raises(SystemExit):  # a recipe of another family is refused by name
        known_answer_sweeps.main(["--networks", "recipe", "--recipe", "mnist_acgan"])


def test_the_output_forms_share_the_body_and_start_where_they_say():
    from ganpaint import generators

    g = generators.resnet_generator((16, 16, 3), 1, filters=4)
    x = np.random.default_rng(0).uniform(-0.9, 0.9, (2, 16, 16, 3)).astype("float32")
    for form in ("gate", "fade", "residual skip", "gated skip"):  # identity starts
        h = output_forms.with_output(g, form)
        assert h.get_layer("c7s1_conv") is g.get_layer("c7s1_conv")
        np.testing.assert_allclose(h(x).numpy(), x, atol=1e-5, err_msg=form)
    assert np.abs(output_forms.with_output(g, "skip")(x).numpy() - x).mean() > 0.1
    blend = output_forms.with_output(g, "blend")  # 4.7 % of the way to a plain output
    content = keras.Model(blend.input, blend.get_layer("content").output)(x).numpy()
    np.testing.assert_allclose(blend(x).numpy(), x + 0.0474 * (content - x), atol=1e-3)
    # The seventh round's blends: half open; a new picture that does not see the image.
    opened = output_forms.with_output(g, "blend, open", "full")
    assert opened.get_layer("blend_output").content_gradient == "full"
    content = keras.Model(opened.input, opened.get_layer("content").output)(x).numpy()
    np.testing.assert_allclose(opened(x).numpy(), (x + content) / 2, atol=1e-5)
    plain = output_forms.with_output(g, "blend, plain content")
    assert plain.get_layer("content_conv").kernel.shape[-2] == 4  # the body's features only
    assert blend.get_layer("content_conv").kernel.shape[-2] == 4 + 3
    faded = output_forms.with_output(g, "fade")
    fade = output_forms.Fade([faded], steps=4)
    for step in range(5):
        fade.on_train_batch_begin(step)
    np.testing.assert_allclose(faded(x).numpy(), 0.0, atol=1e-6)  # the input let go of
    # The library's default is the residual skip's computation.
    assert known_answer.CYCLE_SETTINGS["identity start, residual skip"] == {
        "output": "residual skip"
    }
    assert "input_skip" in [layer.name for layer in g.layers]


def test_the_recipes_networks_table_sits_beside_the_default_and_the_tutorial():
    from benchmarks import report

    def known(setting, l1, task="painterly", near=False, suite="held_out"):
        return {
            "task": task,
            "suite": suite,
            "near_identity": near,
            "setting": setting,
            "size": 32,
            "steps": 600,
            "round": "issue 38",
            "width": "small",
            "l1_to_truth": l1,
            "l1_to_truth_std": 0.01,
            "seeds": 3,
            "unchanged_l1": 0.394,
        }

    sweep_row = {
        "recipe": "monet_cyclegan",
        "networks": "recipe",
        "task": "painterly",
        "setting": "recipe",
        "size": 32,
        "steps": 600,
        "l1": 0.25,
        "l1_std": 0.02,
        "seeds": 3,
    }
    published = {**sweep_row, "networks": "known_answer", "setting": "default", "variant": {}}
    cool = {**sweep_row, "task": "cool", "l1": 0.10}
    warm = {**sweep_row, "task": "warm", "l1": 0.12}  # a tuning task: in the tuning table
    known_rows = {
        "rows": [
            known("blend", 0.139),
            known("tutorial", 0.187),
            known("blend", 0.111, "cool", near=True),
            known("tutorial", 0.274, "cool", near=True),
            known("blend", 0.114, "warm", near=True, suite="tuning"),
        ]
    }
    table = report.recipe_networks_table({"rows": [sweep_row, published, cool, warm]}, known_rows)
    lines = table.splitlines()
    assert lines[0] == (
        "| task | unchanged input | monet_cyclegan: recipe | builders' default (blend) | tutorial |"
    )
    # In the known-answer rows' order; bold: the closest to the truth; then the mean.
    assert lines[2] == "| painterly | 0.394 | 0.250 ± 0.020 | **0.139 ± 0.010** | 0.187 ± 0.010 |"
    assert lines[3] == (
        "| cool (near identity) | 0.394 | **0.100 ± 0.020** | 0.111 ± 0.010 | 0.274 ± 0.010 |"
    )
    assert lines[4] == "| **mean** | | 0.175 | 0.125 | 0.231 |"
    assert len(lines) == 5  # a tuning task's row is left out


def test_a_searchs_finished_runs_leave_their_scores_and_drop_their_weights(tmp_path):
    from ganpaint import sweeps

    for seed, done in ((0, True), (1, False)):
        run = tmp_path / "variant" / f"seed_{seed}"
        (run / "backup").mkdir(parents=True)
        (run / "backup" / "step_000000600.weights.h5").write_bytes(b"w")
        (run / "model.keras").write_bytes(b"m")
        if done:
            (run / sweeps.DONE).write_text("{}")
    known_answer_sweeps.drop_weights(str(tmp_path))
    finished, cut_short = tmp_path / "variant" / "seed_0", tmp_path / "variant" / "seed_1"
    assert sorted(p.name for p in finished.iterdir()) == [sweeps.DONE]
    # A run cut short keeps what it resumes from.
    assert sorted(p.name for p in cut_short.iterdir()) == ["backup", "model.keras"]
