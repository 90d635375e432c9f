"""The optimizers' running learning rates, and their one writer.

Each optimizer's rate while training is `base x factor x scale`:
- `base`: the rate it was given (read from the optimizer the first time, or given);
- `factor`: a schedule's (`callbacks.LinearDecay` sets it each epoch);
- `scale`: the guard's (`TrainingGuard` lowers it after a trip, and a resumed run takes it
  back from the guard's log).

`set_learning_rates` is the only code that writes `optimizer.learning_rate` during training;
the three parts live on the model (`learning_rate_base`, `learning_rate_factor`,
`learning_rate_scale`), so a schedule and the guard never undo each other. A schedule of your
own should call it too.
"""

from __future__ import annotations

from ganpaint import distribute
from ganpaint.checkpoints import optimizers_of


def set_learning_rates(model, *, factor=None, scale=None, base=None) -> list[float]:
    """Write every optimizer's rate as `base x factor x scale`; a part not given keeps the
    model's current value. Returns the rates written (G's first).

    Args:
        model: a ganpaint model (its G and D optimizers) or a plain Keras model (its one).
        factor: float. The schedule's factor (1.0 until a schedule sets one).
        scale: float. The guard's scale (1.0 until a trip).
        base: list of floats, one per optimizer. Defaults to the rates the optimizers hold
            the first time, divided by the factor and scale then in force.
    """
    optimizers = optimizers_of(model)
    now_factor = getattr(model, "learning_rate_factor", 1.0)
    now_scale = getattr(model, "learning_rate_scale", 1.0)
    if base is not None:
        if len(base) != len(optimizers):
            raise ValueError(
                f"`base` has {len(base)} learning rates for {len(optimizers)} optimizers."
            )
        _set(model, "learning_rate_base", [float(b) for b in base])
    elif getattr(model, "learning_rate_base", None) is None:
        applied = now_factor * now_scale or 1.0
        _set(
            model,
            "learning_rate_base",
            [distribute.value(opt.learning_rate) / applied for opt in optimizers],
        )
    if factor is not None:
        _set(model, "learning_rate_factor", float(factor))
    if scale is not None:
        _set(model, "learning_rate_scale", float(scale))
    part = model.learning_rate_factor * model.learning_rate_scale
    rates = [b * part for b in model.learning_rate_base]
    for opt, rate in zip(optimizers, rates):
        opt.learning_rate = rate
    return rates


def _set(model, name, value):
    # Plain attributes, outside Keras' tracking: they are not weights and not saved.
    object.__setattr__(model, name, value)
