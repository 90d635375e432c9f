import keras
import numpy as np
import pytest
from helpers import round_trip

from ganpaint import discriminators as D
from ganpaint.inspection import receptive_field


def test_patchgan70_matches_the_reference_parameter_count():
    d = D.patchgan_discriminator((256, 256, 3), receptive_field=70)
    assert d.count_params() == 2_764_737  # the CycleGAN/pix2pix n_layers=3 model
    assert d.output.shape == (None, 30, 30, 1)


@pytest.mark.parametrize("field, size", [(1, 32), (16, 64), (70, 128), (286, 384)])
def test_patchgan_receptive_fields_are_measured_exactly(field, size):
    d = D.patchgan_discriminator((size, size, 3), receptive_field=field, filters=4)
    assert receptive_field(d) == field


def test_conditional_patchgan_takes_input_and_target(tmp_path):
    d = D.patchgan_discriminator(
        (32, 32, 3), receptive_field=16, conditional=True, filters=8, norm="batch"
    )
    x = [np.zeros((2, 32, 32, 3), "float32"), np.ones((2, 32, 32, 3), "float32")]
    assert d.predict(x, verbose=0).shape == (2, 14, 14, 1)  # 32 -> 16 -> 15 -> 14
    round_trip(d, tmp_path, x)


def test_patchgan_errors():
    with pytest.raises(
        ValueError,
        match=r"`receptive_field` must be 1, 16, 70 or 286. "
        r"Received: receptive_field=34",
    ):
        D.patchgan_discriminator((64, 64, 3), receptive_field=34)


def test_patchgan_larger_than_the_image_warns_with_the_size_that_fits(recwarn):
    # At 32 px the 70 px PatchGAN's 2x2 logits each see the whole image, mostly padding.
    with pytest.warns(
        UserWarning,
        match=r"70 px is larger than the 32x32 images.*"
        r"receptive_field=16 \(a recipe's networks.receptive_field=16\)",
    ):
        d = D.patchgan_discriminator((32, 32, 3), receptive_field=70, filters=4)
    assert d.output.shape == (None, 2, 2, 1)
    with pytest.warns(UserWarning, match=r"pass receptive_field=70"):
        D.patchgan_discriminator((96, 96, 3), receptive_field=286, filters=4)
    recwarn.clear()
    D.patchgan_discriminator((32, 32, 3), receptive_field=16, filters=4)
    D.patchgan_discriminator((70, 70, 3), receptive_field=70, filters=4)
    assert not [w for w in recwarn if "receptive field" in str(w.message)]


def test_dcgan_discriminator_outputs_logits(tmp_path):
    d = D.dcgan_discriminator((32, 32, 3), base_filters=8)
    x = np.random.uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    assert d.output.shape == (None, 1)
    assert d.layers[-1].activation is keras.activations.linear  # logits, no sigmoid
    round_trip(d, tmp_path, x)


def test_conditional_dcgan_discriminator_uses_the_label():
    d = D.dcgan_discriminator((28, 28, 1), num_classes=10, base_filters=8)
    x = np.random.uniform(-1, 1, (2, 28, 28, 1)).astype("float32")
    assert not np.allclose(
        d.predict([x, np.array([0, 0])], verbose=0), d.predict([x, np.array([9, 9])], verbose=0)
    )


def test_aux_classifier_discriminator_has_a_class_head(tmp_path):
    d = D.dcgan_discriminator((28, 28, 1), num_classes=10, aux_classifier=True, base_filters=8)
    x = np.zeros((3, 28, 28, 1), "float32")
    logit, classes = d.predict(x, verbose=0)
    assert logit.shape == (3, 1) and classes.shape == (3, 10)
    round_trip(keras.Model(d.input, d.outputs[1]), tmp_path, x)


def test_aux_classifier_needs_classes():
    with pytest.raises(ValueError, match="`aux_classifier=True` needs `num_classes`"):
        D.dcgan_discriminator((28, 28, 1), aux_classifier=True)
