"""Known-answer tasks: translations whose true output is computed, so a translator is scored
by its L1 distance to the truth on held-out images (issue 25's suite).

Each task is a fixed transform T of photographs. CycleGAN sees unpaired domains: photos A and
T(other photos) B; pix2pix sees pairs (x, T(x)). Both are scored on photos neither domain
holds, by mean |G(x) - T(x)| in [-1, 1] units, beside the unchanged photo's |x - T(x)|.

The photographs are the 30 bundled photos plus crops of the colour photographs that ship
with scikit-image and scikit-learn (astronaut, coffee, chelsea, rocket, china, flower), split
once by a fixed permutation: 40 % domain A, 40 % domain B, 20 % held out.

The split into tuning tasks (a search may look at them) and held-out tasks (it may not) is
fixed here, before any search runs. A task is near identity when the unchanged photo's L1
to the truth is below `NEAR_IDENTITY` (0.15): warm, blur, cool, contrast, sharpen.

| transform | what it does | unchanged photo's L1 at 32 px | suite |
|---|---|---|---|
| warm | red up, blue down (colour tone) | 0.107 | tuning |
| gamma | brightening curve, gamma 0.75 | 0.154 | tuning |
| sepia | channel mixing to sepia | 0.224 | tuning |
| blur | Gaussian blur, sigma 1 px at 32 px | 0.078 | tuning |
| sketch | pencil sketch: 1 - edge strength of the grey image | 0.785 | tuning |
| cool | red down, blue up (colour tone) | 0.092 | held out |
| contrast | S-shaped contrast curve | 0.108 | held out |
| swap_rb | red and blue channels swapped | 0.290 | held out |
| sharpen | unsharp mask, amount 1 | 0.070 | held out |
| painterly | `ganpaint.data.painterly` (blur, palette, lifted shadows) | 0.394 | held out |
| gradient_map | brightness through a navy / orange / cream palette | 0.295 | tuning |
| hue_rotate | hue rotated 150 degrees about the grey axis | 0.303 | tuning |
| night | day -> night grade: darker, desaturated, blue | 0.432 | held out |
| infrared | false-colour infrared: foliage red, red yellow, blue dark | 0.218 | held out |
| abstraction | median filter, then 3 levels per channel (no outlines) | 0.289 | held out |

The last five (issue 38) make each half hold at least as many far tasks as near ones: tuning
2 near, 5 far; held out 3 near, 5 far.

pix2pix tasks (paired), where the adversarial term can matter (L1 alone blurs structure):

| transform | what it does | suite |
|---|---|---|
| map | `ganpaint.data.map_like` (flat colour bands with outlines) | tuning |
| posterize | 4 levels per channel, after a blur (flat regions, hard edges) | tuning |
| deblur | the input blurred (sigma 1.5 px), the target the sharp photo | held out |
| cartoon | posterize plus dark outlines | held out |
| halftone | dot-screen texture modulated by brightness | held out |

    python -m benchmarks.known_answer --family cyclegan --suite tuning --steps 600
    python -m benchmarks.known_answer --family cyclegan --suite held_out --steps 600
    python -m benchmarks.known_answer --suite held_out --steps 2400 \
        --setting default --setting paper --setting tutorial
    python -m benchmarks.known_answer --family pix2pix --suite tuning --steps 600 --seeds 0 1
    python -m benchmarks.known_answer --family pix2pix --suite held_out --steps 600 \
        --setting default --setting tutorial
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from scipy import ndimage

from benchmarks import common
from benchmarks.common import family_networks, l1_to_truth, limit_threads, summary
from benchmarks.settings import CYCLE_SETTINGS, PIX_SETTINGS
from ganpaint import data

# -- transforms (uint8 [..., H, W, 3] in, uint8 out; sizes in pixels of a 32 px image) --------


def _float(images):
    return np.asarray(images).astype(np.float32) / 255.0


def _uint8(x):
    return np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)


def _per_image(fn, images):
    images = np.asarray(images)
    return np.stack([fn(x) for x in images]) if images.ndim == 4 else fn(images)


def _scale(images):
    """Pixel distances are given for 32 px; scale them to the image's size."""
    return np.asarray(images).shape[-2] / 32.0


def warm(images):
    x = _float(images)
    return _uint8(x * np.array([1.15, 1.0, 0.82]) + np.array([0.03, 0.0, 0.0]))


def cool(images):
    x = _float(images)
    return _uint8(x * np.array([0.85, 1.0, 1.12]) + np.array([0.0, 0.0, 0.03]))


def gamma(images):
    return _uint8(_float(images) ** 0.75)


def contrast(images):
    x = _float(images)
    smooth = x * x * (3.0 - 2.0 * x)  # smoothstep: an S-curve through (0.5, 0.5)
    return _uint8(x + 0.8 * (smooth - x))


def sepia(images):
    mix = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]])
    return _uint8(_float(images) @ mix.T)


def swap_rb(images):
    return np.ascontiguousarray(np.asarray(images)[..., ::-1])


def _blur(x, sigma):
    return ndimage.gaussian_filter(x, sigma=[sigma, sigma, 0.0])


def blur(images):
    s = _scale(images)
    return _uint8(_per_image(lambda x: _blur(x, 1.0 * s), _float(images)))


def sharpen(images):
    s = _scale(images)
    return _uint8(_per_image(lambda x: x + 1.0 * (x - _blur(x, 1.0 * s)), _float(images)))


def _edges(x, sigma):
    grey = _blur(x, sigma).mean(-1)
    return np.hypot(ndimage.sobel(grey, 0), ndimage.sobel(grey, 1))


def sketch(images):
    s = _scale(images)

    def one(x):
        strength = np.clip(_edges(x, 0.5 * s) * 2.0, 0.0, 1.0)
        return np.repeat((1.0 - strength)[..., None], 3, -1)

    return _uint8(_per_image(one, _float(images)))


def _posterized(x, s):
    return np.round(_blur(x, 0.7 * s) * 3.0) / 3.0  # 4 levels per channel


def posterize(images):
    s = _scale(images)
    return _uint8(_per_image(lambda x: _posterized(x, s), _float(images)))


def cartoon(images):
    s = _scale(images)

    def one(x):
        outline = np.clip(_edges(x, 0.7 * s) * 2.5 - 0.3, 0.0, 1.0)[..., None]
        return _posterized(x, s) * (1.0 - outline)

    return _uint8(_per_image(one, _float(images)))


def halftone(images):
    s = _scale(images)

    def one(x):
        h, w = x.shape[:2]
        period = max(2.0, 4.0 * s)
        rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
        screen = 0.5 + 0.25 * (
            np.cos(2 * np.pi * rows / period) + np.cos(2 * np.pi * cols / period)
        )  # in [0, 1]
        tone = _blur(x, 0.5 * s)
        return np.clip((tone - screen[..., None]) * 4.0 + 0.5, 0.0, 1.0)

    return _uint8(_per_image(one, _float(images)))


# Far from identity (issue 38): the styles people translate to are far from the photo.


def gradient_map(images):
    """Brightness through a three-stop palette: navy shadows, orange mid-tones, cream lights."""
    lum = np.clip(_float(images) @ np.array([0.299, 0.587, 0.114]), 0.0, 1.0)[..., None]
    stops = np.array([[0.08, 0.10, 0.35], [0.95, 0.55, 0.15], [1.0, 0.96, 0.85]])
    low, high = np.clip(2 * lum, 0, 1), np.clip(2 * lum - 1, 0, 1)
    return _uint8(stops[0] + low * (stops[1] - stops[0]) + high * (stops[2] - stops[1]))


def hue_rotate(images, degrees=150.0):
    """A strong hue rotation about the grey axis (SVG's hueRotate matrix), 150 degrees."""
    c, s = np.cos(np.deg2rad(degrees)), np.sin(np.deg2rad(degrees))
    m = np.array(
        [
            [
                0.213 + 0.787 * c - 0.213 * s,
                0.715 - 0.715 * c - 0.715 * s,
                0.072 - 0.072 * c + 0.928 * s,
            ],
            [
                0.213 - 0.213 * c + 0.143 * s,
                0.715 + 0.285 * c + 0.140 * s,
                0.072 - 0.072 * c - 0.283 * s,
            ],
            [
                0.213 - 0.213 * c - 0.787 * s,
                0.715 - 0.715 * c + 0.715 * s,
                0.072 + 0.928 * c + 0.072 * s,
            ],
        ]
    )
    return _uint8(_float(images) @ m.T)


def night(images):
    """A day -> night grade: darker, mostly desaturated, blue, with crushed shadows."""
    x = _float(images)
    x = 0.35 * x + 0.65 * x.mean(-1, keepdims=True)
    x = x * np.array([0.45, 0.55, 0.85]) + np.array([0.0, 0.02, 0.08])
    return _uint8(np.clip(x, 0, 1) ** 1.3)


def infrared(images):
    """Colour -> false-colour infrared (the Aerochrome look): green foliage reads red, red
    reads yellow-green, blue goes dark."""
    m = np.array([[0.2, 1.0, -0.2], [0.9, 0.1, 0.0], [0.0, 0.1, 0.6]])
    return _uint8(_float(images) @ m.T)


def abstraction(images):
    """Edge-preserving abstraction: a median filter (flat regions, kept edges), then 3 levels
    per channel, without outlines."""
    s = _scale(images)
    size = max(3, int(round(3 * s)))

    def one(x):
        flat = ndimage.median_filter(x, size=(size, size, 1))
        return np.round(flat * 2.0) / 2.0

    return _uint8(_per_image(one, _float(images)))


def _blurred_input(images):
    s = _scale(images)
    return _uint8(_per_image(lambda x: _blur(x, 1.5 * s), _float(images)))


def identity(images):
    return np.asarray(images)


TRANSLATION = {
    "warm": warm,
    "gamma": gamma,
    "sepia": sepia,
    "blur": blur,
    "sketch": sketch,
    "cool": cool,
    "contrast": contrast,
    "swap_rb": swap_rb,
    "sharpen": sharpen,
    "painterly": data.painterly,
    "gradient_map": gradient_map,
    "hue_rotate": hue_rotate,
    "night": night,
    "infrared": infrared,
    "abstraction": abstraction,
}
NEAR_IDENTITY = 0.15  # a task is near identity when |x - T(x)| of its held-out photos is below
# Each half holds at least as many far tasks as near ones (issue 38). The far members after
# painterly were added, and their halves fixed, before any run used them.
TRANSLATION_SUITES = {
    "tuning": ("warm", "gamma", "sepia", "blur", "sketch", "gradient_map", "hue_rotate"),
    "held_out": (
        "cool",
        "contrast",
        "swap_rb",
        "sharpen",
        "painterly",
        "night",
        "infrared",
        "abstraction",
    ),
}

# name -> (input transform, target transform)
PAIRED = {
    "map": (identity, data.map_like),
    "posterize": (identity, posterize),
    "deblur": (_blurred_input, identity),
    "cartoon": (identity, cartoon),
    "halftone": (identity, halftone),
}
PAIRED_SUITES = {"tuning": ("map", "posterize"), "held_out": ("deblur", "cartoon", "halftone")}


# -- photographs ----------------------------------------------------------------------------------


def _square_crops(image, size):
    """The largest square crops along the image's long side (2 or 3), each resized to
    `size`."""
    h, w = image.shape[:2]
    side = min(h, w)
    long = max(h, w)
    count = 3 if long >= 1.8 * side else 2
    starts = np.linspace(0, long - side, count).astype(int)
    crops = [image[:, s : s + side] if w >= h else image[s : s + side] for s in starts]
    return [data.resize(np.ascontiguousarray(c), (size, size)).numpy() for c in crops]


@functools.lru_cache(maxsize=4)
def photographs(size: int) -> np.ndarray:
    """uint8 [N, size, size, 3]: the bundled photos and crops of the registry packages'
    colour photographs, in a fixed shuffled order."""
    import skimage.data
    from sklearn.datasets import load_sample_images

    bundled = np.concatenate(
        [
            b.numpy()
            for b in data.image_dataset(
                data.sample_path("photo"), image_size=size, batch_size=30, shuffle=False
            )
        ]
    )
    bundled = data.to_uint8(bundled)
    extra = [
        getattr(skimage.data, name)() for name in ("astronaut", "coffee", "chelsea", "rocket")
    ] + list(load_sample_images().images)
    crops = [c for image in extra for c in _square_crops(image[..., :3], size)]
    images = np.concatenate([bundled, np.stack(crops)])
    return images[np.random.default_rng(2025).permutation(len(images))]


def split(images):
    """(domain A, domain B, held out): 40 %, 40 %, 20 % of `images`."""
    n = len(images)
    a, b = int(0.4 * n), int(0.8 * n)
    return images[:a], images[a:b], images[b:]


def to_unit(images) -> np.ndarray:
    return data.scale_to_unit(np.asarray(images)).numpy()


def translation_task(name: str, size: int = 32) -> dict:
    """The unpaired task `name`: float arrays in [-1, 1] — `a` (photos), `b` (the transform of
    other photos), `test` (held-out photos) and `truth` (their transform)."""
    transform = TRANSLATION[name]
    a, b, test = split(photographs(size))
    return {
        "a": to_unit(a),
        "b": to_unit(transform(b)),
        "test": to_unit(test),
        "truth": to_unit(transform(test)),
    }


def paired_task(name: str, size: int = 32) -> dict:
    """The paired task `name`: `pairs` (uint8 [N, size, 2 size, 3], input | target side by
    side, from domains A and B), `test` and `truth` in [-1, 1]."""
    source, target = PAIRED[name]
    a, b, test = split(photographs(size))
    train = np.concatenate([a, b])
    pairs = np.concatenate([source(train), target(train)], axis=2)
    return {"pairs": pairs, "test": to_unit(source(test)), "truth": to_unit(target(test))}


# -- CycleGAN on the translation tasks -------------------------------------------------------------

WIDTHS = {"small": 16, "medium": 32}  # the generators' first-layer filters


def cyclegan_networks(
    size: int,
    seed: int,
    width: int = 16,
    residual: bool | None = None,
    affine: bool = False,
    input_skip: bool = True,
    content_gradient: str | None = None,
):
    """The builders' networks at a task's size: ResNet generators with 3 blocks, 16 px
    PatchGANs of twice their width, as a user would build them for 32-64 px (`residual`
    None: the builder's default output)."""
    return family_networks(
        "cyclegan",
        seed,
        image_size=size,
        generator="resnet",
        base_filters=width,
        norm="instance",
        receptive_field=16,
        generator_options={
            "n_blocks": 3,
            "residual": residual,
            "affine_norm": affine,
            "input_skip": input_skip,
            # the builder's own unless a setting names one
            **({"content_gradient": content_gradient} if content_gradient else {}),
        },
        discriminator_options={"filters": 2 * width, "affine_norm": affine},
    )


def cyclegan_run(task: dict, setting: dict, seed: int, size: int = 32, width: int = 16):
    """One known-answer CycleGAN run of `setting`, not yet trained: (the networks G_AB, G_BA,
    D_A, D_B; `advance(n)`, which trains n more steps of batch 1; `translate()`, G_AB's
    translation of the held-out photos)."""
    from ganpaint import gans

    setting = dict(setting)
    step_kind = setting.pop("step", "ganpaint")
    learning_rate = setting.pop("learning_rate", None)  # both players' Adam, beta_1 0.5
    output = setting.pop("output", None)  # a candidate of `output_forms` (issue 38)
    gradient = setting.pop("content_gradient", None)  # the builder's, or the candidate's
    nets = cyclegan_networks(
        size,
        seed,
        width,
        # The output candidates replace a plain output's head, as when they were measured.
        setting.pop("residual", False if output else None),
        setting.pop("affine", False),
        setting.pop("input_skip", True),
        None if output else gradient,
    )
    callbacks = []
    if output:
        from benchmarks import output_forms

        heads = (output_forms.with_output(g, output, gradient or "masked") for g in nets[:2])
        nets = (*heads, *nets[2:])
        if output == "fade":
            callbacks.append(output_forms.Fade(nets[:2], setting.pop("fade_steps")))
    ds = data.unpaired_dataset(
        task["a"], task["b"], image_size=size, batch_size=1, seed=seed, repeat=True
    )
    if step_kind == "tutorial":
        from benchmarks import textbook

        return (
            nets,
            _steps(textbook.cyclegan_step(*nets), ds),
            lambda: nets[0].predict(task["test"], batch_size=16, verbose=0),
        )
    order = setting.pop("order", None)
    if order is None:
        model = gans.CycleGAN(*nets, seed=seed, **setting)
    else:
        from benchmarks import step_variants

        model = step_variants.OrderedCycleGAN(*nets, seed=seed, order=order, **setting)
    model.compile(learning_rate, learning_rate)
    return nets, _fit(model, ds, callbacks), lambda: model.translate(task["test"])


def train_cyclegan(
    task: dict, setting: dict, seed: int, budgets=(600,), size: int = 32, width: int = 16
) -> dict:
    """{budget: L1 of the held-out translations to the truth} of one run, scored at each of
    `budgets` (steps of batch 1) along the way."""
    _, advance, translate = cyclegan_run(task, setting, seed, size, width)
    return _scores_along(budgets, advance, translate, task["truth"])


def _scores_along(budgets, advance, translate, truth) -> dict:
    """{budget: {"l1_to_truth": ..., "judge_kid": ...}} of `translate()` against `truth`,
    training `advance(n)` n more steps up to each of `budgets` in turn: one run scored along
    the way."""
    scores = {}
    for budget in trained_to(budgets, advance):
        translated = translate()
        scores[budget] = {
            "l1_to_truth": l1_to_truth(translated, truth),
            "judge_kid": judge_kid(translated, truth),
        }
    return scores


def trained_to(budgets, advance):
    """Each of `budgets` in turn, once `advance(n)` has trained the run up to it: one run
    looked at along the way (the searches' scores, `blend_probe`'s look inside)."""
    done = 0
    for budget in sorted(budgets):
        advance(budget - done)
        done = budget
        yield budget


@functools.lru_cache(maxsize=1)
def _judge_features():
    from benchmarks import judges
    from ganpaint import metrics

    return metrics.LayerFeatures(judges.texture_judge(), "features")


def judge_kid(translated, truth) -> float:
    """A distribution distance for tasks without a known answer (issue 38): KID between the
    translated held-out set and the true targets, on the stored texture judge's 128 features
    (`benchmarks/judges/texture_classifier.keras`, 32 px; larger images are resized), scaled
    by the targets' root-mean-square feature so that x.y / d is of order 1 as KID's kernel
    (x.y / d + 1)^3 expects. `metrics.kid_from_features` over one subset of every image (the
    unbiased MMD^2, which can dip below 0), x 100."""
    from ganpaint import metrics

    extract = _judge_features()
    real, fake = (np.asarray(extract(x), dtype="float64") for x in (truth, translated))
    scale = np.sqrt(np.mean(real**2)) or 1.0
    with warnings.catch_warnings():  # one subset of every image is the point here
        warnings.simplefilter("ignore")
        mean, _ = metrics.kid_from_features(
            real / scale, fake / scale, subsets=1, subset_size=len(real)
        )
    return 100.0 * mean


def _steps(step, ds):
    """`advance` for a textbook step: n calls on the next n batches of `ds`."""
    iterator = iter(ds)

    def advance(n):
        for _ in range(n):
            step(*next(iterator))

    return advance


def _fit(model, ds, callbacks=()):
    """`advance` for a ganpaint model: `fit` for n steps."""
    return lambda n: model.fit(
        ds, steps_per_epoch=n, epochs=1, verbose=0, shuffle=False, callbacks=list(callbacks)
    )


# -- pix2pix on the paired tasks ------------------------------------------------------------------


def pix2pix_networks(
    size: int,
    seed: int,
    width: int = 16,
    residual: bool = False,
    dropout: float = 0.5,
    norm: str | None = None,
):
    """The builders' pix2pix networks at a task's size, as a user would build them: a U-Net
    (batch norm, dropout) of 2x `width` to 8x `width` filters, a conditional 16 px PatchGAN
    (instance norm); `norm`, when given, for both."""
    return family_networks(
        "pix2pix",
        seed,
        image_size=size,
        generator="unet",
        base_filters=2 * width,
        max_filters=8 * width,
        dropout=dropout,
        norm=norm or "batch",
        d_norm=norm or "instance",
        receptive_field=16,
        generator_options={"residual": residual},
    )


def train_pix2pix(
    task: dict, setting: dict, seed: int, budgets=(600,), size: int = 32, width: int = 16
) -> dict:
    """{budget: L1 of the held-out translations to the truth} of one pix2pix run."""
    from ganpaint import gans

    setting = dict(setting)
    step_kind = setting.pop("step", "ganpaint")
    score = setting.pop("score", None)
    shape = {k: setting.pop(k) for k in ("residual", "dropout", "norm") if k in setting}
    g, d = pix2pix_networks(size, seed, width, **shape)
    ds = data.paired_dataset(task["pairs"], image_size=size, batch_size=1, seed=seed, repeat=True)
    test = task["test"]
    if step_kind == "tutorial":  # the tutorial translates its batch of 16 in training mode
        from benchmarks import textbook

        return _scores_along(
            budgets,
            _steps(textbook.pix2pix_step(g, d), ds),
            lambda: _in_training_mode(g, test, 16),
            task["truth"],
        )
    model = gans.Pix2Pix(g, d, seed=seed, **setting)
    model.compile()
    if score == "dropout on":
        from ganpaint.gans.pix2pix import per_image_inference

        translate = lambda: per_image_inference(g, test, dropout=True).numpy()
    else:
        translate = lambda: model.translate(test)
    return _scores_along(budgets, _fit(model, ds), translate, task["truth"])


def _in_training_mode(generator, images, batch_size):
    """The generator's outputs with batch norm on each batch's own statistics, dropout on."""
    return np.concatenate(
        [
            generator(images[i : i + batch_size], training=True).numpy()
            for i in range(0, len(images), batch_size)
        ]
    )


# -- the runner ----------------------------------------------------------------------------------

FAMILIES = {
    "cyclegan": dict(
        task=translation_task,
        train=train_cyclegan,
        settings=CYCLE_SETTINGS,
        tasks=TRANSLATION,
        suites=TRANSLATION_SUITES,
    ),
    "pix2pix": dict(
        task=paired_task,
        train=train_pix2pix,
        settings=PIX_SETTINGS,
        tasks=PAIRED,
        suites=PAIRED_SUITES,
    ),
}
RESULTS = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "results", "known_answer_{family}.json"
)
SEEDS = (0, 1, 2)


def _key(row):
    return (row["task"], row["setting"], row["size"], row["width"], row["steps"], row.get("round"))


def merge_rows(path, rows):
    """`rows` in place of the rows of the JSON at `path` with the same (task, setting, size,
    width, steps, round); the file is rewritten after every run, so a long search keeps its
    rows."""
    return common.merge_rows(path, rows, _key, "known_answer")


def task_rows(
    family,
    tasks,
    settings,
    budgets,
    seeds=SEEDS,
    size=32,
    width="small",
    path=None,
    round_name=None,
):
    """One row per (task, setting, budget) of `family` ("cyclegan" or "pix2pix"): mean, sd
    and each seed's L1 to the truth, beside the unchanged input's. `round_name` names a later
    round of measurements (say "issue 38"): its rows sit beside, not in place of, the rows of
    the same settings published before."""
    spec, rows = FAMILIES[family], []
    for task_name in tasks:
        task = spec["task"](task_name, size)
        unchanged = l1_to_truth(task["test"], task["truth"])
        unchanged_kid = judge_kid(task["test"], task["truth"])
        for name in settings:
            runs = {b: [] for b in budgets}
            for seed in seeds:
                start = time.perf_counter()
                scores = spec["train"](
                    task, spec["settings"][name], seed, budgets, size, WIDTHS[width]
                )
                seconds = time.perf_counter() - start
                for b in budgets:
                    runs[b].append({"seed": seed, **scores[b], "seconds": seconds})
                print(
                    task_name,
                    name,
                    seed,
                    {b: {k: round(v, 4) for k, v in s.items()} for b, s in scores.items()},
                    f"{seconds:.0f}s",
                    flush=True,
                )
            for b in budgets:
                row = summary(task_name, name, b, runs[b])
                row.update(
                    setting=name,
                    size=size,
                    width=width,
                    near_identity=unchanged < NEAR_IDENTITY,
                    unchanged_l1=round(unchanged, 4),
                    unchanged_judge_kid=round(unchanged_kid, 4),
                    **({"round": round_name} if round_name else {}),
                    suite=next(s for s, members in spec["suites"].items() if task_name in members),
                )
                rows.append(row)
            if path:
                merge_rows(path, rows)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=tuple(FAMILIES), default="cyclegan")
    parser.add_argument("--suite", choices=tuple(TRANSLATION_SUITES), default="tuning")
    parser.add_argument("--task", action="append", help="tasks (default: the suite's)")
    parser.add_argument(
        "--setting", action="append", help="settings (default: all of the family's)"
    )
    parser.add_argument("--steps", type=int, nargs="+", default=[600])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--width", choices=tuple(WIDTHS), default="small")
    parser.add_argument("--out", default=None, help="JSON to merge rows into")
    parser.add_argument(
        "--round",
        default=None,
        help="name a later round of measurements (e.g. 'issue 38'): its rows sit beside the "
        "published rows of the same settings instead of replacing them",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="TensorFlow threads (1: run two processes side by side)",
    )
    args = parser.parse_args(argv)
    spec = FAMILIES[args.family]
    for option, given, known in (
        ("--setting", args.setting, spec["settings"]),
        ("--task", args.task, spec["tasks"]),
    ):
        unknown = [v for v in given or () if v not in known]
        if unknown:
            parser.error(
                f"{option} {unknown[0]!r} is not a {args.family} {option[2:]}; "
                f"choose from {', '.join(map(repr, known))}"
            )
    limit_threads(args.threads)
    tasks = args.task or spec["suites"][args.suite]
    path = args.out or RESULTS.format(family=args.family)
    task_rows(
        args.family,
        tasks,
        args.setting or tuple(spec["settings"]),
        args.steps,
        args.seeds,
        args.size,
        args.width,
        path,
        args.round,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
