#!/usr/bin/python3
"""Load and fault run for `slimformer serve` over loopback (stdlib only).

N clients send mixed-length /embed requests on kept-alive connections and check every answer
against `slimformer embed`'s output for the same texts, while a fault thread disconnects
mid-request, sends a request one byte a second (slowloris), sends a 100 MB body and sends invalid
UTF-8. Reports errors, wrong answers, p50/p99 latency, throughput and the server's RSS (sampled
from /proc/PID/status), and fails (exit 1) on any error, wrong answer, failed fault check or RSS
growth over the last half of the full run.

  bench/serve_load.py --binary build/slimformer --model ../shared/models/bert-mini-sts            # full
  bench/serve_load.py --binary build/slimformer --model ../shared/models/bert-mini-sts --short    # ctest
  bench/serve_load.py ... --batching per-request   # the server's per-request mode: one-text answers
                                                   # must equal embed --batch-size 1 bit for bit
"""
import argparse
import json
import os
import random
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "serve"))
from serve_test_util import Server, embed_cli, sample_texts  # noqa: E402

TOLERANCE = 1e-5   # rows batched with other requests' texts move in the last bits (docs/serve.md)
READ_TIMEOUT_S = 3


class Load:
    # expected_alone: each text's row from a forward of its own (embed --batch-size 1); given, a
    # one-text request must equal it bit for bit (--batching per-request promises that).
    def __init__(self, server, texts, expected, requests, clients, time_limit, expected_alone=None):
        self.server, self.texts, self.expected, self.expected_alone = server, texts, expected, expected_alone
        self.alone_checked = 0
        self.left, self.lock = requests, threading.Lock()
        self.clients, self.deadline = clients, time.time() + time_limit
        self.latencies, self.errors, self.wrong, self.bit_equal, self.rows = [], [], 0, 0, 0

    def take(self):
        with self.lock:
            if self.left <= 0 or time.time() > self.deadline:
                return False
            self.left -= 1
            return True

    def client(self, seed):
        rng = random.Random(seed)
        conn = self.server.connection(timeout=60)
        while self.take():
            picks = [rng.randrange(len(self.texts)) for _ in range(rng.choice((1, 1, 1, 2, 4)))]
            body = {"inputs": [self.texts[i] for i in picks], "truncate": True}
            t0 = time.perf_counter()
            try:
                status, answer = self.server.request("POST", "/embed", body, conn=conn)
            except (OSError, ValueError) as e:   # counted, then a fresh connection
                with self.lock:
                    self.errors.append(f"{type(e).__name__}: {e}")
                conn.close()
                conn = self.server.connection(timeout=60)
                continue
            dt = time.perf_counter() - t0
            wrong = bit = alone = 0
            if status == 200:
                for i, row in zip(picks, answer):
                    exp = self.expected[i]
                    bit += row == exp
                    wrong += len(row) != len(exp) or any(abs(a - b) > TOLERANCE for a, b in zip(row, exp))
                wrong += len(answer) != len(picks)
                if self.expected_alone is not None and len(picks) == 1 and len(answer) == 1:
                    alone = 1
                    wrong += answer[0] != self.expected_alone[picks[0]]
            with self.lock:
                self.latencies.append(dt)
                self.rows += len(picks)
                self.wrong += wrong
                self.bit_equal += bit
                self.alone_checked += alone
                if status != 200:
                    self.errors.append(f"status {status}: {str(answer)[:200]}")
        conn.close()


def raw_request(server, body_len, first_part, timeout=30):
    s = socket.create_connection((server.host, server.port), timeout=timeout)
    head = (f"POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {body_len}\r\n\r\n").encode()
    s.sendall(head + first_part)
    return s


def read_status(s):
    data = b""
    while b"\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.1 ") else None


def fault_disconnect(server):
    """Half a body, then gone; and a whole request whose client leaves before the answer."""
    body = json.dumps({"inputs": ["left before the end"]}).encode()
    raw_request(server, len(body), body[:10]).close()
    raw_request(server, len(body), body).close()
    return True, "2 clients gone mid-request"


def fault_slowloris(server):
    """One byte a second: the connection must be closed once the read deadline has passed."""
    s = socket.create_connection((server.host, server.port), timeout=READ_TIMEOUT_S + 10)
    t0 = time.time()
    request = b"POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Slow: " + b"a" * 100
    closed_after = None
    for byte in request:
        try:
            s.sendall(bytes([byte]))
            time.sleep(1.0)
            s.setblocking(False)
            try:
                if s.recv(4096) == b"":
                    closed_after = time.time() - t0
                    break
            except BlockingIOError:
                pass
            finally:
                s.setblocking(True)
        except OSError:
            closed_after = time.time() - t0
            break
    s.close()
    ok = closed_after is not None and closed_after <= READ_TIMEOUT_S + 3
    return ok, f"closed after {closed_after if closed_after is None else round(closed_after, 1)} s"


def fault_huge_body(server):
    """100 MB body: a 413, quickly, and the server's memory bounded."""
    size, chunk = 100 * 1024 * 1024, b"x" * (1024 * 1024)
    rss0 = server.rss_kib()
    t0 = time.time()
    s = raw_request(server, size, b"", timeout=60)
    status = None
    try:
        for _ in range(size // len(chunk)):
            s.sendall(chunk)
        status = read_status(s)
    except OSError:
        status = status or read_status_safe(s)
    s.close()
    dt, grew = time.time() - t0, server.rss_kib() - rss0
    ok = status == 413 and dt < 10 and grew < 50 * 1024
    return ok, f"status {status} after {dt:.2f} s, RSS {grew / 1024:+.1f} MiB"


def read_status_safe(s):
    try:
        return read_status(s)
    except OSError:
        return None


def fault_bad_utf8(server):
    status, answer = server.request("POST", "/embed", b'{"inputs": ["ok", "\xc3\x28 bad"]}')
    return status == 422 and answer.get("error_type") == "Validation", f"status {status}"


FAULTS = [("disconnect", fault_disconnect), ("slowloris", fault_slowloris), ("100MB body", fault_huge_body),
          ("invalid UTF-8", fault_bad_utf8)]


def run_faults(server, repeat, stop, results):
    """Each fault once, then again while the load runs (full run), recording every outcome."""
    rounds = 0
    while rounds < 1 or (repeat and not stop.is_set()):
        for name, fn in FAULTS:
            try:
                ok, note = fn(server)
            except Exception as e:   # a fault check that blew up is a failure, with its reason
                ok, note = False, f"{type(e).__name__}: {e}"
            results.append((name, ok, note))
        rounds += 1


def rss_by_tenth(samples, t0, wall):
    """The RSS (MiB) at each tenth of the run: shows whether growth levels off."""
    out = []
    for i in range(1, 11):
        before = [kib for t, kib in samples if t <= t0 + wall * i / 10]
        out.append(round(before[-1] / 1024, 1) if before else None)
    return out


def sample_rss(server, stop, samples):
    while not stop.is_set():
        samples.append((time.time(), server.rss_kib()))
        time.sleep(0.2)


def percentile(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(p / 100 * len(v)))] if v else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--requests", type=int, default=10000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--time-limit", type=float, default=900, help="seconds; requests stop being sent after it")
    ap.add_argument("--short", action="store_true", help="300 requests, 4 clients, each fault once (ctest)")
    ap.add_argument("--json", help="write the figures here too")
    ap.add_argument("--batching", choices=("shared", "per-request"), default="shared",
                    help="the server's --batching; per-request: one-text answers must equal embed's bits")
    a = ap.parse_args()
    if a.short:
        a.requests, a.clients, a.time_limit = 300, 4, 120

    texts = sample_texts(200, seed=3)
    expected = embed_cli(a.binary, a.model, texts)   # long ones truncated to the model's limit
    alone = embed_cli(a.binary, a.model, texts, "--batch-size", "1") if a.batching == "per-request" else None
    server = Server(a.binary, a.model, "--read-timeout", str(READ_TIMEOUT_S), "--batching", a.batching)
    load = Load(server, texts, expected, a.requests, a.clients, a.time_limit, alone)
    stop, rss, fault_results = threading.Event(), [], []
    sampler = threading.Thread(target=sample_rss, args=(server, stop, rss))
    faults = threading.Thread(target=run_faults, args=(server, not a.short, stop, fault_results))
    sampler.start()
    t0 = time.time()
    faults.start()
    clients = [threading.Thread(target=load.client, args=(i,)) for i in range(a.clients)]
    for c in clients:
        c.start()
    for c in clients:
        c.join()
    wall = time.time() - t0
    stop.set()
    faults.join()
    sampler.join()
    code = server.stop()

    half = [kib for t, kib in rss if t >= t0 + wall / 2]
    mid = half[0] if half else 0
    growth = (max(half) - mid) if half else 0
    n = len(load.latencies)
    report = {
        "requests": n, "clients": a.clients, "batching": a.batching, "texts": load.rows, "errors": len(load.errors), "wrong": load.wrong,
        "bit_equal_rows": load.bit_equal, "one_text_requests_checked_for_bits": load.alone_checked, "p50_ms": round(percentile(load.latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(load.latencies, 99) * 1000, 2), "mean_ms": round(statistics.fmean(load.latencies) * 1000, 2) if n else None,
        "requests_per_s": round(n / wall, 1), "texts_per_s": round(load.rows / wall, 1), "wall_s": round(wall, 1),
        "rss_mib_start": round(rss[0][1] / 1024, 1) if rss else None, "rss_mib_mid": round(mid / 1024, 1),
        "rss_mib_max": round(max(k for _, k in rss) / 1024, 1) if rss else None,
        "rss_growth_last_half_mib": round(growth / 1024, 1), "rss_mib_by_tenth": rss_by_tenth(rss, t0, wall),
        "faults": fault_results, "exit_code": code,
    }
    print(json.dumps(report, indent=1))
    for e in load.errors[:10]:
        print("error:", e, file=sys.stderr)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)
    # RSS growth is judged on the full run only: the short one's last half is still warming up
    # (a forward keeps its scratch for the next of the same shape; new shapes keep coming).
    grew = not a.short and growth > max(16 * 1024, mid // 10)
    failed = (load.errors or load.wrong or n < a.requests or code != 0 or not all(ok for _, ok, _ in fault_results)
              or grew)
    if failed:
        print("serve_load: FAILED (see the figures above)", file=sys.stderr)
        print("".join(server.stderr_lines[-20:]), file=sys.stderr)
        return 1
    print("serve_load: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
