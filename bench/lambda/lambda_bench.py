#!/usr/bin/python3
"""Benchmark of the two bootstraps run as Lambda would (a harness that prints figures, not a test).

For each bootstrap, against the loopback Runtime API emulator of tests/lambda and the AWS peers of
tests/aws (dynalite, s3rver, the Management API stand-in):
  init         exec to the first GET /next (median, p90, min over --starts runs)
  per event    wall time from queuing the event to receiving the answer, as the emulator sees it
               (includes the stand-ins' own time), and the bootstrap's CPU time per invocation
               (from /proc/PID/schedstat, so the emulator's Python does not count)
  peak RSS     VmHWM of the bootstrap after all invocations
  zip size     of dist/<fn>.zip, when --zip-dir is given

Usage: lambda_bench.py --http PATH --ws PATH [--zip-dir DIR] [--iterations N] [--starts N]
       lambda_bench.py --zip-dir DIR            (benchmarks the packaged bootstraps)
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "lambda"))
import bootstrap_test as bt  # noqa: E402
from runtime_api_emulator import RuntimeApi, lambda_environment  # noqa: E402


def cpu_ns(pid):
    """CPU time the process has run, in ns (first field of schedstat)."""
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


def vm_hwm_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def fmt_ms(ns_values):
    v = sorted(ns_values)
    p90 = v[min(len(v) - 1, int(len(v) * 0.9))]
    return "median %7.3f ms  p90 %7.3f ms  min %7.3f ms" % (
        statistics.median(v) / 1e6, p90 / 1e6, v[0] / 1e6)


def measure_init(kind, name, env, starts):
    """Wall time exec -> first /next, and the CPU the process used by then (less noisy)."""
    samples, cpu = [], []
    for _ in range(starts):
        api = RuntimeApi(name)
        full_env = lambda_environment(api, name, env)
        t0 = time.monotonic_ns()
        proc = subprocess.Popen([bt.BINARIES[kind]], env=full_env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, cwd=os.path.dirname(bt.BINARIES[kind]))
        t1 = api.wait_next(1, timeout=10)
        samples.append(t1 - t0)
        cpu.append(cpu_ns(proc.pid))
        proc.kill()
        proc.wait()
        api.stop()
    return "%s\n  %-33s cpu  %s" % (fmt_ms(samples), "", fmt_ms(cpu))


class Timed:
    """Runs events through one bootstrap and records wall and CPU per event type."""

    def __init__(self, boot):
        self.boot = boot
        self.wall = {}
        self.cpu = {}

    def run(self, label, payload):
        pid = self.boot.proc.pid
        api = self.boot.api
        # Wait until the bootstrap is parked in /next, so its CPU reading is between invocations.
        api.wait_next(len(api.results) + 1)
        c0 = cpu_ns(pid)
        t0 = time.monotonic_ns()
        result = api.wait_result(api.submit(payload))
        t1 = result.received_ns
        api.wait_next(len(api.results) + 1)
        c1 = cpu_ns(pid)
        self.wall.setdefault(label, []).append(t1 - t0)
        self.cpu.setdefault(label, []).append(c1 - c0)
        return result


def body(result):
    import json
    doc = result.json()
    return json.loads(doc["body"]) if doc.get("body") else {}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--http")
    parser.add_argument("--ws")
    parser.add_argument("--zip-dir")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--starts", type=int, default=30)
    args = parser.parse_args()
    bt.REPO = REPO
    workdir = tempfile.mkdtemp(prefix="lambda-bench-")
    if args.http and args.ws:
        bt.BINARIES.update(http=os.path.abspath(args.http), ws=os.path.abspath(args.ws))
    else:
        for kind, fn in (("http", "http_api_handler"), ("ws", "websocket_event_handler")):
            root = os.path.join(workdir, fn)
            with zipfile.ZipFile(os.path.join(args.zip_dir, fn + ".zip")) as z:
                z.extractall(root)
            os.chmod(os.path.join(root, "bootstrap"), 0o755)
            bt.BINARIES[kind] = os.path.join(root, "bootstrap")

    print("machine: %s, %d CPUs" % (os.uname().release, os.cpu_count()))
    for kind in ("http", "ws"):
        print("binary %-4s %s (%d bytes)" % (kind, bt.BINARIES[kind], os.path.getsize(bt.BINARIES[kind])))
    if args.zip_dir:
        for fn in ("http_api_handler", "websocket_event_handler"):
            path = os.path.join(args.zip_dir, fn + ".zip")
            if os.path.exists(path):
                print("zip    %-24s %8d bytes (%.2f MB)" % (fn, os.path.getsize(path),
                                                          os.path.getsize(path) / 1e6))

    # Init needs no peers: the clients connect lazily, on the first call.
    print("\ninit (exec to first /next, %d starts each)" % args.starts)
    names = (("http", "qr-upload-http-api-bench"), ("ws", "qr-upload-websocket-event-bench"))
    for kind, name in names:
        print("  %-4s loopback http endpoints wall %s" % (
            kind, measure_init(kind, name, bt.base_env(), args.starts)))
    # As on Lambda, https endpoints: each TLS client builds its context and loads the CA bundle.
    # They point at a closed loopback port so the warm-up connect fails at once, without network.
    aws_env = dict(bt.base_env())
    for service in ("DYNAMODB", "S3", "APIGATEWAYMANAGEMENTAPI"):
        aws_env["AWS_ENDPOINT_URL_" + service] = "https://127.0.0.1:1"
    for kind, name in names:
        print("  %-4s https endpoints         wall %s" % (
            kind, measure_init(kind, name, aws_env, args.starts)))

    if not bt.peers_available():
        print("\n(per-invocation figures need tests/aws/node_modules: dynalite, s3rver)")
        return
    bt.FullFlowTest.setUpClass()  # peers, the table from the template, both bootstraps
    try:
        http, ws = Timed(bt.FullFlowTest.http), Timed(bt.FullFlowTest.ws)
        apigw_port, s3_port = bt.FullFlowTest.apigw.port, bt.FullFlowTest.s3rver.port
        for i in range(args.iterations):
            http.run("OPTIONS preflight (no AWS call)", bt.http_event("OPTIONS", "/sessions"))
            http.run("invalid JSON (error path)", "{nope")
            created = body(http.run("POST /sessions", bt.http_event("POST", "/sessions")))
            sid, token = created["sessionId"], created["desktopToken"]
            conn = "bench-%d=" % i
            ws.run("$connect", bt.ws_event("$connect", conn, {"sessionId": sid, "token": token}))
            upload = body(http.run("GET /upload-url", bt.http_event(
                "GET", "/upload-url", {"sessionId": sid, "contentType": "image/jpeg"})))
            req = urllib.request.Request(upload["uploadUrl"], data=bt.JPEG, method="PUT",
                                         headers=upload["headers"])
            urllib.request.urlopen(req, timeout=10).read()
            ws.run("S3 ObjectCreated", bt.s3_event(upload["uploadKey"], len(bt.JPEG)))
            http.run("GET /sessions/{id}", bt.http_event(
                "GET", "/sessions/" + sid, headers={"authorization": "Bearer " + token}))
            ws.run("$disconnect", bt.ws_event("$disconnect", conn))
        print("\nper invocation, %d iterations (wall: emulator queue -> answer; cpu: bootstrap only)"
              % args.iterations)
        for kind, timed in (("http", http), ("ws", ws)):
            for label in timed.wall:
                print("  %-4s %-32s wall %s" % (kind, label, fmt_ms(timed.wall[label])))
                print("  %-4s %-32s cpu  %s" % ("", "", fmt_ms(timed.cpu[label])))
        print("\npeak RSS (VmHWM) after %d iterations: http %d kB, ws %d kB" % (
            args.iterations, vm_hwm_kb(http.boot.proc.pid), vm_hwm_kb(ws.boot.proc.pid)))
        print("(stand-ins: dynalite on :%d, s3rver on :%d, apigw stand-in on :%d)" % (
            bt.FullFlowTest.dynalite.port, s3_port, apigw_port))
    finally:
        bt.FullFlowTest.tearDownClass()


if __name__ == "__main__":
    main()
