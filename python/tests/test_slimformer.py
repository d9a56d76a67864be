"""Tests of the Python module slimformer against the library's own command-line tool.

Run by ctest with PYTHONPATH at the built module, SLIM_SHARED_DIR at the shared fixtures and
SLIM_BINARY at the built `slimformer` tool; the expected values come from that tool, never from
numbers written here.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import numpy as np

import slimformer

SHARED = os.environ.get("SLIM_SHARED_DIR", os.path.join(os.path.dirname(__file__), "../../../shared"))
BINARY = os.environ["SLIM_BINARY"]
MODEL = os.path.join(SHARED, "fixtures/hf/models/st-bert-uncased")        # normalizes, 2 layers, width 16
ROBERTA = os.path.join(SHARED, "fixtures/hf/models/st-roberta")
LARGER = os.path.join(SHARED, "models/bert-mini-sts")                      # slow enough to overlap threads
STS_DEV = os.path.join(SHARED, "data/stsbenchmark/sts-dev.csv")
MRPC_DIR = os.path.join(SHARED, "data/glue/MRPC")

TEXTS = [
    "A man with a hard hat is dancing.",
    "Une phrase en français, avec des accents: é à ü.",
    "Short",
    "Numbers 12,345.67 and symbols #hashtag @user!",
    "",
    "A much longer sentence that goes on for a while so that the batch holds texts of quite different lengths.",
]


def cli(*args, stdin=None):
    r = subprocess.run([BINARY, *args], input=stdin, capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f"slimformer {' '.join(args)} failed: {r.stderr}")
    return r.stdout


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="slimformer-py-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def cli_embed(self, model, texts, *flags):
        inp = self.write("texts.txt", "\n".join(texts) + "\n")
        out = os.path.join(self.tmp, "cli.npy")
        cli("embed", "--model", model, "--input", inp, "--format", "npy", "--output", out, *flags)
        return np.load(out)

    def small_mrpc(self, split, pairs):
        # The header line and the first pairs of a split, in the file's own encoding (BOM kept).
        with open(os.path.join(MRPC_DIR, split + ".tsv"), encoding="utf-8", newline="") as f:
            lines = f.readlines()[: pairs + 1]
        path = os.path.join(self.tmp, "mrpc-" + split + ".tsv")
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write("".join(lines))
        return path

    def small_sts(self, pairs=40):
        with open(STS_DEV, encoding="utf-8") as f:
            lines = f.readlines()[:pairs]
        return self.write("sts-small.csv", "".join(lines))


class EncodeTest(TempDirTest):
    def test_encode_equals_cli_embed_bit_for_bit(self):
        for model in (MODEL, ROBERTA):
            m = slimformer.SentenceEncoder(model)
            got = m.encode(TEXTS, batch_size=4)
            self.assertEqual(got.dtype, np.float32)
            self.assertEqual(got.shape, (len(TEXTS), m.dim))
            want = self.cli_embed(model, TEXTS, "--batch-size", "4")
            np.testing.assert_array_equal(got, want)

    def test_normalize_flag(self):
        m = slimformer.SentenceEncoder(MODEL)
        self.assertTrue(m.normalize)
        default = m.encode(TEXTS)
        np.testing.assert_allclose(np.linalg.norm(default, axis=1), 1.0, rtol=1e-5)
        raw = m.encode(TEXTS, normalize=False)
        np.testing.assert_array_equal(raw, self.cli_embed(MODEL, TEXTS, "--no-normalize"))
        self.assertGreater(np.abs(np.linalg.norm(raw, axis=1) - 1.0).max(), 1e-3)
        np.testing.assert_array_equal(m.encode(TEXTS, normalize=True), default)
        # A folder without the Normalize module: None keeps the raw vectors, True normalizes them.
        plain = os.path.join(self.tmp, "plain")
        shutil.copytree(MODEL, plain)
        with open(os.path.join(plain, "modules.json")) as f:
            modules = [mod for mod in json.load(f) if "Normalize" not in mod["type"]]
        with open(os.path.join(plain, "modules.json"), "w") as f:
            json.dump(modules, f)
        p = slimformer.SentenceEncoder(plain)
        self.assertFalse(p.normalize)
        np.testing.assert_array_equal(p.encode(TEXTS), raw)
        np.testing.assert_allclose(p.encode(TEXTS, normalize=True), default, rtol=1e-6, atol=1e-7)

    def test_one_text_and_empty_list(self):
        m = slimformer.SentenceEncoder(MODEL)
        one = m.encode(TEXTS[0])
        self.assertEqual(one.shape, (m.dim,))
        np.testing.assert_array_equal(one, m.encode(TEXTS[:1])[0])
        self.assertEqual(m.encode([]).shape, (0, m.dim))

    def test_properties(self):
        m = slimformer.SentenceEncoder(MODEL, attention="exact", threads=1)
        self.assertEqual(slimformer.num_threads(), 1)
        with open(os.path.join(MODEL, "config.json")) as f:
            config = json.load(f)
        self.assertEqual(m.dim, config["hidden_size"])
        self.assertLessEqual(m.max_length, config["max_position_embeddings"])
        with open(os.path.join(MODEL, "1_Pooling/config.json")) as f:
            self.assertEqual(m.pooling, json.load(f)["pooling_mode"])
        self.assertTrue(m.attention.startswith("exact"))
        slimformer.set_num_threads(os.cpu_count() or 1)

    def test_attention_choice_runs_the_same_as_the_cli(self):
        m = slimformer.SentenceEncoder(MODEL, attention="exact")
        np.testing.assert_array_equal(m.encode(TEXTS), self.cli_embed(MODEL, TEXTS, "--attention", "exact"))


def write_safetensors(path, tensors):
    """A safetensors file of float32 arrays, written by hand (header length, JSON header, data)."""
    header, data = {}, b""
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + data)


class DenseTest(TempDirTest):
    def dense_folder(self, weight, bias):
        """MODEL with a Dense module (tanh) between its Pooling and Normalize modules."""
        out = os.path.join(self.tmp, "dense")
        shutil.copytree(MODEL, out)
        for folder, _, _ in os.walk(out):   # the fixture is read-only; the copy is changed, then removed
            os.chmod(folder, 0o755)
        path = os.path.join(out, "modules.json")
        with open(path) as f:
            modules = json.load(f)
        modules.insert(2, {"idx": 9, "name": "9", "path": "9_Dense", "type": "sentence_transformers.models.Dense"})
        os.chmod(path, 0o644)
        with open(path, "w") as f:
            json.dump(modules, f)
        os.mkdir(os.path.join(out, "9_Dense"))
        with open(os.path.join(out, "9_Dense", "config.json"), "w") as f:
            json.dump({"in_features": weight.shape[1], "out_features": weight.shape[0], "bias": True,
                       "activation_function": "torch.nn.modules.activation.Tanh"}, f)
        write_safetensors(os.path.join(out, "9_Dense", "model.safetensors"),
                          {"linear.weight": weight, "linear.bias": bias})
        return out

    def test_dense_module_sets_dim_and_projects(self):
        rng = np.random.default_rng(7)
        plain = slimformer.SentenceEncoder(MODEL)
        weight = rng.normal(0, 0.5, (5, plain.dim)).astype(np.float32)
        bias = rng.normal(0, 0.5, 5).astype(np.float32)
        m = slimformer.SentenceEncoder(self.dense_folder(weight, bias))
        self.assertEqual(m.dim, 5)
        self.assertIn("dim=5", repr(m))
        self.assertEqual(m.encode([]).shape, (0, 5))
        got = m.encode(TEXTS, batch_size=4)
        np.testing.assert_array_equal(got, self.cli_embed(m.path, TEXTS, "--batch-size", "4"))
        pooled = plain.encode(TEXTS, batch_size=4, normalize=False).astype(np.float64)
        want = np.tanh(pooled @ weight.T.astype(np.float64) + bias)
        want /= np.linalg.norm(want, axis=1, keepdims=True)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)

    def test_pickled_dense_weights_are_refused(self):
        out = self.dense_folder(np.zeros((5, 16), np.float32), np.zeros(5, np.float32))
        os.rename(os.path.join(out, "9_Dense", "model.safetensors"), os.path.join(out, "9_Dense", "pytorch_model.bin"))
        with self.assertRaises(slimformer.Error) as ctx:
            slimformer.SentenceEncoder(out)
        self.assertIn("pytorch_model.bin", str(ctx.exception))


def as_lists(value):
    """Tuples (the module's offsets) as lists (JSON's), elsewhere the value itself."""
    if isinstance(value, list):
        return [list(v) if isinstance(v, tuple) else v for v in value]
    return value


class TokenizeTest(TempDirTest):
    def test_tokenize_matches_cli(self):
        for model in (MODEL, ROBERTA):
            m = slimformer.SentenceEncoder(model)
            inp = self.write("t.txt", "\n".join(TEXTS) + "\n")
            want = [json.loads(l) for l in cli("tokenize", "--model", model, "--input", inp).splitlines()]
            got = m.tokenize(TEXTS)
            self.assertEqual(len(got), len(want))
            for g, w in zip(got, want):
                for key in w:   # the CLI's fields are the module's too (offsets: tuples there, lists in JSON)
                    self.assertEqual(as_lists(g[key]), w[key], key)
                n = len(g["ids"])
                self.assertEqual([len(g[k]) for k in ("tokens", "type_ids", "offsets", "attention_mask")], [n] * 4)
            self.assertEqual(m.tokenize(TEXTS[0]), got[0])

    def test_pair_matches_cli(self):
        m = slimformer.SentenceEncoder(MODEL)
        a, b = TEXTS[0], TEXTS[1]
        want = json.loads(cli("tokenize", "--model", MODEL, "--pair", stdin=f"{a}\t{b}\n"))
        got = m.tokenize(a, pair=b)
        for key in want:
            self.assertEqual(as_lists(got[key]), want[key], key)
        self.assertIn(1, got["type_ids"])
        self.assertEqual(m.tokenize([a], pair=[b]), [got])
        with self.assertRaisesRegex(ValueError, "pair"):
            m.tokenize([a, b], pair=[a])

    def test_offsets_count_characters(self):
        m = slimformer.SentenceEncoder(MODEL)
        text = "Café au lait"   # 'é' is one character and two bytes: offsets count characters, as HF's
        enc = m.tokenize(text)
        words = [text[s:e] for (s, e), t in zip(enc["offsets"], enc["tokens"]) if e > s]
        self.assertEqual([w.lower() for w in words], ["café", "au", "lai", "t"])


class ErrorTest(TempDirTest):
    def test_missing_folder(self):
        missing = os.path.join(self.tmp, "no-such-model")
        with self.assertRaises(slimformer.Error) as ctx:
            slimformer.SentenceEncoder(missing)
        self.assertIn("no-such-model", str(ctx.exception))

    def test_bad_attention_spec(self):
        with self.assertRaises(slimformer.InputError) as ctx:
            slimformer.SentenceEncoder(MODEL, attention="no-such-mechanism")
        self.assertIsInstance(ctx.exception, ValueError)
        self.assertIn("no-such-mechanism", str(ctx.exception))
        with self.assertRaises(ValueError):
            slimformer.SentenceEncoder(MODEL, attention="sliding:window")

    def test_the_message_is_the_library_s(self):
        # The CLI prints the library's message; the exception carries the same text.
        r = subprocess.run([BINARY, "embed", "--model", MODEL, "--attention", "no-such-mechanism"],
                           input="x\n", capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        with self.assertRaises(slimformer.Error) as ctx:
            slimformer.SentenceEncoder(MODEL, attention="no-such-mechanism")
        core = str(ctx.exception).split(": ", 1)[-1]
        self.assertIn(core, r.stderr)

    def test_bad_arguments(self):
        m = slimformer.SentenceEncoder(MODEL)
        with self.assertRaises(ValueError):
            m.encode(TEXTS, batch_size=0)
        with self.assertRaises(TypeError):
            m.encode([1, 2])
        with self.assertRaises(ValueError):
            slimformer.SentenceEncoder(MODEL, threads=0)

    def test_io_error_is_an_os_error(self):
        with self.assertRaises(OSError) as ctx:
            slimformer.eval_stsb(MODEL, os.path.join(self.tmp, "missing.csv"))
        self.assertIsInstance(ctx.exception, slimformer.IoError)
        self.assertIn("missing.csv", str(ctx.exception))


class EvalTest(TempDirTest):
    def test_spearman_equals_the_cli_s(self):
        data = self.small_sts()
        row = slimformer.eval_stsb(MODEL, data, batch_size=8)
        out = os.path.join(self.tmp, "report")
        cli("eval", "--task", "stsb", "--data", data, "--model", MODEL, "--batch-size", "8", "--output-dir", out)
        with open(os.path.join(out, "results.json")) as f:
            want = json.load(f)["models"][0]
        self.assertEqual(row["spearman"], want["spearman"])
        self.assertEqual(row["pearson"], want["pearson"])
        self.assertEqual(row["inputs"], 80)   # two sentences per pair
        self.assertEqual(row["scored_by"], "cosine")
        self.assertIsNone(row["accuracy"])    # an MRPC figure
        # The same correlation from the module's own embeddings (ties as scipy: average ranks).
        with open(data, encoding="utf-8") as f:
            rows = [l.rstrip("\n").split("\t") for l in f]
        m = slimformer.SentenceEncoder(MODEL)
        a, b = m.encode([r[5] for r in rows]), m.encode([r[6] for r in rows])
        cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)

        def ranks(x):
            order = np.argsort(x, kind="stable")
            r = np.empty(len(x))
            r[order] = np.arange(1, len(x) + 1)
            for v in np.unique(x):
                r[x == v] = r[x == v].mean()
            return r
        gold = np.array([float(r[4]) for r in rows])
        self.assertAlmostEqual(np.corrcoef(ranks(cos), ranks(gold))[0, 1], row["spearman"], places=4)

    def test_max_pairs(self):
        row = slimformer.eval_stsb(MODEL, self.small_sts(), max_pairs=10)
        self.assertEqual(row["inputs"], 20)

    def test_mrpc_equals_the_cli_s(self):
        train, test = self.small_mrpc("train", 60), self.small_mrpc("dev", 40)
        row = slimformer.eval_mrpc(MODEL, test, train_path=train, batch_size=8)
        out = os.path.join(self.tmp, "report")
        cli("eval", "--task", "mrpc", "--train", train, "--data", test, "--model", MODEL,
            "--batch-size", "8", "--output-dir", out)
        with open(os.path.join(out, "results.json")) as f:
            want = json.load(f)["models"][0]
        for key in ("accuracy", "f1", "threshold", "inputs", "scored_by"):
            if key in want:
                self.assertEqual(row[key], want[key], key)
        self.assertEqual(row["inputs"], 80)   # the test pairs' two sentences
        self.assertIsNone(row["spearman"])    # an STS-B figure
        # The accuracy again from the module's own embeddings and the reported threshold.
        with open(test, encoding="utf-8-sig") as f:
            rows = [l.rstrip("\n").split("\t") for l in f][1:]
        m = slimformer.SentenceEncoder(MODEL)
        a, b = m.encode([r[3] for r in rows]), m.encode([r[4] for r in rows])
        cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
        gold = np.array([int(r[0]) for r in rows])
        predicted = (cos >= row["threshold"]).astype(int)
        self.assertAlmostEqual((predicted == gold).mean(), row["accuracy"], places=6)


class CompressTest(TempDirTest):
    def test_quantize_writes_a_folder_that_loads(self):
        out = os.path.join(self.tmp, "int8")
        r = slimformer.quantize(MODEL, out, dtype="int8")
        self.assertTrue(r["changed"])
        self.assertLess(r["weights_bytes"], r["input_weights_bytes"])
        q = slimformer.SentenceEncoder(out)
        e, base = q.encode(TEXTS), slimformer.SentenceEncoder(MODEL).encode(TEXTS)
        self.assertEqual(e.shape, base.shape)
        self.assertGreater(float((e * base).sum(1).min()), 0.9)   # unit rows: a cosine
        np.testing.assert_array_equal(e, self.cli_embed(out, TEXTS))
        with self.assertRaises(ValueError):   # the output folder must be new or empty
            slimformer.quantize(MODEL, out)

    def test_prune_methods(self):
        l1 = slimformer.prune(MODEL, os.path.join(self.tmp, "l1"), "l1-unstructured", amount=0.5)
        self.assertAlmostEqual(l1["zeros"] / l1["weights"], 0.5, delta=0.01)
        heads = slimformer.prune(MODEL, os.path.join(self.tmp, "heads"), "heads", heads={0: [1]})
        self.assertEqual(heads["heads_removed"], {0: [1]})
        layers = slimformer.prune(MODEL, os.path.join(self.tmp, "layers"), "layers", drop=1)
        self.assertEqual(layers["layers_kept"], [0])
        for name in ("l1", "heads", "layers"):
            out = os.path.join(self.tmp, name)
            self.assertEqual(slimformer.SentenceEncoder(out).encode(TEXTS).shape, (len(TEXTS), slimformer.SentenceEncoder(MODEL).dim))
            np.testing.assert_array_equal(slimformer.SentenceEncoder(out).encode(TEXTS), self.cli_embed(out, TEXTS))
        with self.assertRaisesRegex(ValueError, "norm"):
            slimformer.prune(MODEL, os.path.join(self.tmp, "x"), "heads", amount=0.5, norm=1)

    def test_distill(self):
        data = self.write("sentences.txt", "\n".join(TEXTS * 4) + "\n")
        out = os.path.join(self.tmp, "student")
        r = slimformer.distill(MODEL, out, data, student_layers=1, batch_size=8, epochs=1)
        self.assertEqual([e["epoch"] for e in r["epochs"]], [1])
        self.assertIsNone(r["epochs"][0]["spearman"])
        self.assertEqual(slimformer.SentenceEncoder(out).encode(TEXTS).shape, (len(TEXTS), slimformer.SentenceEncoder(MODEL).dim))


class BenchTest(TempDirTest):
    def test_records_have_the_cli_json_fields(self):
        got = slimformer.bench(MODEL, batch_sizes=[1, 2], seq_lens=[8, 16], runs=2, warmup=0)
        out = os.path.join(self.tmp, "bench.json")
        cli("bench", "--model", MODEL, "--batch-sizes", "1,2", "--seq-lens", "8,16", "--runs", "2",
            "--warmup", "0", "--json", out)
        with open(out) as f:
            want = json.load(f)["records"]
        self.assertEqual([list(r) for r in got], [list(r) for r in want])
        key = lambda r: (r["model"], r["attention"], r["batch"], r["seq"], r["runs"])
        self.assertEqual([key(r) for r in got], [key(r) for r in want])
        self.assertTrue(all(r["median_ms"] > 0 for r in got))
        with self.assertRaises(ValueError):
            slimformer.bench(MODEL, seq_lens=[100000])


class GilTest(unittest.TestCase):
    def test_encode_lets_other_threads_run(self):
        # While encode runs in one thread, another keeps counting. Were the GIL held through the
        # call, the counter could move at most at the bytecode boundaries next to the call
        # (twice); released, it moves all through it.
        m = slimformer.SentenceEncoder(LARGER)
        texts = [" ".join(["word"] * 120) + f" {i}" for i in range(256)]
        count, done, seen = [0], threading.Event(), {}

        def work():
            before = count[0]
            m.encode(texts)
            seen["during"] = count[0] - before
            done.set()
        worker = threading.Thread(target=work)
        worker.start()
        while not done.is_set():
            count[0] += 1
            time.sleep(0.0005)   # gives the GIL back: the worker never waits on this thread
        worker.join()
        self.assertGreater(seen["during"], 2)


if __name__ == "__main__":
    unittest.main()
