#!/usr/bin/env python3
"""Writes a copy of a BERT model folder with a fresh sequence-classification head, as Hugging Face's
BertForSequenceClassification initialises one (weights normal with std initializer_range, biases 0;
a pooler added the same way when the checkpoint has none), so that a sentence-embedding model can
be fine-tuned into a classifier (`slimformer distill --hard-label-weight 1`) and then distilled.
Standard library only. Usage: add_classifier_head.py SOURCE_DIR OUT_DIR [NUM_LABELS] [SEED]"""
import json
import os
import random
import shutil
import struct
import sys


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", None)
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        tensors[name] = (info["dtype"], info["shape"], data[begin:end])
    return tensors, meta


def write_safetensors(path, tensors, meta):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    if meta:
        header["__metadata__"] = meta
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for raw in blobs:
            f.write(raw)


def f32(values):
    return struct.pack("<%df" % len(values), *values)


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: add_classifier_head.py SOURCE_DIR OUT_DIR [NUM_LABELS] [SEED]")
    source, out = sys.argv[1], sys.argv[2]
    labels = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    if os.path.exists(out):
        sys.exit("add_classifier_head: '%s' exists" % out)
    config = json.load(open(os.path.join(source, "config.json")))
    if config.get("model_type") != "bert":
        sys.exit("add_classifier_head: model_type %r (a BERT model folder expected)" % config.get("model_type"))
    hidden, std = config["hidden_size"], config.get("initializer_range", 0.02)
    tensors, meta = read_safetensors(os.path.join(source, "model.safetensors"))
    prefix = "bert." if any(n.startswith("bert.") for n in tensors) else ""

    def normal(rows, cols):
        return ("F32", [rows, cols], f32([rng.gauss(0.0, std) for _ in range(rows * cols)]))

    if prefix + "pooler.dense.weight" not in tensors:
        tensors[prefix + "pooler.dense.weight"] = normal(hidden, hidden)
        tensors[prefix + "pooler.dense.bias"] = ("F32", [hidden], f32([0.0] * hidden))
    tensors["classifier.weight"] = normal(labels, hidden)
    tensors["classifier.bias"] = ("F32", [labels], f32([0.0] * labels))

    os.makedirs(out)
    for name in os.listdir(source):   # the tokenizer and the rest; not the sentence-transformers modules
        path = os.path.join(source, name)
        if os.path.isfile(path) and name not in ("model.safetensors", "config.json", "modules.json"):
            shutil.copy(path, os.path.join(out, name))
    config["architectures"] = ["BertForSequenceClassification"]
    config["num_labels"] = labels
    config.pop("id2label", None)
    config.pop("label2id", None)
    json.dump(config, open(os.path.join(out, "config.json"), "w"), indent=2)
    write_safetensors(os.path.join(out, "model.safetensors"), tensors, meta)


if __name__ == "__main__":
    main()
