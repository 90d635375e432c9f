"""Augmentation, shuffling and epoch semantics of the pipelines."""

import numpy as np
import pytest
from conftest import batches, write_image

from ganpaint import data


def crop_and_flip(x):
    """Reads (top, left, flipped) off an augmented coordinate_image (R = 6*col, G = 6*row)."""
    pixels = data.to_uint8(x)
    left_col, right_col = pixels[0, 0, 0] // 6, pixels[0, -1, 0] // 6
    flipped = left_col > right_col
    return int(pixels[0, 0, 1] // 6), int(min(left_col, right_col)), bool(flipped)


def draws(coordinate_image, seed, epochs=1, n=16):
    images = np.repeat(coordinate_image[None], n, axis=0)
    ds = data.image_dataset(
        images,
        image_size=32,
        jitter_size=40,
        augment="jitter+flip",
        batch_size=n,
        seed=seed,
        shuffle=False,
    )
    return [[crop_and_flip(x) for x in batches(ds)[0]] for _ in range(epochs)]


def test_jitter_crops_are_real_crops_of_the_loaded_image(coordinate_image):
    for top, left, _ in draws(coordinate_image, seed=0)[0]:
        assert 0 <= top <= 8 and 0 <= left <= 8


def test_flips_and_crops_vary_with_the_seed_and_repeat_with_the_same_seed(coordinate_image):
    first = draws(coordinate_image, seed=0)
    assert draws(coordinate_image, seed=0) == first
    assert draws(coordinate_image, seed=1) != first
    (one,) = first
    assert len({(t, l) for t, l, _ in one}) > 4, "crops should vary across elements"
    assert 0 < sum(f for _, _, f in one) < len(one), "about half should be flipped"


def test_each_epoch_draws_new_augmentations(coordinate_image):
    images = np.repeat(coordinate_image[None], 8, axis=0)
    ds = data.image_dataset(
        images,
        image_size=32,
        jitter_size=40,
        augment="jitter+flip",
        batch_size=8,
        seed=0,
        shuffle=False,
    )
    epoch1 = [crop_and_flip(x) for x in batches(ds)[0]]
    epoch2 = [crop_and_flip(x) for x in batches(ds)[0]]
    assert epoch1 != epoch2


def test_no_augmentation_by_default_is_exact(coordinate_image):
    images = np.repeat(coordinate_image[None], 4, axis=0)
    (x,) = batches(data.image_dataset(images, image_size=40, batch_size=4, seed=0))
    np.testing.assert_array_equal(data.to_uint8(x), images)


def test_default_jitter_size_follows_the_286_over_256_recipe(rng):
    image = rng.integers(0, 256, (1, 64, 64, 3), dtype=np.uint8)
    # With the default jitter size (71 for 64) crops differ from a plain resize.
    plain = batches(data.image_dataset(image, image_size=64, batch_size=1))[0]
    jittered = [
        batches(data.image_dataset(image, image_size=64, batch_size=1, augment="jitter", seed=s))[0]
        for s in range(3)
    ]
    assert all(j.shape == (1, 64, 64, 3) for j in jittered)
    assert any(not np.allclose(j, plain) for j in jittered)


def test_shuffle_is_a_full_permutation_each_epoch_and_seeded():
    images = np.arange(10, dtype=np.uint8).repeat(4 * 4 * 3).reshape(10, 4, 4, 3) * 20
    ds = data.image_dataset(images, image_size=4, batch_size=10, seed=7)
    order = lambda: list(data.to_uint8(batches(ds)[0])[:, 0, 0, 0] // 20)
    e1, e2 = order(), order()
    assert sorted(e1) == sorted(e2) == list(range(10))
    assert e1 != e2  # reshuffled each epoch
    again = data.image_dataset(images, image_size=4, batch_size=10, seed=7)
    assert list(data.to_uint8(batches(again)[0])[:, 0, 0, 0] // 20) == e1


def test_drop_remainder_keeps_static_batch_shapes(rng):
    images = rng.integers(0, 256, (7, 8, 8, 3), dtype=np.uint8)
    ds = data.image_dataset(images, image_size=8, batch_size=3)
    assert ds.element_spec.shape.as_list() == [3, 8, 8, 3]
    assert len(batches(ds)) == 2
    keep = data.image_dataset(images, image_size=8, batch_size=3, drop_remainder=False)
    assert [len(b) for b in batches(keep)] == [3, 3, 1]


def test_repeat_is_infinite(rng):
    images = rng.integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    ds = data.image_dataset(images, image_size=8, batch_size=2, repeat=True)
    assert len(batches(ds.take(10))) == 10


def test_file_cache_on_disk(tmp_path, rng):
    write_image(tmp_path / "imgs" / "a.png", rng.integers(0, 256, (9, 9, 3), dtype=np.uint8))
    write_image(tmp_path / "imgs" / "b.png", rng.integers(0, 256, (9, 9, 3), dtype=np.uint8))
    cache = str(tmp_path / "cache")
    ds = data.image_dataset(
        tmp_path / "imgs", image_size=9, batch_size=2, cache=cache, shuffle=False
    )
    first = batches(ds)[0]
    np.testing.assert_array_equal(batches(ds)[0], first)
    assert any(p.name.startswith("cache") for p in tmp_path.iterdir())


# --- paired (pix2pix) -------------------------------------------------------------------------


def side_by_side(rng, n=4, h=24, w=24):
    """Pairs whose right half is the colour inverse of the left half."""
    left = rng.integers(0, 256, (n, h, w, 3), dtype=np.uint8)
    return np.concatenate([left, 255 - left], axis=2)


@pytest.mark.parametrize("direction", ["AtoB", "BtoA"])
def test_paired_augmentation_keeps_input_and_target_aligned(tmp_path, rng, direction):
    pairs = side_by_side(rng)
    for i, pair in enumerate(pairs):
        write_image(tmp_path / f"{i}.png", pair)
    ds = data.paired_dataset(
        tmp_path, image_size=16, jitter_size=20, batch_size=4, seed=0, direction=direction
    )
    x, y = batches(ds)[0]
    # Inverse colours survive any shared crop, flip and linear resize: y == -x up to rounding.
    np.testing.assert_allclose(y, -x, atol=1.01 / 127.5)
    # And the augmentation really moved things: the halves are not all the plain resize.
    plain_x, _ = batches(
        data.paired_dataset(tmp_path, image_size=16, batch_size=4, augment=None, shuffle=False)
    )[0]
    assert not any(np.allclose(xi, pi) for xi in x for pi in plain_x)


def test_paired_direction_swaps_halves(rng):
    pairs = side_by_side(rng, n=2)
    a, b = batches(
        data.paired_dataset(
            pairs, image_size=24, batch_size=2, augment=None, shuffle=False, direction="AtoB"
        )
    )[0]
    b2, a2 = batches(
        data.paired_dataset(
            pairs, image_size=24, batch_size=2, augment=None, shuffle=False, direction="BtoA"
        )
    )[0]
    np.testing.assert_array_equal(data.to_uint8(a), pairs[:, :, :24])
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(b, b2)


def test_paired_resizes_600_px_halves_to_256(tmp_path, rng):
    pair = np.concatenate(
        [np.zeros((600, 600, 3), np.uint8), np.full((600, 600, 3), 255, np.uint8)], axis=1
    )
    write_image(tmp_path / "map.jpg", pair)
    ds = data.paired_dataset(tmp_path, image_size=256, batch_size=1, seed=0)
    x, y = batches(ds)[0]
    assert x.shape == y.shape == (1, 256, 256, 3)
    assert x.max() < -0.9 and y.min() > 0.9  # no bleed across the seam


# --- unpaired (CycleGAN) ----------------------------------------------------------------------


def constant_images(values, size=8):
    return np.repeat(np.asarray(values, np.uint8), size * size * 3).reshape(-1, size, size, 3)


@pytest.mark.parametrize("batch_size", [1, 2, 3])
def test_unpaired_epoch_covers_the_larger_domain(batch_size):
    a = constant_images(np.arange(7) * 30)
    b = constant_images([5, 100, 200])
    ds = data.unpaired_dataset(a, b, image_size=8, batch_size=batch_size, seed=0, augment=None)
    out = batches(ds)
    assert len(out) == -(-7 // batch_size)
    seen_a = np.concatenate([data.to_uint8(x)[:, 0, 0, 0] for x, _ in out])
    seen_b = np.concatenate([data.to_uint8(y)[:, 0, 0, 0] for _, y in out])
    assert set(seen_a) == set(np.arange(7) * 30)  # all 7, not cut to 3
    assert set(seen_b) == {5, 100, 200}
    # The smaller domain is cycled in whole passes: counts differ by at most one.
    counts = [list(seen_b).count(v) for v in (5, 100, 200)]
    assert max(counts) - min(counts) <= 1


def test_unpaired_larger_domain_second_works_too():
    a = constant_images([1, 2])
    b = constant_images(np.arange(5) * 40)
    out = batches(data.unpaired_dataset(a, b, image_size=8, batch_size=1, seed=0))
    assert len(out) == 5
    assert set(np.concatenate([data.to_uint8(y)[:, 0, 0, 0] for _, y in out])) == set(
        np.arange(5) * 40
    )
