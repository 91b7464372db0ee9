#!/usr/bin/env python3
"""Soak run of `partrec serve`: mixed load for a while, with the server killed (SIGKILL)
and restarted on the same port and data folder a few times, checking every answer.

Load (seeded, loopback only, every loop bounded by the run's end): CLIENTS threads,
each picking at random among
  - solve: a planted instance (I = 2, N = 30, K = 3, V = 2, 6 N ln N samples); a sat
    answer's partition is checked here, independently of the server (every sample's
    class tuple must map to one value); unsat is wrong;
  - job: the same kind of instance, or (one in five) the shipped hard instance with a
    2 s timeout, submitted to /v1/jobs and fetched later; every accepted job must
    deliver a result by the end (done, failed or interrupted), after the restarts;
  - check: the planted partition through /v1/check, which must say consistent;
  - bad: a malformed body (400), an unknown route (404), and with tokens a wrong token
    (401) and another client's job (404).
Requests cut off by a kill are counted apart, neither right nor wrong.

Usage: benches/soak.py [--bin target/release/partrec] [--minutes 10] [--kills 3]
                       [--clients 8] [--legacy] [--seed 1] [--json OUT.json]
--legacy runs a server without a job database or tokens (an older build): its jobs do
not survive a restart, and the token checks are skipped. Prints a markdown summary.
"""
import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def planted(rng, n=30, k=3, values=2, ratio=6.0):
    """A planted I = 2 instance (JSON text) and its partition."""
    import math

    classes = [[rng.randrange(k) for _ in range(n)] for _ in range(2)]
    table = {(a, b): rng.randrange(values) for a in range(k) for b in range(k)}
    samples = []
    for _ in range(int(ratio * n * math.log(n))):
        x = [rng.randrange(n), rng.randrange(n)]
        samples.append({"x": x, "y": table[(classes[0][x[0]], classes[1][x[1]])]})
    instance = {"groups": [{"tokens": n, "classes": k}] * 2, "samples": samples}
    return instance, classes


def consistent(instance, partition):
    """Whether `partition` explains every sample of `instance` (its own check)."""
    if not isinstance(partition, list) or len(partition) != len(instance["groups"]):
        return False
    for group, classes in zip(instance["groups"], partition):
        if len(classes) != group["tokens"] or any(
            not isinstance(c, int) or c < 0 or c >= group["classes"] for c in classes
        ):
            return False
    seen = {}
    for s in instance["samples"]:
        cell = tuple(partition[g][t] for g, t in enumerate(s["x"]))
        if seen.setdefault(cell, s["y"]) != s["y"]:
            return False
    return True


class Server:
    """A `partrec serve` process on a fixed port, restartable."""

    def __init__(self, args, port, legacy, folder):
        self.port, self.proc = port, None
        self.command = [args.bin, "serve", "--addr", f"127.0.0.1:{port}", "-q",
                        "--workers", "2", "--timeout", "20"]
        self.tokens = None
        if not legacy:
            self.tokens = {"alice": "a" * 20 + "soak-alice", "bob": "b" * 20 + "soak-bob"}
            path = os.path.join(folder, "tokens")
            with open(path, "w") as f:
                f.writelines(f"{name} {token}\n" for name, token in self.tokens.items())
            self.command += ["--data-dir", os.path.join(folder, "data"), "--token-file", path]
        self.log = open(os.path.join(folder, "server.log"), "ab")

    def start(self):
        t = time.monotonic()
        self.proc = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=self.log)
        line = self.proc.stdout.readline().decode()
        if "listening on" not in line:
            sys.exit(f"soak: the server did not start: {line!r}")
        return time.monotonic() - t

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.wrong = []
        self.latency = []

    def add(self, what, seconds=None):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1
            if seconds is not None:
                self.latency.append(seconds)

    def bad(self, what, detail):
        with self.lock:
            self.wrong.append(f"{what}: {detail}"[:300])


def request(port, method, path, body=None, token=None, content_type="application/json"):
    """(status, parsed JSON or text); raises OSError when the connection fails."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"content-type": content_type}
    if token:
        headers["authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
    except (http.client.HTTPException, ValueError) as e:
        raise OSError(str(e)) from e
    finally:
        connection.close()
    try:
        return response.status, json.loads(text)
    except ValueError:
        return response.status, text


def client(index, args, server, end, tally, jobs, pool, hard):
    rng = random.Random(args.seed * 1000 + index)
    names = list(server.tokens) if server.tokens else [None]
    me = names[index % len(names)]
    token = server.tokens[me] if me else None
    other = names[(index + 1) % len(names)]
    mine = []
    while time.monotonic() < end:
        instance, classes = rng.choice(pool)
        kind = rng.choices(["solve", "job", "fetch", "check", "bad"], [40, 15, 15, 15, 15])[0]
        t = time.monotonic()
        try:
            if kind == "solve":
                status, answer = request(server.port, "POST", "/v1/solve",
                                         json.dumps(instance), token)
                if status != 200:
                    tally.bad("solve", f"status {status}: {answer}")
                elif answer["status"] == "sat" and not consistent(instance, answer["partition"]):
                    tally.bad("solve", "an inconsistent partition")
                elif answer["status"] == "unsat":
                    tally.bad("solve", "unsat for a planted instance")
            elif kind == "job":
                is_hard = rng.random() < 0.2
                body = hard if is_hard else json.dumps(instance)
                status, answer = request(server.port, "POST", "/v1/jobs", body, token)
                if status == 202:
                    job = {"id": answer["id"], "instance": None if is_hard else instance,
                           "token": token, "owner": me}
                    mine.append(job)
                    with jobs["lock"]:
                        jobs["accepted"] += 1
                elif status != 503:
                    tally.bad("job", f"status {status}: {answer}")
            elif kind == "fetch":
                if not mine:
                    continue
                job = mine.pop(0)
                if not fetch(server.port, job, tally, jobs):
                    mine.append(job)
            elif kind == "check":
                body = json.dumps({"instance": instance, "solution": {"partition": classes}})
                status, answer = request(server.port, "POST", "/v1/check", body, token)
                if status != 200 or answer.get("consistent") is not True:
                    tally.bad("check", f"status {status}: {answer}")
            else:
                case = rng.randrange(4)
                if case == 0:
                    status, _ = request(server.port, "POST", "/v1/solve", '{"groups": [', token)
                    want = 400
                elif case == 1:
                    status, _ = request(server.port, "GET", "/v1/nowhere", None, token)
                    want = 404
                elif case == 2 and token:
                    status, _ = request(server.port, "POST", "/v1/solve",
                                        json.dumps(instance), "x" * 24)
                    want = 401
                elif case == 3 and token and mine:
                    peek = server.tokens[other] if other != me else None
                    status, _ = request(server.port, "GET", f"/v1/jobs/{mine[0]['id']}", None, peek)
                    want = 404 if peek else 200
                else:
                    status, _ = request(server.port, "GET", "/v1/health")
                    want = 200
                if status != want:
                    tally.bad("bad", f"case {case}: status {status}, expected {want}")
            tally.add(kind, time.monotonic() - t)
        except OSError:
            tally.add(f"{kind} cut off by a restart")
            time.sleep(0.05)
    with jobs["lock"]:
        jobs["outstanding"].extend(mine)


def fetch(port, job, tally, jobs):
    """Fetches a job once; True when it is settled (delivered or lost)."""
    status, answer = request(port, "GET", f"/v1/jobs/{job['id']}", None, job["token"])
    if status == 404:
        with jobs["lock"]:
            jobs["lost"] += 1
        return True
    if status != 200:
        tally.bad("fetch", f"status {status}: {answer}")
        return True
    state = answer["state"]
    if state in ("pending", "running"):
        return False
    with jobs["lock"]:
        jobs["delivered"][state] = jobs["delivered"].get(state, 0) + 1
    if state == "done" and job["instance"] is not None:
        result = answer["result"]
        if result["status"] == "unsat" or (
            result["status"] == "sat" and not consistent(job["instance"], result["partition"])
        ):
            tally.bad("job", f"a wrong answer: {result['status']}")
    return True


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bin", default=os.path.join(ROOT, "target/release/partrec"))
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--kills", type=int, default=3)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--legacy", action="store_true")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json")
    args = p.parse_args()
    rng = random.Random(args.seed)
    pool = [planted(rng) for _ in range(20)]
    with open(os.path.join(ROOT, "instances/hard-three-groups.json")) as f:
        hard = json.load(f)
    hard["options"] = {"timeout": 2}
    hard = json.dumps(hard)
    folder = tempfile.mkdtemp(prefix="partrec-soak-")
    server = Server(args, free_port(), args.legacy, folder)
    server.start()
    tally = Tally()
    jobs = {"lock": threading.Lock(), "accepted": 0, "lost": 0, "delivered": {},
            "outstanding": []}
    start = time.monotonic()
    end = start + args.minutes * 60
    threads = [threading.Thread(target=client, args=(i, args, server, end, tally, jobs, pool, hard))
               for i in range(args.clients)]
    for t in threads:
        t.start()
    restarts = []
    for k in range(1, args.kills + 1):
        at = start + args.minutes * 60 * k / (args.kills + 1)
        time.sleep(max(0.0, at - time.monotonic()))
        server.kill()
        restarts.append(server.start())
    for t in threads:
        t.join()
    load_seconds = time.monotonic() - start
    # Drain: every outstanding job must settle (bounded).
    drain_end = time.monotonic() + 120
    pending = list(jobs["outstanding"])
    while pending and time.monotonic() < drain_end:
        pending = [job for job in pending if not fetch(server.port, job, tally, jobs)]
        if pending:
            time.sleep(0.2)
    server.stop()
    answered = sum(n for kind, n in tally.counts.items() if "cut off" not in kind)
    lat = sorted(tally.latency)
    summary = {
        "binary": args.bin, "legacy": args.legacy, "minutes": args.minutes,
        "kills": args.kills, "clients": args.clients,
        "requests": tally.counts, "answered_per_second": answered / load_seconds,
        "p50_ms": 1e3 * lat[len(lat) // 2] if lat else None,
        "p99_ms": 1e3 * lat[int(len(lat) * 0.99)] if lat else None,
        "restart_seconds": restarts, "jobs_accepted": jobs["accepted"],
        "jobs_delivered": jobs["delivered"], "jobs_lost": jobs["lost"],
        "jobs_unsettled": len(pending), "wrong": len(tally.wrong),
        "wrong_examples": tally.wrong[:5],
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)
    print(f"| {'legacy' if args.legacy else 'durable'} | {args.minutes:g} min, {args.kills} kills | "
          f"{summary['answered_per_second']:.0f} | {summary['p50_ms']:.0f} / {summary['p99_ms']:.0f} ms | "
          f"{jobs['accepted']} | {sum(jobs['delivered'].values())} | {jobs['lost']} | "
          f"{len(pending)} | {len(tally.wrong)} |")
    print(json.dumps(summary), file=sys.stderr)
    return 1 if tally.wrong or (not args.legacy and (jobs["lost"] or pending)) else 0


if __name__ == "__main__":
    sys.exit(main())
