#!/usr/bin/python3
"""Reference values for tests/train_optimizer_test.cc, computed with PyTorch (Debian python3-torch).

Run from anywhere:  /usr/bin/python3 tests/reference/make_optimizer_reference.py
It writes tests/reference/optimizer_reference.json beside itself: a few small odd-shaped
parameters, a fixed gradient per step, and for each scenario the learning rate, the global
gradient norm (with the clipped gradients when clipping scaled them) and the parameters after
every step of

    clip_grad_norm_(params, max_norm)      (when the scenario clips)
    torch.optim.AdamW(...).step()
    LambdaLR(get_linear_schedule_with_warmup's lambda).step()   (when the scenario has a warm-up)

The numbers are torch's, not ours. Floats are written with 9 significant digits, which round-trips
float32 exactly, so the C++ test starts from the same bits.
"""
import json
import os

import torch

torch.manual_seed(1234)
STEPS = 5

# name -> shape: odd sizes, and names that Hugging Face's no-decay rule picks and does not pick.
SHAPES = {
    "dense.weight": (3, 5),
    "dense.bias": (5,),
    "proj.weight": (1, 7),
    "LayerNorm.weight": (7,),
}
NO_DECAY = ["bias", "LayerNorm.weight"]

INITIAL = {name: torch.randn(shape) for name, shape in SHAPES.items()}
# Gradients of several sizes, so that clipping with max_norm 1 scales some steps and not others.
GRADS = [{name: torch.randn(shape) * (0.05 + 0.6 * step) for name, shape in SHAPES.items()}
         for step in range(STEPS)]


def linear_schedule_with_warmup(warmup, total):
    """transformers.get_linear_schedule_with_warmup's lr_lambda (transformers is not installed)."""
    def lr_lambda(step):
        if step < warmup:
            return float(step) / float(max(1, warmup))
        return max(0.0, float(total - step) / float(max(1, total - warmup)))
    return lr_lambda


def run(scenario):
    params = {name: torch.nn.Parameter(t.clone()) for name, t in INITIAL.items()}
    if scenario["no_decay"]:
        groups = [
            {"params": [p for n, p in params.items() if not any(nd in n for nd in NO_DECAY)],
             "weight_decay": scenario["weight_decay"]},
            {"params": [p for n, p in params.items() if any(nd in n for nd in NO_DECAY)],
             "weight_decay": 0.0},
        ]
    else:
        groups = [{"params": list(params.values()), "weight_decay": scenario["weight_decay"]}]
    optimizer = torch.optim.AdamW(groups, lr=scenario["lr"], betas=(0.9, 0.999), eps=1e-8, foreach=False)
    schedule = None
    if scenario["warmup"] is not None:
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, linear_schedule_with_warmup(scenario["warmup"], scenario["total"]))
    steps = []
    for step in range(STEPS):
        for name, p in params.items():
            p.grad = GRADS[step][name].clone()
        record = {"lr": optimizer.param_groups[0]["lr"]}
        if scenario["max_norm"] is not None:
            norm = torch.nn.utils.clip_grad_norm_(list(params.values()), scenario["max_norm"])
            record["total_norm"] = float(norm)
            if float(norm) > scenario["max_norm"]:
                record["clipped_grads"] = {n: values(p.grad) for n, p in params.items()}
        optimizer.step()
        if schedule is not None:
            schedule.step()
        record["params"] = {n: values(p.detach()) for n, p in params.items()}
        steps.append(record)
    return dict(scenario, steps=steps)


def values(t):
    return [float(f"{x:.9g}") for x in t.flatten().tolist()]


SCENARIOS = [
    # The fine-tuning recipe: decay and no-decay groups, warm-up then decay, clipping at 1.
    {"name": "groups_schedule_clip", "lr": 0.05, "weight_decay": 0.1, "no_decay": True,
     "warmup": 2, "total": 6, "max_norm": 1.0},
    # Adam with decoupled decay switched off, constant rate, no clipping.
    {"name": "no_weight_decay", "lr": 0.01, "weight_decay": 0.0, "no_decay": False,
     "warmup": None, "total": None, "max_norm": None},
    # torch's defaults (lr 1e-3, weight decay 0.01 on everything), clipping at a bound never reached.
    {"name": "defaults_clip_unreached", "lr": 1e-3, "weight_decay": 0.01, "no_decay": False,
     "warmup": None, "total": None, "max_norm": 100.0},
]

out = {
    "torch_version": torch.__version__,
    "no_decay": NO_DECAY,
    "shapes": {n: list(s) for n, s in SHAPES.items()},
    "initial": {n: values(t) for n, t in INITIAL.items()},
    "grads": [{n: values(g) for n, g in step.items()} for step in GRADS],
    "scenarios": [run(s) for s in SCENARIOS],
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optimizer_reference.json")
with open(path, "w", encoding="utf-8") as f:
    json.dump(out, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {path} ({os.path.getsize(path)} bytes)")
