"""Metrics against numpy/scipy references on fixed features (identity extractor, no download)."""

import keras
import numpy as np
import pytest
import scipy.linalg

from ganpaint import metrics
from ganpaint.testing import synthetic_inception_graph


@pytest.fixture
def features():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(400, 8))
    fake = rng.normal(loc=0.3, scale=1.2, size=(300, 8)) @ rng.normal(size=(8, 8)) * 0.5
    return real, fake


def reference_fid(a, b):
    """The textbook formula, written out independently."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    return (
        np.sum((mu_a - mu_b) ** 2)
        + np.trace(s_a)
        + np.trace(s_b)
        - 2 * np.trace(scipy.linalg.sqrtm(s_a @ s_b).real)
    )


def test_fid_matches_reference(features):
    real, fake = features
    assert metrics.fid_from_features(real, fake) == pytest.approx(
        reference_fid(real, fake), rel=1e-8
    )


def test_fid_of_gaussians_in_closed_form():
    # Diagonal covariances: FID = |mu1 - mu2|^2 + sum (sqrt(s1) - sqrt(s2))^2.
    mu1, mu2 = np.array([0.0, 1.0]), np.array([1.0, 1.0])
    s1, s2 = np.diag([1.0, 4.0]), np.diag([4.0, 9.0])
    expected = 1.0 + (1 - 2) ** 2 + (2 - 3) ** 2
    assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected)


def test_fid_of_a_set_with_itself_is_zero(features):
    real, _ = features
    assert abs(metrics.fid_from_features(real, real)) < 1e-8


def test_fid_handles_singular_covariances():
    # 3 samples in 10 dimensions: rank-deficient covariances.
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 10)), rng.normal(size=(3, 10))
    value = metrics.fid_from_features(a, b)
    assert np.isfinite(value) and value > 0


def test_fid_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"differ in size: 4 vs 5"):
        metrics.fid_from_features(np.zeros((3, 4)), np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"\[N >= 2, D\].*\(1, 4\)"):
        metrics.fid_from_features(np.zeros((1, 4)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="NaN"):
        metrics.fid_from_features(np.full((3, 4), np.nan), np.zeros((3, 4)))


def reference_kid_subset(x, y):
    d = x.shape[1]
    k = lambda a, b: (a @ b.T / d + 1) ** 3
    m = len(x)
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    return (
        (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
        + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        - 2 * kxy.sum() / (m * m)
    )


def test_kid_matches_reference_on_one_full_subset(features):
    real, fake = features
    real, fake = real[:300], fake  # subset = whole sets: no sampling left
    mean, std = metrics.kid_from_features(real, fake, subsets=1, subset_size=300)
    assert mean == pytest.approx(reference_kid_subset(real, fake), rel=1e-8)
    assert std == 0.0


def test_kid_is_unbiased():
    # Two samples of one distribution: the average over many draws is ~0 (the biased V-statistic
    # would be clearly positive at this sample size).
    rng = np.random.default_rng(2)
    values = [
        metrics.kid_from_features(
            rng.normal(size=(50, 4)), rng.normal(size=(50, 4)), subsets=1, subset_size=50
        )[0]
        for _ in range(300)
    ]
    assert abs(np.mean(values)) < 3 * np.std(values) / np.sqrt(len(values))
    biased = np.mean(
        [_biased_mmd(rng.normal(size=(50, 4)), rng.normal(size=(50, 4))) for _ in range(50)]
    )
    assert biased > 10 * abs(np.mean(values))


def _biased_mmd(x, y):
    d = x.shape[1]
    k = lambda a, b: (a @ b.T / d + 1) ** 3
    return k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean()


def test_kid_separates_different_distributions(features):
    real, fake = features
    assert metrics.kid_from_features(real, fake, subsets=20, subset_size=100)[0] > 0.1


def test_mifid_matches_kaggle_formula(features):
    real, fake = features
    train = real[:50]
    fid = reference_fid(real, fake)
    normalize = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)
    d = np.mean(np.min(1 - np.abs(normalize(fake) @ normalize(train).T), axis=1))
    expected = fid / ((d if d < 0.1 else 1.0) + 1e-15)
    assert metrics.mifid_from_features(real, fake, train) == pytest.approx(expected, rel=1e-8)


def test_mifid_penalises_memorized_images(features):
    real, fake = features
    copied = real[:300] * 1.0001  # near-copies of training images
    assert metrics.memorization_distance(copied, real) < 1e-6
    assert metrics.mifid_from_features(real, copied) > 1e3 * metrics.fid_from_features(real, copied)
    # Far from the training set the distance is thresholded to 1: MiFID == FID.
    assert metrics.mifid_from_features(real, fake, epsilon=1e-9) == pytest.approx(
        metrics.fid_from_features(real, fake)
    )


def test_inception_score_matches_reference():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(100, 5)) * 3
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    mean, std = metrics.inception_score_from_probs(probs, splits=4)
    scores = []
    for part in np.array_split(probs, 4):
        py = part.mean(0)
        scores.append(np.exp(np.mean(np.sum(part * np.log(part / py), axis=1))))
    assert mean == pytest.approx(np.mean(scores), rel=1e-6)
    assert std == pytest.approx(np.std(scores), rel=1e-5)


def test_inception_score_bounds():
    # Confident and uniform over 5 classes: IS = 5; all images the same class: IS = 1.
    onehot = np.eye(5)[np.arange(100) % 5]
    assert metrics.inception_score_from_probs(onehot * 0.999999 + 2e-7, splits=1)[
        0
    ] == pytest.approx(5, rel=1e-3)
    same = np.tile([[0.9, 0.025, 0.025, 0.025, 0.025]], (100, 1))
    assert metrics.inception_score_from_probs(same, splits=2)[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="probability"):
        metrics.inception_score_from_probs(np.ones((20, 5)), splits=2)


def flatten(images):
    return np.asarray(images).reshape(len(images), -1)


def test_image_level_fid_with_an_injected_extractor_and_cache(tmp_path):
    rng = np.random.default_rng(4)
    real = rng.uniform(-1, 1, (40, 4, 4, 1)).astype("float32")
    fake = rng.uniform(-1, 1, (30, 4, 4, 1)).astype("float32") * 0.5
    score = metrics.fid(
        real, fake, extractor=flatten, batch_size=7, verbose=False, real_cache=tmp_path / "real.npz"
    )
    assert float(score) == pytest.approx(metrics.fid_from_features(flatten(real), flatten(fake)))
    assert (score.n_real, score.n_fake) == (40, 30) and "real: 40" in repr(score)
    # The cache is reused for the same images and extractor...
    again = metrics.fid(
        real.copy(), fake, extractor=flatten, verbose=False, real_cache=tmp_path / "real.npz"
    )
    assert float(again) == pytest.approx(float(score))
    # ...and never for other images: the cache is keyed by their content.
    other = metrics.fid(
        real[:10] * 0.5, fake, extractor=flatten, verbose=False, real_cache=tmp_path / "real.npz"
    )
    assert float(other) == pytest.approx(
        metrics.fid_from_features(flatten(real[:10] * 0.5), flatten(fake))
    )
    mean, _ = metrics.kid(real, fake, extractor=flatten, verbose=False, subsets=3, subset_size=20)
    assert np.isfinite(mean)


def test_layer_features_from_a_keras_classifier():
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Flatten()(inputs)
    hidden = keras.layers.Dense(6, name="features")(x)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(hidden))
    extractor = metrics.LayerFeatures(model, "features")
    images = np.random.default_rng(5).uniform(-1, 1, (5, 16, 16, 1)).astype("float32")
    feats = metrics.compute_features(images, extractor, verbose=False)
    assert feats.shape == (5, 6)  # resized to the classifier's 8x8 input
    probs = metrics.compute_features(images, metrics.LayerFeatures(model), verbose=False)
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)
    with pytest.raises(ValueError, match="Its layers: .*features"):
        metrics.LayerFeatures(model, "penultimate")


def test_inception_extractor_without_weights_gives_2048_features():
    extractor = metrics.InceptionFeatures(weights=None)
    images = np.zeros((2, 32, 32, 1), "float32")  # grayscale, small: converted and resized
    assert metrics.compute_features(images, extractor, verbose=False).shape == (2, 2048)
    with pytest.raises(ValueError, match="weights"):
        metrics.InceptionFeatures(weights="missing.h5")


def test_the_2015_inception_graph_loads_in_tf2_and_gives_pool_3_for_whole_batches(tmp_path):
    path = tmp_path / "classify_image_graph_def.pb"
    reference = synthetic_inception_graph(str(path))
    extractor = metrics.InceptionFeatures(weights=str(path))
    images = np.random.default_rng(1).uniform(-1, 1, (5, 40, 40, 3)).astype("float32")
    features = np.asarray(extractor(images))
    assert features.shape == (5, 8)
    pixels = np.round(np.clip((images + 1) * 127.5, 0, 255))  # quantised as decoded files
    np.testing.assert_allclose(features, reference(pixels), rtol=1e-4, atol=1e-5)
    assert extractor.name == "inception_2015_pool_3" and extractor.weights == str(path)
    real = metrics.compute_features(images, extractor, verbose=False)
    assert metrics.fid_from_features(real, real) == pytest.approx(0.0, abs=1e-6)


def test_a_wrong_graph_file_is_named(tmp_path):
    bad = tmp_path / "other.pb"
    bad.write_bytes(b"\x00not a graph")
    with pytest.raises(ValueError, match="other.pb"):
        metrics.InceptionFeatures(weights=str(bad))


def test_provenance_records_the_weights_file_and_its_sha256(tmp_path):
    import hashlib

    path = tmp_path / "classify_image_graph_def.pb"
    synthetic_inception_graph(str(path))
    record = metrics.provenance(metrics.InceptionFeatures(weights=str(path)), 10, 20)
    assert record["weights_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert record["weights_file"] == str(path) and record["extractor"] == "inception_2015_pool_3"
    assert (record["input_size"], record["n_real"], record["n_fake"]) == (299, 10, 20)
