"""Generators: DCGAN, CycleGAN ResNet, pix2pix U-Net, and an EfficientNet-backbone U-Net.

Each builder is a plain function returning a named functional `keras.Model` with tanh output in
[-1, 1] (float32 even under a mixed-precision policy). Weights start from N(0, 0.02), as the
DCGAN, pix2pix and CycleGAN papers initialise them.
"""

from __future__ import annotations

import math

import keras
from keras import layers

from ganpaint.layers import (
    BlendOutput,
    ClassConditionalNormalization,
    ReflectionPadding2D,
    ResidualTanh,
    activation,
    conv_block,
    normalization,
)


def gan_init() -> keras.initializers.Initializer:
    """N(0, 0.02), a new initializer per layer. One shared unseeded Keras initializer would
    draw its seed once, at import (so weights would differ between processes despite
    `keras.utils.set_random_seed`), and give every layer of the same shape the same values."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


MIN_AUTO_UNET_DEPTH = 4


def check_image_shape(image_shape, name="image_shape") -> tuple[int, int, int]:
    if (
        not isinstance(image_shape, (tuple, list))
        or len(image_shape) != 3
        or not all(isinstance(d, int) and d > 0 for d in image_shape)
    ):
        raise ValueError(
            f"`{name}` must be (height, width, channels) of positive ints. "
            f"Received: {name}={image_shape!r}"
        )
    return tuple(image_shape)


def _tanh_output(x, name="output"):
    return layers.Activation("tanh", dtype="float32", name=name)(x)


BLEND_START = -3.0  # the blend mask's first logit: sigmoid(-3) = 0.047 of the new picture
MASK_START_LIMIT = 12.0  # sigmoid(12) = 1 - 6e-6: past it the mask's gradient is gone
OUTPUTS = ("blend", "residual", "tanh")


def _translator_output(
    conv,
    x,
    inputs,
    form,
    output_channels,
    kernel_size,
    input_skip=False,
    content_gradient="masked",
    mask_start=BLEND_START,
):
    """The last convolution (`conv`: the layer class) and the output of a translator (`form`):
    - "tanh": a plain tanh output (the papers');
    - "residual": the input plus a learned change (`ResidualTanh`), the convolution starting
      at zero so the untrained generator is the identity;
    - "blend": the input blended pixel by pixel with a tanh output (`BlendOutput`), the
      mask's convolution at zero with a bias of `BLEND_START`, so the generator starts 4.7 %
      of the way from the identity to a plain output.
    With `input_skip` ("residual"; "blend" always) the last convolutions also see the input
    image (a stride-1 `conv` only: a transposed convolution's input is half the image's size),
    so a change of colours that is linear in the input (a channel mix, a hue rotation) is one
    linear map away. `content_gradient` ("blend" only): `BlendOutput`'s; `mask_start`
    ("blend" only): the mask's bias, its logit where training begins."""
    if content_gradient != "masked" and form != "blend":
        raise ValueError(
            "`content_gradient` shapes the blend output's training; this generator's output "
            f"is {form!r}. Pass output='blend', or leave content_gradient='masked'. Received: "
            f"content_gradient={content_gradient!r}"
        )
    if isinstance(mask_start, bool) or not isinstance(mask_start, (int, float)):
        raise ValueError(
            "`mask_start` must be a number (the blend mask's logit where training begins: "
            f"-3.0 starts 4.7 % of the way to the new picture, 0.0 half). Received: "
            f"mask_start={mask_start!r}"
        )
    if not math.isfinite(mask_start) or abs(mask_start) > MASK_START_LIMIT:
        raise ValueError(
            f"`mask_start` must be within +-{MASK_START_LIMIT:g} (a logit: sigmoid(+-"
            f"{MASK_START_LIMIT:g}) is a mask shut or open to 1 part in 10^5, and its "
            f"gradient with it). Received: mask_start={mask_start!r}"
        )
    if mask_start != BLEND_START and form != "blend":
        raise ValueError(
            "`mask_start` is where the blend output's mask begins; this generator's output "
            f"is {form!r}. Pass output='blend', or leave mask_start={BLEND_START}. Received: "
            f"mask_start={mask_start!r}"
        )
    channels = output_channels or inputs.shape[-1]
    if form != "tanh" and channels != inputs.shape[-1]:
        raise ValueError(
            f"The {form} output starts from the input, so the output must have the input's "
            f"{inputs.shape[-1]} channels. Received: output_channels={output_channels}"
        )
    kwargs = dict(padding="valid") if conv is layers.Conv2D else dict(strides=2, padding="same")
    if conv is layers.Conv2D and (form == "blend" or (form == "residual" and input_skip)):
        image = ReflectionPadding2D(kernel_size // 2, name="input_skip_pad")(inputs)
        x = layers.Concatenate(name="input_skip")([x, image])
    residual = form == "residual"
    delta = conv(
        channels,
        kernel_size,
        name="out_conv",
        kernel_initializer=keras.initializers.Zeros() if residual else gan_init(),
        **kwargs,
    )(x)
    if residual:
        return ResidualTanh(name="output")([delta, inputs])
    if form == "tanh":
        return _tanh_output(delta)
    mask = conv(
        1,
        kernel_size,
        name="out_mask",
        kernel_initializer=keras.initializers.Zeros(),
        bias_initializer=keras.initializers.Constant(float(mask_start)),
        **kwargs,
    )(x)
    content = _tanh_output(delta, name="out_content")
    return BlendOutput(content_gradient, name="output")([mask, content, inputs])


def _output_form(output, residual, matches, default="blend") -> str:
    """A translator's output form from `output` and the older `residual` (bool or None);
    `matches`: the output has the input's channels; `default`: the builder's form then."""
    if output is not None and output not in OUTPUTS:
        raise ValueError(f"`output` must be one of {OUTPUTS}. Received: output={output!r}")
    if residual is not None:
        implied = "residual" if residual else "tanh"
        if output is not None and output != implied:
            raise ValueError(
                f"`residual={residual}` is `output={implied!r}`; pass one of them. "
                f"Received: output={output!r}, residual={residual}"
            )
        return implied
    return output or (default if matches else "tanh")


def _seed_size(image_shape) -> tuple[int, int]:
    """(seed, number of 2x upsamplings): halve while even and at least 4 (28 -> 7 after 2)."""
    results = []
    for side in image_shape[:2]:
        steps = 0
        while side % 2 == 0 and side // 2 >= 4:
            side //= 2
            steps += 1
        results.append((side, steps))
    (h_seed, h_steps), (w_seed, w_steps) = results
    if h_steps != w_steps or h_steps == 0:
        raise ValueError(
            "`image_shape` must have height and width that are the same power-of-"
            "two multiple of a seed of at least 4 (e.g. 28 = 7*4, 32 = 4*8, 320 = "
            f"5*64). Received: image_shape={image_shape!r}"
        )
    return (h_seed, w_seed), h_steps


def dcgan_generator(
    latent_dim: int = 128,
    image_shape: tuple[int, int, int] = (64, 64, 3),
    num_classes: int | None = None,
    *,
    base_filters: int = 64,
    max_filters: int = 512,
    embedding_dim: int = 50,
    norm: str | None = "batch",
    conditioning: str | None = None,
    name: str = "dcgan_generator",
) -> keras.Model:
    """The DCGAN generator: noise -> Dense seed map -> transposed-conv upsampling -> tanh.

    Any output size that is a power-of-two multiple of a seed of 4 or more: 28 (7x7 seed),
    32, 64, 128 (4x4), 320 (5x5).

    Args:
        latent_dim: int. Size of the noise vector. Defaults to 128.
        image_shape: (height, width, channels) of the output.
        num_classes: int. When set, the model takes `[noise, labels]` (integer labels, shape
            `[B]` or `[B, 1]`), conditioned as `conditioning` says.
        base_filters: int. Filters of the last upsampling block; each earlier block doubles them.
        max_filters: int. Cap on filters.
        embedding_dim: int. Label embedding size.
        norm: "batch" (DCGAN), "instance" or None.
        conditioning: how labels enter a conditional generator. Defaults to "cbn", which
            learns labels at a small budget where the label map does not (the conditional
            digits benchmark, README "Defaults"):
            - "label_map": each label is embedded, projected to a seed-sized map and
              concatenated as an extra channel (the conditional GAN of Mirza & Osindero, in
              the form the keras-io and CIFAR-10 notebooks use);
            - "cbn": class-conditional normalization in every block (`norm` without learned
              parameters, then a per-class gain and bias; Miyato & Koyama 2018, BigGAN), and
              the label's embedding concatenated with the noise before the first layer (as
              BigGAN-deep feeds its shared class embedding with z). The concatenation gives
              the first layer the class from step one; without it, on digits at 600 steps, the
              generator made the requested class 10 % of the time instead of 85 %.

    Example:
    >>> g = dcgan_generator(100, (28, 28, 1), num_classes=10)
    >>> g([keras.random.normal((2, 100)), keras.ops.array([3, 7])]).shape
    (2, 28, 28, 1)
    """
    image_shape = check_image_shape(image_shape)
    if not isinstance(latent_dim, int) or latent_dim < 1:
        raise ValueError(
            f"`latent_dim` must be a positive int. Received: latent_dim={latent_dim!r}"
        )
    (seed_h, seed_w), steps = _seed_size(image_shape)
    widths = [min(max_filters, base_filters * 2 ** (steps - 1 - i)) for i in range(steps)]

    conditioning = conditioning or "cbn"
    if conditioning not in ("label_map", "cbn"):
        raise ValueError(
            f"`conditioning` must be 'label_map' or 'cbn'. Received: conditioning={conditioning!r}"
        )
    cbn = num_classes is not None and conditioning == "cbn"

    noise = keras.Input((latent_dim,), name="noise")
    inputs, x = [noise], noise
    if cbn:
        check_num_classes(num_classes)
        label = keras.Input((1,), dtype="int32", name="label")
        inputs.append(label)
        embedded = layers.Embedding(num_classes, embedding_dim, name="label_embedding")(label)
        x = layers.Concatenate(name="noise_with_label")(
            [noise, layers.Flatten(name="label_flat")(embedded)]
        )

    def norm_act(x, name, act="relu"):
        if cbn:
            x = ClassConditionalNormalization(num_classes, norm, name=f"{name}_norm")([x, label])
        else:
            x = normalization(norm, name=f"{name}_norm")(x)
        return activation(act, f"{name}_act")(x)

    x = layers.Dense(
        seed_h * seed_w * widths[0],
        use_bias=norm != "batch",
        kernel_initializer=gan_init(),
        name="project",
    )(x)
    x = layers.Reshape((seed_h, seed_w, widths[0]), name="seed")(x)
    x = norm_act(x, "seed")
    if num_classes is not None and not cbn:
        label_map = label_map_input(num_classes, embedding_dim, (seed_h, seed_w), inputs)
        x = layers.Concatenate(name="with_label")([x, label_map])
    for i, width in enumerate(widths[1:]):
        if cbn:
            x = layers.Conv2DTranspose(
                width,
                4,
                strides=2,
                padding="same",
                use_bias=norm != "batch",
                kernel_initializer=gan_init(),
                name=f"up{i + 1}_conv",
            )(x)
            x = norm_act(x, f"up{i + 1}")
        else:
            x = conv_block(
                x,
                width,
                4,
                2,
                transpose=True,
                norm=norm,
                act="relu",
                kernel_initializer=gan_init(),
                name=f"up{i + 1}",
            )
    x = layers.Conv2DTranspose(
        image_shape[-1],
        4,
        strides=2,
        padding="same",
        kernel_initializer=gan_init(),
        name="to_image",
    )(x)
    return keras.Model(inputs if len(inputs) > 1 else noise, _tanh_output(x), name=name)


def check_num_classes(num_classes):
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(
            f"`num_classes` must be an int >= 2. Received: num_classes={num_classes!r}"
        )


def label_map_input(num_classes, embedding_dim, spatial, inputs):
    """Appends a label input to `inputs` and returns its embedding as a [H, W, 1] map."""
    check_num_classes(num_classes)
    label = keras.Input((1,), dtype="int32", name="label")
    inputs.append(label)
    e = layers.Embedding(num_classes, embedding_dim, name="label_embedding")(label)
    e = layers.Dense(
        spatial[0] * spatial[1], kernel_initializer=gan_init(), name="label_projection"
    )(layers.Flatten(name="label_flat")(e))
    return layers.Reshape((spatial[0], spatial[1], 1), name="label_map")(e)


def resnet_generator(
    image_shape: tuple[int, int, int] = (256, 256, 3),
    n_blocks: int = 9,
    *,
    filters: int = 64,
    norm: str = "instance",
    affine_norm: bool = False,
    output: str | None = None,
    residual: bool | None = None,
    input_skip: bool = True,
    content_gradient: str = "masked",
    mask_start: float = BLEND_START,
    output_channels: int | None = None,
    name: str = "resnet_generator",
) -> keras.Model:
    """The CycleGAN generator (Johnson et al.; Zhu et al. 2017, appendix 7.2).

    c7s1-64, d128, d256, R256 x n_blocks, u128, u64, c7s1-3 with reflection padding, instance
    norm and a tanh output. 9 blocks for 256 px, 6 for 128 px in the paper. With
    `output="tanh"` (the paper's) it has the reference implementation's 11,378,179
    parameters at 256x256x3 (instance norm without affine parameters, as PyTorch's
    InstanceNorm2d default; `affine_norm=True` adds gamma and beta, as tensorflow-addons
    notebooks have); the default blend output adds 3,725 (its mask's convolution, 7 x 7 x 67
    + 1, and the input skip's 7 x 7 x 3 x 3).

    Args:
        image_shape: (height, width, channels); height and width divisible by 4.
        n_blocks: int. Residual blocks.
        filters: int. Width of the first layer (64).
        norm: "instance", "group" or "batch".
        output: "blend", "residual", "tanh" or None (the default: "blend" when the output has
            the input's channels, else "tanh").
            - "blend": the input blended pixel by pixel with a tanh output,
              `image + sigmoid(mask) * (content - image)` (`ganpaint.layers.BlendOutput`),
              the mask starting at 0.047 everywhere, so the generator starts close to the
              identity and lets go of it where the target is far. Both last convolutions
              also see the input image. Chosen on the known-answer tasks near identity and
              far from it (docs/defaults.md, "The generator's output, near identity and far
              from it"): on the held-out ones (3 seeds, 600 steps) it is the closest to the
              truth on average, and beats the tutorial's CycleGAN on every far task.
            - "residual": `tanh(delta + atanh(input))` with the last convolution starting at
              zero, so the generator starts as the identity (`ResidualTanh`); the default
              before the blend (CHANGELOG).
            - "tanh": the paper's generator.
        residual: bool or None. The older switch: True is `output="residual"`, False
            `output="tanh"`.
        input_skip: bool. With `output="residual"`, the last convolution also sees the input
            image (True), so a change of colours that is linear in the input (a channel mix,
            a hue rotation) is one linear map away; False is issue 25's residual output.
        content_gradient: "masked" (the default) or "full", with `output="blend"`: which
            gradient trains the blend's new picture (`BlendOutput`): the blend's own, scaled
            by the mask, or the output's whole, as if the new picture were the output.
        mask_start: float, with `output="blend"`: the mask's logit where training begins
            (its convolution's bias; the weights start at zero), so the generator starts
            `sigmoid(mask_start)` of the way from the input to the new picture: -3.0 (the
            default) 4.7 %, 0.0 half. A mask that starts half open learns a posterizing,
            far task faster (docs/defaults.md, "a seventh round").
        output_channels: int. Defaults to the input channels.
    """
    image_shape = check_image_shape(image_shape)
    form = _output_form(output, residual, output_channels in (None, image_shape[-1]))
    if image_shape[0] % 4 or image_shape[1] % 4:
        raise ValueError(
            f"`image_shape` height and width must be divisible by 4 (two stride-2 "
            f"downsamplings). Received: image_shape={image_shape!r}"
        )
    if not isinstance(n_blocks, int) or n_blocks < 0:
        raise ValueError(f"`n_blocks` must be a non-negative int. Received: n_blocks={n_blocks!r}")
    block = dict(norm=norm, affine=affine_norm, kernel_initializer=gan_init())

    inputs = keras.Input(image_shape, name="image")
    x = ReflectionPadding2D(3, name="c7s1_pad")(inputs)
    x = conv_block(x, filters, 7, padding="valid", name="c7s1", **block)
    x = conv_block(x, filters * 2, 3, 2, name="d1", **block)
    x = conv_block(x, filters * 4, 3, 2, name="d2", **block)
    for i in range(n_blocks):
        shortcut = x
        y = ReflectionPadding2D(1, name=f"res{i}_pad1")(x)
        y = conv_block(y, filters * 4, 3, padding="valid", name=f"res{i}_a", **block)
        y = ReflectionPadding2D(1, name=f"res{i}_pad2")(y)
        y = conv_block(y, filters * 4, 3, padding="valid", act=None, name=f"res{i}_b", **block)
        x = layers.Add(name=f"res{i}_add")([shortcut, y])
    x = conv_block(x, filters * 2, 3, 2, transpose=True, name="u1", **block)
    x = conv_block(x, filters, 3, 2, transpose=True, name="u2", **block)
    x = ReflectionPadding2D(3, name="out_pad")(x)
    return keras.Model(
        inputs,
        _translator_output(
            layers.Conv2D,
            x,
            inputs,
            form,
            output_channels,
            7,
            input_skip,
            content_gradient,
            mask_start,
        ),
        name=name,
    )


def unet_generator(
    image_shape: tuple[int, int, int] = (256, 256, 3),
    *,
    depth: int | None = None,
    filters: int = 64,
    max_filters: int = 512,
    norm: str = "batch",
    dropout: float = 0.5,
    dropout_blocks: int = 3,
    output: str | None = None,
    residual: bool | None = None,
    content_gradient: str = "masked",
    mask_start: float = BLEND_START,
    output_channels: int | None = None,
    name: str = "unet_generator",
) -> keras.Model:
    """The pix2pix U-Net (Isola et al. 2017): encoder C64-C128-C256-C512-..., decoder with
    dropout on its first blocks and skip connections between mirrored layers.

    4x4 convolutions with stride 2, LeakyReLU(0.2) in the encoder, ReLU in the decoder, no
    norm on the first and the innermost layer. At 256x256x3 with depth 8 it has about 54.4 M
    parameters.

    Args:
        image_shape: (height, width, channels). Height and width divisible by 2**depth.
        depth: int. Number of stride-2 downsamplings. Defaults to the largest <= 8 that the
            size allows: 8 for 256 (down to 1x1, as the paper), 6 for 320; a size that allows
            fewer than 4 (300: 2) is refused unless `depth` is given.
        filters: int. Width of the first encoder layer.
        max_filters: int. Cap on widths (512).
        norm: "batch" (pix2pix), "instance" (common in CycleGAN notebooks) or "group".
        dropout: float. Dropout rate on the first `dropout_blocks` decoder blocks; pix2pix's
            only noise source, so keep it on at inference too if you want its variety.
        output: "tanh" (the default, the paper's), "residual" or "blend", as
            `resnet_generator`'s, without the input skip (the last layer is a transposed
            convolution of half the image's size): "residual" is `tanh(delta + atanh(input))`
            with the last convolution at zero, so the generator starts as the identity;
            "blend" mixes the input and a tanh output by a mask that starts at 0.047. The
            plain output stays the default: the blend won on the ResNet generator, and the
            U-Net's output was not searched on the known-answer tasks (docs/defaults.md).
        residual: bool or None. The older switch: True is `output="residual"`, False
            `output="tanh"`.
        content_gradient: "masked" or "full", with `output="blend"`, as
            `resnet_generator`'s.
        mask_start: float, with `output="blend"`: the mask's logit where training begins, as
            `resnet_generator`'s (-3.0: 4.7 % of the way to the new picture).
        output_channels: int. Defaults to the input channels.
    """
    image_shape = check_image_shape(image_shape)
    form = _output_form(output, residual, output_channels in (None, image_shape[-1]), "tanh")
    h, w = image_shape[:2]
    if depth is None:
        depth = 0
        while depth < 8 and h % 2 ** (depth + 1) == 0 and w % 2 ** (depth + 1) == 0:
            depth += 1
        if depth < MIN_AUTO_UNET_DEPTH:
            # 300 = 4 x 75 would give depth 2: a U-Net that sees 10-pixel patches at most.
            raise ValueError(
                f"`image_shape` {tuple(image_shape)} allows only {depth} stride-2 "
                f"downsamplings (a U-Net needs {MIN_AUTO_UNET_DEPTH} or more to see more than "
                "small patches). Resize to a multiple of 16 (256 or 320, say), or pass "
                f"`depth` to insist. Received: image_shape={tuple(image_shape)}"
            )
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"`depth` must be a positive int. Received: depth={depth!r}")
    if h % 2**depth or w % 2**depth:
        raise ValueError(
            f"`image_shape` height and width must be divisible by 2**depth="
            f"{2**depth}. Received: image_shape={image_shape!r}, depth={depth}"
        )
    widths = [min(max_filters, filters * 2**i) for i in range(depth)]

    inputs = keras.Input(image_shape, name="image")
    x, skips = inputs, []
    for i, width in enumerate(widths):
        # No norm on the first layer (as the paper) nor on the innermost one (as the reference
        # code): at 1x1, instance norm - and batch norm at batch size 1 - outputs zeros.
        x = conv_block(
            x,
            width,
            4,
            2,
            norm=None if i in (0, depth - 1) else norm,
            act="leaky_relu",
            kernel_initializer=gan_init(),
            name=f"down{i + 1}",
        )
        skips.append(x)
    for i, (width, skip) in enumerate(zip(reversed(widths[:-1]), reversed(skips[:-1]))):
        x = conv_block(
            x,
            width,
            4,
            2,
            transpose=True,
            norm=norm,
            act="relu",
            dropout=dropout if i < dropout_blocks else 0.0,
            kernel_initializer=gan_init(),
            name=f"up{i + 1}",
        )
        x = layers.Concatenate(name=f"skip{i + 1}")([x, skip])
    return keras.Model(
        inputs,
        _translator_output(
            layers.Conv2DTranspose,
            x,
            inputs,
            form,
            output_channels,
            4,
            content_gradient=content_gradient,
            mask_start=mask_start,
        ),
        name=name,
    )


_EFFICIENTNETS = {f"EfficientNetB{i}" for i in range(8)} | {
    f"EfficientNetV2{v}" for v in ("B0", "B1", "B2", "B3", "S", "M", "L")
}


def efficientnet_generator(
    image_shape: tuple[int, int, int] = (128, 128, 3),
    backbone: str = "EfficientNetB0",
    cut: str | int = 16,
    weights: str | None = None,
    skips: bool = True,
    *,
    trainable_backbone: bool = True,
    decoder_filters: tuple[int, ...] = (256, 128, 64, 32, 16),
    norm: str = "instance",
    output_channels: int = 3,
    name: str | None = None,
) -> keras.Model:
    """A U-Net generator on a truncated Keras EfficientNet encoder (B0-B7 or V2).

    The input in [-1, 1] is mapped to the [0, 255] the Keras EfficientNets expect (they
    normalise internally). The encoder is the backbone up to `cut`, kept as one nested model
    named "encoder" so its layers can be inspected; the decoder upsamples 2x per step back to
    full size, with U-Net skips from the last layer of every encoder resolution, and ends in
    tanh.

    Args:
        image_shape: (height, width, 3); divisible by the cut's stride.
        backbone: "EfficientNetB0" ... "EfficientNetB7", "EfficientNetV2B0" ... "EfficientNetV2L".
        cut: int stride (2, 4, 8, 16 or 32: the encoder ends with the last layer at
            1/cut resolution), or a layer name of the backbone.
        weights: None (random), "imagenet" (downloads; needs internet), or a path to a weights
            file of the backbone without its top (as offline Kaggle notebooks attach).
        skips: bool. U-Net skip connections from the encoder.
        trainable_backbone: bool. False freezes the encoder.
        decoder_filters: widths of the decoder steps, one per 2x upsampling (extra are unused).
        norm: "instance" or "batch".
        output_channels: int.

    Example:
    >>> g = efficientnet_generator((128, 128, 3), "EfficientNetB0", weights=None)
    """
    image_shape = check_image_shape(image_shape)
    if backbone not in _EFFICIENTNETS:
        raise ValueError(
            f"`backbone` must be one of {sorted(_EFFICIENTNETS)}. Received: backbone={backbone!r}"
        )
    if image_shape[-1] != 3:
        raise ValueError(
            f"EfficientNet backbones take 3 channels. Received: image_shape={image_shape!r}"
        )
    if isinstance(weights, str) and weights != "imagenet":
        from ganpaint import fs

        if not fs.exists(weights):
            raise ValueError(f"`weights` file not found: {weights}")
    builder = getattr(keras.applications, backbone)
    kwargs = {"include_preprocessing": True} if "V2" in backbone else {}
    full = _backbone(builder, backbone, weights, image_shape, **kwargs)

    # Spatial size of each layer's output, in order; the last layer of each size is a stage end.
    height = image_shape[0]
    # Main-path layers only: not the asymmetric padding before strided convs, nor the 1x1
    # squeeze-excite branch.
    strides = {height // 2**k for k in range(1, 6) if height % 2**k == 0}
    sized = [
        (layer, layer.output.shape[1])
        for layer in full.layers[1:]
        if not isinstance(layer.output, (list, tuple))
        and len(layer.output.shape) == 4
        and layer.output.shape[1] in strides | {height}
        and not isinstance(layer, layers.ZeroPadding2D)
        and not ("_se_" in layer.name and not layer.name.endswith("se_excite"))
    ]
    if isinstance(cut, int):
        if cut not in (2, 4, 8, 16, 32):
            raise ValueError(
                f"`cut` must be a stride in (2, 4, 8, 16, 32) or a layer name. "
                f"Received: cut={cut!r}"
            )
        if height % cut or image_shape[1] % cut:
            raise ValueError(
                f"`image_shape` height and width must be divisible by cut={cut}. "
                f"Received: image_shape={image_shape!r}"
            )
        at_cut = [layer for layer, h in sized if h == height // cut]
        cut_layer = at_cut[-1]
    else:
        names = [layer.name for layer, _ in sized]
        if cut not in names:
            raise ValueError(
                f"`cut` {cut!r} is not a layer of {backbone}; stage ends are "
                f"{_stage_ends(sized, len(sized), 0)}"
            )
        cut_layer = full.get_layer(cut)
    cut_index = [layer for layer, _ in sized].index(cut_layer)
    stage_ends = _stage_ends(sized, cut_index, cut_layer.output.shape[1])
    encoder_outputs = [full.get_layer(n).output for n in stage_ends] + [cut_layer.output]
    encoder = keras.Model(full.input, encoder_outputs, name="encoder")
    encoder.trainable = trainable_backbone

    inputs = keras.Input(image_shape, name="image")
    x = layers.Rescaling(127.5, offset=127.5, name="to_backbone_range")(inputs)
    *skip_maps, x = encoder(x)
    skip_maps = {int(m.shape[1]): m for m in skip_maps}
    steps = 0
    while x.shape[1] < height:
        width = decoder_filters[min(steps, len(decoder_filters) - 1)]
        x = layers.UpSampling2D(2, interpolation="bilinear", name=f"up{steps + 1}")(x)
        if skips and x.shape[1] in skip_maps:
            x = layers.Concatenate(name=f"skip{steps + 1}")([x, skip_maps[x.shape[1]]])
        x = conv_block(
            x, width, 3, norm=norm, kernel_initializer=gan_init(), name=f"dec{steps + 1}a"
        )
        x = conv_block(
            x, width, 3, norm=norm, kernel_initializer=gan_init(), name=f"dec{steps + 1}b"
        )
        steps += 1
    x = layers.Conv2D(
        output_channels, 3, padding="same", kernel_initializer=gan_init(), name="out_conv"
    )(x)
    return keras.Model(inputs, _tanh_output(x), name=name or f"{backbone.lower()}_generator")


def _stage_ends(sized, stop: int, cut_size: int) -> list[str]:
    """Names of the last layer at each resolution between full size and `cut_size` (both
    excluded), among the first `stop` layers."""
    ends, full_size = {}, sized[0][1] if sized else None
    for layer, h in sized[:stop]:
        if h is not None and full_size != h > cut_size:
            ends[h] = layer.name
    return list(ends.values())


def _backbone(builder, backbone, weights, image_shape, **kwargs):
    """A Keras application without its top; offline, "imagenet" is one line naming the fixes."""
    import contextlib

    from ganpaint import fs

    local = (
        fs.local_copy(weights)
        if isinstance(weights, str) and weights != "imagenet"
        else contextlib.nullcontext(weights)
    )
    try:
        with local as path:  # a weights file on a bucket is read through a local copy
            return builder(include_top=False, weights=path, input_shape=image_shape, **kwargs)
    except Exception as exc:  # Keras raises a bare Exception("URL fetch failure ...") offline
        if weights != "imagenet" or "fetch" not in str(exc).lower():
            raise
        from ganpaint.errors import WeightsUnavailable, arg

        what = (
            f"could not download the {backbone} ImageNet weights (no internet?). The "
            f"notop weights file ({backbone.lower()}_notop.h5 from keras-applications; on "
            "Kaggle, attach it as a dataset) can be given instead: "
        )
        raise WeightsUnavailable(
            what + f"{arg('backbone_weights=FILE')}, or {arg('backbone_weights=None')} to train "
            "the backbone from scratch."
        ) from None
