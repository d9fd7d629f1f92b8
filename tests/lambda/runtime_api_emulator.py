"""A loopback Lambda Runtime API (2018-06-01) for running the bootstraps as Lambda would.

Serves GET /runtime/invocation/next (blocking until the test queues an event), the response and
error POSTs, and /runtime/init/error. Records when each /next arrives, so a benchmark can time
init (exec to first /next) and the overhead between invocations.

Used by tests/lambda/bootstrap_test.py and bench/lambda/lambda_bench.py.
"""
import json
import queue
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:{name}"


class Result:
    """What the bootstrap reported for one invocation."""

    def __init__(self, kind, body, headers):
        self.kind = kind          # "response" or "error"
        self.body = body          # bytes as received
        self.headers = headers    # dict, lowercase names
        self.received_ns = time.monotonic_ns()

    def json(self):
        return json.loads(self.body)


class RuntimeApi:
    """One emulated Runtime API on 127.0.0.1:<port chosen by the OS>."""

    def __init__(self, function_name="qr-upload-test", timeout_ms=30000):
        self.function_name = function_name
        self.timeout_ms = timeout_ms
        self.events = queue.Queue()
        self.results = {}
        self.init_errors = []
        self.next_times_ns = []  # monotonic time of each GET /next
        self.lock = threading.Condition()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                # Headers and body go out in two writes; without this, Nagle holds the body
                # back until the bootstrap's delayed ACK (40 ms) and every invocation pays it.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def handle(self):
                try:
                    super().handle()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the bootstrap was stopped by the test

            def reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the bootstrap was stopped by the test

            def do_GET(self):
                if self.path != PREFIX + "/invocation/next":
                    self.reply(404, b'{"errorMessage":"not found"}')
                    return
                with api.lock:
                    api.next_times_ns.append(time.monotonic_ns())
                    api.lock.notify_all()
                request_id, payload, deadline_ms, trace = api.events.get()
                if request_id is None:  # stop(): leave the bootstrap blocked no longer
                    self.close_connection = True
                    self.reply(500, b'{"errorMessage":"emulator stopping"}')
                    return
                self.reply(200, payload, [
                    ("Content-Type", "application/json"),
                    ("Lambda-Runtime-Aws-Request-Id", request_id),
                    ("Lambda-Runtime-Deadline-Ms", str(deadline_ms)),
                    ("Lambda-Runtime-Invoked-Function-Arn",
                     FUNCTION_ARN.format(name=api.function_name)),
                    ("Lambda-Runtime-Trace-Id", trace),
                ])

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                path = self.path
                if path == PREFIX + "/init/error":
                    with api.lock:
                        api.init_errors.append(Result("init_error", body, headers))
                        api.lock.notify_all()
                    self.reply(202, b'{"status":"OK"}')
                    return
                parts = path[len(PREFIX):].split("/")  # ["", "invocation", id, kind]
                if (not path.startswith(PREFIX) or len(parts) != 4 or parts[1] != "invocation"
                        or parts[3] not in ("response", "error")):
                    self.reply(404, b'{"errorMessage":"not found"}')
                    return
                with api.lock:
                    api.results[parts[2]] = Result(parts[3], body, headers)
                    api.lock.notify_all()
                self.reply(202, b'{"status":"OK"}')

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self):
        return "127.0.0.1:%d" % self.server.server_address[1]

    def submit(self, payload, deadline_ms=None, trace="Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"):
        """Queues one event (dict, str or bytes); returns its request id."""
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload)
        if isinstance(payload, str):
            payload = payload.encode()
        request_id = str(uuid.uuid4())
        if deadline_ms is None:
            deadline_ms = int(time.time() * 1000) + self.timeout_ms
        self.events.put((request_id, payload, deadline_ms, trace))
        return request_id

    def wait_result(self, request_id, timeout=30.0):
        """The bootstrap's answer to `request_id` (raises TimeoutError)."""
        end = time.monotonic() + timeout
        with self.lock:
            while request_id not in self.results:
                left = end - time.monotonic()
                if left <= 0 or not self.lock.wait(left):
                    if request_id in self.results:
                        break
                    raise TimeoutError("no result for " + request_id)
            return self.results[request_id]

    def invoke(self, payload, timeout=30.0, **kwargs):
        """Queues `payload` and waits for its result."""
        return self.wait_result(self.submit(payload, **kwargs), timeout)

    def wait_next(self, count=1, timeout=30.0):
        """Waits until /next has been called `count` times; returns the last call's time (ns)."""
        end = time.monotonic() + timeout
        with self.lock:
            while len(self.next_times_ns) < count:
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError("bootstrap never called /next")
                self.lock.wait(left)
            return self.next_times_ns[count - 1]

    def wait_init_error(self, timeout=30.0):
        end = time.monotonic() + timeout
        with self.lock:
            while not self.init_errors:
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no init error")
                self.lock.wait(left)
            return self.init_errors[0]

    def stop(self):
        self.events.put((None, b"", 0, ""))
        self.server.shutdown()
        self.server.server_close()


def lambda_environment(api, function_name, extra=None, memory_mb=128):
    """The environment Lambda gives a provided.al2023 bootstrap, plus `extra`."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "_HANDLER": "bootstrap",
        "AWS_LAMBDA_RUNTIME_API": api.endpoint,
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/" + function_name,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    env.update(extra or {})
    return env
