"""Starting `slimformer serve` and talking to it over loopback, for the serve tests and
bench/serve_load.py (stdlib only)."""
import http.client
import json
import os
import re
import subprocess
import threading
import time


class Server:
    """`slimformer serve --port 0 ...` in a child process; address from its ready line on stderr."""

    def __init__(self, binary, model, *flags, ready_timeout=120):
        self.proc = subprocess.Popen([binary, "serve", "--model", model, "--port", "0", *flags],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stderr_lines = []
        deadline = time.time() + ready_timeout
        while True:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError("serve exited before it was ready: " + "".join(self.stderr_lines) +
                                   self.proc.stderr.read())
            self.stderr_lines.append(line)
            m = re.search(r"listening on http://([^:]+):(\d+)", line)
            if m:
                self.host, self.port = m.group(1), int(m.group(2))
                break
            if time.time() > deadline:
                raise RuntimeError("serve did not print its address in time")
        # Keep draining stderr so the server never blocks on a full pipe.
        self._drain = threading.Thread(target=self._read_rest, daemon=True)
        self._drain.start()

    def _read_rest(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    def connection(self, timeout=60):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, content_type="application/json", conn=None, headers=None):
        """(status, parsed JSON or text) of one request; a fresh connection unless one is given."""
        c = conn or self.connection()
        h = dict(headers or {})
        if content_type is not None:
            h["Content-Type"] = content_type
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        if conn is None:
            c.close()
        ctype = r.getheader("Content-Type", "")
        return r.status, (json.loads(data) if ctype.startswith("application/json") else data.decode())

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self, timeout=30):
        """SIGTERM, then the exit code (killed and None if it did not stop in time)."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


def embed_cli(binary, model, texts, *flags):
    """`slimformer embed --format jsonl` rows for texts (one per line; none may hold a newline)."""
    out = subprocess.run([binary, "embed", "--model", model, "--format", "jsonl", *flags],
                         input="\n".join(texts) + "\n", capture_output=True, text=True, check=True).stdout
    return [json.loads(line)["embedding"] for line in out.splitlines()]


def tokenize_cli(binary, model, texts):
    out = subprocess.run([binary, "tokenize", "--model", model], input="\n".join(texts) + "\n",
                         capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def sample_texts(n, seed=0):
    """n texts of mixed lengths (a few words to past 128 tokens), some with non-ASCII letters."""
    words = ("the quick brown fox jumps over a lazy dog while naïve café owners sell crème brûlée "
             "to tourists from Zürich and São Paulo at 7:30 every morning ; numbers 12345 67 and "
             "symbols like #hash @at & percent % appear too").split()
    texts, state = [], seed * 7919 + 17
    for i in range(n):
        state = (state * 1103515245 + 12345) % (1 << 31)
        length = 1 + state % (90 if i % 10 else 160)
        texts.append(" ".join(words[(state // 7 + k * 3) % len(words)] for k in range(length)))
    return texts


def metric(text, name_and_labels):
    """The value of one sample line of Prometheus text, 0 if absent."""
    for line in text.splitlines():
        if line.startswith(name_and_labels + " "):
            return float(line.split()[-1])
    return 0.0


def here():
    return os.path.dirname(os.path.abspath(__file__))
