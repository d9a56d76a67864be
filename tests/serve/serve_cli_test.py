"""`slimformer serve` end to end over loopback: answers equal `slimformer embed` / `tokenize` bit
for bit (alone, in one request, and batched across concurrent requests), every error status with
its JSON error, /info and /metrics, flag errors, and SIGTERM with a request in flight.

usage: serve_cli_test.py SLIMFORMER_BINARY MODEL_DIR"""
import json
import socket
import subprocess
import sys
import threading
import time

from serve_test_util import Server, embed_cli, metric, sample_texts, tokenize_cli

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def close(a, b, tol=1e-5):
    return len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b))


def check_error(server, status_expected, method, path, body, content_type="application/json", what=""):
    status, answer = server.request(method, path, body, content_type)
    ok = (status == status_expected and isinstance(answer, dict) and isinstance(answer.get("error"), str)
          and isinstance(answer.get("error_type"), str))
    check(ok, f"{what or path}: expected {status_expected} with a JSON error, got {status} {str(answer)[:200]}")


def check_flag_errors(binary, model):
    for flags, name in ((["--max-input-length", "1000"], "--max-input-length"),
                        (["--max-batch-tokens", "10"], "--max-batch-tokens"),
                        (["--port", "70000"], "--port"),
                        (["--payload-limit", "0"], "--payload-limit"),
                        (["--batching", "sometimes"], "--batching")):
        r = subprocess.run([binary, "serve", "--model", model, *flags], capture_output=True, text=True, timeout=120)
        lines = r.stderr.splitlines()
        check(r.returncode == 2 and len(lines) == 1 and lines[0].startswith("slimformer: error: ") and name in lines[0],
              f"serve {' '.join(flags)}: expected one error line naming {name} and exit 2, got {r.returncode} {r.stderr!r}")


def check_embeddings(server, binary, model):
    texts = sample_texts(24, seed=1)[:20] + ["Hello, world!", "naïve café", "a"]
    # Long texts are truncated to the model's limit, as with truncate. One request of these texts
    # runs as the one forward embed runs (the budget holds 32 texts of 128 tokens): the same bits.
    expected = embed_cli(binary, model, texts)
    status, rows = server.request("POST", "/embed", {"inputs": texts, "truncate": True})
    check(status == 200 and rows == expected, "/embed of all texts in one request differs from embed")
    status, one = server.request("POST", "/embed", {"inputs": texts[-1]})
    check(status == 200 and one == embed_cli(binary, model, texts[-1:]), "/embed of one string differs from embed")

    # Concurrent single-text requests, batched together by the worker: the same vectors within
    # float rounding (the encoder's last bits move with the rows sharing a forward; docs/serve.md).
    answers = [None] * len(texts)

    def ask(i):
        answers[i] = server.request("POST", "/embed", {"inputs": [texts[i]], "truncate": True})

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(all(a[0] == 200 and close(a[1][0], expected[i]) for i, a in enumerate(answers)),
          "concurrent /embed differs from embed by more than rounding")

    short = ["Hello, world!", "naïve café", "The cat sat on the mat."]
    status, oa = server.request("POST", "/v1/embeddings", {"input": short, "model": "mini"})
    tokens = tokenize_cli(binary, model, short)
    check(status == 200 and oa["object"] == "list" and oa["model"] == "mini"
          and [d["embedding"] for d in oa["data"]] == embed_cli(binary, model, short)
          and [d["index"] for d in oa["data"]] == [0, 1, 2] and all(d["object"] == "embedding" for d in oa["data"])
          and oa["usage"] == {"prompt_tokens": sum(len(t["ids"]) for t in tokens),
                              "total_tokens": sum(len(t["ids"]) for t in tokens)},
          f"/v1/embeddings answer wrong: {str(oa)[:300]}")

    status, tok = server.request("POST", "/tokenize", {"inputs": short})
    check(status == 200 and tok == tokens, "/tokenize differs from slimformer tokenize")

    status, norm = server.request("POST", "/embed", {"inputs": "naïve café", "normalize": True})
    check(status == 200 and abs(sum(v * v for v in norm[0]) - 1.0) < 1e-5, "normalize: true is not unit length")
    return 1 + 1 + len(texts) + 1   # /embed 200s so far


def check_errors(server):
    long_text = " ".join(["word"] * 300)
    check_error(server, 422, "POST", "/embed", {"inputs": long_text}, what="too many tokens, truncate false")
    check_error(server, 422, "POST", "/embed", {"inputs": []}, what="empty input list")
    check_error(server, 422, "POST", "/embed", {"inputs": ["a", 5]}, what="non-string input")
    check_error(server, 422, "POST", "/embed", b'{"inputs": "\xff\xfe bad"}', what="invalid UTF-8")
    check_error(server, 400, "POST", "/embed", '{"inputs": ["a"', what="malformed JSON")
    check_error(server, 415, "POST", "/embed", {"inputs": "a"}, content_type="text/plain", what="wrong Content-Type")
    check_error(server, 415, "POST", "/embed", {"inputs": "a"}, content_type=None, what="no Content-Type")
    check_error(server, 413, "POST", "/embed", b"x" * (1024 * 1024 + 1), what="body over --payload-limit")
    check_error(server, 404, "GET", "/nowhere", None, what="unknown path")
    check_error(server, 404, "POST", "/nowhere", {"inputs": "a"}, what="unknown POST path")
    check_error(server, 405, "GET", "/embed", None, what="GET on a POST endpoint")
    status, ok = server.request("GET", "/health")
    check(status == 200 and ok == {"status": "ok"}, "/health still answers after the errors")


def check_info_and_metrics(server, embed_ok):
    status, info = server.request("GET", "/info")
    check(status == 200 and info.get("dims") == 256 and info.get("model_id") == "bert-mini-sts"
          and info.get("max_input_length") == 128 and info.get("max_batch_tokens") == 4096
          and info.get("model_dtype") == "F32" and "attention" in info and info.get("batching") == "shared",
          f"/info wrong: {info}")
    status, text = server.request("GET", "/metrics")
    check(status == 200, "/metrics answers")
    count = lambda ep, st: metric(text, f'slimformer_requests_total{{endpoint="{ep}",status="{st}"}}')
    check(count("/embed", 200) == embed_ok, f"/metrics: /embed 200 = {count('/embed', 200)}, sent {embed_ok}")
    check(count("/embed", 422) == 4 and count("/embed", 400) == 1 and count("/embed", 415) == 2
          and count("/embed", 413) == 1 and count("other", 404) == 2 and count("/embed", 405) == 1,
          "/metrics: error counts by endpoint and status wrong:\n" + text)
    check(metric(text, 'slimformer_errors_total{error_type="Validation"}') == 5, "/metrics: Validation errors")
    check(metric(text, "slimformer_request_duration_seconds_count") >= embed_ok + 10, "/metrics: latency count")
    check(metric(text, 'slimformer_batch_size_bucket{le="+Inf"}') > 0, "/metrics: batch histogram")


def check_sigterm_in_flight(server, binary, model):
    """Half a request sent, SIGTERM, then the rest: that request is answered, new ones refused, exit 0."""
    body = json.dumps({"inputs": ["in flight"]}).encode()
    head = (f"POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    s = socket.create_connection((server.host, server.port), timeout=30)
    s.sendall(head + body[:5])
    time.sleep(0.5)
    server.proc.terminate()
    time.sleep(0.5)
    refused = False
    try:
        socket.create_connection((server.host, server.port), timeout=5).close()
    except OSError:
        refused = True
    check(refused, "a new connection was accepted after SIGTERM")
    s.sendall(body[5:])
    answer = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        answer += chunk
    s.close()
    head_text, _, payload = answer.partition(b"\r\n\r\n")
    check(head_text.startswith(b"HTTP/1.1 200"), f"in-flight request not answered 200: {head_text[:100]!r}")
    expected = embed_cli(binary, model, ["in flight"])
    check(payload and json.loads(payload) == expected, "in-flight answer differs from embed")
    code = server.proc.wait(30)
    check(code == 0, f"serve exited {code} after SIGTERM, expected 0")


def check_per_request_batching(binary, model):
    """--batching per-request: concurrent requests of several texts each, every answer bit for bit
    what embed gives for that request's texts (no forward shared between requests)."""
    texts = sample_texts(40, seed=5)
    groups = [texts[i:i + 1 + i % 4] for i in range(0, 36, 3)]   # 12 requests of 1 to 4 texts
    expected = [embed_cli(binary, model, g) for g in groups]
    server = Server(binary, model, "--batching", "per-request")
    try:
        status, info = server.request("GET", "/info")
        check(status == 200 and info.get("batching") == "per-request", f"/info batching wrong: {info}")
        answers = [None] * len(groups)

        def ask(i):
            answers[i] = server.request("POST", "/embed", {"inputs": groups[i], "truncate": True})

        for _ in range(3):   # a few rounds, so that requests do meet in the queue
            threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(groups))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            bad = [i for i, a in enumerate(answers) if a[0] != 200 or a[1] != expected[i]]
            check(not bad, f"--batching per-request: requests {bad} differ from embed's bits")
        status, text = server.request("GET", "/metrics")
        check(metric(text, 'slimformer_batch_size_count') >= 3 * len(groups),
              "--batching per-request: fewer forwards than requests")
    finally:
        server.stop()


def main():
    binary, model = sys.argv[1], sys.argv[2]
    check_flag_errors(binary, model)
    check_per_request_batching(binary, model)
    server = Server(binary, model, "--max-batch-tokens", "4096", "--payload-limit", "1M", "--read-timeout", "5")
    try:
        embed_ok = check_embeddings(server, binary, model)
        check_errors(server)
        check_info_and_metrics(server, embed_ok)
        check_sigterm_in_flight(server, binary, model)
    finally:
        server.stop()
    if failures:
        print(f"{len(failures)} check(s) failed; server stderr:\n" + "".join(server.stderr_lines), file=sys.stderr)
        return 1
    print("serve CLI: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
