"""One worker of a two-process MultiWorkerMirroredStrategy cluster on localhost, for
test_workers.py: trains recipes through `recipes.build(...).fit()` with their default
callbacks, as a user's script on each machine would, and prints one JSON line per recipe.

    TF_CONFIG=... python worker_run.py OUT_ROOT RECIPE[,RECIPE...] [--epochs N]
        [--checkpoint-every N] [--kill-at STEP] [--fresh]

OUT_ROOT may hold `{task}` (each worker its own folder: storage the workers do not share).
`--kill-at STEP` ends the process with SIGKILL after step STEP's callbacks (no cleanup).
"""

import argparse
import json
import os
import signal
import sys


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("recipes")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--checkpoint-every", type=int, default=2)
    parser.add_argument("--kill-at", type=int)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args(argv)

    import keras
    import numpy as np

    from ganpaint import distribute, recipes

    strategy = distribute.get_strategy()
    assert distribute.is_multi_worker(strategy), type(strategy).__name__
    task = distribute.task_id(strategy)
    root = args.root.format(task=task)

    class KillAt(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.step = self.start = None

        def on_train_begin(self, logs=None):
            if self.step is None:  # the step this run starts at (a checkpoint's, resumed)
                self.step = self.start = int(
                    np.asarray(keras.ops.convert_to_numpy(self.model.g_optimizer.iterations))
                )

        def on_train_batch_end(self, batch, logs=None):
            self.step += 1
            if args.kill_at is not None and self.step == args.kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    for name in args.recipes.split(","):
        out = os.path.join(root, name)
        try:
            setup = recipes.build(
                name,
                smoke=True,
                strategy=strategy,
                out_dir=out,
                epochs=args.epochs,
                checkpoint_every=args.checkpoint_every,
            )
            # Before the run's saver: a kill at step N leaves the checkpoints before N.
            kill = KillAt()
            setup.callbacks.append(kill)
            setup.fit(verbose=0, resume=False if args.fresh else "auto")
        except ValueError as exc:  # the one-line refusals (UserError is a ValueError)
            print(json.dumps({"recipe": name, "task": task, "error": str(exc)}), flush=True)
            return 3
        weights = [
            np.asarray(keras.ops.convert_to_numpy(v))
            for v in setup.model.weights
            if "float" in str(v.dtype)
        ]
        print(
            json.dumps(
                {
                    "recipe": name,
                    "task": task,
                    "chief": distribute.is_chief(strategy),
                    "start": kill.start,
                    "steps": int(
                        np.asarray(keras.ops.convert_to_numpy(setup.model.g_optimizer.iterations))
                    ),
                    "checksum": float(sum(np.abs(w).astype("float64").sum() for w in weights)),
                    "moving": float(
                        sum(
                            np.abs(np.asarray(keras.ops.convert_to_numpy(v))).sum()
                            for v in setup.model.weights
                            if "moving" in v.path
                        )
                    ),
                }
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
