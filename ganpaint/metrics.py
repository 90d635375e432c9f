"""Scores for generated images: FID, KID, MiFID and Inception Score.

Two layers, as TF-GAN and clean-fid split them:
- pure float64 math on features: `frechet_distance`, `fid_from_features`, `kid_from_features`,
  `mifid_from_features`, `inception_score_from_probs`;
- the same on images, through an injectable feature extractor: `fid`, `kid`, `mifid`,
  `inception_score`. The default extractor is InceptionV3's 2048-d pool features
  (`InceptionFeatures`, `weights="imagenet"`, a local weights file, or None); `LayerFeatures`
  turns any Keras model and layer into one (a digit classifier for MNIST, as many papers do).

>>> real = compute_features(real_images, LayerFeatures(classifier, "features"))
>>> fid_from_features(real, compute_features(fakes, LayerFeatures(classifier, "features")))
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import warnings
from collections.abc import Callable

import numpy as np
import scipy.linalg

from ganpaint import fs
from ganpaint.data import preprocess
from ganpaint.errors import UserError, WeightsUnavailable, arg

log = logging.getLogger(__name__)


# -- pure math on features ------------------------------------------------------------------


def _features(x, name) -> np.ndarray:
    x = np.asarray(x, np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(
            f"`{name}` must be features of shape [N >= 2, D]. Received shape {x.shape}"
        )
    if not np.isfinite(x).all():
        raise ValueError(f"`{name}` contains NaN or inf features.")
    return x


def _pair(real, fake):
    real, fake = _features(real, "real"), _features(fake, "fake")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(
            f"`real` and `fake` features differ in size: {real.shape[1]} vs "
            f"{fake.shape[1]}. Were they made by the same extractor?"
        )
    return real, fake


def frechet_distance(mu1, sigma1, mu2, sigma2, eps: float = 1e-6) -> float:
    """||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 sqrt(sigma1 sigma2)), in float64.

    As pytorch-fid / clean-fid: when the product is singular (`sqrtm` not finite), `eps` is
    added to both diagonals; an imaginary part of the square root larger than 1e-3 on the
    diagonal is an error, smaller ones (numerical noise) are dropped.
    """
    mu1, mu2 = (
        np.atleast_1d(np.asarray(mu1, np.float64)),
        np.atleast_1d(np.asarray(mu2, np.float64)),
    )
    sigma1 = np.atleast_2d(np.asarray(sigma1, np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (len(mu1),) * 2:
        raise ValueError(
            f"Mean and covariance shapes do not match: mu {mu1.shape}, {mu2.shape}; "
            f"sigma {sigma1.shape}, {sigma2.shape}"
        )
    diff = mu1 - mu2
    with warnings.catch_warnings():  # singular products are handled below, not just warned of
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)  # no `disp`: removed in SciPy 1.18
    if not np.isfinite(covmean).all():
        log.warning("FID: singular product of covariances; adding %g to the diagonals.", eps)
        offset = np.eye(len(sigma1)) * eps
        covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(
                "FID: the matrix square root has a large imaginary component "
                f"({np.max(np.abs(covmean.imag)):.3g}); use more samples."
            )
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """(mean, covariance) of [N, D] features in float64: what FID compares."""
    features = _features(features, "features")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def fid_from_features(real, fake) -> float:
    """Fréchet distance between Gaussians fitted to two sets of features."""
    real, fake = _pair(real, fake)
    return frechet_distance(*statistics(real), *statistics(fake))


def kid_from_features(
    real, fake, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Kernel Inception Distance: the unbiased MMD^2 with the kernel (x.y / d + 1)^3, averaged
    over `subsets` random subsets of `subset_size` (Bińkowski et al. 2018; clean-fid's form).

    `subset_size` is cut to the smaller set's size. Returns (mean, std) over subsets.
    """
    real, fake = _pair(real, fake)
    if not isinstance(subsets, int) or subsets < 1:
        raise ValueError(f"`subsets` must be a positive int. Received: subsets={subsets!r}")
    m = min(int(subset_size), len(real), len(fake))
    if m < 2:
        raise ValueError(
            f"KID needs at least 2 images in each set; received {len(real)} real "
            f"and {len(fake)} generated."
        )
    if m < int(subset_size):
        warnings.warn(
            f"KID: subset_size={subset_size} but the sets hold {len(real)} real and "
            f"{len(fake)} generated images, so each subset takes {m}"
            + (
                " (every image: the std over subsets is 0 and says nothing about "
                "the score's uncertainty)"
                if m == min(len(real), len(fake)) and m == max(len(real), len(fake))
                else ""
            )
            + "; pass a smaller subset_size or more images.",
            stacklevel=2,
        )
    d = real.shape[1]
    rng = np.random.default_rng(seed)
    values = np.empty(subsets)
    for i in range(subsets):
        x = real[rng.choice(len(real), m, replace=False)]
        y = fake[rng.choice(len(fake), m, replace=False)]
        k_xx = (x @ x.T / d + 1) ** 3
        k_yy = (y @ y.T / d + 1) ** 3
        k_xy = (x @ y.T / d + 1) ** 3
        within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
        values[i] = within - 2 * k_xy.mean()
    return float(values.mean()), float(values.std())


def nearest_cosine(fake, train) -> tuple[np.ndarray, np.ndarray]:
    """Each generated feature's cosine distance `1 - |cos|` to its nearest training feature,
    and that feature's index in `train`. All-zero rows are left out, as Kaggle's MiFID does:
    their distance is NaN, and no generated row is matched to one."""
    train, fake = _pair(train, fake)

    def unit_rows(x):
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        return x / np.where(norms == 0, 1.0, norms), norms[:, 0] > 0

    train_unit, train_ok = unit_rows(train)
    fake_unit, fake_ok = unit_rows(fake)
    distances = 1.0 - np.abs(fake_unit @ train_unit[train_ok].T)
    nearest = np.flatnonzero(train_ok)[distances.argmin(axis=1)]
    return np.where(fake_ok, distances.min(axis=1), np.nan), nearest


def memorization_distance(fake, train) -> float:
    """Mean over generated features of the minimum cosine distance `1 - |cos|` to any training
    feature (all-zero rows left out), as Kaggle's MiFID computes it."""
    return float(np.nanmean(nearest_cosine(fake, train)[0]))


def mifid_from_features(real, fake, train=None, epsilon: float = 0.1) -> float:
    """Memorization-informed FID (Kaggle "Generative Dog Images"): FID / d_thr, where d is
    `memorization_distance(fake, train)` and d_thr = d if d < epsilon else 1.

    `train` (the generator's training images' features) defaults to `real`.
    """
    fid_value = fid_from_features(real, fake)
    distance = memorization_distance(fake, real if train is None else train)
    return float(fid_value / ((distance if distance < epsilon else 1.0) + 1e-15))


def inception_score_from_probs(probs, splits: int = 10) -> tuple[float, float]:
    """Inception Score exp(E_x KL(p(y|x) || p(y))) over `splits` splits: (mean, std)."""
    probs = np.asarray(probs, np.float64)
    if probs.ndim != 2 or len(probs) < splits:
        raise ValueError(
            f"`probs` must be [N >= splits={splits}, classes]. Received shape {probs.shape}"
        )
    if np.any(probs < 0) or not np.allclose(probs.sum(axis=1), 1, atol=1e-3):
        raise ValueError("`probs` rows must be probability distributions (softmax outputs).")
    scores = []
    for part in np.array_split(probs, splits):
        marginal = part.mean(axis=0, keepdims=True)
        kl = np.sum(part * (np.log(part + 1e-12) - np.log(marginal + 1e-12)), axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


# -- feature extractors -----------------------------------------------------------------------


def _rgb_at(images, size):
    """Images as float32 RGB at `size` (bilinear with antialiasing, as clean-fid resizes)."""
    import tensorflow as tf

    images = tf.convert_to_tensor(images, tf.float32)
    if images.shape[-1] == 1:
        images = tf.image.grayscale_to_rgb(images)
    if tuple(images.shape[1:3]) != tuple(size):
        images = tf.image.resize(images, size, method="bilinear", antialias=True)
    return images


GRAPH_FILE = "classify_image_graph_def.pb"  # the 2015 graph (TTUR, clean-fid, Kaggle MiFID)
KERAS_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
WEIGHTS_ENV = "GANPAINT_FID_WEIGHTS"  # a local weights file for every Inception score
# Folders searched for an attached weights file (Kaggle datasets appear under /kaggle/input).
WEIGHTS_SEARCH_ROOTS = ["/kaggle/input"]


def weights_hint(
    file_option: str, pixels_option: str | None = None, off_option: str | None = None
) -> str:
    """The offline fixes, named as the caller's interface names them."""
    others = [o for o in (pixels_option, off_option) if o]
    return (
        f"Pass {file_option} with {GRAPH_FILE} (the 2015 graph papers and Kaggle use) or "
        f"{KERAS_WEIGHTS_FILE} (on Kaggle, attach it as a dataset: files under "
        f"/kaggle/input are found), or set ${WEIGHTS_ENV}"
        + (f"; or score without Inception: {' or '.join(others)}." if others else ".")
    )


def _keras_cache_file() -> str:
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "models", KERAS_WEIGHTS_FILE)


def find_fid_weights(weights: str | None = None, argument: str = "weights") -> str:
    """Where Inception's weights come from, without downloading anything.

    `weights` given (a file, "imagenet" or "pixels") wins; otherwise, in order: the file named
    by `$GANPAINT_FID_WEIGHTS`, a `classify_image_graph_def.pb` or Keras' notop `.h5` under
    `/kaggle/input` (an attached dataset), Keras' own download cache, and last "imagenet"
    (which downloads). A file that does not exist is an error naming it, and the fix as
    `argument` (the caller's name for the weights: "weights", or recipes' "fid_weights").
    """
    if weights is None or weights == "auto":
        weights = os.environ.get(WEIGHTS_ENV) or None
        if weights is not None and not fs.isfile(weights):
            raise UserError(
                f"${WEIGHTS_ENV}={weights} is not a file; point it at "
                f"{GRAPH_FILE} or {KERAS_WEIGHTS_FILE}, or unset it."
            )
    if weights is None:
        import glob

        for root in WEIGHTS_SEARCH_ROOTS:
            for name in (GRAPH_FILE, KERAS_WEIGHTS_FILE):
                found = sorted(
                    glob.glob(os.path.join(glob.escape(root), "**", name), recursive=True)
                )
                if found:
                    return found[0]
        return _keras_cache_file() if os.path.isfile(_keras_cache_file()) else "imagenet"
    if weights not in ("imagenet", "pixels") and not fs.isfile(os.fspath(weights)):
        raise UserError(
            f"Inception weights file not found: {weights}. " + weights_hint(arg(f"{argument}=FILE"))
        )
    return os.fspath(weights)


def feature_extractor(weights: str | None = None, argument: str = "weights"):
    """The FID feature extractor for `weights` ("pixels", "imagenet", a file, or None to find
    one with `find_fid_weights`): built now, so missing weights fail here, not mid-run.
    `argument`: how errors name the weights (the caller's argument)."""
    weights = find_fid_weights(weights, argument)
    return PixelFeatures() if weights == "pixels" else InceptionFeatures(weights=weights)


class InceptionFeatures:
    """Inception pool features (2048-d) of images in [-1, 1].

    Two networks, chosen by `weights`:
    - the 2015 TensorFlow Inception graph, `classify_image_graph_def.pb` (a path ending in
      `.pb`): the network of TTUR's FID, which pytorch-fid, clean-fid and Kaggle's MiFID
      reproduce, so scores compare with papers and the leaderboard. Its `pool_3` output is
      returned; images are quantised to uint8 values and fed at their own size, and the graph
      resizes them to 299 itself (bilinear), as the reference code feeds it. Get the file from
      the TTUR / TensorFlow model archive (`inception-2015-12-05.tgz`; Colab downloads it, on
      Kaggle attach it as a dataset);
    - Keras' InceptionV3 ("imagenet", or its notop `.h5` weights file, or None for random
      weights in tests): images resized to 299 with antialiasing. Its FIDs are internally
      consistent but not comparable with published numbers.

    Args:
        weights: a `.pb` graph path, "imagenet" (downloads once), a Keras weights file
            (`inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5`), or None.
        include_top: bool. Keras' model only: the 1000 class probabilities (Inception Score).
    """

    GRAPH_INPUT, GRAPH_OUTPUT = "ExpandDims:0", "pool_3:0"  # the 2015 graph's tensor names

    def __init__(self, weights: str | None = "imagenet", include_top: bool = False):
        import keras

        if weights not in (None, "imagenet") and not fs.exists(str(weights)):
            raise ValueError(
                f"`weights` must be 'imagenet', None or an existing file. "
                f"Received: weights={weights!r}"
            )
        self.include_top, self.weights = include_top, weights
        self.graph = None
        if isinstance(weights, str) and weights.endswith(".pb"):
            if include_top:
                raise ValueError(
                    "`include_top` is for Keras' InceptionV3; the 2015 graph gives pool_3 features."
                )
            self.graph = _load_inception_graph(weights, self.GRAPH_INPUT, self.GRAPH_OUTPUT)
            self.input_size, self.resize_filter = 299, "bilinear inside the graph, from uint8"
            self.name = "inception_2015_pool_3"
            return
        self.input_size, self.resize_filter = 299, "bilinear, antialiased"  # provenance
        self.name = f"inception_v3_{'probs' if include_top else 'pool'}_{weights or 'random'}"
        local = (
            fs.local_copy(weights)
            if weights not in (None, "imagenet")
            else contextlib.nullcontext(weights)
        )
        try:
            with local as path:  # a weights file on a bucket is read through a local copy
                self.model = keras.applications.InceptionV3(
                    include_top=include_top,
                    weights=path,
                    pooling=None if include_top else "avg",
                    input_shape=(299, 299, 3),
                )
        except Exception as exc:  # keras raises a bare Exception("URL fetch failure ...")
            if weights != "imagenet" or "fetch" not in str(exc).lower():
                if isinstance(weights, str) and fs.exists(weights):
                    raise ValueError(
                        f"{weights} is not a Keras InceptionV3 weights file "
                        f"({type(exc).__name__}: {str(exc).splitlines()[0]}); "
                        f"expected {KERAS_WEIGHTS_FILE} or the 2015 graph "
                        f"{GRAPH_FILE}."
                    ) from None
                raise
            raise WeightsUnavailable(
                "could not download the InceptionV3 ImageNet weights (no internet?). "
                + weights_hint(arg("weights=FILE"), arg('weights="pixels"')),
            ) from None

    def __call__(self, images):
        if self.graph is not None:
            import tensorflow as tf

            images = tf.convert_to_tensor(images, tf.float32)
            if images.shape[-1] == 1:
                images = tf.image.grayscale_to_rgb(images)
            # What the reference feeds: decoded uint8 pixel values, as float.
            pixels = tf.round(tf.clip_by_value((images + 1.0) * 127.5, 0.0, 255.0))
            return tf.reshape(self.graph(pixels), (tf.shape(pixels)[0], -1))
        # Inception's own preprocessing maps [0, 255] to [-1, 1]: ours are there already.
        return self.model(_rgb_at(images, (299, 299)), training=False)


def _load_inception_graph(path, input_name, output_name):
    """The frozen 2015 Inception graph as a TF 2 function from images [B, H, W, 3] (float
    pixel values) to `pool_3` [B, 1, 1, 2048]. The graph's input is the output of an
    `ExpandDims` of one decoded JPEG (batch 1); it is replaced by a placeholder of any batch,
    so batches pass through at once."""
    import tensorflow as tf

    graph_def = tf.compat.v1.GraphDef()
    try:
        graph_def.ParseFromString(fs.read_bytes(path))
    except Exception as exc:
        raise ValueError(f"{path} is not a TensorFlow graph file (GraphDef .pb): {exc}") from None
    node_name = input_name.split(":")[0]
    names = {node.name for node in graph_def.node}
    if node_name not in names or output_name.split(":")[0] not in names:
        raise ValueError(
            f"{path} has no {input_name!r} and {output_name!r} tensors: not the "
            "2015 Inception graph (classify_image_graph_def.pb)."
        )
    for node in graph_def.node:
        if node.name == node_name:  # the batch-1 ExpandDims becomes a batch-any placeholder
            node.op = "Placeholder"
            del node.input[:]
            for key in list(node.attr):
                if key != "T":
                    del node.attr[key]
            node.attr["dtype"].type = node.attr["T"].type
            del node.attr["T"]
            node.attr["shape"].shape.CopyFrom(tf.TensorShape([None, None, None, 3]).as_proto())

    def imported():
        tf.compat.v1.import_graph_def(graph_def, name="")

    wrapped = tf.compat.v1.wrap_function(imported, [])
    return wrapped.prune(
        feeds=wrapped.graph.get_tensor_by_name(input_name),
        fetches=wrapped.graph.get_tensor_by_name(output_name),
    )


def per_class_accuracy(classifier, images, labels) -> dict[int, float]:
    """{class: the share of that class's `images` that `classifier` names as it}; images of
    another size than the classifier's input are resized to it (`LayerFeatures`)."""
    scores = compute_features(images, LayerFeatures(classifier), batch_size=256, verbose=False)
    predicted = scores.argmax(1)
    return {int(c): float(np.mean(predicted[labels == c] == c)) for c in np.unique(labels)}


class LayerFeatures:
    """Features from any Keras model's layer (flattened), e.g. a digit classifier's penultimate
    layer for MNIST FID. Images are resized to the model's input size when they differ.

    Args:
        model: keras.Model taking images in [-1, 1] (or give `preprocess`).
        layer: str. Layer name; None takes the model's output (e.g. class probabilities).
        preprocess: callable applied to the images batch first.
    """

    def __init__(self, model, layer: str | None = None, preprocess: Callable | None = None):
        import keras

        if layer is not None:
            names = [l.name for l in model.layers]
            if layer not in names:
                raise ValueError(
                    f"`layer` {layer!r} is not in `{model.name}`. Its layers: {', '.join(names)}"
                )
            model = keras.Model(model.inputs, model.get_layer(layer).output)
        self.model, self.preprocess = model, preprocess
        self.name = f"{model.name}_{layer or 'output'}"
        self.size = tuple(model.inputs[0].shape[1:3])
        self.channels = model.inputs[0].shape[-1]

    def __call__(self, images):
        import tensorflow as tf

        images = tf.convert_to_tensor(images, tf.float32)
        if self.preprocess is not None:
            images = self.preprocess(images)
        if None not in self.size and tuple(images.shape[1:3]) != self.size:
            images = tf.image.resize(images, self.size, antialias=True)
        if self.channels == 3 and images.shape[-1] == 1:
            images = tf.image.grayscale_to_rgb(images)
        out = self.model(images, training=False)
        return tf.reshape(out, (tf.shape(out)[0], -1))


class PixelFeatures:
    """Pixels of images downsampled to `size` (antialiased), flattened: a cheap extractor that
    needs no weights. Its "FID" tracks distribution shift on small offline samples (smoke runs,
    the demo's sanity checks) but is not comparable with published Inception FIDs."""

    def __init__(self, size: int = 16):
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"`size` must be a positive int. Received: size={size!r}")
        self.size = size
        self.input_size, self.resize_filter = size, "bilinear, antialiased"  # provenance
        self.name = f"pixels_{size}"

    def __call__(self, images):
        import tensorflow as tf

        images = tf.convert_to_tensor(images, tf.float32)
        small = tf.image.resize(images, (self.size, self.size), antialias=True)
        return tf.reshape(small, (tf.shape(small)[0], -1))


def provenance(extractor, n_real: int | None = None, n_fake: int | None = None) -> dict:
    """How a score was computed, for its record: the extractor, its weights file and the
    file's SHA-256, the input size and resize filter, the dtype of the statistics, and the
    sizes of both sets. Scores from different records compare only when these agree."""
    record = {"extractor": getattr(extractor, "name", type(extractor).__name__), "dtype": "float64"}
    weights = getattr(extractor, "weights", None)
    if isinstance(weights, str) and fs.isfile(weights):
        digest = hashlib.sha256()
        with fs.open(weights, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        record.update(weights_file=fs.absolute(weights), weights_sha256=digest.hexdigest())
    elif hasattr(extractor, "weights"):
        record["weights"] = weights
    for key in ("input_size", "resize_filter"):
        if hasattr(extractor, key):
            record[key] = getattr(extractor, key)
    record.update(n_real=n_real, n_fake=n_fake)
    return record


def _batches(images, batch_size):
    """Yields numpy batches from an array, a tf.data.Dataset (of images or (images, ...)), or
    a list of arrays."""
    import tensorflow as tf

    if isinstance(images, tf.data.Dataset):
        for element in images:
            batch = element[0] if isinstance(element, (tuple, list)) else element
            yield np.asarray(batch)
        return
    array = np.asarray(images)
    if array.ndim != 4:
        raise ValueError(
            f"`images` must be a batch [N, H, W, C], or a tf.data.Dataset. "
            f"Received shape {array.shape}"
        )
    for i in range(0, len(array), batch_size):
        yield array[i : i + batch_size]


def _in_unit_range(batch: np.ndarray) -> np.ndarray:
    """A batch as floats in [-1, 1]: uint8 images are converted (with a warning); floats
    outside [-1, 1] are refused, never scored as they are (a [0, 255] float batch would give
    an FID thousands of times too large)."""
    if batch.dtype == np.uint8:
        warnings.warn(
            "Scoring uint8 images: converted from [0, 255] to [-1, 1] (the range "
            "ganpaint's scores expect).",
            stacklevel=4,
        )
    return preprocess.unit_images(batch, "images")


def _content_key(images, batch_size) -> str:
    """SHA-256 of the images' values (what a feature cache is keyed by)."""
    digest = hashlib.sha256()
    for batch in _batches(images, batch_size):
        batch = np.ascontiguousarray(batch)
        digest.update(str((batch.dtype.str, batch.shape[1:])).encode())
        digest.update(batch.tobytes())
    return digest.hexdigest()


def compute_features(
    images,
    extractor: Callable,
    batch_size: int = 64,
    verbose: bool = True,
    cache: str | os.PathLike | None = None,
) -> np.ndarray:
    """Features of many images, in batches, with a progress bar; optionally cached in `.npz`.

    Args:
        images: [N, H, W, C] float in [-1, 1] (uint8 [0, 255] is converted with a warning;
            other ranges are refused), or a tf.data.Dataset yielding such batches.
        extractor: callable mapping a batch to [B, D] (`InceptionFeatures()`, `LayerFeatures`).
        cache: path of an `.npz` to reuse (for the real set): loaded when it exists and was
            made by the same extractor from the same images (a SHA-256 of their values),
            written otherwise.
    """
    name = getattr(extractor, "name", type(extractor).__name__)
    key = _content_key(images, batch_size) if cache is not None else None
    if cache is not None and fs.exists(cache):
        with np.load(io.BytesIO(fs.read_bytes(cache))) as stored:
            same = (
                str(stored["extractor"]) == name
                and "content" in stored.files
                and str(stored["content"]) == key
            )
            if same:
                return stored["features"]
        log.warning(
            "Feature cache %s was made by another extractor or from other images; recomputing.",
            cache,
        )
    total = getattr(images, "num_images", None) if hasattr(images, "element_spec") else len(images)
    import keras

    bar = keras.utils.Progbar(total, unit_name="image") if verbose else None
    parts, seen = [], 0
    for batch in _batches(images, batch_size):
        batch = _in_unit_range(batch)
        parts.append(np.asarray(extractor(batch), np.float64).reshape(len(batch), -1))
        seen += len(batch)
        if bar is not None:
            bar.update(seen)
    if bar is not None:
        bar.update(seen, finalize=True)
    if not parts:
        raise ValueError("`images` is empty.")
    features = np.concatenate(parts)
    if cache is not None:
        buffer = io.BytesIO()
        np.savez(buffer, features=features, extractor=name, content=key)
        fs.write_atomically(cache, buffer.getvalue())
    return features


def _warn_small(n_real: int, n_fake: int, dims: int, what: str = "FID") -> None:
    """FID with fewer images than feature dimensions is strongly biased upwards (its
    covariances are singular): fine for tracking a run, not for comparing with papers."""
    if min(n_real, n_fake) < dims:
        warnings.warn(
            f"{what} on {n_real} real and {n_fake} generated images with {dims}-d "
            f"features: fewer images than dimensions, so the score is biased upwards "
            "and compares only with scores on the same numbers of images (papers "
            "use 10,000-50,000).",
            stacklevel=3,
        )


class Score(float):
    """A score that also says how many images it was computed on."""

    def __new__(cls, value, n_real: int, n_fake: int, name: str = "score"):
        self = super().__new__(cls, value)
        self.n_real, self.n_fake, self.name = n_real, n_fake, name
        return self

    def __repr__(self):
        return f"{self.name} {float(self):.4g} (real: {self.n_real} images, fake: {self.n_fake})"


def _both(real, fake, extractor, batch_size, real_cache, verbose):
    extractor = extractor if extractor is not None else InceptionFeatures()
    real_f = compute_features(real, extractor, batch_size, verbose, cache=real_cache)
    fake_f = compute_features(fake, extractor, batch_size, verbose)
    return real_f, fake_f


def fid(
    real,
    fake,
    extractor: Callable | None = None,
    batch_size: int = 64,
    real_cache=None,
    verbose: bool = True,
) -> Score:
    """FID between two image sets (arrays in [-1, 1] or datasets). See `compute_features`."""
    real_f, fake_f = _both(real, fake, extractor, batch_size, real_cache, verbose)
    _warn_small(len(real_f), len(fake_f), real_f.shape[1])
    return Score(fid_from_features(real_f, fake_f), len(real_f), len(fake_f), "FID")


def kid(
    real,
    fake,
    extractor: Callable | None = None,
    batch_size: int = 64,
    real_cache=None,
    verbose: bool = True,
    **kwargs,
) -> tuple[float, float]:
    """KID (mean, std) between two image sets; `kwargs` go to `kid_from_features`."""
    real_f, fake_f = _both(real, fake, extractor, batch_size, real_cache, verbose)
    return kid_from_features(real_f, fake_f, **kwargs)


def mifid(
    real,
    fake,
    extractor: Callable | None = None,
    train=None,
    epsilon: float = 0.1,
    batch_size: int = 64,
    real_cache=None,
    verbose: bool = True,
) -> Score:
    """MiFID between two image sets; `train` images default to `real`."""
    real_f, fake_f = _both(real, fake, extractor, batch_size, real_cache, verbose)
    train_f = (
        None
        if train is None
        else compute_features(train, extractor or InceptionFeatures(), batch_size, verbose)
    )
    return Score(
        mifid_from_features(real_f, fake_f, train_f, epsilon), len(real_f), len(fake_f), "MiFID"
    )


def inception_score(
    images,
    classifier: Callable | None = None,
    splits: int = 10,
    batch_size: int = 64,
    verbose: bool = True,
) -> tuple[float, float]:
    """Inception Score (mean, std). `classifier` maps images to class probabilities; defaults
    to `InceptionFeatures(include_top=True)`."""
    classifier = classifier if classifier is not None else InceptionFeatures(include_top=True)
    probs = compute_features(images, classifier, batch_size, verbose)
    return inception_score_from_probs(probs, splits)
