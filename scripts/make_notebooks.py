"""Writes notebooks/*.ipynb: one per recipe plus inspect_layers.ipynb.

Each notebook is a short walkthrough of its own experiment, written here from its recipe so
that it cannot drift from `ganpaint.recipes`: change this file and run
`python scripts/make_notebooks.py` (a test checks the notebooks are what it writes). The cells
a notebook gets depend on its kind of model, chosen here, so no notebook carries branches for
experiments it does not run. Each runs in a smoke mode (`GANPAINT_SMOKE=1`, as the tests do)
on the bundled samples.
"""

from __future__ import annotations

import os

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ganpaint.families import family
from ganpaint.recipe_presets import RECIPES

HERE = os.path.dirname(os.path.abspath(__file__))

KAGGLE = "/kaggle/input"
# Where the real data lives on Kaggle, as each notebook's DATA default.
DATA = {
    "dogs_dcgan": f'"{KAGGLE}/generative-dog-images/all-dogs/all-dogs"',
    "dogs_ralsgan": f'"{KAGGLE}/generative-dog-images/all-dogs/all-dogs"',
    "dogs_sngan": f'"{KAGGLE}/stanford-dogs-dataset/images/Images"  # one folder per breed',
    "monet_dcgan": f'"{KAGGLE}/gan-getting-started/monet_tfrec"',
    "monet_cyclegan": f'("{KAGGLE}/gan-getting-started/photo_tfrec",\n'
    f'        "{KAGGLE}/gan-getting-started/monet_tfrec")',
    "cans_efficientnet_cyclegan": '("cans/coke.npz", "cans/pepsi.npz")  '
    "# ganpaint make-npz cans/coke cans/coke.npz --image-size 128",
    "mnist_acgan": "None  # None downloads MNIST with keras.datasets",
    "maps_pix2pix": f'"{KAGGLE}/pix2pix-dataset/maps/maps/train"',
    "cifar10_cgan": "None  # None downloads CIFAR-10 with keras.datasets",
}

# The dogs' VOC bounding boxes (Kaggle: Annotation.zip of generative-dog-images): train on
# the dogs cut from their boxes, as the strong dog notebooks do.
ANNOTATIONS = {
    "dogs_dcgan": f'"{KAGGLE}/generative-dog-images/Annotation/Annotation"',
    "dogs_ralsgan": f'"{KAGGLE}/generative-dog-images/Annotation/Annotation"',
    "dogs_sngan": f'"{KAGGLE}/stanford-dogs-dataset/annotations/Annotation"',
}
# Notebooks that end with an export of the generator for apps and web pages.
EXPORT = ("dogs_dcgan", "dogs_ralsgan", "dogs_sngan", "monet_cyclegan")

# What each experiment is, in a few sentences: the notebook's opening.
INTRO = {
    "dogs_dcgan": (
        "A DCGAN on the 20,580 photos of Stanford Dogs (the Kaggle *Generative Dog Images* "
        "contest's data), at 64×64: transposed-convolution generator, strided-convolution "
        "discriminator, both with batch norm, BCE with one-sided label smoothing 0.1. The "
        "notebook ends with the contest's `images.zip` (10,000 PNGs of 64×64) and an audit "
        "that estimates its MiFID before a submission is spent."
    ),
    "dogs_ralsgan": (
        "The same DCGAN networks trained with the relativistic average LSGAN loss (the Kaggle "
        "kernel that made RaLSGAN popular on dogs): each player judges whether a real image "
        "looks more real than the average fake, and the other way round."
    ),
    "dogs_sngan": (
        "The Kaggle *Generative Dog Images* top solutions in one recipe: a generator "
        "conditioned on the breed by class-conditional batch norm, a projection discriminator "
        "with spectral norm, the hinge loss, DiffAugment on every image the discriminator "
        "sees, an EMA generator for every sample, and TTUR (D 4e-4, G 1e-4, Adam betas 0 and "
        "0.9, as SAGAN). Breeds come from the folder names of Stanford Dogs "
        "(`Images/<breed>/*.jpg`). It ends with `images.zip` and its audit."
    ),
    "monet_dcgan": (
        "A DCGAN that paints Monets from noise at 320×320: a 5×5 seed doubled six times. With "
        "300 paintings this is the small-data case: try `diff_augment` and `ema` (see below)."
    ),
    "monet_cyclegan": (
        "CycleGAN photo → Monet for the Kaggle *I'm Something of a Painter Myself* contest: "
        "U-Net generators with instance norm, 70×70 PatchGAN discriminators, cycle and "
        "identity losses, the learning rate constant then linearly decayed, and the "
        "checkpoint with the best FID kept. The objective is ganpaint's measured default "
        "(relativistic average LSGAN, no image pool, cycle weight 5, Adam 4e-4); "
        '`preset="paper"` in `build` gives the paper\'s (LSGAN, a 50-image pool, cycle 10, '
        "2e-4). It ends with the contest's `images.zip` (7,000–10,000 JPEGs of 256×256) and "
        "an audit that estimates its MiFID."
    ),
    "cans_efficientnet_cyclegan": (
        "CycleGAN between Coke and Pepsi cans, each domain an image folder turned into an "
        "`.npz` (`ganpaint make-npz`), with generators on a truncated EfficientNetB0 encoder "
        "(ImageNet weights, or a file on an offline Kaggle notebook). The last cells look at "
        "what the encoder's intermediate layers see."
    ),
    "mnist_acgan": (
        "An MNIST GAN whose discriminator also classifies the digits (AC-GAN): the "
        "discriminator has a real/fake logit and a 10-class head, and both players are scored "
        "on the class, so the generator learns to draw the digit it is asked for."
    ),
    "maps_pix2pix": (
        "pix2pix on the maps dataset: each file is an aerial photo and its map side by side "
        "(600×600 each, resized to 256); a U-Net translates the photo, a conditional 70×70 "
        "PatchGAN judges (photo, map) pairs, and an L1 term (weight 100) keeps the map close "
        "to the truth."
    ),
    "cifar10_cgan": (
        "A label-conditioned GAN on CIFAR-10 with the tricks of the original notebook: random "
        "soft labels (real 0.7–1.2, fake 0–0.3), separate learning rates (G 2e-4, D 1e-4), "
        "dropout in the discriminator, and per-layer gradient norms recorded to watch the "
        "gradient flow. The labels enter as ganpaint's measured default: class-conditional "
        "batch norm in the generator, a projection discriminator with spectral norm (the "
        'original\'s label embedding is `conditioning="label_map", g_conditioning='
        '"label_map", spectral_norm=False`).'
    ),
}

SMALL_DATA = (
    "**Little data?** The discriminator soon memorises a few hundred images. Every recipe "
    'takes the small-data tools as overrides: `gp.recipes.build(..., diff_augment="color,'
    'translation,cutout", ema=0.999)` (DiffAugment and a moving-average generator), '
    "`ada_target=0.6` (adaptive augmentation), `spectral_norm=True`. The README's *Training "
    "with little data* says when to use which."
)

SUBMIT = {
    "monet_cyclegan": "monet",
    "dogs_dcgan": "dogs",
    "dogs_ralsgan": "dogs",
    "dogs_sngan": "dogs",
}
# What the audit compares the submission with: the images the contest's score is about.
AUDIT_REFERENCE = {
    "monet_cyclegan": f'"{KAGGLE}/gan-getting-started/monet_jpg"',
    "dogs_dcgan": "DATA",
    "dogs_ralsgan": "DATA",
    "dogs_sngan": "DATA",
}

INSTALL = """\
# ganpaint, if this kernel does not have it yet: a wheel attached as a Kaggle dataset (works
# with the internet off), one in Colab's Drive or in dist/ (`make wheel`), or what
# GANPAINT_PIP names (a pip requirement, e.g. a git URL). --no-deps: Kaggle and Colab ship
# TensorFlow, Keras, numpy, scipy, matplotlib and Pillow already.
import glob
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("ganpaint") is None:
    wheels = sorted(glob.glob("/kaggle/input/*/ganpaint-*.whl")
                    + glob.glob("/content/drive/MyDrive/ganpaint-*.whl")
                    + glob.glob("dist/ganpaint-*.whl"))
    source = os.environ.get("GANPAINT_PIP") or (wheels[-1] if wheels else None)
    if source is None:
        raise RuntimeError("ganpaint is not installed: attach its wheel as a Kaggle dataset, put "
                           "it in Drive, or set GANPAINT_PIP to a pip requirement.")
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "--no-deps", source])"""

IMPORTS = """\
import json
import os

import matplotlib.pyplot as plt
import numpy as np

import ganpaint as gp


def show(images, title, cols=8, size=8):
    plt.figure(figsize=(size, size))
    plt.imshow(np.squeeze(gp.plotting.image_grid(images, cols=cols)), cmap="gray")
    plt.axis("off")
    plt.title(title)
    plt.show()"""

STRATEGY = """\
# TPU (Colab, Kaggle), several GPUs, TF_CONFIG workers, or one device: the same code runs on each.
strategy = gp.distribute.get_strategy()
print(type(strategy).__name__, "with", strategy.num_replicas_in_sync, "replica(s)")
if MIXED_PRECISION:  # bfloat16 on TPU and CPU, float16 (with loss scaling) on GPU
    import keras
    import tensorflow as tf
    keras.mixed_precision.set_global_policy(
        "mixed_float16" if tf.config.list_logical_devices("GPU") else "mixed_bfloat16")"""


def _kind(recipe) -> str:
    return family(recipe.model).kind


def parameters(name):
    recipe = RECIPES[name]
    lines = [
        '# Parameters (papermill-style: this cell is tagged "parameters").',
        'SMOKE = os.environ.get("GANPAINT_SMOKE", "0") == "1"  # tiny, on the bundled samples',
        f"DATA = {DATA[name]}",
        *(
            [
                f"ANNOTATIONS = {ANNOTATIONS[name]}  # VOC boxes: train on the dogs cut from "
                "them; None: whole photos"
            ]
            if name in ANNOTATIONS
            else []
        ),
        f"EPOCHS = None            # None: the recipe's {recipe.epochs}",
        f'OUT_DIR = "outputs/{name}"',
        "MIXED_PRECISION = False",
        "# Stop cleanly, state saved, before the session ends: Kaggle's limit (12 h on GPU, "
        "9 h on TPU) from",
        "# the kernel's start; on Colab, which has no fixed limit, say how long you expect, "
        'e.g. "11h".',
        "TIME_LIMIT = gp.sessions.session_seconds_left()  # None: no limit",
        "# Inception weights for FID, while training and after: classify_image_graph_def.pb (the",
        "# 2015 graph Kaggle scores with) or Keras' InceptionV3 notop .h5 file. None finds one:",
        "# $GANPAINT_FID_WEIGHTS, a file attached under /kaggle/input, Keras' cache, else a download",
        "# (which fails with the internet off: then the run stops before its first step and says so).",
        "FID_WEIGHTS = None",
    ]
    if name in SUBMIT:
        if name == "monet_cyclegan":
            lines.append(f'PHOTOS = "{KAGGLE}/gan-getting-started/photo_jpg"  # what to translate')
        lines.append(f"AUDIT_REFERENCE = {AUDIT_REFERENCE[name]}  # the contest's real images")
    lines += ["if SMOKE:", "    DATA = None          # the bundled sample"]
    if name in ANNOTATIONS:
        lines += ["    ANNOTATIONS = None"]
    if name == "monet_cyclegan":
        lines += [
            '    PHOTOS = gp.data.sample_path("photo")',
            '    AUDIT_REFERENCE = gp.data.sample_path("monet")',
        ]
    elif name in SUBMIT:
        lines += [f'    AUDIT_REFERENCE = gp.data.sample_path("{RECIPES[name].sample}")']
    return "\n".join(lines)


def _build_cells(name):
    boxes = "annotations=ANNOTATIONS, " if name in ANNOTATIONS else ""
    return [
        new_markdown_cell(
            "## Data, networks and model\n\n`gp.recipes.build` makes the input "
            "pipeline, the networks, the compiled model and the callbacks "
            "(sample grids, loss history, best-FID checkpoint) from the recipe; "
            "any recipe field can be overridden by keyword."
        ),
        new_code_cell(f"""\
setup = gp.recipes.build("{name}", data=DATA, out_dir=OUT_DIR, smoke=SMOKE, strategy=strategy,
                         fid_weights=FID_WEIGHTS, {boxes}**({{"epochs": EPOCHS}} if EPOCHS else {{}}))
model = setup.model
for role, network in model.networks.items():
    print(f"{{role}}: {{network.name}}, {{network.count_params():,}} parameters")"""),
    ]


def _batch_cell(kind):
    if kind == "translate":
        return new_code_cell("""\
a, b = next(iter(setup.dataset))
show(np.concatenate([a[:4], b[:4]]), "a training batch: first row input domain, second target",
     cols=4)""")
    if kind == "labelled":
        return new_code_cell("""\
images, labels = next(iter(setup.dataset))
show(images[:16], f"a training batch, classes {labels[:16].numpy().tolist()}")""")
    return new_code_cell("""\
images = next(iter(setup.dataset))
show(images[:16], "a training batch")""")


def _fit_cells():
    return [
        new_markdown_cell(
            "## Training\n\nThe whole state (weights, optimizers, image pools, seeds, EMA, "
            "ADA's p, the step) is checkpointed every `checkpoint_every` steps in "
            "`OUT_DIR/backup`. Run this cell again after a crash or a new session and it "
            "continues from the last checkpoint, mid-epoch included. `TIME_LIMIT` stops it "
            "before the session does; a `TrainingGuard` rolls back and slows down a run that "
            "diverges (its decisions are in `OUT_DIR/guard.jsonl`)."
        ),
        new_markdown_cell(
            "Watch it in TensorBoard (losses per window of steps, FID, learning "
            "rates, ADA's p, the sample grid each epoch) from the notebook: "
            "`%tensorboard` works on Colab and in Jupyter; on Kaggle, look at "
            "`OUT_DIR/history/losses.png` and the grids instead."
        ),
        new_code_cell("""\
if not SMOKE:  # starts a TensorBoard server beside the notebook
    get_ipython().run_line_magic("load_ext", "tensorboard")
    get_ipython().run_line_magic("tensorboard", f"--logdir {os.path.join(OUT_DIR, 'tensorboard')}")"""),
        new_code_cell('history = setup.fit(time_limit=TIME_LIMIT, verbose=2 if SMOKE else "auto")'),
        new_code_cell("""\
gp.plotting.plot_history(os.path.join(OUT_DIR, "history", "batches.csv"), x="step")
plt.show()"""),
        new_markdown_cell(
            "The sample grids of every epoch as one animation (the TF DCGAN "
            "tutorial's closing GIF; `ganpaint animate OUT_DIR --out "
            "progress.gif` from the shell)."
        ),
        new_code_cell("""\
from IPython.display import Image as Picture

gif = gp.plotting.progress_animation(OUT_DIR, os.path.join(OUT_DIR, "progress.gif"),
                                     overwrite=True)
Picture(filename=gif)"""),
    ]


# What a translation notebook says about how its model translates, by model.
TRANSLATION_NOTES = {
    "pix2pix": " Each photo is translated with batch norm on its own statistics, as the "
    "pix2pix paper does at test time, rather than on the moving averages of batch-1 "
    "training, which fit no single photo well (`Pix2Pix(..., "
    'inference="per_image")`, the default; `docs/defaults.md` has the '
    "measurements).",
}


def _samples_cells(kind, model=None):
    if kind == "translate":
        return [
            new_markdown_cell(
                "## Translations\n\nFixed inputs and their translations "
                "(with the EMA generator when the model keeps one)."
                + TRANSLATION_NOTES.get(model, "")
            ),
            new_code_cell("""\
inputs = setup.fixed_inputs[:8]
outputs = model.sample(inputs=inputs)
show(np.stack([inputs, outputs], 1).reshape(-1, *inputs.shape[1:]), "input | output", cols=4)"""),
        ]
    if kind == "labelled":
        return [
            new_markdown_cell(
                "## Samples\n\nOne row per class, the same noise in each "
                "column: the class should change, the style should not."
            ),
            new_code_cell("""\
classes = min(model.num_classes, 10)
noise = np.tile(np.random.default_rng(0).normal(size=(8, model.latent_dim)), (classes, 1))
images = model.sample(noise=noise.astype("float32"), labels=np.repeat(np.arange(classes), 8))
show(images, f"classes 0-{classes - 1}, one per row")"""),
        ]
    return [
        new_markdown_cell("## Samples"),
        new_code_cell('show(model.sample(16), "generated", cols=4, size=6)'),
        new_markdown_cell(
            "A walk through the latent space: each row goes from one noise "
            "draw to another along the sphere the noise lives near."
        ),
        new_code_cell("""\
walk = gp.plotting.interpolation(model, steps=8, rows=4)
show(walk.reshape(-1, *walk.shape[2:]), "spherical interpolation", cols=8)"""),
    ]


def _score_cells(kind):
    # Translators translate their inputs; labelled models draw every class in turn.
    fakes = (
        "model.sample(inputs=setup.fixed_inputs)"
        if kind == "translate"
        else "model.sample(len(setup.real))"
    )
    return [
        new_markdown_cell(
            "## Scores\n\nThe best checkpoint by FID is in `OUT_DIR/best`, with "
            "its record (the score and how it was computed). In smoke mode the "
            "features are downsampled pixels (`gp.metrics.PixelFeatures`), which "
            "need no weights; otherwise Inception's."
        ),
        new_code_cell(f"""\
record = os.path.join(OUT_DIR, "best", "best.json")
if os.path.exists(record):
    print(json.load(open(record)))
features = gp.metrics.PixelFeatures() if SMOKE else gp.metrics.feature_extractor(FID_WEIGHTS)
print(gp.metrics.fid(setup.real, {fakes}, extractor=features, verbose=False))"""),
    ]


def _submission_cells(name):
    contest = SUBMIT[name]
    if contest == "monet":
        call = (
            'gp.submission.submit(model, "images.zip", inputs=PHOTOS, contest="monet",\n'
            "                              count=30 if SMOKE else None, overwrite=True)"
        )
        what = "every photo of `photo_jpg` translated to a 256×256 JPEG"
    else:
        call = (
            'gp.submission.submit(model, "images.zip", contest="dogs", fmt="png",\n'
            "                              count=16 if SMOKE else 10_000, overwrite=True)"
        )
        what = "10,000 generated 64×64 PNGs"
    return [
        new_markdown_cell(
            f"## The submission\n\n`images.zip`: {what}, streamed into the zip "
            "(no folder of thousands of files), with a warning if it breaks the "
            "contest's rules. Then the audit estimates the score before a "
            "submission is spent: FID against the contest's real images, the "
            "memorisation distance, MiFID as Kaggle computes it, and the "
            "generated images nearest to a real one beside it, so that copies "
            "show."
        ),
        new_code_cell(f"""\
result = {call}
print(result)"""),
        new_code_cell(f"""\
features = gp.metrics.PixelFeatures() if SMOKE else gp.metrics.feature_extractor(FID_WEIGHTS)
report = gp.submission.audit("images.zip", AUDIT_REFERENCE, out_dir=os.path.join(OUT_DIR, "audit"),
                             extractor=features, contest="{contest}", overwrite=True)
print({{k: report[k] for k in ("fid", "memorization_distance", "mifid", "flagged")}})
print(report["checks"]["problems"] or "the zip follows the rules")
plt.figure(figsize=(12, 4))
plt.imshow(plt.imread(report["picture"]))
plt.axis("off")
plt.title("nearest pairs: generated | closest real")
plt.show()"""),
    ]


def recipe_notebook(name):
    recipe = RECIPES[name]
    kind = _kind(recipe)
    cells = [
        new_markdown_cell(
            f"# {recipe.summary}\n\n{INTRO[name]}\n\nRecipe `{name}` of "
            "ganpaint. Set `DATA` to the real dataset (`data/README.md` "
            "says where to get it); with `GANPAINT_SMOKE=1` the notebook "
            "runs in a minute on the bundled sample."
        )
    ]
    if name in ("dogs_dcgan", "dogs_ralsgan", "monet_dcgan", "monet_cyclegan"):
        cells.append(new_markdown_cell(SMALL_DATA))
    cells += [
        new_code_cell(INSTALL),
        new_code_cell(IMPORTS),
        new_code_cell(parameters(name), metadata={"tags": ["parameters"]}),
        new_code_cell(STRATEGY),
    ]
    cells += (
        _build_cells(name) + [_batch_cell(kind)] + _fit_cells() + _samples_cells(kind, recipe.model)
    )
    cells += _score_cells(kind)
    if recipe.gradient_norms:
        cells += [
            new_markdown_cell(
                "## Gradient flow\n\nPer-layer gradient norms of both "
                "networks over training (`callbacks.GradientNorms`)."
            ),
            new_code_cell("""\
gp.plotting.plot_gradient_norms(os.path.join(OUT_DIR, "gradients", "gradient_norms.csv"))
plt.show()"""),
        ]
    if recipe.generator == "efficientnet":
        cells += [
            new_markdown_cell(
                "## Inside the generator\n\nWhat the EfficientNet "
                "encoder's layers and the decoder output for one image "
                "(`gp.inspection.feature_maps`; the nested encoder's "
                "layers are `encoder/<layer>`)."
            ),
            new_code_cell("""\
g = model.networks["g_ab"]
names = ["encoder/stem_activation", "encoder/block2a_expand_activation", "dec1b_act"]
maps = gp.inspection.feature_maps(g, setup.fixed_inputs[:1], names)
gp.inspection.plot_feature_maps(maps, channels=8)
plt.show()"""),
        ]
    if name in SUBMIT:
        cells += _submission_cells(name)
    if name in EXPORT:
        cells += _export_cells(kind)
    return cells


def _export_cells(kind):
    if kind == "translate":
        use = """\
photos = tf.constant(gp.data.to_uint8(setup.fixed_inputs[:4]))
served = tf.saved_model.load(path).signatures["serving_default"]
images = served(images=photos)["images"]"""
    else:
        labels = ",\n                labels=tf.range(8))" if kind == "labelled" else ")"
        use = f"""\
served = tf.saved_model.load(path).signatures["from_seed"]
images = served(seed=tf.constant(0, tf.int64), count=tf.constant(8){labels}["images"]"""
    return [
        new_markdown_cell(
            "## Export\n\nOnly the generator (its moving average when the "
            "model keeps one), with a serving signature that speaks uint8 "
            "images: a SavedModel for TensorFlow Serving and TF.js, a TFLite "
            "file for phones (`ganpaint export OUT_DIR/model.keras --out ...`)."
        ),
        new_code_cell(f"""\
import tensorflow as tf

path = model.export_generator(os.path.join(OUT_DIR, "generator"), overwrite=True)
model.export_generator(os.path.join(OUT_DIR, "generator.tflite"), format="tflite", overwrite=True)
{use}
show(images.numpy(), "from the exported generator", cols=4, size=6)"""),
    ]


def inspect_notebook():
    return [
        new_markdown_cell(
            "# Looking inside the networks\n\nIntermediate feature maps of an "
            "EfficientNet-backbone generator (the Coke/Pepsi CycleGAN's), reached "
            "inside its nested encoder, and the measured receptive fields of "
            "the PatchGAN discriminators."
        ),
        new_code_cell(INSTALL),
        new_code_cell(IMPORTS),
        new_code_cell(
            """\
# Parameters
SMOKE = os.environ.get("GANPAINT_SMOKE", "0") == "1"
IMAGE_SIZE = 64 if SMOKE else 128
WEIGHTS = None if SMOKE else "imagenet"   # or a local .h5 file on an offline Kaggle notebook""",
            metadata={"tags": ["parameters"]},
        ),
        new_code_cell("""\
photos = gp.data.image_dataset(gp.data.sample_path("photo"), image_size=IMAGE_SIZE, batch_size=4,
                               shuffle=False)
x = next(iter(photos)).numpy()
g = gp.generators.efficientnet_generator((IMAGE_SIZE, IMAGE_SIZE, 3), "EfficientNetB0",
                                         weights=WEIGHTS)
print(len(gp.inspection.layer_paths(g)), "layers, e.g.", gp.inspection.layer_paths(g)[:6])"""),
        new_code_cell("""\
names = ["encoder/stem_activation", "encoder/block2a_expand_activation",
         "encoder/block4a_expand_activation", "dec1b_act", "out_conv"]
maps = gp.inspection.feature_maps(g, x, names)
for name, value in maps.items():
    print(f"{name:40s} {value.shape}")
gp.inspection.plot_feature_maps(maps, channels=8)
plt.show()"""),
        new_markdown_cell(
            "Receptive fields, measured from gradients (not computed from a "
            "formula): 16 and 70 are the two PatchGANs of the Monet recipes."
        ),
        new_code_cell("""\
for field in (1, 16, 70):
    d = gp.discriminators.patchgan_discriminator((128, 128, 3), field, filters=8)
    print(f"patchgan_discriminator(receptive_field={field}): measured",
          gp.inspection.receptive_field(d), "px; output", d.output.shape[1:3])"""),
    ]


def notebooks() -> dict:
    """{file name: notebook} for every notebook this script writes."""
    out = {f"{name}.ipynb": _notebook(recipe_notebook(name)) for name in RECIPES}
    out["inspect_layers.ipynb"] = _notebook(inspect_notebook())
    return out


def _notebook(cells):
    for i, cell in enumerate(cells):  # stable ids: regenerating changes only what changed
        cell["id"] = f"cell-{i:02d}"
    return new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )


def main():
    out = os.path.join(os.path.dirname(HERE), "notebooks")
    os.makedirs(out, exist_ok=True)
    for file_name, nb in notebooks().items():
        nbformat.write(nb, os.path.join(out, file_name))
    print(f"wrote {len(RECIPES) + 1} notebooks to {out}")


if __name__ == "__main__":
    main()
