#!/usr/bin/python3
"""One distillation training step in PyTorch, the counterpart of slim_train_bench: the anchors'
BERT written from the math (../shared/anchors/bert_ref.py, HF BertModel's names), loaded from a
model folder, mean pooling, MSE against zeros, backward, torch.optim.AdamW step. No dropout (as
slimformer's students). Prints the median and min step time and the peak RSS.

  /usr/bin/python3 bench/train_step_torch.py MODEL_DIR BATCH SEQ [--threads 2] [--runs 10]
"""
import argparse
import json
import os
import resource
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "anchors"))
import bert_ref  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("batch", type=int)
    ap.add_argument("seq", type=int)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=10)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    with open(os.path.join(a.model_dir, "config.json")) as f:
        hc = json.load(f)
    cfg = dict(bert_ref.COMMON)
    for k in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
              "max_position_embeddings", "type_vocab_size", "layer_norm_eps"):
        cfg[k] = hc[k]
    model = bert_ref.BertEncoder(cfg)
    tensors, _ = bert_ref.load_safetensors(os.path.join(a.model_dir, "model.safetensors"), separate=True)
    state = {k: v for k, v in tensors.items() if k in model.state_dict()}
    model.load_state_dict(state, strict=True)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
    b = torch.arange(a.batch, dtype=torch.int64)[:, None]
    s = torch.arange(a.seq, dtype=torch.int64)[None, :]
    ids = 1000 + (b * 7919 + s * 104729 + 17) % 28000
    mask = torch.ones_like(ids)
    times = []
    for r in range(-2, a.runs):
        t0 = time.perf_counter()
        opt.zero_grad()
        pooled = model(ids, mask)
        loss = torch.nn.functional.mse_loss(pooled, torch.zeros_like(pooled))
        loss.backward()
        opt.step()
        if r >= 0:
            times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"pytorch train step b={a.batch} s={a.seq} threads={a.threads}: median {times[len(times) // 2]:.1f} ms, "
          f"min {times[0]:.1f} ms, peak RSS {rss:.0f} MiB (torch {torch.__version__})")


if __name__ == "__main__":
    main()
