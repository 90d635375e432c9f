"""GAN training models driven by `model.fit`: GAN, ConditionalGAN, ACGAN, CycleGAN, Pix2Pix.

One pattern for all (keras-io's Keras 3 DCGAN):

>>> gan = GAN(generator, discriminator, loss="bce", diff_augment="color,translation,cutout",
...           ema=0.999)
>>> gan.compile()                       # Adam(2e-4, beta_1=0.5) for each network
>>> gan.fit(dataset, epochs=10, callbacks=[...])
>>> images = gan.generate(16)           # float32 in [-1, 1], from the EMA generator

Modules: `base` (AdversarialModel: optimizers, distribution, seeds, saving, the small-data
tools), `gan` (GAN, ConditionalGAN, ACGAN), `cyclegan` (CycleGAN, ImagePool), `pix2pix`
(Pix2Pix), `ema` (the moving average of a generator).
"""

from ganpaint.gans.base import AdversarialModel, default_optimizer
from ganpaint.gans.cyclegan import CycleGAN, ImagePool
from ganpaint.gans.gan import ACGAN, GAN, ConditionalGAN
from ganpaint.gans.pix2pix import Pix2Pix

__all__ = [
    "ACGAN",
    "AdversarialModel",
    "ConditionalGAN",
    "CycleGAN",
    "GAN",
    "ImagePool",
    "Pix2Pix",
    "default_optimizer",
]
