"""Writes notebooks/*.ipynb: one per recipe plus inspect_layers.ipynb.

The notebooks share one skeleton (parameters, strategy, data, fit, pictures, FID, layers), so
they are generated here rather than edited by hand: change this file and run
`python scripts/make_notebooks.py`. Each runs in a smoke mode (`GANPAINT_SMOKE=1`, as the
tests do) on the bundled samples.
"""
from __future__ import annotations

import os
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from ganpaint.recipes import RECIPES  # noqa: E402

# Where the real data lives on Kaggle/Colab, as each notebook's DATA default.
DATA = {
    "dogs_dcgan": '"/kaggle/input/generative-dog-images/all-dogs/all-dogs"',
    "dogs_ralsgan": '"/kaggle/input/generative-dog-images/all-dogs/all-dogs"',
    "dogs_sngan": '"/kaggle/input/stanford-dogs-dataset/images/Images"  # one folder per breed',
    "monet_dcgan": '"/kaggle/input/gan-getting-started/monet_tfrec"',
    "monet_cyclegan": '("/kaggle/input/gan-getting-started/photo_tfrec",\n'
                      '        "/kaggle/input/gan-getting-started/monet_tfrec")',
    "cans_efficientnet_cyclegan": '("cans/coke.npz", "cans/pepsi.npz")  '
                                  '# ganpaint make-npz cans/coke cans/coke.npz --image-size 128',
    "mnist_acgan": "None  # None downloads MNIST with keras.datasets",
    "maps_pix2pix": '"/kaggle/input/pix2pix-dataset/maps/maps/train"',
    "cifar10_cgan": "None  # None downloads CIFAR-10 with keras.datasets",
}

SMALL_DATA = ("**Little data?** The contest sets are small (300 Monet paintings, ~170 dogs a "
              "breed), so the discriminator soon memorises them. Every recipe takes the "
              "small-data tools as overrides of `gp.recipes.build`: "
              "`diff_augment=\"color,translation,cutout\"` (DiffAugment on every image the "
              "discriminator sees), `ada_target=0.6` (adaptive augmentation), `ema=0.999` (sample "
              "from a moving average of the generator) and `spectral_norm=True`. See the "
              "README's *Training with little data*.")

# A recipe's own explanation, after its title.
NOTES = {
    "dogs_sngan": (
        "This is the recipe of the Kaggle *Generative Dog Images* top solutions, in one place: "
        "a generator conditioned on the breed by class-conditional batch norm (`cbn`), a "
        "projection discriminator with spectral norm, the hinge loss, DiffAugment on real and "
        "fake images, an EMA generator for every sample, and TTUR (D 4e-4, G 1e-4, Adam "
        "betas 0 and 0.9, as SAGAN). Breeds come from the folder names of Stanford Dogs "
        "(`Images/<breed>/*.jpg`). Watch `augment_p` and the losses in the history: a hinge "
        "`d_loss` that falls to 0 means the discriminator has won."),
    "dogs_dcgan": SMALL_DATA, "dogs_ralsgan": SMALL_DATA, "monet_dcgan": SMALL_DATA,
    "monet_cyclegan": SMALL_DATA,
}

SETUP = """\
# On Colab or Kaggle, install ganpaint first (the repository, or a Kaggle dataset of it):
#   !pip install -q "ganpaint @ git+https://github.com/<you>/ganpaint"
import json
import os

import matplotlib.pyplot as plt
import numpy as np

import ganpaint as gp


def show(image, title=None, size=6):
    plt.figure(figsize=(size, size))
    plt.imshow(np.squeeze(image), cmap="gray")
    plt.axis("off")
    if title:
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


def parameters(name):
    return f"""\
# Parameters (papermill-style: this cell is tagged "parameters").
SMOKE = os.environ.get("GANPAINT_SMOKE", "0") == "1"  # tiny sizes on the bundled samples
RECIPE = "{name}"
DATA = {DATA[name]}
EPOCHS = None            # None: the recipe's ({RECIPES[name].epochs})
OUT_DIR = "outputs/{name}"
MIXED_PRECISION = False
if SMOKE:
    DATA = None          # the bundled sample"""


def recipe_notebook(name):
    recipe = RECIPES[name]
    translating = recipe.model in ("cyclegan", "pix2pix")
    cells = [
        new_markdown_cell(f"# {recipe.summary}\n\nRecipe `{name}` of ganpaint: the networks, "
                          "losses and schedule of the experiment, built by "
                          "`gp.recipes.build` and trained with `model.fit`. Set `DATA` to the "
                          "real dataset (see `data/README.md`); with `GANPAINT_SMOKE=1` the "
                          "notebook runs in seconds on the bundled sample."),
        *([new_markdown_cell(NOTES[name])] if name in NOTES else []),
        new_code_cell(SETUP),
        new_code_cell(parameters(name), metadata={"tags": ["parameters"]}),
        new_code_cell(STRATEGY),
        new_markdown_cell("## Data, networks, model and callbacks"),
        new_code_cell("""\
setup = gp.recipes.build(RECIPE, data=DATA, out_dir=OUT_DIR, smoke=SMOKE, strategy=strategy,
                         **({"epochs": EPOCHS} if EPOCHS else {}))
print(setup.recipe)
for network in setup.model._networks:
    net = getattr(setup.model, network)
    print(f"{network}: {net.name}, {net.count_params():,} parameters")"""),
        new_code_cell("""\
batch = next(iter(setup.dataset))
images = np.concatenate([np.asarray(b) for b in batch]) if %s else np.asarray(
    batch[0] if isinstance(batch, tuple) else batch)
show(gp.plotting.image_grid(images[:16]), "a training batch")""" % translating),
        new_markdown_cell("## Training\n\n`resume=True` continues an interrupted run from "
                          "`OUT_DIR/backup` (weights, optimizers, image pools, seeds, epoch)."),
        new_code_cell("""\
history = setup.fit(resume=True, verbose=2 if SMOKE else "auto")"""),
        new_code_cell("""\
gp.plotting.plot_history(os.path.join(OUT_DIR, "history", "batches.csv"), x="step")
plt.show()"""),
        new_markdown_cell("## Samples"),
        new_code_cell("""\
model = setup.model
if hasattr(model, "translate"):
    inputs = setup.fixed_inputs[:8]
    outputs = model.translate(inputs)
    pairs = np.stack([inputs, outputs], 1).reshape(-1, *inputs.shape[1:])
    show(gp.plotting.image_grid(pairs, cols=4), "input | output", size=8)
elif hasattr(model, "num_classes"):  # one row per class, the same noise in each row
    classes = model.num_classes
    noise = np.tile(np.random.default_rng(0).normal(size=(8, model.latent_dim)), (classes, 1))
    images = model.generate(noise=noise.astype("float32"), labels=np.repeat(np.arange(classes), 8))
    show(gp.plotting.image_grid(images, cols=8), "one row per class", size=8)
else:
    show(gp.plotting.image_grid(model.generate(16)), "generated")"""),
        new_markdown_cell("## Scores\n\nThe best checkpoint by FID is kept in "
                          "`OUT_DIR/best`. Offline and in smoke mode the features are "
                          "downsampled pixels (`gp.metrics.PixelFeatures`); otherwise "
                          "InceptionV3's pool features."),
        new_code_cell("""\
best_record = os.path.join(OUT_DIR, "best", "best.json")
if os.path.exists(best_record):
    print("best checkpoint:", json.load(open(best_record)))
extractor = gp.metrics.PixelFeatures() if SMOKE else gp.metrics.InceptionFeatures()
real = next(cb for cb in setup.callbacks if isinstance(cb, gp.callbacks.FIDCheckpoint)).real
fake = model.translate(setup.fixed_inputs) if hasattr(model, "translate") else None
if fake is None:
    labels = np.arange(len(real)) % model.num_classes if hasattr(model, "num_classes") else None
    fake = model.generate(len(real), labels=labels)
print(gp.metrics.fid(real, fake, extractor=extractor, verbose=False))"""),
        new_markdown_cell("## Inside the generator\n\nWhat intermediate layers output "
                          "(`gp.inspection.feature_maps`; nested backbones are reached as "
                          "`encoder/<layer>`)."),
        new_code_cell("""\
g = getattr(model, "generator", None) or model.g_ab
names = [l.name for l in g.layers if l.name.endswith(("_conv", "_act")) or l.name == "encoder"]
names = [n for n in names if n != "encoder"][:2] + [n for n in names if n != "encoder"][-2:]
x = setup.fixed_inputs[:1] if hasattr(model, "translate") else None
if x is None:
    z = np.random.default_rng(1).normal(size=(1, model.latent_dim)).astype("float32")
    x = [z, np.zeros((1, 1), "int32")] if len(g.inputs) > 1 else z
maps = gp.inspection.feature_maps(g, x, names)
gp.inspection.plot_feature_maps(maps, channels=8)
plt.show()"""),
    ]
    if recipe.gradient_norms:
        cells += [new_markdown_cell("## Gradient flow\n\nPer-layer gradient norms of both "
                                    "networks over training (`callbacks.GradientNorms`)."),
                  new_code_cell("""\
gp.plotting.plot_gradient_norms(os.path.join(OUT_DIR, "gradients", "gradient_norms.csv"))
plt.show()""")]
    return cells


def inspect_notebook():
    return [
        new_markdown_cell("# Looking inside the networks\n\nIntermediate feature maps of an "
                          "EfficientNet-backbone generator (the Coke/Pepsi CycleGAN's), reached "
                          "inside its nested encoder, and the measured receptive fields of "
                          "the PatchGAN discriminators."),
        new_code_cell(SETUP),
        new_code_cell("""\
# Parameters
SMOKE = os.environ.get("GANPAINT_SMOKE", "0") == "1"
IMAGE_SIZE = 64 if SMOKE else 128
WEIGHTS = None if SMOKE else "imagenet"   # or a local .h5 file on an offline Kaggle notebook""",
                      metadata={"tags": ["parameters"]}),
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
        new_markdown_cell("Receptive fields, measured from gradients (not computed from a "
                          "formula): 16 and 70 are the two PatchGANs of the Monet recipes."),
        new_code_cell("""\
for field in (1, 16, 70):
    d = gp.discriminators.patchgan_discriminator((128, 128, 3), field, filters=8)
    print(f"patchgan_discriminator(receptive_field={field}): measured",
          gp.inspection.receptive_field(d), "px; output", d.output.shape[1:3])"""),
    ]


def write(path, cells):
    for i, cell in enumerate(cells):  # stable ids: regenerating changes only what changed
        cell["id"] = f"cell-{i:02d}"
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    nbformat.write(nb, path)


def main():
    out = os.path.join(os.path.dirname(HERE), "notebooks")
    os.makedirs(out, exist_ok=True)
    for name in RECIPES:
        write(os.path.join(out, f"{name}.ipynb"), recipe_notebook(name))
    write(os.path.join(out, "inspect_layers.ipynb"), inspect_notebook())
    print(f"wrote {len(RECIPES) + 1} notebooks to {out}")


if __name__ == "__main__":
    main()
