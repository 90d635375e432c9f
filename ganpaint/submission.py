"""Contest submissions: a trained model straight into `images.zip`, and an audit of the zip.

>>> submit(model, "images.zip", inputs="photo_jpg/", contest="monet")   # CycleGAN / pix2pix
>>> submit(gan, "images.zip", count=10_000, size=64, fmt="png", contest="dogs")
>>> report = audit("images.zip", "all-dogs/", extractor=metrics.InceptionFeatures(FILE))

`submit` streams: each batch is generated (or translated), encoded and written into the zip,
so no folder of 10,000 files is needed, and the zip appears under its name only when complete.
It refuses to overwrite unless told to, and warns when the count, size or format is outside
the named contest's rules. `audit` checks the zip (count, size, mode, format), scores it
against the training images (FID, the memorisation distance and MiFID as Kaggle computes them)
and draws the 16 generated images nearest to a training image beside their neighbours, so
that copies show.
"""

from __future__ import annotations

import io
import os
import warnings
import zipfile
from collections.abc import Iterator

import numpy as np

from ganpaint.errors import refuse_existing

# The contests' rules for `images.zip`.
CONTESTS = {
    # Kaggle "I'm Something of a Painter Myself": 7,000-10,000 JPEGs of 256x256.
    "monet": dict(min_count=7000, max_count=10000, size=(256, 256), formats=("jpg",)),
    # Kaggle "Generative Dog Images": 10,000 PNGs of 64x64.
    "dogs": dict(min_count=10000, max_count=10000, size=(64, 64), formats=("png",)),
}
FORMATS = {"jpg": "JPEG", "png": "PNG"}


def _rules(contest) -> dict | None:
    """The named contest's rules (None for none); an unknown name is refused."""
    if contest is not None and contest not in CONTESTS:
        raise ValueError(
            f"`contest` must be one of {sorted(CONTESTS)} or None. Received: contest={contest!r}"
        )
    return None if contest is None else CONTESTS[contest]


def _check_contest(contest, count, size, fmt) -> list[str]:
    rules = _rules(contest)
    if rules is None:
        return []
    problems = []
    if not rules["min_count"] <= count <= rules["max_count"]:
        problems.append(
            f"{count} images; the {contest} contest wants "
            f"{rules['min_count']:,}-{rules['max_count']:,}"
        )
    if tuple(size) != rules["size"]:
        problems.append(
            f"images of {size[0]}x{size[1]}; the {contest} contest wants "
            f"{rules['size'][0]}x{rules['size'][1]}"
        )
    if fmt not in rules["formats"]:
        problems.append(f"format {fmt}; the {contest} contest wants {'/'.join(rules['formats'])}")
    return problems


def _size(size):
    if size is None:
        return None
    if isinstance(size, int) and size > 0:
        return (size, size)
    if (
        isinstance(size, (tuple, list))
        and len(size) == 2
        and all(isinstance(s, int) and s > 0 for s in size)
    ):
        return tuple(size)
    raise ValueError(f"`size` must be a positive int or (height, width). Received: size={size!r}")


def _model_batches(model, inputs, count, batch_size, seed, use_ema) -> Iterator[np.ndarray]:
    """Batches of generated or translated images (float32 in [-1, 1]), `count` in all.
    `inputs` is the dataset of images to translate (translators) or None."""
    if inputs is not None:
        done = 0
        while done < count:  # more images than inputs: go round the inputs again
            for batch in inputs:
                batch = np.asarray(batch)[: count - done]
                yield model.sample(inputs=batch, batch_size=batch_size, use_ema=use_ema)
                done += len(batch)
                if done >= count:
                    return
        return
    rng = np.random.default_rng(seed)
    for start in range(0, count, batch_size):
        n = min(batch_size, count - start)
        noise = rng.standard_normal((n, model.latent_dim)).astype("float32")
        yield model.sample(
            noise=noise,
            labels=model.class_labels(n, start),  # every class in turn
            batch_size=batch_size,
            use_ema=use_ema,
        )


def _input_dataset(model, inputs, batch_size, use_ema, on_error="raise", pairs=False):
    """The images to translate, at the translating network's input size: whole images, or
    with `pairs` the input halves of side-by-side pairs (said in one line, never squashed)."""
    from ganpaint.data import translation_dataset

    h, w, c = model.translator("AtoB", use_ema).inputs[0].shape[1:]
    ds = translation_dataset(
        inputs, image_size=(h, w), channels=c, batch_size=batch_size, on_error=on_error, pairs=pairs
    )
    if not ds.num_images:
        raise ValueError(f"`inputs` {inputs!r} holds no images to translate.")
    if "pairs" in ds.layout:
        print(f"ganpaint: {inputs} holds {ds.layout}; translating those", flush=True)
    return ds


def _encode(image: np.ndarray, size, fmt: str, quality: int) -> bytes:
    from PIL import Image

    picture = Image.fromarray(image.squeeze(-1) if image.shape[-1] == 1 else image)
    picture = picture.convert("RGB")
    if size is not None and picture.size != (size[1], size[0]):
        picture = picture.resize((size[1], size[0]), Image.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format=FORMATS[fmt], **({"quality": quality} if fmt == "jpg" else {}))
    return buffer.getvalue()


def submit(
    model,
    out: str,
    inputs=None,
    count: int | None = None,
    size=None,
    fmt: str = "jpg",
    contest: str | None = None,
    overwrite: bool = False,
    batch_size: int = 32,
    seed: int = 0,
    use_ema: bool = True,
    quality: int = 95,
    verbose: bool = True,
    on_error: str = "raise",
    pairs: bool = False,
) -> dict:
    """Generate or translate straight into a zip of images, as the Kaggle contests want.

    Args:
        model: a trained ganpaint model: CycleGAN / Pix2Pix translate `inputs`; GAN,
            ConditionalGAN and ACGAN generate (labelled ones cycle through the classes).
        out: str. The zip to write (`images.zip`). It is written under a temporary name and
            renamed when complete.
        inputs: for translators, the images to translate (folder, TFRecords, .npz, array),
            whole.
        pairs: bool. The inputs are side-by-side pairs (pix2pix's layout): translate their
            left (input) halves.
        count: int. Number of images. Defaults to the number of inputs (translators) or to the
            contest's minimum (generators).
        size: int or (height, width). Output size; defaults to the model's (or the contest's).
        fmt: "jpg" or "png".
        contest: "monet" or "dogs": warn when count, size or format break its rules.
        overwrite: bool. Replace an existing `out`; refused otherwise.
        use_ema: bool. With an EMA generator, use it (default).

    Returns:
        A dict: path, count, size, format, and the contest `warnings`.
    """
    from ganpaint.data import to_uint8
    from ganpaint.gans.base import check_model

    out = os.fspath(out)
    if fmt not in FORMATS:
        raise ValueError(f"`fmt` must be 'jpg' or 'png'. Received: fmt={fmt!r}")
    if not overwrite:
        refuse_existing(out, "submission zip")
    rules = _rules(contest)
    check_model(model)
    translating = model.takes_inputs
    if translating and inputs is None:
        raise ValueError(
            f"{type(model).__name__} translates images: give the `inputs` to "
            "translate (e.g. the contest's photos)."
        )
    if not translating and inputs is not None:
        raise ValueError(f"{type(model).__name__} generates from noise; `inputs` must be None.")
    size = _size(size) or (rules["size"] if rules else None)
    dataset = (
        _input_dataset(model, inputs, batch_size, use_ema, on_error, pairs) if translating else None
    )
    if count is None:
        if dataset is not None:
            count = dataset.num_images
        elif rules is not None:
            count = rules["min_count"]
        else:
            raise ValueError("Give `count` (--count): how many images to generate.")
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"`count` must be a positive int. Received: count={count!r}")
    bar = None
    if verbose:
        import keras

        bar = keras.utils.Progbar(count, unit_name="image")
    written, shape = 0, None

    def write(partial):  # streamed: each batch is encoded into the zip as it comes
        nonlocal written, shape
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED) as archive:
            for batch in _model_batches(model, dataset, count, batch_size, seed, use_ema):
                for image in to_uint8(batch):
                    archive.writestr(f"{written:05d}.{fmt}", _encode(image, size, fmt, quality))
                    written += 1
                shape = size or tuple(batch.shape[1:3])
                if bar is not None:
                    bar.update(written)

    from ganpaint import fs

    fs.write_atomically(out, write)
    problems = _check_contest(contest, written, shape, fmt)
    for problem in problems:
        warnings.warn(f"{out}: {problem}", UserWarning, stacklevel=2)
    return {"path": out, "count": written, "size": list(shape), "format": fmt, "warnings": problems}


# -- audit --------------------------------------------------------------------------------------


def _read_zip(path):
    """(names, uint8 images [N, H, W, 3], per-image facts) of a submission zip."""
    from PIL import Image

    from ganpaint import fs

    if not fs.exists(path):
        raise ValueError(f"submission not found: {path}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(fs.read_bytes(path)))
    except zipfile.BadZipFile:
        raise ValueError(f"{path} is not a zip file.") from None
    names, images, facts = [], [], []
    with archive:
        for name in sorted(archive.namelist()):
            if name.endswith("/"):
                continue
            try:
                picture = Image.open(io.BytesIO(archive.read(name)))
                picture.load()
            except Exception:
                facts.append({"name": name, "format": None, "mode": None, "size": None})
                continue
            facts.append(
                {
                    "name": name,
                    "format": picture.format,
                    "mode": picture.mode,
                    "size": [picture.size[1], picture.size[0]],
                }
            )
            names.append(name)
            images.append(np.asarray(picture.convert("RGB")))
    return names, images, facts


def _checks(facts, contest) -> dict:
    sizes = sorted({tuple(f["size"]) for f in facts if f["size"]})
    formats = sorted({f["format"] for f in facts if f["format"]})
    modes = sorted({f["mode"] for f in facts if f["mode"]})
    unreadable = [f["name"] for f in facts if f["format"] is None]
    checks = {
        "count": len(facts),
        "unreadable": unreadable,
        "sizes": [list(s) for s in sizes],
        "formats": formats,
        "modes": modes,
        "problems": [],
    }
    if unreadable:
        checks["problems"].append(f"{len(unreadable)} files are not images")
    if len(sizes) > 1:
        checks["problems"].append(f"mixed sizes {sizes}")
    if modes and modes != ["RGB"]:
        checks["problems"].append(f"image modes {modes}; RGB expected")
    if contest is not None:
        fmt = (
            {"JPEG": "jpg", "PNG": "png"}.get(formats[0], formats[0])
            if len(formats) == 1
            else "/".join(formats)
        )
        size = sizes[0] if len(sizes) == 1 else (0, 0)
        checks["problems"] += _check_contest(contest, len(facts), size, fmt)
    return checks


def audit(
    submission: str,
    training,
    out_dir: str | None = None,
    extractor=None,
    contest: str | None = None,
    epsilon: float = 0.1,
    batch_size: int = 50,
    verbose: bool = True,
    overwrite: bool = False,
    on_error: str = "raise",
) -> dict:
    """Check a submission zip and estimate its score before spending a submission.

    Args:
        submission: the zip (`images.zip`).
        training: the training images (folder, TFRecords, .npz, array): what the model saw.
        out_dir: where to write `audit.json` and `nearest.png`. Defaults to the zip's folder.
        extractor: features for the scores: `metrics.InceptionFeatures(...)` (the default,
            ImageNet weights or a file) or any extractor (`metrics.PixelFeatures()` offline).
        contest: "monet" or "dogs": also check the contest's rules.
        epsilon: MiFID's memorisation threshold (Kaggle: 0.1).
        overwrite: bool. Replace an earlier `audit.json` / `nearest.png` in `out_dir`; refused
            otherwise (before any work).
        on_error: "raise" or "skip" unreadable training files.

    Returns:
        The report (also `audit.json`): checks, fid, memorization_distance, mifid, the
        generated images closest to a training image (`flagged`: distance < epsilon), and the
        provenance of the scores.
    """
    from ganpaint import fs, metrics, plotting
    from ganpaint.data import image_dataset

    _rules(contest)
    out_dir = os.fspath(out_dir or fs.dirname(fs.absolute(submission)))
    names, images, facts = _read_zip(os.fspath(submission))
    if not overwrite:  # before any scoring
        for name in ("audit.json", "nearest.png"):
            refuse_existing(fs.join(out_dir, name), "file of an earlier audit")
    checks = _checks(facts, contest)
    if not images:
        raise ValueError(f"{submission} holds no readable images.")
    h, w = images[0].shape[:2]
    same = [im for im in images if im.shape[:2] == (h, w)]
    generated = np.stack(same).astype("float32") / 127.5 - 1.0
    train_ds = image_dataset(
        training,
        image_size=(h, w),
        channels=3,
        batch_size=batch_size,
        shuffle=False,
        drop_remainder=False,
        cache=False,
        on_error=on_error,
    )
    extractor = extractor if extractor is not None else metrics.feature_extractor()
    fake_f = metrics.compute_features(generated, extractor, batch_size, verbose)
    train_f = metrics.compute_features(train_ds, extractor, batch_size, verbose)
    fid_value = metrics.fid_from_features(train_f, fake_f)
    distance = metrics.memorization_distance(fake_f, train_f)
    mifid = metrics.mifid_from_features(train_f, fake_f, epsilon=epsilon)

    per_image, nearest = metrics.nearest_cosine(fake_f, train_f)
    order = np.argsort(per_image)[:16]  # NaN (all-zero features) sorts last
    wanted = {int(nearest[i]) for i in order}
    neighbours, seen = {}, 0  # a second pass keeps only the 16 neighbours in memory
    for batch in train_ds:
        for j, image in enumerate(np.asarray(batch), start=seen):
            if j in wanted:
                neighbours[j] = image
        seen += len(batch)
    pairs = np.stack([np.stack([generated[i], neighbours[int(nearest[i])]]) for i in order])
    picture = fs.join(out_dir, "nearest.png")
    plotting.save_image(picture, plotting.image_grid(pairs.reshape(-1, h, w, 3), cols=8))
    report = {
        "submission": fs.absolute(submission),
        "checks": checks,
        "fid": float(fid_value),
        "memorization_distance": float(distance),
        "mifid": float(mifid),
        "epsilon": epsilon,
        "nearest": [
            {
                "generated": names[i],
                "training_index": int(nearest[i]),
                "distance": float(per_image[i]),
            }
            for i in order
        ],
        "flagged": [names[i] for i in np.flatnonzero(per_image < epsilon)],
        "picture": picture,
        "provenance": metrics.provenance(extractor, n_real=len(train_f), n_fake=len(generated)),
    }
    fs.write_json(fs.join(out_dir, "audit.json"), report, indent=2)
    return report
