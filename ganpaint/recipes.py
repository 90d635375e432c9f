"""The seed experiments as named, ready-to-fit setups (presets as data, like keras-hub's).

>>> setup = build("monet_cyclegan", data=("photo_tfrec/", "monet_tfrec/"), out_dir="runs/monet")
>>> setup.fit()                 # model.fit with the recipe's callbacks; resumable
>>> setup.model.translate(photos)

Every recipe builds its networks and model inside `get_strategy().scope()`, so the same call
runs on CPU, a GPU, several GPUs or a TPU. `smoke=True` shrinks sizes and epochs to run on the
bundled samples in seconds (what the notebooks and tests use); any field can be overridden by
keyword, e.g. `build("monet_cyclegan", image_size=320, receptive_field=16)`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import keras

from ganpaint import callbacks as cb
from ganpaint import data as gdata
from ganpaint import distribute, families, fs, gans, metrics, runs, settings
from ganpaint.errors import UserError, arg
from ganpaint.recipe_presets import RECIPES, SECTIONS, Recipe, get  # noqa: F401 (public here)
from ganpaint.sweeps import sweep  # noqa: F401 (public here: `gp.recipes.sweep`)


@dataclass
class Setup:
    """What `build` returns: a compiled model, its dataset and callbacks, ready to `fit`."""

    recipe: Recipe
    model: gans.AdversarialModel
    dataset: Any
    callbacks: list
    out_dir: str
    fixed_inputs: Any = None  # images the sample grid translates (translation recipes)
    strategy: Any = None
    real: Any = None  # real images the scores compare with (FIDCheckpoint's)
    make_dataset: Any = None  # builds a new `dataset` (what a resumed run's fits iterate)

    def fit(
        self,
        epochs: int | None = None,
        resume: bool | str = "auto",
        verbose="auto",
        time_limit=None,
        checkpoint_every: int | None = None,
        run_info: dict | None = None,
        **kwargs,
    ):
        """Train with the recipe's callbacks, in a run that survives interruption
        (`ganpaint.runs.resumable_fit`): the whole state is checkpointed every
        `checkpoint_every` steps in `out_dir/backup`, and calling `fit` again (in this process
        or a new one) continues from the newest complete checkpoint, mid-epoch included.
        Saves `out_dir/model.keras` at the end.

        Args:
            epochs: int. Epochs of the whole run. Defaults to the recipe's.
            resume: "auto" (continue if there is a checkpoint), True (require one) or False
                (start again; the earlier run's files are moved aside, nothing deleted). A
                folder that holds another run (recipe, model, size or seed) is refused.
            time_limit: seconds, "8h", or a `callbacks.TimeLimit`: stop before it with the
                state saved (the notebooks pass the session's limit).
            checkpoint_every: int. Steps between checkpoints. Defaults to the recipe's.
            run_info: dict. What else identifies the run (the demo's epochs), beside the
                recipe and the model's seed.
            verbose, kwargs: passed to `model.fit`.
        """
        # `settings` identifies the run (a different --set is another run);
        # `recipe_settings` is the whole recipe as first trained (`settings.from_run`).
        identity = {
            "recipe": self.recipe.name,
            "seed": self.model.seed,
            "settings": settings.identity(self.recipe),
            "recipe_settings": settings.record(self.recipe),
            "recorded_defaults": families.recorded_keys(self.recipe),
            **(run_info or {}),
        }
        if resume is not False:
            self._check_earlier_defaults(identity)
        history = runs.resumable_fit(
            self.model,
            self.make_dataset or self.dataset,
            out_dir=self.out_dir,
            epochs=epochs or self.recipe.epochs,
            steps_per_epoch=kwargs.pop("steps_per_epoch", self.recipe.steps_per_epoch),
            callbacks=self.callbacks,
            checkpoint_every=checkpoint_every or self.recipe.checkpoint_every,
            time_limit=time_limit,
            resume=resume,
            verbose=verbose,
            run_info=identity,
            save_model="model.keras",
            **kwargs,
        )
        return history

    def _check_earlier_defaults(self, identity):
        """Refuse a run folder from before a builder default was recorded whose networks were
        built with an earlier default (`families.CHANGED_DEFAULTS`), in one line that names
        the settings that continue it; anything else is left to `runs.claim_run_folder`."""
        held = runs.read_run_record(self.out_dir)
        if held is None or held.get("recipe") != identity["recipe"]:
            return
        if held.get("weights") == runs.run_identity(self.model)["weights"]:
            return
        if runs.settings_differing(held, identity):
            return
        sections = held.get("settings", {})
        found = []
        for earlier, ended_by in families.earlier_settings(self.recipe):
            section_of = [key.partition(".") for key in earlier]
            if any(name in sections.get(section, {}) for section, _, name in section_of):
                continue  # the run recorded these: its shapes differ for another reason
            model = build_model(self.recipe, self.strategy, settings=earlier)
            if runs.run_identity(model)["weights"] == held["weights"]:
                found.append((earlier, ended_by))
        if not found:
            return
        earlier, ended_by = found[0]
        python = "settings={" + ", ".join(f"{k!r}: {v!r}" for k, v in earlier.items()) + "}"
        cli = " ".join(
            f"--set {k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in earlier.items()
        )
        what = (
            f"{self.out_dir}: it holds a run of {self.recipe.name} started before "
            f"{ended_by} changed the builders' default: its networks were built with "
            f"{', '.join(f'{k}={v!r}' for k, v in earlier.items())}, the default then"
            + (
                f" (or {len(found) - 1} other earlier default of the same shapes)"
                if len(found) > 1
                else ""
            )
            + ". To continue it, pass {fix}, with the rest of its settings as they were; "
            f"to start again, pass {arg('resume=False')} (the earlier run is moved aside)."
        )
        raise UserError(what.replace("{fix}", python), cli=what.replace("{fix}", cli))


def build(
    name: str | Recipe,
    data: Any = None,
    out_dir: str | None = None,
    smoke: bool = False,
    strategy=None,
    seed: int = 0,
    settings: dict | None = None,
    **overrides,
) -> Setup:
    """Build a recipe: networks, compiled model, dataset and callbacks.

    Args:
        name: a key of `RECIPES`, a `Recipe`, or a recipe file (.yaml, .json, .py).
        data: the training data: a path (folder, .npz, TFRecords, CSV) or array; for CycleGAN
            a pair (domain A, domain B). None uses the bundled sample in smoke mode and the
            standard download where one exists (CIFAR-10, MNIST); otherwise it is required.
        out_dir: folder for grids, checkpoints and histories. Defaults to `outputs/<name>`.
        smoke: bool. Tiny sizes and 2 epochs (bundled samples, seconds on a CPU).
        strategy: a `tf.distribute.Strategy`. Defaults to the one whose scope is open, else
            `distribute.get_strategy()` (TPU, several GPUs or TF_CONFIG workers; made once
            per process, so a TPU is initialised once).
        seed: int. Seeds the weights, the data order and the noise.
        settings: dict of "SECTION.KEY": value, any setting of any section
            (`{"model.cycle_weight": 10, "networks.generator.residual": False}`);
            `ganpaint.settings.describe(name)` lists them with their values.
        overrides: any named `Recipe` field.
    """
    recipe = families.with_recorded_defaults(get(name, smoke=smoke, settings=settings, **overrides))
    family = families.family(recipe.model)
    if overrides.get("num_classes") is not None and family.kind != "labelled":
        raise UserError(
            f"{arg('num_classes')} applies to labelled recipes; {recipe.name} is a "
            f"{recipe.model}, which takes no labels."
        )
    if recipe.annotations is not None and not family.crops_boxes:
        raise UserError(
            f"{arg('annotations')} applies to GAN recipes; {recipe.name} is a {recipe.model}."
        )
    if recipe.val_pairs is not None and family.kind != "translate":
        raise UserError(
            f"{arg('val_pairs')} applies to translation recipes (CycleGAN, pix2pix); "
            f"{recipe.name} is a {recipe.model}, which translates nothing."
        )
    if recipe.judge is not None and family.kind != "labelled":
        raise UserError(
            f"{arg('judge')} applies to labelled recipes (cgan, acgan); {recipe.name} is a "
            f"{recipe.model}, which draws no classes."
        )
    judge = None
    if recipe.judge is not None:
        try:
            judge = cb.load_judge(recipe.judge)
        except (ValueError, OSError) as err:
            raise UserError(
                f"{arg('judge')} {recipe.judge} could not be loaded as a Keras classifier "
                f"(saved with model.save as .keras): {str(err).splitlines()[0]}"
            ) from None
        channels = judge.inputs[0].shape[-1]
        if channels != recipe.channels:
            raise UserError(
                f"{arg('judge')} {recipe.judge} takes images of {channels} channels; the recipe "
                f"draws {recipe.channels}. Pass a classifier of the recipe's images."
            )
    pairs = None
    if recipe.val_pairs is not None:
        try:
            pairs = families.read_pairs(recipe, recipe.val_pairs)
        except (ValueError, OSError) as err:
            raise UserError(
                f"{arg('val_pairs')} {recipe.val_pairs} could not be read as held-out pairs "
                f"(side-by-side input | target images): {str(err).splitlines()[0]}"
            ) from None
    out_dir = os.fspath(out_dir or fs.join("outputs", recipe.name))
    strategy = strategy or distribute.current_strategy()
    global_batch = distribute.global_batch_size(recipe.batch_size, strategy)
    sources = _sources(recipe, data, smoke)

    def make_dataset():
        # A new pipeline each call, so each `fit` of a resumed run iterates one whose
        # reshuffle counters start where an uninterrupted run's did.
        return family.training_dataset(recipe, sources, global_batch, seed)

    fixed_inputs, real = family.references(recipe, sources, seed)
    model = build_model(recipe, strategy=strategy, seed=seed)
    dataset = make_dataset()  # after the model, which seeds the global generator
    _check_label_classes(recipe, dataset, sources)
    initial_rates = [distribute.value(opt.learning_rate) for opt in runs.optimizers_of(model)]
    return Setup(
        recipe,
        model,
        dataset,
        _callbacks(recipe, out_dir, fixed_inputs, real, initial_rates, pairs, judge),
        out_dir,
        fixed_inputs,
        strategy,
        real,
        make_dataset,
    )


def _check_label_classes(recipe, dataset, sources):
    """Labels the recipe's model has no class for stop here, by name, not in TensorFlow's
    embedding lookup at the first step."""
    needed = getattr(dataset, "label_classes", None)
    if recipe.num_classes is None or needed is None or needed <= recipe.num_classes:
        return
    where = sources[0] if isinstance(sources[0], str) else "the data"
    what = (
        f"{where} has labels up to {needed - 1} ({needed} classes), but recipe "
        f"{recipe.name!r} builds a model of {recipe.num_classes} classes (0 to "
        f"{recipe.num_classes - 1}). "
    )
    raise UserError(what + f"Pass {arg('num_classes', needed)}, or relabel the data.")


def build_model(
    recipe: str | Recipe,
    strategy=None,
    seed: int = 0,
    smoke: bool = False,
    jit_compile: bool | str = "auto",
    steps_per_execution: int | None = None,
    settings: dict | None = None,
    **overrides,
):
    """A recipe's compiled training model (networks, loss, optimizers), without data.

    For loading weights into, or timing: `build_model("maps_pix2pix", image_size=128)`.

    Args:
        recipe: a key of `RECIPES`, or a `Recipe`.
        strategy: a `tf.distribute.Strategy`. Defaults as in `build`.
        seed: int. Seeds the weights and the noise.
        jit_compile: passed to `compile`.
        steps_per_execution: int. Defaults to the recipe's field, else
            `default_steps_per_execution(strategy)`.
        smoke, settings, overrides: as in `build`.
    """
    recipe = get(recipe, smoke=smoke, settings=settings, **overrides)
    strategy = strategy or distribute.current_strategy()
    steps_per_execution = (
        steps_per_execution or recipe.steps_per_execution or default_steps_per_execution(strategy)
    )
    keras.utils.set_random_seed(seed)
    with strategy.scope():
        model = families.family(recipe.model).build(recipe, seed)
        model.compile(
            _optimizer(recipe, recipe.g_learning_rate, model),
            _optimizer(recipe, recipe.d_learning_rate, model),
            jit_compile=jit_compile,
            steps_per_execution=steps_per_execution,
        )
    return model


def default_steps_per_execution(strategy) -> int:
    """Steps per call of the compiled step when a recipe does not say: 32 on a TPU, where
    every call is a round trip between the host and the TPU (the main cost of a small step
    there), 1 elsewhere, where a call costs microseconds and 1 keeps callbacks per step."""
    return 32 if distribute.is_tpu(strategy) else 1


# -- pieces -----------------------------------------------------------------------------------


def _optimizer(recipe, learning_rate, model):
    """The recipe's optimizer. The model's `preset_optimizer` owns the defaults; a recipe's
    field overrides them only where it is set (not None)."""
    values = dict(model.preset_optimizer)
    given = dict(learning_rate=learning_rate, beta_1=recipe.beta_1, beta_2=recipe.beta_2)
    values.update({k: v for k, v in given.items() if v is not None})
    if recipe.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(values["learning_rate"])
    if recipe.optimizer == "adam":
        return gans.default_optimizer(**values)
    raise UserError(
        f"optimizer.optimizer must be 'adam' or 'rmsprop'. Received: {recipe.optimizer!r}"
    )


def default_data(recipe: Recipe, smoke: bool = False):
    """What a recipe trains on when no data is given: the bundled sample(s) in smoke mode,
    else the standard download (CIFAR-10, MNIST); as `build`'s `data` argument takes it."""
    sources = _sources(recipe, None, smoke)
    return sources if families.family(recipe.model).domains > 1 else sources[0]


def _sources(recipe, data, smoke) -> tuple:
    """The data source of each of the family's domains (one, or CycleGAN's two)."""
    return tuple(
        _source(recipe, data, smoke, which)
        for which in range(families.family(recipe.model).domains)
    )


def _source(recipe, data, smoke, which=0):
    """The data source: given, a bundled sample (smoke), or the standard download."""
    if data is not None:
        return data[which] if families.family(recipe.model).domains > 1 else data
    if smoke:
        sample = recipe.sample[which] if isinstance(recipe.sample, tuple) else recipe.sample
        return gdata.sample_path(sample)
    if recipe.name in _DOWNLOADS:
        try:
            (x, y), _ = getattr(keras.datasets, _DOWNLOADS[recipe.name]).load_data()
        except Exception as exc:
            what = (
                f"Recipe {recipe.name!r} downloads {_DOWNLOADS[recipe.name].upper()} when "
                f"no data is given, and the download failed ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0][:120] if str(exc) else 'no reason given'}). "
            )
            raise UserError(
                what + f"Pass {arg('data')} a local copy (data/README.md says where to get "
                f"it), or {arg('smoke=True')} for the bundled sample."
            ) from None
        return (x if x.ndim == 4 else x[..., None]), y.reshape(-1)
    raise UserError(
        f"Recipe {recipe.name} needs {arg('data')} (see data/README.md for where to get it "
        f"and the layout), or {arg('smoke=True')} for the bundled sample."
    )


# Recipes whose data Keras downloads when none is given (needs the internet once).
_DOWNLOADS = {"cifar10_cgan": "cifar10", "mnist_acgan": "mnist"}


def _extractor(recipe):
    if recipe.fid_features == "pixels":
        return metrics.PixelFeatures()
    if recipe.fid_features in ("inception", "off"):
        return None  # FIDCheckpoint builds Inception (`fid_weights`) when training starts
    raise UserError(
        f"run.fid_features must be 'inception', 'pixels' or 'off' (a weights file goes to "
        f"{arg('fid_weights=FILE')}). Received: {recipe.fid_features!r}"
    )


def _callbacks(recipe, out_dir, fixed_inputs, real, initial_rates, pairs=None, judge=None):
    found = [
        cb.SampleGrid(
            fs.join(out_dir, "grids"),
            every=recipe.sample_every,
            n=8 if recipe.num_classes else 16,
            inputs=None if fixed_inputs is None else fixed_inputs[:8],
        )
    ]
    if recipe.decay_epochs:
        # The rates are given: a resumed run's optimizers hold decayed ones.
        found.append(
            cb.LinearDecay(
                max(0, recipe.epochs - recipe.decay_epochs),
                recipe.decay_epochs,
                list(initial_rates),
            )
        )
    extractor = _extractor(recipe)
    fid_every = recipe.fid_every if recipe.fid_features != "off" else 0
    if fid_every:
        found.append(
            cb.FIDCheckpoint(
                fs.join(out_dir, "best"),
                real=real,
                every=recipe.fid_every,
                extractor=extractor,
                n_samples=len(real),
                inputs=fixed_inputs,
                fid_weights=recipe.fid_weights,
            )
        )
    if pairs is not None:
        found.append(cb.PairedL1(*pairs))
    if judge is not None:
        try:
            found.append(cb.ClassJudge(judge, recipe.num_classes, real=real, every=fid_every or 1))
        except ValueError as err:
            raise UserError(f"{arg('judge')} {recipe.judge}: {err}") from None
    if recipe.gradient_norms:
        found.append(
            cb.GradientNorms(fs.join(out_dir, "gradients"), every=recipe.gradient_norms_every)
        )
    # After the scores: each epoch's row of history/epochs.csv holds them (what sweeps read).
    found.append(cb.LossHistory(fs.join(out_dir, "history")))
    if recipe.tensorboard:  # last: the grid and the scores of the epoch are there by then
        found.append(cb.TensorBoardLog(fs.join(out_dir, "tensorboard"), sample_grid=found[0]))
    # First, so a trip rolls back before anything records or saves this step's state.
    found.insert(
        0,
        cb.TrainingGuard(
            out_dir, inputs=None if fixed_inputs is None else fixed_inputs[:16], real=real
        ),
    )
    return found
