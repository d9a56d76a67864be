#!/usr/bin/python3
"""Reference values for tests/eval_metrics_test.cc, computed with scipy.stats (Debian python3-scipy).

Run from the repository root with ../shared beside it:  /usr/bin/python3 tests/reference/eval_metrics_scipy.py
It prints the constants the test holds; they are scipy's, not ours.
"""
import json
import math
import os

from scipy import stats

shared = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared")


def dev_scores():
    with open(os.path.join(shared, "data", "stsbenchmark", "sts-dev.csv"), encoding="utf-8") as f:
        return [float(line.split("\t")[4]) for line in f if line.strip()]


def show(name, x, y):
    print(f"{name}: pearson {stats.pearsonr(x, y)[0]!r} spearman {stats.spearmanr(x, y)[0]!r}")


gold = dev_scores()

# 1. The fixture's first 20 cosines (Hugging Face's) against the first 20 gold scores, both
#    as cosines and as the angular score 1 - arccos(cos)/pi.
fixture = json.load(open(os.path.join(shared, "fixtures", "hf", "outputs", "stsb-dev-st-bert-uncased.json")))
cos = fixture["first_predictions_cosine"]
show("fixture cosine", cos, gold[:len(cos)])
show("fixture angular", [1 - math.acos(max(-1.0, min(1.0, c))) / math.pi for c in cos], gold[:len(cos)])

# 2. All 1500 gold scores (many ties) against an integer series with ties on both sides.
show("dev ties", gold, [(i * 7919) % 23 for i in range(len(gold))])
