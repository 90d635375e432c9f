"""Inside the blend output on a known-answer task (issue 38's sixth round): train the
known-answer CycleGAN run of the default setting, or of the full content gradient
(`known_answer.cyclegan_run`, the same run the searches score), and at each budget print one
JSON line of what G_AB's blend does on the held-out photos: the output's L1 to the truth, the
new picture's (`out_content`, what the mask blends in) and the photo's, and the mask's mean
and 10th / 90th percentiles (`sigmoid(out_mask)`).

    python -m benchmarks.blend_probe --task abstraction --size 64 --steps 600 1200 2400
    python -m benchmarks.blend_probe --task abstraction --size 64 --content-gradient full
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np

from benchmarks import known_answer
from benchmarks.common import l1_to_truth, limit_threads


def probe(task_name, size=64, seed=0, budgets=(600, 1200, 2400), content_gradient=None):
    """One dict per budget: the blend's output, new picture and mask on the held-out photos."""
    task = known_answer.translation_task(task_name, size)
    setting = {"content_gradient": content_gradient} if content_gradient else {}
    nets, advance, translate = known_answer.cyclegan_run(task, setting, seed, size)
    g = nets[0]
    inside = keras.Model(g.input, [g.get_layer(n).output for n in ("out_mask", "out_content")])
    photo, rows = l1_to_truth(task["test"], task["truth"]), []
    for budget in known_answer.trained_to(budgets, advance):
        mask, content = inside.predict(task["test"], verbose=0)
        mask = 1.0 / (1.0 + np.exp(-mask))
        rows.append(
            {
                "task": task_name,
                "content_gradient": content_gradient or "masked",
                "step": budget,
                "out": l1_to_truth(translate(), task["truth"]),
                "content": l1_to_truth(content, task["truth"]),
                "photo": photo,
                "mask_mean": float(mask.mean()),
                "mask_p10": float(np.percentile(mask, 10)),
                "mask_p90": float(np.percentile(mask, 90)),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="abstraction")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, nargs="+", default=[600, 1200, 2400])
    parser.add_argument("--content-gradient", choices=("masked", "full"), default=None)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    limit_threads(args.threads)
    probe(args.task, args.size, args.seed, args.steps, args.content_gradient)


if __name__ == "__main__":
    main()
