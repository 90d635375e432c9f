"""A sweep of bad and unusual inputs over the command line and the Python API, as a new user
tries them with the internet off, counted by outcome.

    python scripts/sweep_user_path.py [--out sweep.json] [--only SUBSTRING] [--part 1|2]

Each case says what a user should get: a one-line `error` for bad input, an `intact` target
(an existing file or run must not be replaced), or `ok` (a valid request that must work,
perhaps saying what it did). Outcomes, as issue 21 counts them:

- `one-line error`: exit 2 and one error line (or a ValueError / OSError in Python);
- `one-line error, missing option`: the same, but the line names a --flag the command lacks;
- `traceback`: an uncaught exception;
- `silent wrong result`: exit 0 (or a return) where an error, a warning or another result
  was due;
- `misleading error`: an error line that does not name what the case says it must (the
  file, the flag, the cause);
- `hang`: no answer within 120 s;
- `overwritten or lost`: a file or run the user had changed;
- `works`: a valid request answered correctly.

Runs against whatever `ganpaint` is importable, so the same script measures an older
checkout (`PYTHONPATH=old_checkout python scripts/sweep_user_path.py`). Takes a few minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time
import traceback
import warnings
import zipfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np


def offline(keras_home):
    def refuse(*args, **kwargs):
        raise OSError("network is off")

    socket.getaddrinfo = refuse
    socket.socket.connect = refuse
    os.environ["KERAS_HOME"] = keras_home
    os.environ.pop("GANPAINT_FID_WEIGHTS", None)


def digest(path) -> str | None:
    """SHA-256 over a file, or over every file of a folder (names included)."""
    if not os.path.lexists(path):
        return None
    h = hashlib.sha256()
    if os.path.isdir(path):
        for root, dirs, names in sorted(os.walk(path)):
            dirs.sort()
            for name in sorted(names):
                full = os.path.join(root, name)
                h.update(os.path.relpath(full, path).encode())
                with open(full, "rb") as f:
                    h.update(f.read())
    else:
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def options_of(parser, command) -> set:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            sub = action.choices[command]
            return {o for a in sub._actions for o in a.option_strings} | {
                o for a in parser._actions for o in a.option_strings
            }
    return set()


@contextlib.contextmanager
def file_size_limit(limit):
    """RLIMIT_FSIZE in bytes for a block (a full disk; Python ignores SIGXFSZ, so writes past
    it fail with EFBIG); None: no limit."""
    if limit is None:
        yield
        return
    import resource

    saved = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, saved[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, saved)


def run_case(case, cli):
    """(outcome, detail) of one case."""
    kind, expect = case["kind"], case["expect"]
    guarded = case.get("intact")
    before = digest(guarded) if guarded else None
    out, err = io.StringIO(), io.StringIO()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(120)
    result, raised, caught = None, None, []
    try:
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always")
            if kind == "cli":
                try:
                    with file_size_limit(case.get("fsize")):
                        result = cli.main(case["argv"])
                except SystemExit as stop:  # argparse's usage errors
                    result = stop.code
            elif kind == "proc":  # a crash here must not end the sweep
                result = case["call"]()
                if result.returncode < 0 or "Traceback" in result.stderr:
                    return "traceback", (
                        f"exit {result.returncode}: "
                        + (result.stderr.strip().splitlines() or [""])[-1][:140]
                    )
                print(result.stderr, file=sys.stderr, end="")
                print(result.stdout, end="")
                result = result.returncode
                kind = "cli"
            else:
                result = case["call"]()
    except Timeout:
        return "hang", ""
    except Exception as exc:
        if kind == "cli" or not isinstance(exc, (ValueError, OSError)):
            return "traceback", f"{type(exc).__name__}: {str(exc)[:160]}"
        raised = exc
    finally:
        signal.alarm(0)
    if guarded and digest(guarded) != before:
        return "overwritten or lost", f"{guarded} changed"
    text = err.getvalue().strip()
    if kind == "cli":
        if isinstance(result, str):  # argparse prints usage and exits 2
            result = 2
        if "Traceback" in text:
            return "traceback", text.splitlines()[-1][:160]
        if result == 2 or result not in (0, None):
            line = next((l for l in text.splitlines() if "error" in l), text[:160])
            flags = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", line))
            missing = flags - case["options"]
            if expect == "ok":
                return "refused a valid request", line[:160]
            if missing:
                return "one-line error, missing option", f"{line[:120]} (no {sorted(missing)})"
            if case.get("check_error") and not case["check_error"](line):
                return "misleading error", line[:160]
            return "one-line error", line[:160]
        # exit 0
        if expect == "error":
            return "silent wrong result", out.getvalue().strip()[-120:]
        check = case.get("check")
        if check is not None and not check(out.getvalue(), [str(w.message) for w in caught]):
            return "silent wrong result", "the result or its report was wrong"
        return "works", ""
    # Python
    if raised is not None:
        if expect == "ok":
            return "refused a valid request", str(raised)[:160]
        line = str(raised).splitlines()[0]
        if case.get("check_error") and not case["check_error"](line):
            return "misleading error", line[:160]
        return "one-line error", line[:160]
    if expect == "error":
        return "silent wrong result", repr(result)[:120]
    check = case.get("check")
    if check is not None and not check(result, [str(w.message) for w in caught]):
        return "silent wrong result", repr(result)[:120]
    return "works", ""


def build_cases(root, cli, models):
    import ganpaint as gp
    from ganpaint import data, metrics, recipes
    from ganpaint.recipe_presets import RECIPES

    parser = cli.build_parser()
    cases = []

    def add(
        name,
        argv=None,
        call=None,
        expect="error",
        intact=None,
        check=None,
        group="",
        check_error=None,
        proc=None,
        fsize=None,
    ):
        case = {
            "name": name,
            "expect": expect,
            "intact": intact,
            "check": check,
            "group": group,
            "check_error": check_error,
            "fsize": fsize,
        }
        if argv is not None:
            case.update(
                kind="cli", argv=[str(a) for a in argv], options=options_of(parser, str(argv[0]))
            )
        elif proc is not None:  # (argv, limit): a subprocess, so that a crash is counted
            case.update(
                kind="proc",
                call=lambda: _subprocess(*proc),
                options=options_of(parser, str(proc[0][0])),
            )
        else:
            case.update(kind="python", call=call)
        cases.append(case)

    def fresh(name):
        path = os.path.join(root, "t", f"{len(cases):03d}_{name}")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return path

    def existing(name, content=b"the user's own file"):
        path = fresh(name)
        with open(path, "wb") as f:
            f.write(content)
        return path

    rng = np.random.default_rng(0)
    singles = os.path.join(root, "singles.npz")
    np.savez(singles, images=rng.integers(0, 256, (3, 16, 16, 3), dtype=np.uint8))
    pairs = os.path.join(root, "pairs.npz")
    np.savez(pairs, images=rng.integers(0, 256, (3, 16, 32, 3), dtype=np.uint8))
    labelled = os.path.join(root, "labelled.npz")
    np.savez(
        labelled,
        images=rng.integers(0, 256, (6, 8, 8, 3), dtype=np.uint8),
        labels=np.array([0, 1, 2, 0, 1, 2]),
    )
    empty_dir = os.path.join(root, "empty")
    os.makedirs(empty_dir)
    not_images = os.path.join(root, "notes")
    os.makedirs(not_images)
    with open(os.path.join(not_images, "a.txt"), "w") as f:
        f.write("no images here")
    corrupt_dir = os.path.join(root, "corrupt")
    os.makedirs(corrupt_dir)
    with open(os.path.join(corrupt_dir, "a.jpg"), "wb") as f:
        f.write(b"\xff\xd8\xff\xe0 truncated")
    mixed = os.path.join(root, "mixed.npz")
    np.savez(mixed, np.zeros((8, 8, 3), np.uint8), np.zeros((9, 9, 3), np.uint8))
    bad_keras = os.path.join(root, "bad.keras")
    with open(bad_keras, "wb") as f:
        f.write(b"\x00not a model" * 64)
    truncated = os.path.join(root, "truncated.keras")
    with open(models["gan"], "rb") as f, open(truncated, "wb") as g:
        g.write(f.read()[:4000])
    not_keras = os.path.join(root, "model.h5")
    shutil.copy(models["gan"], not_keras)
    tfrec = os.path.join(root, "rec", "d.tfrec")
    data.write_tfrecords(np.load(labelled)["images"], tfrec, labels=[0, 1, 2, 0, 1, 2])

    # A finished run to protect.
    run = os.path.join(root, "run")
    with contextlib.redirect_stdout(io.StringIO()):
        cli.main(["train", "mnist_acgan", "--smoke", "--out", run])

    def copy_run(name):
        path = fresh(name)
        shutil.copytree(run, path)
        return path

    # -- training ------------------------------------------------------------------------------
    for recipe in sorted(RECIPES):
        add(
            f"train {recipe} into a folder holding another run",
            group="runs",
            argv=["train", recipe, "--smoke", "--epochs", "1", "--out", copy_run(f"run_{recipe}")]
            if recipe != "mnist_acgan"
            else ["train", recipe, "--smoke", "--image-size", "32", "--out", copy_run("run_size")],
        )
        cases[-1]["intact"] = cases[-1]["argv"][-1]
    for recipe in sorted(RECIPES):
        add(
            f"train {recipe} without data, offline",
            ["train", recipe, "--out", fresh("nodata")],
            group="offline",
        )
    for recipe in sorted(RECIPES):
        add(
            f"train {recipe} --data missing",
            ["train", recipe, "--data", "/no/such/path", "--out", fresh("missing")],
            group="data",
        )
    add(
        "train cyclegan with one --data",
        ["train", "monet_cyclegan", "--data", singles, "--out", fresh("one")],
        group="data",
    )
    add(
        "train gan with two --data",
        ["train", "dogs_dcgan", "--data", singles, singles, "--out", fresh("two")],
        group="data",
    )
    add(
        "train from an unreachable gs:// path",
        [
            "train",
            "dogs_dcgan",
            "--data",
            "gs://no-such-bucket-ganpaint/x.tfrec",
            "--out",
            fresh("gs"),
        ],
        group="data",
    )
    add(
        "train --resume with no checkpoint",
        ["train", "dogs_dcgan", "--smoke", "--resume", "--out", fresh("resume")],
        group="runs",
    )
    add(
        "train --resume --fresh",
        ["train", "dogs_dcgan", "--smoke", "--resume", "--fresh", "--out", fresh("rf")],
        group="runs",
    )
    add("train --epochs 0", ["train", "dogs_dcgan", "--smoke", "--epochs", "0"], group="args")
    add(
        "train --time-limit nonsense",
        ["train", "dogs_dcgan", "--smoke", "--time-limit", "soon"],
        group="args",
    )

    def offline_fid(**kw):
        def call():
            setup = recipes.build("dogs_dcgan", smoke=True, out_dir=fresh("fidpy"), **kw)
            try:
                setup.fit(verbose=0)
            except (ValueError, OSError):
                if int(setup.model.g_optimizer.iterations):
                    raise RuntimeError("died after training steps") from None
                raise
            return int(setup.model.g_optimizer.iterations)

        return call

    add(
        "Python: training-time Inception FID offline, no weights",
        group="offline",
        call=offline_fid(fid_features="inception"),
    )
    add(
        "Python: training-time FID from a local graph file",
        group="offline",
        call=offline_fid(fid_features="inception", fid_weights=os.path.join(root, "graph.pb")),
        expect="ok",
        check=lambda steps, w: steps == 6,
    )
    add(
        "Python: a weights path given as fid_features",
        group="offline",
        call=offline_fid(fid_features=os.path.join(root, "graph.pb")),
    )
    add(
        "train with training-time FID from a local graph file",
        group="offline",
        expect="ok",
        argv=[
            "train",
            "dogs_dcgan",
            "--smoke",
            "--fid",
            "inception",
            "--fid-weights",
            os.path.join(root, "graph.pb"),
            "--out",
            fresh("fidcli"),
        ],
    )

    # -- every command on every model kind -------------------------------------------------------
    generators, translators = ("gan", "cgan", "acgan"), ("cyclegan", "pix2pix")

    def argv_for(command, model, target, kind):
        if command == "sample":
            return ["sample", model, "--out", target, "--n", "4"]
        if command == "translate":
            return ["translate", model, singles, target]
        inputs = [singles] if kind in translators else ["--count", "4"]
        return ["submit", model, *inputs, "--out", target]

    for command, suffix in (("sample", ".png"), ("translate", ""), ("submit", ".zip")):
        for kind in generators + translators:
            wrong = (command == "sample" and kind in translators) or (
                command == "translate" and kind in generators
            )
            add(
                f"{command} {kind}: new target",
                argv_for(command, models[kind], fresh("new") + suffix, kind),
                expect="error" if wrong else "ok",
                group="kinds",
            )
            if not wrong:
                if command == "translate":
                    target = fresh("used")
                    os.makedirs(target)
                    with open(os.path.join(target, "00000.png"), "wb") as f:
                        f.write(b"an earlier translation")
                else:
                    target = existing("used" + suffix)
                add(
                    f"{command} {kind}: existing target",
                    argv_for(command, models[kind], target, kind),
                    intact=target,
                    group="overwrite",
                )
            for label, broken in (
                ("corrupt", bad_keras),
                ("truncated", truncated),
                ("not .keras", not_keras),
            ):
                add(
                    f"{command} {kind}: {label} model file",
                    argv_for(command, broken, fresh("b") + suffix, kind),
                    group="files",
                )
    add(
        "translate pix2pix on side-by-side pairs",
        ["translate", models["pix2pix"], pairs, fresh("pairs"), "--pairs"],
        expect="ok",
        check=lambda out, w: "pair" in out,
        group="kinds",
    )
    add(
        "submit pix2pix on side-by-side pairs",
        ["submit", models["pix2pix"], pairs, "--pairs", "--out", fresh("pairs.zip")],
        expect="ok",
        check=lambda out, w: "pair" in out,
        group="kinds",
    )
    add(
        "sample --labels on an unconditional GAN",
        ["sample", models["gan"], "--out", fresh("l.png"), "--labels", "1"],
    )
    add(
        "sample --labels out of range",
        ["sample", models["acgan"], "--out", fresh("l.png"), "--labels", "7"],
    )
    add(
        "sample --labels not ints",
        ["sample", models["acgan"], "--out", fresh("l.png"), "--labels", "a,b"],
    )
    add("sample --n 0", ["sample", models["gan"], "--out", fresh("n.png"), "--n", "0"])
    add(
        "sample from a missing model",
        ["sample", os.path.join(root, "none.keras"), "--out", fresh("m.png")],
        group="files",
    )
    add(
        "translate from an empty folder",
        ["translate", models["cyclegan"], empty_dir, fresh("e")],
        group="data",
    )
    add(
        "translate BtoA with pix2pix",
        ["translate", models["pix2pix"], singles, fresh("btoa"), "--direction", "BtoA"],
        expect="ok",
        group="kinds",
    )
    add("submit a GAN with inputs", ["submit", models["gan"], singles, "--out", fresh("g.zip")])
    add(
        "submit a translator without inputs",
        ["submit", models["cyclegan"], "--out", fresh("c.zip")],
    )
    add(
        "submit a GAN without --count or contest",
        ["submit", models["gan"], "--out", fresh("c.zip")],
    )
    add(
        "submit --size 0",
        ["submit", models["gan"], "--count", "2", "--size", "0", "--out", fresh("s.zip")],
    )

    # -- conversions ---------------------------------------------------------------------------
    add(
        "make-npz over an existing file",
        ["make-npz", labelled, existing("e.npz"), "--image-size", "8"],
        group="overwrite",
    )
    cases[-1]["intact"] = cases[-1]["argv"][2]
    add(
        "make-tfrecords over an existing file",
        ["make-tfrecords", labelled, existing("e.tfrec"), "--image-size", "8"],
        group="overwrite",
    )
    cases[-1]["intact"] = cases[-1]["argv"][2]
    add(
        "make-npz from a TFRecord folder",
        ["make-npz", os.path.dirname(tfrec), fresh("fromrec.npz"), "--image-size", "8"],
        expect="ok",
        group="conversion",
    )
    target_labels = fresh("labels.tfrec")

    def labels_kept(out, w):
        try:
            ds = data.image_dataset(
                target_labels, image_size=8, batch_size=6, labels=True, shuffle=False
            )
            return list(next(iter(ds))[1].numpy()) == [0, 1, 2, 0, 1, 2]
        except Exception:
            return False

    add(
        "make-tfrecords from a labelled npz keeps labels",
        ["make-tfrecords", labelled, target_labels, "--image-size", "8"],
        expect="ok",
        check=labels_kept,
        group="conversion",
    )
    add(
        "make-npz from a missing folder",
        ["make-npz", "/no/such/folder", fresh("x.npz")],
        group="data",
    )
    add("make-npz from an empty folder", ["make-npz", empty_dir, fresh("x.npz")], group="data")
    add(
        "make-npz from a folder without images",
        ["make-npz", not_images, fresh("x.npz")],
        group="data",
    )
    add("make-npz from a corrupt JPEG", ["make-npz", corrupt_dir, fresh("x.npz")], group="data")
    add("make-npz --image-size 0", ["make-npz", labelled, fresh("x.npz"), "--image-size", "0"])
    add("make-npz --image-size abc", ["make-npz", labelled, fresh("x.npz"), "--image-size", "abc"])
    add(
        "make-tfrecords from mixed shapes",
        ["make-tfrecords", mixed, fresh("m.tfrec"), "--image-size", "8"],
        group="data",
    )
    add(
        "make-tfrecords --shards 100 for 6 images",
        ["make-tfrecords", labelled, fresh("s.tfrec"), "--image-size", "8", "--shards", "100"],
    )
    add(
        "make-tfrecords --quality 0",
        ["make-tfrecords", labelled, fresh("q.tfrec"), "--image-size", "8", "--quality", "0"],
    )

    # -- scores ----------------------------------------------------------------------------------
    add(
        "fid --json over an existing file",
        [
            "fid",
            labelled,
            labelled,
            "--weights",
            "pixels",
            "--image-size",
            "8",
            "--json",
            existing("f.json"),
        ],
        group="overwrite",
    )
    cases[-1]["intact"] = cases[-1]["argv"][-1]
    add(
        "fid offline with imagenet weights",
        ["fid", labelled, labelled, "--image-size", "8", "--weights", "imagenet"],
        group="offline",
    )
    add(
        "fid with a missing weights file",
        ["fid", labelled, labelled, "--weights", "/no/such.h5"],
        group="offline",
    )
    add(
        "fid with a weights file that is not one",
        ["fid", labelled, labelled, "--weights", not_keras],
        group="files",
    )
    add(
        "fid on a missing folder",
        ["fid", "/no/such", labelled, "--weights", "pixels"],
        group="data",
    )
    add("fid on an empty folder", ["fid", empty_dir, labelled, "--weights", "pixels"], group="data")
    add(
        "fid from unreachable gs://",
        ["fid", "gs://no-such-bucket-ganpaint/a", labelled, "--weights", "pixels"],
        group="data",
    )
    add(
        "fid --kid with 6 images",
        ["fid", labelled, labelled, "--weights", "pixels", "--image-size", "8", "--kid"],
        expect="ok",
        check=lambda out, w: True,
        group="numbers",
    )
    cases[-1]["check"] = None

    images = np.random.default_rng(1).integers(0, 256, (40, 8, 8, 3), dtype=np.uint8)
    unit = images.astype("float32") / 127.5 - 1
    features = metrics.PixelFeatures(4)
    reference = metrics.fid(unit, unit[::-1] * 0.5, extractor=features, verbose=False)

    add(
        "Python: fid on uint8 images",
        group="numbers",
        expect="ok",
        call=lambda: float(
            metrics.fid(images, (unit[::-1] * 0.5), extractor=features, verbose=False)
        ),
        check=lambda value, w: abs(value - float(reference)) < 1e-6 * max(1, float(reference)),
    )
    add(
        "Python: fid on [0, 255] floats",
        group="numbers",
        call=lambda: float(
            metrics.fid(images.astype("float32"), unit, extractor=features, verbose=False)
        ),
    )
    add(
        "Python: to_uint8 on uint8",
        group="numbers",
        expect="ok",
        call=lambda: data.to_uint8(images),
        check=lambda value, w: np.array_equal(value, images),
    )
    add(
        "Python: to_uint8 on [0, 255] floats",
        group="numbers",
        call=lambda: data.to_uint8(images.astype("float32")),
    )
    cache = os.path.join(root, "cache.npz")
    metrics.fid(unit, unit, extractor=features, verbose=False, real_cache=cache)
    add(
        "Python: real_cache with other real images",
        group="numbers",
        expect="ok",
        call=lambda: float(
            metrics.fid(unit[:20] * 0.2, unit, extractor=features, verbose=False, real_cache=cache)
        ),
        check=lambda value, w: (
            abs(
                value - float(metrics.fid(unit[:20] * 0.2, unit, extractor=features, verbose=False))
            )
            < 1e-6
        ),
    )
    add(
        "Python: KID with fewer images than its subset",
        group="numbers",
        expect="ok",
        call=lambda: metrics.kid_from_features(
            np.random.default_rng(0).normal(size=(10, 4)),
            np.random.default_rng(1).normal(size=(10, 4)),
        ),
        check=lambda value, w: any("subset" in m for m in w),
    )
    add(
        "Python: fid on 4 images warns",
        group="numbers",
        expect="ok",
        call=lambda: float(metrics.fid(unit[:4], unit[4:8], extractor=features, verbose=False)),
        check=lambda value, w: any("images" in m for m in w),
    )
    add(
        "Python: fid with features of another size",
        group="numbers",
        call=lambda: metrics.fid_from_features(np.zeros((4, 3)), np.zeros((4, 5))),
    )
    add(
        "Python: InceptionFeatures offline",
        group="offline",
        call=lambda: metrics.InceptionFeatures(),
    )

    # -- audit -------------------------------------------------------------------------------
    zip_path = os.path.join(root, "s.zip")
    from PIL import Image

    with zipfile.ZipFile(zip_path, "w") as archive:
        for i in range(6):
            buffer = io.BytesIO()
            Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(buffer, "PNG")
            archive.writestr(f"{i}.png", buffer.getvalue())
    audit_dir = fresh("audit")
    os.makedirs(audit_dir)
    with open(os.path.join(audit_dir, "audit.json"), "w") as f:
        f.write("an earlier audit")
    add(
        "audit over an earlier audit",
        ["audit", zip_path, labelled, "--weights", "pixels", "--out", audit_dir],
        intact=audit_dir,
        group="overwrite",
    )
    add(
        "audit a file that is not a zip",
        ["audit", labelled, labelled, "--weights", "pixels", "--out", fresh("a")],
        group="files",
    )
    add(
        "audit a missing zip",
        ["audit", "/no/such.zip", labelled, "--weights", "pixels", "--out", fresh("a")],
        group="files",
    )
    add(
        "audit offline with imagenet",
        ["audit", zip_path, labelled, "--out", fresh("a")],
        group="offline",
    )
    add(
        "audit against a missing training set",
        ["audit", zip_path, "/no/such", "--weights", "pixels", "--out", fresh("a")],
        group="data",
    )

    # -- the command line ------------------------------------------------------------------------
    add("unknown subcommand", ["paint"])
    add("unknown recipe", ["train", "dogs_gan"])
    add(
        "--verbose after the subcommand",
        [
            "train",
            "dogs_dcgan",
            "--smoke",
            "--epochs",
            "1",
            "--fid",
            "off",
            "--verbose",
            "--out",
            fresh("v"),
        ],
        expect="ok",
    )
    add("--version", ["--version"], expect="ok")
    add(
        "--skip-bad on fid",
        ["fid", corrupt_dir, labelled, "--weights", "pixels", "--skip-bad"],
        group="data",
    )
    add("Python: load a truncated .keras", group="files", call=lambda: gp.load_model(truncated))

    for case in cases:
        case["part"] = 1  # issue 21's sweep
    from sweep_real_folders import real_folder_cases

    real_folder_cases(root, add, fresh, models, cli)
    for case in cases:
        case.setdefault("part", 2)  # the second sweep: real folders, full disks, habits
    return cases


def _subprocess(argv, file_size_limit=None):
    """`python -m ganpaint ARGV` in a child process (with a file-size limit in bytes)."""
    import resource
    import subprocess

    def limit():
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(
        [sys.executable, "-m", "ganpaint", *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=limit,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write every case and its outcome to this JSON file")
    parser.add_argument("--only", help="run the cases whose name holds this text")
    parser.add_argument(
        "--part",
        type=int,
        choices=(1, 2),
        help="run one part: 1, the first "
        "sweep's cases (issue 21); 2, the second's (real folders, full disks, "
        "Keras habits: scripts/sweep_real_folders.py)",
    )
    args = parser.parse_args(argv)
    root = tempfile.mkdtemp(prefix="ganpaint-sweep-")
    offline(os.path.join(root, "keras_home"))
    from ganpaint import cli, metrics, testing

    models = {}
    for kind in testing.MODELS:
        model = testing.model(kind)
        model.compile()
        models[kind] = os.path.join(root, f"{kind}.keras")
        model.save(models[kind])
    from ganpaint import testing

    testing.synthetic_inception_graph(os.path.join(root, "graph.pb"))
    metrics.WEIGHTS_SEARCH_ROOTS = (
        [os.path.join(root, "kaggle")] if hasattr(metrics, "WEIGHTS_SEARCH_ROOTS") else None
    )
    cases = build_cases(root, cli, models)
    if args.only:
        cases = [c for c in cases if args.only in c["name"]]
    if args.part:
        cases = [c for c in cases if c["part"] == args.part]
    counts, records = {}, []
    start = time.time()
    for case in cases:
        try:
            outcome, detail = run_case(case, cli)
        except Exception:
            outcome, detail = "traceback", traceback.format_exc().splitlines()[-1]
        counts[outcome] = counts.get(outcome, 0) + 1
        records.append(
            {
                "case": case["name"],
                "group": case["group"],
                "part": case["part"],
                "expect": case["expect"],
                "outcome": outcome,
                "detail": detail,
            }
        )
        print(
            f"{outcome:32s} {case['name']}"
            + (f"  [{detail[:100]}]" if detail and outcome != "one-line error" else ""),
            file=sys.__stdout__,
            flush=True,
        )
    print(f"\n{len(cases)} cases in {time.time() - start:.0f} s:", file=sys.__stdout__)
    for outcome, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"  {n:4d}  {outcome}", file=sys.__stdout__)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"counts": counts, "cases": records}, f, indent=1)
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
