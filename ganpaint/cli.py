"""The `ganpaint` command line (also `python -m ganpaint`).

    ganpaint make-npz SOURCE OUT [--image-size 128] [--overwrite]
    ganpaint make-tfrecords SOURCE OUT --image-size 256 [--shards 4] [--overwrite]
    ganpaint train RECIPE [--data PATH [PATH_B]] [--epochs N] [--out DIR] [--smoke]
                   [--fid inception|pixels|off] [--fid-weights FILE]
                   [--time-limit 8h] [--checkpoint-every STEPS] [--fresh | --resume]
    ganpaint sample MODEL.keras --out grid.png [--n 64] [--labels 0,1,2] [--overwrite]
    ganpaint translate MODEL.keras INPUT OUT_DIR [--direction AtoB] [--overwrite]
    ganpaint fid REAL FAKE [--weights imagenet|FILE|pixels] [--json FILE]
    ganpaint submit MODEL.keras [INPUTS] --out images.zip [--count N] [--contest monet|dogs]
    ganpaint audit images.zip TRAINING_IMAGES [--weights imagenet|FILE|pixels]
    ganpaint export MODEL.keras --out PATH [--format savedmodel|tflite] [--no-ema]
    ganpaint animate RUN --out progress.gif
    ganpaint recipes [RECIPE] [--smoke] [--set SECTION.KEY=VALUE ...]
    ganpaint sweep RECIPE --out DIR [--grid KEY=V1,V2 ... | --variant 'KEY=V KEY=V' ...]
                   [--seeds 3] [--parallel N] [--smoke] [--set ...]
    ganpaint samples            (where the bundled samples are)
    ganpaint demo [--out DIR] [--epochs 50] [--seed 0] [--fresh]

Nothing a user made is replaced without `--overwrite` (files) or `--fresh` (a run, which is
moved aside, not deleted). Errors are one line naming the file or flag and a fix.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import sys
import tempfile

from ganpaint import fs

# Nothing here imports TensorFlow: `--help` and argument errors answer at once. A subcommand
# imports what it needs, after `_quiet_tensorflow` has silenced TensorFlow's start-up logs.


def _size(text: str):
    """'128' -> 128; '256x320' -> (256, 320)."""
    try:
        parts = [int(p) for p in text.lower().split("x")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an int or HxW, got {text!r}") from None
    if len(parts) not in (1, 2) or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive int or HxW, got {text!r}")
    return parts[0] if len(parts) == 1 else tuple(parts)


DEFAULT_NPZ_SIZE = 128  # the EfficientNet CycleGAN recipe's size: small enough for big folders


def _duration(text: str) -> float:
    from ganpaint.sessions import parse_duration  # pure Python

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive int, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive int, got {text!r}")
    return value


def _device_list(text: str) -> list[str]:
    """'gpu:0,gpu:1' -> ['gpu:0', 'gpu:1'] (checked against the machine when training starts)."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names or any(":" not in n or not n.rsplit(":", 1)[1].isdigit() for n in names):
        raise argparse.ArgumentTypeError(
            f"expected devices like gpu:0,gpu:1 or cpu:0,cpu:1, got {text!r}"
        )
    return names


def _seed(text: str) -> int:
    """A seed: a whole number from 0 to 2**32 - 1 (what numpy and Keras take)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number from 0 to 4294967295, got {text!r}"
        ) from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(
            f"expected a whole number from 0 to 4294967295, got {text!r}"
        )
    return value


def _number(low: float, high: float, low_open: bool = False):
    """An argparse type: a finite float in [low, high] (or (low, high] with `low_open`)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        below = value <= low if low_open else value < low
        if not math.isfinite(value) or below or value > high:
            bound = "(" if low_open else "["
            raise argparse.ArgumentTypeError(
                f"expected a number in {bound}{low:g}, {high:g}], got {text!r}"
            )
        return value

    return parse


def _int_between(low: int, high: int):
    """An argparse type: an int in [low, high]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected an int from {low} to {high}, got {text!r}")
        return value

    return parse


_VERBOSE_HELP = "show TensorFlow's and absl's log lines (hidden by default)"
_SKIP_BAD_HELP = "leave unreadable image files out, and list them (default: stop at the first)"
_OVERWRITE_HELP = "replace what is already at the output path (refused otherwise)"


class _Parser(argparse.ArgumentParser):
    def add_subcommand(self, sub, name, **kwargs):
        """A subcommand that also takes --verbose after its name."""
        p = sub.add_parser(name, **kwargs)
        p.add_argument(
            "--verbose", action="store_true", default=argparse.SUPPRESS, help=_VERBOSE_HELP
        )
        return p


def build_parser() -> argparse.ArgumentParser:
    from ganpaint import __version__

    parser = _Parser(prog="ganpaint", description="GAN recipes for Keras 3.")
    parser.add_argument("--version", action="version", version=f"ganpaint {__version__}")
    parser.add_argument("--verbose", action="store_true", help=_VERBOSE_HELP)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=argparse.ArgumentParser)
    add = lambda name, **kw: parser.add_subcommand(sub, name, **kw)

    for define in _SUBCOMMANDS:
        define(add)
    return parser


def _parse_make_npz(add) -> None:
    p = add(
        "make-npz",
        help="decode and resize images (a folder, TFRecords, .npz, CSV) into "
        "one .npz, keeping labels and file names",
    )
    p.add_argument(
        "folder",
        metavar="SOURCE",
        help="folder of images (class subfolders give labels), TFRecords, .npz or digit CSV",
    )
    p.add_argument("out", help="output .npz path")
    p.add_argument(
        "--image-size",
        type=_size,
        default=None,
        help=f"e.g. 128 or 256x320 (default {DEFAULT_NPZ_SIZE}, reported when used)",
    )
    p.add_argument("--channels", type=int, choices=(1, 3), default=3)
    p.add_argument("--resize-mode", choices=("stretch", "center_crop"), default="stretch")
    p.add_argument("--skip-bad", action="store_true", help=_SKIP_BAD_HELP)
    p.add_argument("--compress", action="store_true")
    p.add_argument(
        "--annotations",
        metavar="DIR",
        help="Pascal VOC files (Stanford Dogs' "
        "Annotation/): one image per annotated object, cropped from its box, "
        "labelled by its name",
    )
    p.add_argument(
        "--box-margin",
        type=_number(0.0, 10.0),
        default=0.0,
        help="widen each box by this fraction of its size on each side (with --annotations)",
    )
    p.add_argument(
        "--square",
        choices=("expand", "pad"),
        default="expand",
        help="make box crops square by growing the box over the photo, or by padding with black",
    )
    p.add_argument("--overwrite", action="store_true", help=_OVERWRITE_HELP)


def _parse_make_tfrecords(add) -> None:
    p = add(
        "make-tfrecords",
        help="write images as Kaggle-layout TFRecords, keeping labels and file names",
    )
    p.add_argument("source", help="folder, .npz, .csv or TFRecords to read")
    p.add_argument("out", help="output file, e.g. out/photo.tfrec")
    p.add_argument("--image-size", type=_size, required=True)
    p.add_argument("--channels", type=int, choices=(1, 3), default=3)
    p.add_argument("--shards", type=_positive_int, default=1)
    p.add_argument("--format", choices=("jpeg", "png"), default="jpeg")
    p.add_argument(
        "--quality",
        type=_int_between(1, 100),
        default=95,
        help="JPEG quality, 1 to 100 (default 95)",
    )
    p.add_argument("--skip-bad", action="store_true", help=_SKIP_BAD_HELP)
    p.add_argument("--overwrite", action="store_true", help=_OVERWRITE_HELP)


def _parse_train(add) -> None:
    from ganpaint.recipe_presets import RECIPES  # pure Python: no TensorFlow

    p = add("train", help="train a recipe (see `ganpaint train --help`)")
    _recipe_arguments(p, RECIPES)
    p.add_argument("--epochs", type=_positive_int)
    p.add_argument(
        "--devices",
        type=_device_list,
        metavar="LIST",
        help="train on these "
        "devices with MirroredStrategy, e.g. gpu:0,gpu:1 (default: every GPU, a TPU "
        "or TF_CONFIG's workers); cpu:0,cpu:1 splits the CPU, to try several "
        "replicas without a GPU",
    )
    p.add_argument(
        "--num-classes",
        type=_positive_int,
        metavar="K",
        help="labelled recipes: "
        "the model's classes (default: the recipe's; the data's labels must be "
        "below it)",
    )
    p.add_argument("--batch-size", type=_positive_int)
    p.add_argument("--image-size", type=_positive_int)
    p.add_argument(
        "--out",
        help="output folder (default outputs/RECIPE); one that holds another run is refused",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="require a checkpoint in --out to "
        "continue from (without it, a checkpoint is used when there is one)",
    )
    p.add_argument(
        "--fresh",
        action="store_true",
        help="start again, moving the earlier run "
        "in --out aside to --out/replaced-TIME (nothing is deleted)",
    )
    p.add_argument(
        "--fid",
        choices=("inception", "pixels", "off"),
        help="training-time FID: "
        "Inception features (the default for most recipes), downsampled pixels "
        "(no weights needed), or off",
    )
    p.add_argument(
        "--backbone-weights",
        metavar="FILE",
        help="EfficientNet recipes: the "
        "backbone's notop weights file, imagenet (downloads) or none (random)",
    )
    p.add_argument(
        "--fid-weights",
        metavar="FILE",
        help="Inception weights for training-time "
        "FID: classify_image_graph_def.pb or Keras' notop .h5 (default: "
        "$GANPAINT_FID_WEIGHTS, a file under /kaggle/input, Keras' cache, else "
        "download)",
    )
    p.add_argument(
        "--time-limit",
        type=_duration,
        metavar="DURATION",
        help="stop cleanly before this much time (8h, 11h30m, 90m), state saved; "
        "the same command continues the run",
    )
    p.add_argument(
        "--checkpoint-every",
        type=_positive_int,
        metavar="STEPS",
        help="steps between checkpoints (default: the recipe's, 500)",
    )
    p.add_argument(
        "--steps-per-execution",
        type=_positive_int,
        metavar="N",
        help="training steps per call of the compiled step (default: the "
        "recipe's; 1 on CPU and GPU, 32 on a TPU, where each call is a round trip "
        "to the host)",
    )
    p.add_argument(
        "--deterministic",
        action="store_true",
        help="TensorFlow op determinism: "
        "a resumed run ends bit for bit where an uninterrupted one ends",
    )
    p.add_argument("--smoke", action="store_true", help="tiny sizes on the bundled samples")
    p.add_argument("--skip-bad", action="store_true", help=_SKIP_BAD_HELP)
    p.add_argument(
        "--annotations",
        metavar="DIR",
        help="dog recipes: train on the dogs cut "
        "from their VOC boxes (Stanford Dogs' Annotation/ folder)",
    )
    p.add_argument(
        "--no-tensorboard",
        action="store_true",
        help="do not write TensorBoard "
        "logs (default: OUT/tensorboard, for `%%tensorboard --logdir OUT`)",
    )
    p.add_argument("--seed", type=_seed, default=0)


def _recipe_name(text: str) -> str:
    from ganpaint.recipe_presets import RECIPES

    if text in RECIPES or text.endswith((".yaml", ".yml", ".json", ".py")):
        return text
    raise argparse.ArgumentTypeError(
        f"invalid choice: {text!r} (choose from "
        f"{', '.join(sorted(RECIPES))}, or a recipe file: .yaml, "
        ".json, .py)"
    )


def _recipe_arguments(p, recipes) -> None:
    """RECIPE, --data and --set: what `train`, `sweep` and `recipes` share."""
    p.add_argument(
        "recipe",
        type=_recipe_name,
        metavar="RECIPE",
        help="one of: " + ", ".join(sorted(recipes)) + "; or a recipe file "
        "(.yaml, .json, .py: a base recipe and the settings it changes)",
    )
    p.add_argument(
        "--data",
        nargs="+",
        help="training data: a folder, .npz, TFRecords or CSV; "
        "two paths (domain A, domain B) for CycleGAN recipes",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        dest="settings",
        help="change any setting, e.g. model.cycle_weight=10 or "
        "optimizer.g_learning_rate=1e-4 (repeat for more; `ganpaint recipes RECIPE` "
        "lists every key)",
    )


def _parse_recipes(add) -> None:
    from ganpaint.recipe_presets import RECIPES

    p = add(
        "recipes",
        help="list the recipes, or every setting of one with its value and where it comes from",
    )
    p.add_argument(
        "recipe",
        nargs="?",
        type=_recipe_name,
        metavar="RECIPE",
        help="a recipe (" + ", ".join(sorted(RECIPES)) + ") or recipe file",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        dest="settings",
        help="show the settings with these changes",
    )
    p.add_argument("--smoke", action="store_true", help="with the smoke sizes")


def _parse_sweep(add) -> None:
    from ganpaint.recipe_presets import RECIPES

    p = add(
        "sweep",
        help="train every variant of a recipe over seeds; writes sweep.csv, "
        "sweep.png and TensorBoard's HParams (a stopped sweep continues when run again)",
    )
    _recipe_arguments(p, RECIPES)
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="SECTION.KEY=V1,V2",
        help="values to try for a setting (repeat: every combination is a variant)",
    )
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="'SECTION.KEY=V SECTION.KEY=V'",
        help="one variant's settings, separated by spaces (repeat: one variant each; "
        "instead of --grid, for the rows of a coordinate search)",
    )
    p.add_argument(
        "--seeds",
        type=_int_between(1, 1000),
        default=3,
        help="seeds per variant, 0..N-1 (default 3: mean and sd over them)",
    )
    p.add_argument("--out", required=True, help="the sweep's folder (each run in VARIANT/seed_S)")
    p.add_argument("--epochs", type=_positive_int, help="each run's epochs (default: the recipe's)")
    p.add_argument(
        "--parallel",
        type=_int_between(1, 64),
        default=1,
        help="runs trained side by side, one process each (default 1)",
    )
    p.add_argument("--smoke", action="store_true", help="tiny sizes on the bundled samples")
    p.add_argument(
        "--fresh",
        action="store_true",
        help="start every run again (earlier runs are moved aside, nothing is deleted)",
    )


def _parse_sample(add) -> None:
    p = add("sample", help="draw images from a trained GAN (.keras)")
    p.add_argument("model", help="a model.keras written by `ganpaint train`")
    p.add_argument("--out", required=True, help="output PNG grid (and .npz with --npz)")
    p.add_argument("--n", type=_positive_int, default=64)
    p.add_argument(
        "--labels",
        help="comma-separated classes for labelled models (default: every class in turn)",
    )
    p.add_argument("--npz", action="store_true", help="also write the images as OUT.npz")
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument(
        "--no-ema",
        action="store_true",
        help="sample the trained generator, not "
        "its moving average (for models trained with ema=...)",
    )
    p.add_argument("--overwrite", action="store_true", help=_OVERWRITE_HELP)


def _parse_translate(add) -> None:
    p = add("translate", help="translate images with a CycleGAN or pix2pix (.keras)")
    p.add_argument("model")
    p.add_argument("input", help="folder, .npz or TFRecords of input images, each read whole")
    p.add_argument("out", help="output folder for the translated PNGs (new or empty)")
    p.add_argument(
        "--pairs",
        action="store_true",
        help="the inputs are side-by-side pairs (pix2pix's layout): translate one half of each",
    )
    p.add_argument(
        "--direction",
        choices=("AtoB", "BtoA"),
        default="AtoB",
        help="CycleGAN: which generator; with --pairs: AtoB reads the left halves, BtoA the right",
    )
    p.add_argument("--batch-size", type=_positive_int, default=8)
    p.add_argument(
        "--no-ema",
        action="store_true",
        help="translate with the trained generator, "
        "not its moving average (for models trained with ema=...)",
    )
    p.add_argument("--skip-bad", action="store_true", help=_SKIP_BAD_HELP)
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a folder that is not empty (refused otherwise)",
    )


def _parse_submit(add) -> None:
    from ganpaint.submission import CONTESTS  # numpy and the standard library only

    p = add("submit", help="a trained model straight into a contest's images.zip")
    p.add_argument("model", help="a model.keras written by `ganpaint train`")
    p.add_argument(
        "inputs",
        nargs="?",
        help="images to translate (CycleGAN, pix2pix): folder, TFRecords or .npz; none for GANs",
    )
    p.add_argument(
        "--pairs",
        action="store_true",
        help="the inputs are side-by-side pairs (pix2pix's layout): translate their left halves",
    )
    p.add_argument("--out", required=True, help="the zip to write, e.g. images.zip")
    p.add_argument(
        "--count",
        type=_positive_int,
        help="images (default: every input, or the contest's minimum for GANs)",
    )
    p.add_argument(
        "--size", type=_size, help="output size (default: the model's, or the contest's)"
    )
    p.add_argument(
        "--format",
        choices=("jpg", "png"),
        default=None,
        help="default jpg (png for --contest dogs)",
    )
    p.add_argument("--contest", choices=sorted(CONTESTS), help="warn when outside its rules")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--batch-size", type=_positive_int, default=32)
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--no-ema", action="store_true")
    p.add_argument("--skip-bad", action="store_true", help=_SKIP_BAD_HELP)


def _parse_audit(add) -> None:
    from ganpaint.submission import CONTESTS  # numpy and the standard library only

    p = add("audit", help="check a submission zip and estimate its score")
    p.add_argument("submission", help="the images.zip to check")
    p.add_argument("training", help="the training images: folder, TFRecords or .npz")
    p.add_argument(
        "--weights",
        default=None,
        help="Inception weights: a local FILE (.pb graph or Keras .h5), imagenet "
        "(downloads), or pixels (no weights: a rough offline check); default: "
        "$GANPAINT_FID_WEIGHTS, a file under /kaggle/input, Keras' cache, else "
        "imagenet",
    )
    p.add_argument("--out", help="folder for audit.json and nearest.png (default: the zip's)")
    p.add_argument("--contest", choices=sorted(CONTESTS))
    p.add_argument("--skip-bad", action="store_true", help=_SKIP_BAD_HELP)
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an earlier audit.json and nearest.png in --out",
    )


def _parse_fid(add) -> None:
    p = add("fid", help="FID between two image sets")
    p.add_argument("real", help="folder, .npz or TFRecords")
    p.add_argument("fake", help="folder, .npz or TFRecords")
    p.add_argument(
        "--image-size",
        type=_positive_int,
        default=299,
        help="size the images are loaded at (default 299)",
    )
    p.add_argument(
        "--weights",
        default=None,
        help="Inception weights: a local FILE (.pb graph or Keras .h5), imagenet "
        "(downloads), or pixels (weight-free pixel features); default: "
        "$GANPAINT_FID_WEIGHTS, a file under /kaggle/input, Keras' cache, else "
        "imagenet",
    )
    p.add_argument("--kid", action="store_true", help="also print KID")
    p.add_argument("--json", help="also write the scores and their provenance to this file")
    p.add_argument("--skip-bad", action="store_true", help=_SKIP_BAD_HELP)
    p.add_argument("--overwrite", action="store_true", help="replace an existing --json file")


def _parse_export(add) -> None:
    p = add(
        "export",
        help="write a trained model's generator as a SavedModel or TFLite "
        "file, uint8 images in and out",
    )
    p.add_argument("model", help="a model.keras written by `ganpaint train`")
    p.add_argument("--out", required=True, help="a folder (savedmodel) or a .tflite file")
    p.add_argument(
        "--format",
        choices=("savedmodel", "tflite"),
        default=None,
        help="default: tflite when --out ends in .tflite, else savedmodel",
    )
    p.add_argument(
        "--direction",
        choices=("AtoB", "BtoA"),
        default="AtoB",
        help="CycleGAN: which generator to export",
    )
    p.add_argument(
        "--no-ema",
        action="store_true",
        help="export the trained generator, not "
        "its moving average (for models trained with ema=...)",
    )
    p.add_argument("--overwrite", action="store_true", help=_OVERWRITE_HELP)


def _parse_animate(add) -> None:
    p = add("animate", help="the sample grids of a run as a GIF (or MP4), epoch on each frame")
    p.add_argument("run", help="a run folder (--out of `ganpaint train`) or its grids/ folder")
    p.add_argument("--out", required=True, help="the .gif (or .mp4, with imageio-ffmpeg)")
    p.add_argument(
        "--fps",
        type=_number(0.0, 120.0, low_open=True),
        default=2.0,
        help="frames per second, more than 0 and at most 120 (default 2)",
    )
    p.add_argument("--overwrite", action="store_true", help=_OVERWRITE_HELP)


def _parse_samples(add) -> None:
    add("samples", help="print where the bundled sample datasets are")


def _parse_demo(add) -> None:
    p = add("demo", help="train an AC-GAN on the bundled digits and score it")
    p.add_argument("--out", default="outputs/demo", help="output folder (default outputs/demo)")
    p.add_argument(
        "--epochs",
        type=_positive_int,
        default=None,  # demo.DEMO_EPOCHS
        help="epochs of the 4,000 training digits (default 50: 3,100 steps)",
    )
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument(
        "--fresh",
        action="store_true",
        help="start again, moving a demo of "
        "another seed or number of epochs in --out aside (nothing is deleted)",
    )


# `ganpaint --help` lists them in this order.
_SUBCOMMANDS = (
    _parse_make_npz,
    _parse_make_tfrecords,
    _parse_train,
    _parse_recipes,
    _parse_sweep,
    _parse_sample,
    _parse_translate,
    _parse_submit,
    _parse_audit,
    _parse_fid,
    _parse_export,
    _parse_animate,
    _parse_samples,
    _parse_demo,
)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _quiet_tensorflow(args.verbose)
    command = {
        "make-npz": _make_npz,
        "make-tfrecords": _make_tfrecords,
        "train": _train,
        "recipes": _recipes,
        "sweep": _sweep,
        "sample": _sample,
        "translate": _translate,
        "fid": _fid,
        "submit": _submit,
        "audit": _audit,
        "samples": _samples,
        "export": _export,
        "animate": _animate,
        "demo": _demo,
    }[args.command]
    try:
        return command(args)
    except (ValueError, OSError) as err:
        # Bad input (and unreadable or unwritable files) is one clear line, not a traceback;
        # a UserError carries its fix as this interface names it (a flag, not an argument).
        return _error(args.command, getattr(err, "cli", None) or err)
    except KeyboardInterrupt:
        print(f"ganpaint {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if type(err).__module__.startswith("tensorflow") and hasattr(err, "message"):
            return _error(
                args.command,
                f"TensorFlow could not read or run this input "
                f"({type(err).__name__}: {err.message.splitlines()[0]}); check the "
                "paths given (--verbose shows TensorFlow's log).",
            )
        raise


def _error(command, message) -> int:
    lines = str(message).splitlines() or [""]
    print(f"ganpaint {command}: error: {lines[0]}", file=sys.stderr)
    for line in lines[1:]:  # lists of bad files: one per line, under the error
        print(f"  {line.strip()}", file=sys.stderr)
    return 2


@contextlib.contextmanager
def _native_stderr_captured():
    """Send what C++ code writes to stderr (fd 2) to a temporary file; give it back if the
    block fails, so an import error is never hidden."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _quiet_tensorflow(verbose: bool) -> None:
    """Unless `verbose`: TensorFlow's C++ logs off (TF_CPP_MIN_LOG_LEVEL=3), the lines it prints
    while loading (before absl's logging starts, which that variable does not reach; they come
    twice, once per library) swallowed, and Python-side TensorFlow and absl logs at ERROR."""
    if verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return
    try:
        with _native_stderr_captured():
            import tensorflow as tf

            tf.config.list_physical_devices()  # device set-up logs (cuInit on a CPU machine)
    except ImportError:
        return  # the subcommand that needs TensorFlow reports it
    import logging

    tf.get_logger().setLevel(logging.ERROR)
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:
        pass


def _on_error(args) -> str:
    return "skip" if getattr(args, "skip_bad", False) else "raise"


def _refuse_existing(path, what, args) -> None:
    from ganpaint.errors import refuse_existing

    if not args.overwrite:
        refuse_existing(path, what)


def _make_npz(args) -> int:
    from ganpaint.data import images_to_npz

    if args.image_size is None:
        args.image_size = DEFAULT_NPZ_SIZE
        print(
            f"--image-size not given: resizing to {DEFAULT_NPZ_SIZE}x{DEFAULT_NPZ_SIZE} "
            "(pass --image-size for another size)"
        )
    summary = images_to_npz(
        args.folder,
        args.out,
        args.image_size,
        channels=args.channels,
        resize_mode=args.resize_mode,
        compress=args.compress,
        on_error=_on_error(args),
        overwrite=args.overwrite,
        annotations=args.annotations,
        box_margin=args.box_margin,
        square=args.square,
    )
    classes = (
        f", {len(summary['class_names'])} classes"
        if summary["class_names"]
        else ", with labels"
        if summary["labelled"]
        else ""
    )
    print(
        f"wrote {summary['num_images']} images{classes} to {summary['path']}"
        + (f" (skipped {len(summary['skipped'])} bad files)" if summary["skipped"] else "")
    )
    return 0


def _make_tfrecords(args) -> int:
    from ganpaint.data import load_images, write_tfrecords

    found = load_images(
        args.source, args.image_size, channels=args.channels, on_error=_on_error(args)
    )
    labels = found["labels"]
    written = write_tfrecords(
        found["images"],
        args.out,
        names=found["names"],
        labels=None if labels is None else [int(x) for x in labels],
        class_names=found["class_names"],
        shards=args.shards,
        image_format=args.format,
        quality=args.quality,
        overwrite=args.overwrite,
    )
    kept = "names and labels" if labels is not None else "names"
    print(
        f"wrote {len(found['images'])} images ({kept} kept) to {len(written)} file(s): "
        f"{', '.join(written)}"
    )
    return 0


def _train(args) -> int:
    from ganpaint import recipes

    overrides = {
        k: v
        for k, v in (
            ("epochs", args.epochs),
            ("batch_size", args.batch_size),
            ("image_size", args.image_size),
            ("fid_features", args.fid),
            ("fid_weights", args.fid_weights),
            ("annotations", args.annotations),
            ("steps_per_execution", args.steps_per_execution),
            ("num_classes", args.num_classes),
        )
        if v is not None
    }
    if args.skip_bad:
        overrides["on_error"] = "skip"
    if args.no_tensorboard:
        overrides["tensorboard"] = False
    if args.backbone_weights is not None:
        from ganpaint.recipe_presets import get

        if get(args.recipe).generator != "efficientnet":
            raise ValueError(
                f"--backbone-weights applies to EfficientNet recipes "
                f"({', '.join(_backbone_recipes())}), not {args.recipe}."
            )
        weights = args.backbone_weights
        if weights.lower() == "none":
            weights = None
        elif weights != "imagenet" and not fs.isfile(weights):
            raise ValueError(f"--backbone-weights file not found: {weights}")
        overrides["backbone_weights"] = weights
    data = _data_argument(args)
    if (
        args.fid_weights is not None
        and args.fid_weights != "imagenet"
        and not fs.isfile(args.fid_weights)
    ):
        raise ValueError(f"--fid-weights file not found: {args.fid_weights}")
    if args.resume and args.fresh:
        raise ValueError("--resume and --fresh contradict each other: give one.")
    if args.deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    strategy = None
    if args.devices:
        from ganpaint import distribute

        strategy = distribute.get_strategy(devices=args.devices)
    setup = recipes.build(
        args.recipe,
        data=data,
        out_dir=args.out,
        smoke=args.smoke,
        seed=args.seed,
        strategy=strategy,
        settings=_settings(args),
        **overrides,
    )
    replicas = setup.strategy.num_replicas_in_sync
    if replicas > 1:
        print(
            f"training on {replicas} replicas ({type(setup.strategy).__name__}), "
            f"{setup.recipe.batch_size} images each per step"
        )
    setup.fit(
        resume=True if args.resume else False if args.fresh else "auto",
        verbose=1,
        time_limit=args.time_limit,
        checkpoint_every=args.checkpoint_every,
    )
    print(f"model, grids and histories written to {fs.absolute(setup.out_dir)}")
    return 0


def _settings(args) -> dict:
    from ganpaint.settings import parse_assignments

    return parse_assignments(args.settings)


def _data_argument(args):
    """--data as `build` takes it: one path, or a pair for two-domain recipes."""
    if not args.data:
        return None
    from ganpaint import families
    from ganpaint.recipe_presets import get

    recipe = get(args.recipe)
    domains = families.family(recipe.model).domains
    if len(args.data) != domains:
        raise ValueError(
            f"{recipe.name} trains on two domains: give --data A B. Received "
            f"{len(args.data)} path(s)."
            if domains == 2
            else f"{recipe.name} takes one --data path. Received {len(args.data)}."
        )
    for path in args.data:
        if not any(c in path for c in "*?[") and not fs.exists(path):
            raise ValueError(f"--data path does not exist: {path}")
    return tuple(args.data) if domains > 1 else args.data[0]


def _recipes(args) -> int:
    from ganpaint.recipe_presets import RECIPES

    if args.recipe is None:
        width = max(map(len, RECIPES))
        for name, recipe in sorted(RECIPES.items()):
            print(f"{name:<{width}}  {recipe.model:<8}  {recipe.summary}")
        print(
            "\n`ganpaint recipes RECIPE` lists a recipe's settings; change any with "
            "`ganpaint train RECIPE --set SECTION.KEY=VALUE`."
        )
        return 0
    from ganpaint import settings

    rows = settings.describe(args.recipe, smoke=args.smoke, settings=_settings(args))
    recipe = settings.recipe_from(args.recipe)
    print(f"{recipe.name} ({recipe.model}): {recipe.summary}")
    width = max(len(f"{s}.{k}") for s, k, _, _ in rows)
    section = None
    for sec, key, value, where in rows:
        if sec != section:
            section = sec
            print(f"\n[{sec}]")
        print(f"  {sec + '.' + key:<{width}}  {value!r:<24}  {where}")
    return 0


def _sweep(args) -> int:
    from ganpaint import sweeps

    if args.grid and args.variant:
        raise ValueError(
            "--grid and --variant name the variants two ways; pass one of them (a --grid "
            "setting can join each --variant instead)."
        )
    rows = sweeps.sweep(
        args.recipe,
        sweeps.parse_variants(args.variant) if args.variant else sweeps.parse_grid(args.grid),
        seeds=args.seeds,
        out_dir=args.out,
        data=_data_argument(args),
        smoke=args.smoke,
        settings=_settings(args),
        epochs=args.epochs,
        parallel=args.parallel,
        fresh=args.fresh,
        verbose=0,
    )
    print(sweeps.format_table(rows))
    print(f"sweep.csv, runs.csv, sweep.png and hparams/ written to {fs.absolute(args.out)}")
    return 0


def _backbone_recipes() -> list[str]:
    from ganpaint.recipe_presets import RECIPES

    return sorted(n for n, r in RECIPES.items() if r.generator == "efficientnet")


def _load_model(path):
    import ganpaint
    from ganpaint.gans.base import check_model

    model = ganpaint.load_model(path, compile=False)
    check_model(model, path)
    return model


def _parse_labels(text, classes, n):
    import numpy as np

    try:
        labels = np.array([int(x) for x in text.split(",")], "int32")
    except ValueError:
        raise ValueError(f"--labels must be comma-separated ints. Received: {text!r}") from None
    if labels.min() < 0 or labels.max() >= classes:
        raise ValueError(f"--labels must be classes 0..{classes - 1}. Received: {text}")
    return np.resize(labels, n)


def _sample(args) -> int:
    import numpy as np

    from ganpaint.plotting import image_grid, save_image

    npz_path = os.path.splitext(args.out)[0] + ".npz"
    for path, what in [(args.out, "picture")] + ([(npz_path, "file")] if args.npz else []):
        _refuse_existing(path, what, args)
    model = _load_model(args.model)
    if model.takes_inputs:
        raise ValueError(
            f"{args.model} holds a {type(model).__name__}, which translates images; "
            "use `ganpaint translate`."
        )
    if args.labels and model.num_classes is None:
        raise ValueError("--labels applies to labelled models only; this GAN is unconditional.")
    rng = np.random.default_rng(args.seed)
    noise = rng.normal(size=(args.n, model.latent_dim)).astype("float32")
    labels = (
        _parse_labels(args.labels, model.num_classes, args.n)
        if args.labels
        else model.class_labels(args.n)
    )  # every class in turn
    images = model.sample(noise=noise, labels=labels, use_ema=not args.no_ema)
    save_image(args.out, image_grid(images))
    if args.npz:
        from ganpaint.data import to_uint8

        buffer = io.BytesIO()
        np.savez_compressed(
            buffer, images=to_uint8(images), **({"labels": labels} if labels is not None else {})
        )
        fs.write_atomically(npz_path, buffer.getvalue())
    print(f"wrote {args.n} images to {args.out}" + (f" and {npz_path}" if args.npz else ""))
    return 0


def _translate(args) -> int:
    from ganpaint.data import to_uint8, translation_dataset
    from ganpaint.errors import refuse_non_empty
    from ganpaint.plotting import save_image

    if not args.overwrite:
        refuse_non_empty(args.out)
    elif fs.exists(args.out) and not fs.isdir(args.out):
        raise ValueError(f"{args.out} is a file, not a folder; choose a folder path.")
    model = _load_model(args.model)
    if not model.takes_inputs:
        raise ValueError(
            f"{args.model} holds a {type(model).__name__}, which generates from "
            "noise; use `ganpaint sample`."
        )
    # pix2pix has one generator: --direction picks the half of a pair it reads.
    direction = args.direction if args.direction in model.directions else "AtoB"
    h, w, c = model.translator(direction, use_ema=not args.no_ema).inputs[0].shape[1:]
    ds = translation_dataset(
        args.input,
        image_size=(h, w),
        channels=c,
        batch_size=args.batch_size,
        direction=args.direction,
        on_error=_on_error(args),
        pairs=args.pairs,
    )
    print(f"reading {ds.layout} from {args.input}")
    if not args.pairs and ds.looks_paired and "BtoA" not in model.directions:
        print(
            f"note: these images are about twice as wide as {type(model).__name__}'s "
            f"{w}x{h} input: if they are side-by-side pairs, add --pairs to translate "
            "their input halves"
        )
    fs.makedirs(args.out)
    count = 0
    for batch in ds:
        for image in to_uint8(
            model.sample(inputs=batch.numpy(), direction=direction, use_ema=not args.no_ema)
        ):
            save_image(fs.join(args.out, f"{count:05d}.png"), image)
            count += 1
    print(f"translated {count} images into {args.out}")
    return 0


def _submit(args) -> int:
    import warnings

    from ganpaint import submission

    _refuse_existing(args.out, "submission zip", args)  # before the model takes seconds to load
    model = _load_model(args.model)
    fmt = args.format or ("png" if args.contest == "dogs" else "jpg")
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        result = submission.submit(
            model,
            args.out,
            inputs=args.inputs,
            count=args.count,
            size=args.size,
            fmt=fmt,
            contest=args.contest,
            overwrite=args.overwrite,
            batch_size=args.batch_size,
            seed=args.seed,
            use_ema=not args.no_ema,
            on_error=_on_error(args),
            pairs=args.pairs,
        )
    for problem in result["warnings"]:
        print(f"ganpaint submit: warning: {problem}", file=sys.stderr)
    print(
        f"wrote {result['count']} {result['format']} images of "
        f"{result['size'][0]}x{result['size'][1]} to {result['path']}"
    )
    return 0


def _extractor(weights):
    """The features for `fid` and `audit`: found or given weights (`--weights`)."""
    from ganpaint import metrics

    return metrics.feature_extractor(weights)


def _audit(args) -> int:
    from ganpaint import submission

    report = submission.audit(
        args.submission,
        args.training,
        out_dir=args.out,
        extractor=_extractor(args.weights),
        contest=args.contest,
        overwrite=args.overwrite,
        on_error=_on_error(args),
    )
    checks = report["checks"]
    print(
        f"{checks['count']} images, sizes {checks['sizes']}, formats {checks['formats']}, "
        f"modes {checks['modes']}"
    )
    for problem in checks["problems"]:
        print(f"ganpaint audit: warning: {problem}", file=sys.stderr)
    print(
        f"FID {report['fid']:.3f}, memorisation distance {report['memorization_distance']:.4f}, "
        f"MiFID {report['mifid']:.3f} ({report['provenance']['extractor']}); "
        f"{len(report['flagged'])} images closer than {report['epsilon']} to a training image"
    )
    print(
        f"report: {fs.join(fs.dirname(report['picture']), 'audit.json')}, "
        f"nearest pairs: {report['picture']}"
    )
    return 0


def _fid(args) -> int:
    from ganpaint import metrics
    from ganpaint.data import image_dataset

    if args.json:
        _refuse_existing(args.json, "file", args)
    extractor = _extractor(args.weights)
    sets = [
        image_dataset(
            path,
            image_size=args.image_size,
            batch_size=50,
            shuffle=False,
            drop_remainder=False,
            cache=False,
            on_error=_on_error(args),
        )
        for path in (args.real, args.fake)
    ]
    real, fake = (metrics.compute_features(ds, extractor) for ds in sets)
    record = {"fid": metrics.fid_from_features(real, fake)}
    print(
        f"FID {record['fid']:.4f} "
        f"(real: {len(real)} images, fake: {len(fake)}; features: {extractor.name})"
    )
    if min(len(real), len(fake)) < real.shape[1]:
        print(
            f"ganpaint fid: warning: fewer images than the {real.shape[1]} feature dimensions: "
            "the score is biased upwards and compares only with scores on as many images",
            file=sys.stderr,
        )
    if args.kid:
        import warnings

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            mean, std = metrics.kid_from_features(real, fake, subsets=100, subset_size=1000)
        for warning in caught:
            print(f"ganpaint fid: warning: {warning.message}", file=sys.stderr)
        record.update(kid=mean, kid_std=std)
        print(f"KID {mean:.6f} ± {std:.6f}")
    if args.json:
        record.update(
            real=fs.absolute(args.real),
            fake=fs.absolute(args.fake),
            image_size=args.image_size,
            provenance=metrics.provenance(extractor, len(real), len(fake)),
        )
        fs.write_json(args.json, record, indent=2)
    return 0


def _export(args) -> int:
    from ganpaint import export

    _refuse_existing(args.out, "export", args)  # before the model takes seconds to load
    model = _load_model(args.model)
    if args.direction == "BtoA" and "BtoA" not in model.directions:
        raise ValueError(
            f"--direction BtoA picks a CycleGAN's second generator; "
            f"{args.model} holds a {type(model).__name__}, which has one."
        )
    path = export.export_generator(
        model,
        args.out,
        format=args.format,
        use_ema=not args.no_ema,
        direction=args.direction,
        overwrite=args.overwrite,
    )
    inputs = (
        "uint8 images"
        if model.takes_inputs
        else "noise and labels"
        if model.num_classes is not None
        else "noise"
    )
    fmt = args.format or ("tflite" if path.lower().endswith(".tflite") else "savedmodel")
    print(f"wrote the generator of {args.model} to {path} ({fmt}; in: {inputs}, out: uint8 images)")
    return 0


def _animate(args) -> int:
    from ganpaint import plotting

    path = plotting.progress_animation(args.run, args.out, fps=args.fps, overwrite=args.overwrite)
    print(f"wrote {len(plotting.grid_files(args.run))} frames to {path}")
    return 0


def _samples(args) -> int:
    from ganpaint.data.samples import SAMPLES, data_dir

    print(
        f"bundled samples in {data_dir()} (use a path with --data, or by name in Python: "
        "gp.data.sample_path(NAME)):"
    )
    for name, relative in SAMPLES.items():
        print(f"  {name:6s} {data_dir() / relative}")
    return 0


def _demo(args) -> int:
    from ganpaint import demo

    demo.run(
        args.out,
        epochs=args.epochs or demo.DEMO_EPOCHS,
        seed=args.seed,
        resume=False if args.fresh else "auto",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
