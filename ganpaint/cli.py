"""The `ganpaint` command line (also `python -m ganpaint`).

    ganpaint make-npz FOLDER OUT --image-size 128
    ganpaint make-tfrecords SOURCE OUT --image-size 256 [--shards 4]
    ganpaint demo [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _size(text: str):
    """'128' -> 128; '256x320' -> (256, 320)."""
    try:
        parts = [int(p) for p in text.lower().split("x")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an int or HxW, got {text!r}") from None
    if len(parts) not in (1, 2) or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive int or HxW, got {text!r}")
    return parts[0] if len(parts) == 1 else tuple(parts)


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
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("make-npz", help="decode and resize an image folder into one .npz")
    p.add_argument("folder", help="folder of images (class subfolders give labels)")
    p.add_argument("out", help="output .npz path")
    p.add_argument("--image-size", type=_size, required=True, help="e.g. 128 or 256x320")
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

    p = sub.add_parser("demo", help="run the demo on the bundled samples")
    p.add_argument("--out", default="outputs/demo", help="output folder (default outputs/demo)")
    p.add_argument("--seed", type=int, default=0)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return {"make-npz": _make_npz, "make-tfrecords": _make_tfrecords,
                "demo": _demo}[args.command](args)
    except ValueError as err:
        # Bad input is reported as one clear line, not a traceback.
        print(f"ganpaint {args.command}: error: {err}", file=sys.stderr)
        return 2


def _make_npz(args) -> int:
    from ganpaint.data import images_to_npz

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


def _demo(args) -> int:
    """Until the training recipes land, the demo shows the input layer on the bundled data."""
    import numpy as np

    from ganpaint import data
    from ganpaint.plotting import image_grid, save_image

    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    digits = data.image_dataset(data.sample_path("mnist"), image_size=28, channels=1,
                                batch_size=64, labels=True, seed=args.seed)
    images, labels = next(iter(digits))
    save_image(os.path.join(out, "mnist_batch.png"), image_grid(images, cols=8))

    cyclegan = data.unpaired_dataset(data.sample_path("photo"), data.sample_path("monet"),
                                     image_size=256, batch_size=4, seed=args.seed)
    photos, paintings = next(iter(cyclegan))
    save_image(os.path.join(out, "photo_monet_batch.png"),
               image_grid(np.concatenate([photos, paintings]), cols=4))

    pix2pix = data.paired_dataset(data.sample_path("pairs"), image_size=256, batch_size=4,
                                  seed=args.seed)
    inputs, targets = next(iter(pix2pix))
    save_image(os.path.join(out, "pairs_batch.png"),
               image_grid(np.concatenate([inputs, targets]), cols=4))

    start, count = time.perf_counter(), 0
    for a, _ in cyclegan.repeat().take(60):
        count += int(a.shape[0])
    rate = count / (time.perf_counter() - start)
    print(f"digits: {digits.num_images} images, classes {digits.class_names}; first batch "
          f"labels {labels.numpy()[:8].tolist()}...")
    print(f"photo/monet: {cyclegan.num_images} images; jitter+flip at 256 px: "
          f"{rate:.0f} images/s")
    print(f"pix2pix pairs: {pix2pix.num_images}")
    print(f"pictures written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
