"""Pictures: image grids, training curves and gradient norms."""

from __future__ import annotations

import math
import os

import numpy as np

from ganpaint.data.preprocess import to_uint8


def image_grid(
    images, cols: int | None = None, padding: int = 2, pad_value: int = 255
) -> np.ndarray:
    """Tiles a batch of images into one uint8 picture `[H', W', C]`.

    Args:
        images: `[N, H, W, C]` (or `[N, H, W]`): float in [-1, 1] as generators output them, or
            uint8.
        cols: int. Images per row. Defaults to ceil(sqrt(N)).
        padding: int. Pixels between tiles.
        pad_value: int. Colour of the padding, 0-255.

    Example:
    >>> grid = image_grid(generator(noise))   # then plt.imshow(grid) or save_image(...)
    """
    array = np.asarray(images)
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4 or len(array) == 0:
        raise ValueError(
            f"`images` must be a non-empty batch [N, H, W(, C)]. Received shape {array.shape}"
        )
    if array.dtype != np.uint8:
        array = to_uint8(array)
    n, h, w, c = array.shape
    cols = cols or math.ceil(math.sqrt(n))
    if not isinstance(cols, int) or cols < 1:
        raise ValueError(f"`cols` must be a positive int. Received: cols={cols!r}")
    rows = math.ceil(n / cols)
    grid = np.full(
        (rows * h + (rows - 1) * padding, cols * w + (cols - 1) * padding, c), pad_value, np.uint8
    )
    for i, image in enumerate(array):
        r, k = divmod(i, cols)
        grid[
            r * (h + padding) : r * (h + padding) + h, k * (w + padding) : k * (w + padding) + w
        ] = image
    return grid


def save_image(path: str | os.PathLike, image: np.ndarray) -> str:
    """Writes a uint8 `[H, W, C]` (C = 1 or 3) picture as PNG, creating parent folders (any
    storage `ganpaint.fs` reaches; written aside and renamed)."""
    import io

    from PIL import Image

    from ganpaint import fs

    path = os.fspath(path)
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = to_uint8(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    fs.write_atomically(path, buffer.getvalue())
    return path


def pyplot(path):
    """matplotlib.pyplot, headless (Agg) when only writing files and no backend is chosen."""
    import matplotlib

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def finish_figure(fig, path):
    """Lay out, save to `path` (creating folders) and close; returns the figure."""
    fig.tight_layout()
    if path is not None:
        import io

        from ganpaint import fs

        path = os.fspath(path)
        buffer = io.BytesIO()
        extension = os.path.splitext(path)[1].lstrip(".").lower() or "png"
        fig.savefig(buffer, dpi=100, bbox_inches="tight", format=extension)
        fs.write_atomically(path, buffer.getvalue())
        import matplotlib.pyplot as plt

        plt.close(fig)
    return fig


def _value(text: str):
    """A CSV cell as a number when it is one (losses, steps), else the text (layer names)."""
    try:
        return float(text)
    except ValueError:
        return text


def history_rows(history) -> list[dict]:
    """Rows of {name: value} from a keras History, its `.history` dict, a list of dicts, or a
    CSV path (as `LossHistory` writes)."""
    if isinstance(history, (str, os.PathLike)):
        import csv
        import io

        from ganpaint import fs

        text = fs.read_text(history)
        return [
            {k: _value(v) for k, v in row.items() if v not in ("", None)}
            for row in csv.DictReader(io.StringIO(text, newline=""))
        ]
    history = getattr(history, "history", history)
    if isinstance(history, dict):
        n = max((len(v) for v in history.values()), default=0)
        return [
            {"epoch": i + 1, **{k: float(v[i]) for k, v in history.items() if i < len(v)}}
            for i in range(n)
        ]
    if isinstance(history, (list, tuple)):
        return list(history)
    raise ValueError(
        "`history` must be a keras History, a dict of lists, a list of dicts or a "
        f"CSV path. Received: {type(history).__name__}"
    )


def plot_history(
    history, path=None, x: str = "epoch", names=None, smooth: int | None = None, epochs=None
):
    """Loss curves: one panel per group (discriminator losses, generator losses, the rest).

    Args:
        history: keras `History`, `history.history`, a list of row dicts, or a CSV path.
        path: where to save the PNG (folders are created); None only returns the figure.
        x: the column for the x axis ("epoch" or "step").
        names: which columns to plot. Defaults to every column except the x axis.
        smooth: int. Moving-average window over rows (per-batch curves are noisy). Defaults to
            about 1/50 of the rows when there are more than 200.
        epochs: optional per-epoch rows drawn as markers over per-batch curves.

    Returns:
        The matplotlib Figure.
    """
    plt = pyplot(path)

    rows = history_rows(history)
    if not rows:
        raise ValueError("`history` has no rows to plot.")
    if names is None:
        names = []
        for row in rows:
            names += [k for k in row if k not in names and k not in ("epoch", "step", x)]
    if smooth is None:
        smooth = max(1, len(rows) // 50) if len(rows) > 200 else 1
    groups = {
        "discriminator": [n for n in names if n.startswith("d_")],
        "generator": [
            n for n in names if n.startswith("g_") or n in ("cycle_loss", "identity_loss")
        ],
    }
    groups["other"] = [n for n in names if not any(n in g for g in groups.values())]
    groups = {k: v for k, v in groups.items() if v}
    epoch_end = {}  # each epoch's last step, where its per-epoch marker goes
    for row in rows:
        if "step" in row and "epoch" in row:
            epoch_end[row["epoch"]] = max(row["step"], epoch_end.get(row["epoch"], row["step"]))
    fig, axes = plt.subplots(1, len(groups), figsize=(5 * len(groups), 3.5), squeeze=False)
    for ax, (title, group) in zip(axes[0], groups.items()):
        for name in group:
            points = [(row.get(x, i + 1), row[name]) for i, row in enumerate(rows) if name in row]
            if not points:
                continue
            xs, ys = map(np.asarray, zip(*points))
            if smooth > 1 and len(ys) > smooth:
                ys = np.convolve(ys, np.ones(smooth) / smooth, mode="valid")
                xs = xs[smooth - 1 :]
            (line,) = ax.plot(xs, ys, label=name, lw=1)
            if epochs and x == "step":
                per_epoch = [
                    (epoch_end[e["epoch"]], e[name])
                    for e in epochs
                    if name in e and e.get("epoch") in epoch_end
                ]
                if per_epoch:
                    ax.plot(*zip(*per_epoch), "o", color=line.get_color(), ms=3)
        ax.set_title(title)
        ax.set_xlabel(x)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return finish_figure(fig, path)


def plot_gradient_norms(rows, path=None):
    """Gradient norm of each layer over training steps, one panel per network, log scale.

    `rows` are dicts with step, network, layer, norm (what `callbacks.GradientNorms` records)
    or the path of its CSV.
    """
    plt = pyplot(path)

    rows = history_rows(rows) if isinstance(rows, (str, os.PathLike)) else list(rows)
    if not rows:
        raise ValueError("No gradient norms to plot.")
    networks = sorted({r["network"] for r in rows})
    fig, axes = plt.subplots(1, len(networks), figsize=(6 * len(networks), 4), squeeze=False)
    for ax, network in zip(axes[0], networks):
        layers = []
        for r in rows:
            if r["network"] == network and r["layer"] not in layers:
                layers.append(r["layer"])
        cmap = plt.get_cmap("viridis", max(2, len(layers)))
        for i, layer in enumerate(layers):
            pts = [
                (r["step"], max(r["norm"], 1e-12))
                for r in rows
                if r["network"] == network and r["layer"] == layer
            ]
            ax.plot(*zip(*pts), color=cmap(i), lw=1, label=layer if len(layers) <= 12 else None)
        ax.set_yscale("log")
        ax.set_title(f"{network}: gradient norm per layer (input to output: dark to light)")
        ax.set_xlabel("step")
        if len(layers) <= 12:
            ax.legend(fontsize=6)
    return finish_figure(fig, path)


# -- animations ---------------------------------------------------------------------------------


def grid_files(source) -> list[str]:
    """The sample grids of a run (`RUN/grids/epoch_*.png`), of a grids folder, or given."""
    from ganpaint import fs

    if isinstance(source, (list, tuple)):
        files = [os.fspath(p) for p in source]
    else:
        folder = os.fspath(source)
        if fs.isdir(fs.join(folder, "grids")):
            folder = fs.join(folder, "grids")
        files = fs.glob(fs.join(fs.glob_escape(folder), "epoch_*.png"))
        if not files:
            raise ValueError(
                f"No sample grids (epoch_*.png) in {folder}: give a run folder "
                "(OUT of `ganpaint train`) or its grids/ folder."
            )
    return files


def _label(frame: np.ndarray, text: str) -> np.ndarray:
    """`frame` with `text` on a white band above it."""
    from PIL import Image, ImageDraw

    picture = Image.fromarray(frame).convert("RGB")
    band = max(12, picture.height // 16)
    canvas = Image.new("RGB", (picture.width, picture.height + band), "white")
    canvas.paste(picture, (0, band))
    ImageDraw.Draw(canvas).text((4, max(0, band // 2 - 6)), text, fill="black")
    return np.asarray(canvas)


def write_animation(frames, path, fps: float = 2.0, overwrite: bool = False) -> str:
    """Write uint8 frames `[H, W, 3]` as a GIF (Pillow), or an MP4 where `imageio-ffmpeg` is
    installed. The file is written aside and renamed; an existing one is refused unless
    `overwrite`."""
    from ganpaint.errors import UserError, refuse_existing

    path = os.fspath(path)
    if not overwrite:
        refuse_existing(path, "animation")
    frames = [np.asarray(f) for f in frames]
    if not frames:
        raise ValueError("No frames to animate.")
    from ganpaint.fs import write_atomically

    extension = os.path.splitext(path)[1].lower()
    if extension == ".gif":
        from PIL import Image

        pictures = [Image.fromarray(f) for f in frames]

        def write(partial):
            pictures[0].save(
                partial,
                save_all=True,
                append_images=pictures[1:],
                loop=0,
                duration=int(round(1000 / fps)),
                format="GIF",
            )
    elif extension == ".mp4":
        try:
            import imageio.v2 as imageio
            import imageio_ffmpeg  # noqa: F401
        except ImportError:
            raise UserError(
                "an MP4 needs the imageio-ffmpeg package (pip install imageio "
                "imageio-ffmpeg); or write a .gif, which needs nothing more."
            ) from None
        even = [f[: f.shape[0] // 2 * 2, : f.shape[1] // 2 * 2] for f in frames]  # h264 sizes

        def write(partial):
            imageio.mimwrite(partial, even, fps=fps, format="FFMPEG")
    else:
        raise UserError(f"An animation is a .gif or .mp4 file. Received: {path}")
    return write_atomically(path, write, suffix=extension)


def progress_animation(source, path, fps: float = 2.0, overwrite: bool = False) -> str:
    """The sample grids of a run as one animation, the epoch written on each frame: the TF
    DCGAN tutorial's closing GIF.

    Args:
        source: a run folder (`ganpaint train --out`), its `grids/` folder, or a list of PNGs
            (named `epoch_NNNN.png` for the labels).
        path: the `.gif` (or `.mp4`, with imageio-ffmpeg) to write.
        fps: frames per second.
        overwrite: bool. Replace an existing file; refused otherwise.

    Returns:
        The path written.
    """
    import re

    from PIL import Image

    from ganpaint import fs

    frames = []
    files = grid_files(source)
    for file in files:
        match = re.search(r"epoch_(\d+)", os.path.basename(file))
        text = f"epoch {int(match.group(1))}" if match else os.path.basename(file)
        with fs.open(file, "rb") as f:
            frames.append(_label(np.asarray(Image.open(f).convert("RGB")), text))
    size = frames[0].shape
    frames = [
        f if f.shape == size else np.asarray(Image.fromarray(f).resize(size[1::-1])) for f in frames
    ]
    return write_animation(frames, path, fps=fps, overwrite=overwrite)


def slerp(a, b, t) -> np.ndarray:
    """Spherical interpolation between noise vectors (rows of `a` and `b`) at fractions `t`:
    Gaussian noise lives near a sphere, and a straight line between two draws passes through
    improbable, too-short vectors (White, "Sampling generative networks", 2016)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    t = np.asarray(t, np.float64).reshape(-1, 1, 1)
    cos = np.sum(a * b, -1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    omega = np.arccos(np.clip(cos, -1.0, 1.0))[None, :, None]
    sin = np.sin(omega)
    linear = (1 - t) * a[None] + t * b[None]
    spherical = (np.sin((1 - t) * omega) * a[None] + np.sin(t * omega) * b[None]) / np.where(
        sin == 0, 1.0, sin
    )
    return np.where(sin < 1e-6, linear, spherical).astype(np.float32)  # [T, rows, D]


def interpolation(
    model,
    path=None,
    steps: int = 8,
    rows: int = 4,
    seed: int = 0,
    labels=None,
    use_ema: bool = True,
    overwrite: bool = False,
) -> np.ndarray:
    """Walk the latent space of a noise model: each row goes from one noise draw to another
    in `steps` (spherical interpolation). Labelled models keep the noise pair and change the
    class per row (every class in turn by default), so one style is shown in every class.

    Args:
        model: a trained GAN, ConditionalGAN or ACGAN.
        path: optional `.png` (the grid) or `.gif` (one frame per step, every row at once).
        steps: int. Images per row.
        rows: int. Rows (ignored for labelled models without `labels`: one per class).
        labels: int array: the class of each row (labelled models).
        overwrite: bool. Replace an existing `path`.

    Returns:
        The images, float in [-1, 1], `[rows, steps, H, W, C]`.
    """
    from ganpaint.errors import refuse_existing

    if model.takes_inputs:
        raise ValueError(
            f"interpolation walks a noise model's latent space; "
            f"{type(model).__name__} translates images."
        )
    if path is not None and not overwrite:
        refuse_existing(path, "picture")
    rng = np.random.default_rng(seed)
    if model.num_classes is not None:
        labels = (
            np.arange(model.num_classes)
            if labels is None
            else np.asarray(labels, "int32").reshape(-1)
        )
        rows = len(labels)
        a = np.tile(rng.standard_normal((1, model.latent_dim)), (rows, 1))
        b = np.tile(rng.standard_normal((1, model.latent_dim)), (rows, 1))
    else:
        a, b = (rng.standard_normal((rows, model.latent_dim)) for _ in range(2))
    noise = slerp(a, b, np.linspace(0, 1, steps))  # [steps, rows, D]
    noise = noise.transpose(1, 0, 2).reshape(rows * steps, -1)
    row_labels = None if labels is None else np.repeat(np.asarray(labels, "int32"), steps)
    images = model.sample(noise=noise, labels=row_labels, use_ema=use_ema)
    images = images.reshape(rows, steps, *images.shape[1:])
    if path is not None:
        path = os.fspath(path)
        if path.lower().endswith(".gif"):
            frames = [image_grid(images[:, t], cols=1 if rows <= 4 else None) for t in range(steps)]
            frames = [f if f.shape[-1] == 3 else np.repeat(f, 3, -1) for f in frames]
            write_animation(frames, path, fps=4, overwrite=True)
        else:
            save_image(path, image_grid(images.reshape(-1, *images.shape[2:]), cols=steps))
    return images
