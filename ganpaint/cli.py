"""The `ganpaint` command line (also `python -m ganpaint`).

    ganpaint make-npz FOLDER OUT [--image-size 128]
    ganpaint make-tfrecords SOURCE OUT --image-size 256 [--shards 4]
    ganpaint train RECIPE [--data PATH [PATH_B]] [--epochs N] [--out DIR] [--smoke]
                   [--time-limit 8h] [--checkpoint-every STEPS] [--fresh | --resume]
    ganpaint sample MODEL.keras --out grid.png [--n 64] [--labels 0,1,2]
    ganpaint translate MODEL.keras INPUT OUT_DIR [--direction AtoB]
    ganpaint fid REAL FAKE [--weights imagenet|FILE|pixels]
    ganpaint submit MODEL.keras [INPUTS] --out images.zip [--count N] [--contest monet|dogs]
    ganpaint audit images.zip TRAINING_IMAGES [--weights imagenet|FILE|pixels]
    ganpaint demo [--out DIR] [--epochs 40]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ganpaint", description="GAN recipes for Keras 3.")
    parser.add_argument("--verbose", action="store_true",
                        help="show TensorFlow's and absl's log lines (hidden by default)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("make-npz", help="decode and resize an image folder into one .npz")
    p.add_argument("folder", help="folder of images (class subfolders give labels)")
    p.add_argument("out", help="output .npz path")
    p.add_argument("--image-size", type=_size, default=None,
                   help=f"e.g. 128 or 256x320 (default {DEFAULT_NPZ_SIZE}, reported when used)")
    p.add_argument("--channels", type=int, choices=(1, 3), default=3)
    p.add_argument("--resize-mode", choices=("stretch", "center_crop"), default="stretch")
    p.add_argument("--skip-bad", action="store_true", help="skip unreadable files, and list them")
    p.add_argument("--compress", action="store_true")

    p = sub.add_parser("make-tfrecords", help="write images as Kaggle-layout TFRecords")
    p.add_argument("source", help="folder, .npz, .csv or TFRecords to read")
    p.add_argument("out", help="output file, e.g. out/photo.tfrec")
    p.add_argument("--image-size", type=_size, required=True)
    p.add_argument("--channels", type=int, choices=(1, 3), default=3)
    p.add_argument("--shards", type=_positive_int, default=1)
    p.add_argument("--format", choices=("jpeg", "png"), default="jpeg")
    p.add_argument("--quality", type=int, default=95)
    p.add_argument("--skip-bad", action="store_true")

    from ganpaint.recipe_presets import RECIPES  # pure Python: no TensorFlow
    from ganpaint.submission import CONTESTS  # numpy and the standard library only

    p = sub.add_parser("train", help="train a recipe (see `ganpaint train --help`)")
    p.add_argument("recipe", choices=sorted(RECIPES), metavar="RECIPE",
                   help="one of: " + ", ".join(sorted(RECIPES)))
    p.add_argument("--data", nargs="+", help="training data: a folder, .npz, TFRecords or CSV; "
                   "two paths (domain A, domain B) for CycleGAN recipes")
    p.add_argument("--epochs", type=_positive_int)
    p.add_argument("--batch-size", type=_positive_int)
    p.add_argument("--image-size", type=_positive_int)
    p.add_argument("--out", help="output folder (default outputs/RECIPE)")
    p.add_argument("--resume", action="store_true", help="require a checkpoint in --out to "
                   "continue from (without it, a checkpoint is used when there is one)")
    p.add_argument("--fresh", action="store_true", help="start again, moving the checkpoints "
                   "in --out aside")
    p.add_argument("--time-limit", type=_duration, metavar="DURATION",
                   help="stop cleanly before this much time (8h, 11h30m, 90m), state saved; "
                   "the same command continues the run")
    p.add_argument("--checkpoint-every", type=_positive_int, metavar="STEPS",
                   help="steps between checkpoints (default: the recipe's, 500)")
    p.add_argument("--deterministic", action="store_true", help="TensorFlow op determinism: "
                   "a resumed run ends bit for bit where an uninterrupted one ends")
    p.add_argument("--smoke", action="store_true", help="tiny sizes on the bundled samples")
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("sample", help="draw images from a trained GAN (.keras)")
    p.add_argument("model", help="a model.keras written by `ganpaint train`")
    p.add_argument("--out", required=True, help="output PNG grid (and .npz with --npz)")
    p.add_argument("--n", type=_positive_int, default=64)
    p.add_argument("--labels", help="comma-separated classes for labelled models "
                   "(default: every class in turn)")
    p.add_argument("--npz", action="store_true", help="also write the images as OUT.npz")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-ema", action="store_true", help="sample the trained generator, not "
                   "its moving average (for models trained with ema=...)")

    p = sub.add_parser("translate", help="translate images with a CycleGAN or pix2pix (.keras)")
    p.add_argument("model")
    p.add_argument("input", help="folder, .npz or TFRecords of input images")
    p.add_argument("out", help="output folder for the translated PNGs")
    p.add_argument("--direction", choices=("AtoB", "BtoA"), default="AtoB")
    p.add_argument("--batch-size", type=_positive_int, default=8)
    p.add_argument("--no-ema", action="store_true", help="translate with the trained generator, "
                   "not its moving average (for models trained with ema=...)")

    p = sub.add_parser("submit", help="a trained model straight into a contest's images.zip")
    p.add_argument("model", help="a model.keras written by `ganpaint train`")
    p.add_argument("inputs", nargs="?", help="images to translate (CycleGAN, pix2pix): folder, "
                   "TFRecords or .npz; none for GANs")
    p.add_argument("--out", required=True, help="the zip to write, e.g. images.zip")
    p.add_argument("--count", type=_positive_int, help="images (default: every input, or the "
                   "contest's minimum for GANs)")
    p.add_argument("--size", type=_size, help="output size (default: the model's, or the "
                   "contest's)")
    p.add_argument("--format", choices=("jpg", "png"), default=None,
                   help="default jpg (png for --contest dogs)")
    p.add_argument("--contest", choices=sorted(CONTESTS), help="warn when outside its rules")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--batch-size", type=_positive_int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-ema", action="store_true")

    p = sub.add_parser("audit", help="check a submission zip and estimate its score")
    p.add_argument("submission", help="the images.zip to check")
    p.add_argument("training", help="the training images: folder, TFRecords or .npz")
    p.add_argument("--weights", default="imagenet",
                   help="InceptionV3 weights: imagenet (downloads), a local FILE, or pixels "
                   "(no weights: a rough offline check)")
    p.add_argument("--out", help="folder for audit.json and nearest.png (default: the zip's)")
    p.add_argument("--contest", choices=sorted(CONTESTS))

    p = sub.add_parser("fid", help="FID between two image sets")
    p.add_argument("real", help="folder, .npz or TFRecords")
    p.add_argument("fake", help="folder, .npz or TFRecords")
    p.add_argument("--image-size", type=_positive_int, default=299,
                   help="size the images are loaded at (default 299)")
    p.add_argument("--weights", default="imagenet",
                   help="InceptionV3 weights: imagenet, a local .h5 file, or `pixels` for the "
                        "weight-free pixel features (default imagenet)")
    p.add_argument("--kid", action="store_true", help="also print KID")
    p.add_argument("--json", help="also write the scores and their provenance to this file")

    p = sub.add_parser("demo", help="train an AC-GAN on the bundled digits and score it")
    p.add_argument("--out", default="outputs/demo", help="output folder (default outputs/demo)")
    p.add_argument("--epochs", type=_positive_int, default=40)
    p.add_argument("--seed", type=int, default=0)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _quiet_tensorflow(args.verbose)
    try:
        return {"make-npz": _make_npz, "make-tfrecords": _make_tfrecords, "train": _train,
                "sample": _sample, "translate": _translate, "fid": _fid,
                "submit": _submit, "audit": _audit,
                "demo": _demo}[args.command](args)
    except (ValueError, OSError) as err:
        # Bad input (and unreadable or unwritable files) is one clear line, not a traceback.
        print(f"ganpaint {args.command}: error: {err}", file=sys.stderr)
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


def _make_npz(args) -> int:
    from ganpaint.data import images_to_npz

    if args.image_size is None:
        args.image_size = DEFAULT_NPZ_SIZE
        print(f"--image-size not given: resizing to {DEFAULT_NPZ_SIZE}x{DEFAULT_NPZ_SIZE} "
              "(pass --image-size for another size)")
    summary = images_to_npz(args.folder, args.out, args.image_size, channels=args.channels,
                            resize_mode=args.resize_mode, compress=args.compress,
                            on_error="skip" if args.skip_bad else "raise")
    classes = f", {len(summary['class_names'])} classes" if summary["class_names"] else ""
    print(f"wrote {summary['num_images']} images{classes} to {summary['path']}"
          + (f" (skipped {len(summary['skipped'])} bad files)" if summary["skipped"] else ""))
    return 0


def _make_tfrecords(args) -> int:
    import numpy as np

    from ganpaint.data import image_dataset, to_uint8, write_tfrecords

    ds = image_dataset(args.source, image_size=args.image_size, batch_size=256,
                       channels=args.channels, shuffle=False, cache=False,
                       drop_remainder=False, on_error="skip" if args.skip_bad else "raise")
    images = np.concatenate([to_uint8(batch) for batch in ds])
    written = write_tfrecords(images, args.out, shards=args.shards, image_format=args.format,
                              quality=args.quality)
    print(f"wrote {len(images)} images to {len(written)} file(s): {', '.join(written)}")
    return 0


def _train(args) -> int:
    from ganpaint import recipes

    overrides = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size),
                                   ("image_size", args.image_size)) if v is not None}
    data = None
    if args.data:
        cyclegan = recipes.RECIPES[args.recipe].model == "cyclegan"
        if cyclegan and len(args.data) != 2:
            raise ValueError(f"{args.recipe} trains on two domains: give --data A B. "
                             f"Received {len(args.data)} path(s).")
        if not cyclegan and len(args.data) != 1:
            raise ValueError(f"{args.recipe} takes one --data path. Received {len(args.data)}.")
        for path in args.data:
            if not os.path.exists(path) and not any(c in path for c in "*?[") \
                    and not path.startswith("gs://"):
                raise ValueError(f"--data path does not exist: {path}")
        data = tuple(args.data) if cyclegan else args.data[0]
    if args.resume and args.fresh:
        raise ValueError("--resume and --fresh contradict each other: give one.")
    if args.deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    setup = recipes.build(args.recipe, data=data, out_dir=args.out, smoke=args.smoke,
                          seed=args.seed, **overrides)
    setup.fit(resume=True if args.resume else False if args.fresh else "auto", verbose=1,
              time_limit=args.time_limit, checkpoint_every=args.checkpoint_every)
    print(f"model, grids and histories written to {os.path.abspath(setup.out_dir)}")
    return 0


def _load_model(path):
    import ganpaint

    if not os.path.exists(path):
        raise ValueError(f"model file not found: {path}")
    if not path.endswith(".keras"):
        raise ValueError(f"expected a .keras model (as `ganpaint train` writes). Received: {path}")
    return ganpaint.load_model(path, compile=False)


def _sample(args) -> int:
    import numpy as np

    from ganpaint.plotting import image_grid, save_image

    model = _load_model(args.model)
    if not hasattr(model, "generate"):
        raise ValueError(f"{args.model} holds a {type(model).__name__}, which translates images; "
                         "use `ganpaint translate`.")
    rng = np.random.default_rng(args.seed)
    noise = rng.normal(size=(args.n, model.latent_dim)).astype("float32")
    labels = None
    if hasattr(model, "num_classes"):
        classes = model.num_classes
        if args.labels:
            try:
                labels = np.array([int(x) for x in args.labels.split(",")], "int32")
            except ValueError:
                raise ValueError(f"--labels must be comma-separated ints. Received: "
                                 f"{args.labels!r}") from None
            if labels.min() < 0 or labels.max() >= classes:
                raise ValueError(f"--labels must be classes 0..{classes - 1}. Received: {args.labels}")
            labels = np.resize(labels, args.n)
        else:
            labels = np.arange(args.n, dtype="int32") % classes
    elif args.labels:
        raise ValueError("--labels applies to labelled models only; this GAN is unconditional.")
    images = model.generate(noise=noise, labels=labels, use_ema=not args.no_ema)
    save_image(args.out, image_grid(images))
    if args.npz:
        from ganpaint.data import to_uint8

        np.savez_compressed(os.path.splitext(args.out)[0] + ".npz", images=to_uint8(images),
                            **({"labels": labels} if labels is not None else {}))
    print(f"wrote {args.n} images to {args.out}")
    return 0


def _translate(args) -> int:
    import numpy as np

    from ganpaint.data import image_dataset, to_uint8
    from ganpaint.plotting import save_image

    model = _load_model(args.model)
    if not hasattr(model, "translate"):
        raise ValueError(f"{args.model} holds a {type(model).__name__}, which generates from "
                         "noise; use `ganpaint sample`.")
    net = model.g_ab if args.direction == "AtoB" else getattr(model, "g_ba", None)
    if net is None:
        raise ValueError("--direction BtoA needs a CycleGAN model.")
    h, w, c = net.inputs[0].shape[1:]
    ds = image_dataset(args.input, image_size=(h, w), channels=c, batch_size=args.batch_size,
                       shuffle=False, drop_remainder=False, cache=False)
    os.makedirs(args.out, exist_ok=True)
    count = 0
    for batch in ds:
        kwargs = {"direction": args.direction} if hasattr(model, "g_ba") else {}
        kwargs["use_ema"] = not args.no_ema
        for image in to_uint8(model.translate(np.asarray(batch), **kwargs)):
            save_image(os.path.join(args.out, f"{count:05d}.png"), image)
            count += 1
    print(f"translated {count} images into {args.out}")
    return 0


def _submit(args) -> int:
    import warnings

    from ganpaint import submission

    model = _load_model(args.model)
    fmt = args.format or ("png" if args.contest == "dogs" else "jpg")
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        result = submission.submit(model, args.out, inputs=args.inputs, count=args.count,
                                   size=args.size, fmt=fmt, contest=args.contest,
                                   overwrite=args.overwrite, batch_size=args.batch_size,
                                   seed=args.seed, use_ema=not args.no_ema)
    for problem in result["warnings"]:
        print(f"ganpaint submit: warning: {problem}", file=sys.stderr)
    print(f"wrote {result['count']} {result['format']} images of "
          f"{result['size'][0]}x{result['size'][1]} to {result['path']}")
    return 0


def _audit(args) -> int:
    from ganpaint import metrics, submission

    extractor = (metrics.PixelFeatures() if args.weights == "pixels"
                 else metrics.InceptionFeatures(weights=args.weights))
    report = submission.audit(args.submission, args.training, out_dir=args.out,
                              extractor=extractor, contest=args.contest)
    checks = report["checks"]
    print(f"{checks['count']} images, sizes {checks['sizes']}, formats {checks['formats']}, "
          f"modes {checks['modes']}")
    for problem in checks["problems"]:
        print(f"ganpaint audit: warning: {problem}", file=sys.stderr)
    print(f"FID {report['fid']:.3f}, memorisation distance {report['memorization_distance']:.4f}, "
          f"MiFID {report['mifid']:.3f} ({report['provenance']['extractor']}); "
          f"{len(report['flagged'])} images closer than {report['epsilon']} to a training image")
    print(f"report: {os.path.join(os.path.dirname(report['picture']), 'audit.json')}, "
          f"nearest pairs: {report['picture']}")
    return 0


def _fid(args) -> int:
    from ganpaint import metrics
    from ganpaint.data import image_dataset

    if args.weights == "pixels":
        extractor = metrics.PixelFeatures()
    else:
        extractor = metrics.InceptionFeatures(weights=args.weights)
    sets = [image_dataset(path, image_size=args.image_size, batch_size=50, shuffle=False,
                          drop_remainder=False, cache=False) for path in (args.real, args.fake)]
    real, fake = (metrics.compute_features(ds, extractor) for ds in sets)
    record = {"fid": metrics.fid_from_features(real, fake)}
    print(f"FID {record['fid']:.4f} "
          f"(real: {len(real)} images, fake: {len(fake)}; features: {extractor.name})")
    if args.kid:
        mean, std = metrics.kid_from_features(real, fake, subsets=100, subset_size=1000)
        record.update(kid=mean, kid_std=std)
        print(f"KID {mean:.6f} ± {std:.6f}")
    if args.json:
        import json

        record.update(real=os.path.abspath(args.real), fake=os.path.abspath(args.fake),
                      image_size=args.image_size,
                      provenance=metrics.provenance(extractor, len(real), len(fake)))
        with open(args.json, "w") as f:
            json.dump(record, f, indent=2)
    return 0


def _demo(args) -> int:
    from ganpaint import demo

    demo.run(args.out, epochs=args.epochs, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
