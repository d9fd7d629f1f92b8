#!/usr/bin/python3
"""Runs the two bootstraps as Lambda would: a fresh process with Lambda's environment, talking to a
loopback Runtime API emulator; AWS_ENDPOINT_URL_* point at dynalite, s3rver and the Management
API stand-in (the peers of tests/aws).

Usage:
  bootstrap_test.py --http PATH --ws PATH      run the built executables
  bootstrap_test.py --zip-dir DIR              unzip DIR/<fn>.zip and run its bootstrap
Options: --repo DIR (default: this checkout).
The full-flow test is skipped when node or tests/aws/node_modules is missing.
"""
import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runtime_api_emulator import RuntimeApi, lambda_environment  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARIES = {}  # "http" / "ws" -> path of the executable
ACCESS_KEY, SECRET_KEY, TOKEN = "S3RVER", "S3RVER", "session-token-for-tests"
BUCKET = "qr-upload-uploads-test"
TABLE = "qr-upload-sessions-test"
JPEG = bytes([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10]) + b"JFIF\x00" + bytes(200) + bytes([0xFF, 0xD9])


def sample(name):
    with open(os.path.join(REPO, "tests", "data", "aws-events", name), encoding="utf-8") as f:
        return json.load(f)


def http_event(method, path, query=None, headers=None, body=None):
    """An API Gateway HTTP API (payload 2.0) event, from AWS's sample with our route in it."""
    event = sample("apigw-v2-request-no-authorizer.json")
    event["routeKey"] = "%s %s" % (method, path)
    event["rawPath"] = path
    event["rawQueryString"] = urllib.parse.urlencode(query or {})
    if query:
        event["queryStringParameters"] = dict(query)
    event["headers"].update(headers or {})
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = path
    if body is not None:
        event["body"] = body
    return event


def ws_event(route, connection_id, query=None):
    """A WebSocket API route event ($connect / $disconnect)."""
    return {
        "headers": {"Host": "abcdef.execute-api.us-east-1.amazonaws.com"},
        "queryStringParameters": dict(query) if query else None,
        "requestContext": {
            "routeKey": route,
            "eventType": "CONNECT" if route == "$connect" else "DISCONNECT",
            "connectionId": connection_id,
            "domainName": "abcdef.execute-api.us-east-1.amazonaws.com",
            "stage": "live",
            "apiId": "abcdef",
            "requestId": "ws-" + connection_id,
        },
        "isBase64Encoded": False,
    }


def s3_event(key, size):
    """An S3 ObjectCreated event from AWS's sample; the key form-URL-encoded as S3 sends it."""
    event = sample("s3-event.json")
    record = event["Records"][0]
    record["s3"]["bucket"]["name"] = BUCKET
    record["s3"]["bucket"]["arn"] = "arn:aws:s3:::" + BUCKET
    record["s3"]["object"]["key"] = urllib.parse.quote_plus(key, safe="/")
    record["s3"]["object"]["size"] = size
    return event


class Peer:
    """A test peer that prints {"port": N} and exits when its stdin closes."""

    def __init__(self, argv, cwd=None):
        self.proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("peer did not start: %s" % argv)
        self.port = json.loads(line)["port"]

    def stop(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


class Bootstrap:
    """One bootstrap process with its own Runtime API emulator."""

    def __init__(self, kind, function_name, env_extra):
        self.api = RuntimeApi(function_name)
        self.task_root = os.path.dirname(BINARIES[kind])
        env = lambda_environment(self.api, function_name, env_extra)
        env["LAMBDA_TASK_ROOT"] = self.task_root
        self.stdout = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([BINARIES[kind]], cwd=self.task_root, env=env,
                                     stdout=self.stdout, stderr=subprocess.STDOUT)

    def log_lines(self):
        self.stdout.seek(0)
        return [json.loads(line) for line in self.stdout.read().decode().splitlines() if line.strip()]

    def wait_exit(self, timeout=10):
        return self.proc.wait(timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.api.stop()
        self.stdout.close()


def base_env(dynamodb_port=1, s3_port=1, apigw_port=1):
    """Complete configuration; ports default to 1 (nothing listens: calls fail fast)."""
    return {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_SESSION_TOKEN": TOKEN,
        "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:%d" % dynamodb_port,
        "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:%d" % s3_port,
        "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": "http://127.0.0.1:%d/live" % apigw_port,
        "SESSIONS_TABLE_NAME": TABLE,
        "UPLOAD_BUCKET_NAME": BUCKET,
        "MAX_UPLOAD_BYTES": "1048576",
    }


class InitErrorTest(unittest.TestCase):
    def check_init_error(self, kind, env, missing):
        boot = Bootstrap(kind, "qr-upload-%s-test" % kind, env)
        try:
            report = boot.api.wait_init_error()
            self.assertEqual(report.headers.get("lambda-runtime-function-error-type"),
                             "Runtime.ConfigInvalid")
            body = report.json()
            self.assertEqual(body["errorType"], "ConfigInvalid")
            self.assertIn(missing, body["errorMessage"])
            self.assertEqual(body["stackTrace"], [])
            self.assertNotEqual(boot.wait_exit(), 0)
            self.assertEqual(boot.api.next_times_ns, [])  # never asked for an event
            errors = [line for line in boot.log_lines() if line.get("level") == "ERROR"]
            self.assertTrue(errors and errors[0]["message"] == "Init failed", boot.log_lines())
        finally:
            boot.stop()

    def test_event_function_without_ws_endpoint_reports_init_error(self):
        env = base_env()
        del env["AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI"]
        self.check_init_error("ws", env, "WS_API_ENDPOINT")

    def test_http_function_without_table_reports_init_error(self):
        env = base_env()
        del env["SESSIONS_TABLE_NAME"]
        self.check_init_error("http", env, "SESSIONS_TABLE_NAME")

    def test_malformed_max_upload_bytes_reports_init_error(self):
        env = base_env()
        env["MAX_UPLOAD_BYTES"] = "lots"
        self.check_init_error("http", env, "MAX_UPLOAD_BYTES")

    def test_allow_list_with_a_type_the_check_cannot_recognise_reports_init_error(self):
        for kind in ("http", "ws"):
            env = base_env()
            env["ALLOWED_CONTENT_TYPES"] = "image/jpeg,image/svg+xml"
            self.check_init_error(kind, env, "ALLOWED_CONTENT_TYPES")


class SettingsTest(unittest.TestCase):
    """The stack's settings, as the template passes them, read by the process (no AWS peer)."""

    def test_the_allow_list_narrows_what_upload_urls_are_issued_for(self):
        env = base_env()
        env["ALLOWED_CONTENT_TYPES"] = "image/png,image/webp"
        boot = Bootstrap("http", "qr-upload-http-api-test", env)
        try:
            query = {"sessionId": "0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b", "contentType": "image/jpeg"}
            result = boot.api.invoke(http_event("GET", "/upload-url", query))
            self.assertEqual(result.kind, "response")
            doc = result.json()
            self.assertEqual(doc["statusCode"], 400)
            self.assertEqual(json.loads(doc["body"]), {"error": "Unsupported contentType"})
        finally:
            boot.stop()

    def test_print_env_names_every_setting_the_template_gives(self):
        for kind, extra, last in (("http", [], ["PHONE_PAGE_URL"]),
                                  ("ws", ["WS_API_ENDPOINT"], [])):
            out = subprocess.run([BINARIES[kind], "--print-env"], capture_output=True, text=True,
                                 check=True, env={"PATH": "/usr/bin:/bin"}).stdout.split()
            self.assertEqual(out, ["SESSIONS_TABLE_NAME", "UPLOAD_BUCKET_NAME"] + extra +
                             ["MAX_UPLOAD_BYTES", "ALLOWED_CONTENT_TYPES"] + last, kind)


class InvocationErrorTest(unittest.TestCase):
    """Errors as Lambda sees them, without any AWS peer."""

    def setUp(self):
        self.boot = Bootstrap("http", "qr-upload-http-api-test", base_env())

    def tearDown(self):
        self.boot.stop()

    def test_invalid_event_is_an_invocation_error_and_the_function_carries_on(self):
        result = self.boot.api.invoke("{this is not json")
        self.assertEqual(result.kind, "error")
        self.assertEqual(result.headers.get("lambda-runtime-function-error-type"),
                         "Runtime.InvalidEventJson")
        self.assertEqual(result.json()["errorType"], "InvalidEventJson")
        # Same process, next event: an OPTIONS preflight needs no AWS call.
        preflight = self.boot.api.invoke(http_event("OPTIONS", "/sessions"))
        self.assertEqual(preflight.kind, "response")
        self.assertEqual(preflight.json()["statusCode"], 204)
        self.assertIsNone(self.boot.proc.poll())
        lines = self.boot.log_lines()
        failed = [line for line in lines if line.get("message") == "Invocation failed"]
        self.assertEqual(len(failed), 1)
        self.assertIn("requestId", failed[0])

    def test_unreachable_store_is_a_500_response_not_a_crash(self):
        result = self.boot.api.invoke(http_event("POST", "/sessions"), timeout=60)
        self.assertEqual(result.kind, "response")
        self.assertEqual(result.json()["statusCode"], 500)
        self.assertIsNone(self.boot.proc.poll())
        # Lambda counts it a success: the 5xx alarm reads the function's own EMF count of it.
        points = [line for line in self.boot.log_lines()
                  if "_aws" in line and line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"]
                  == "ServerErrors"]
        self.assertEqual(len(points), 1, self.boot.log_lines())
        directive = points[0]["_aws"]["CloudWatchMetrics"][0]
        self.assertEqual(directive["Namespace"], "QrUpload")
        self.assertEqual(directive["Dimensions"], [["Service"]])
        self.assertEqual(directive["Metrics"], [{"Name": "ServerErrors", "Unit": "Count"}])
        self.assertEqual(points[0]["Service"], "qr-upload-http-api-test")
        self.assertEqual(points[0]["ServerErrors"], 1)


def peers_available():
    node = shutil.which("node")
    modules = os.path.join(REPO, "tests", "aws", "node_modules")
    return (node is not None and os.path.isdir(os.path.join(modules, "dynalite"))
            and os.path.isdir(os.path.join(modules, "s3rver")))


@unittest.skipUnless(peers_available(), "node or tests/aws/node_modules (dynalite, s3rver) missing")
class FullFlowTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        peers = os.path.join(REPO, "tests", "aws", "peers")
        cls.peers = []
        cls.dynalite = Peer(["node", os.path.join(peers, "dynalite.js")], cwd=peers)
        cls.peers.append(cls.dynalite)
        cls.s3rver = Peer(["node", os.path.join(peers, "s3rver.js"), BUCKET], cwd=peers)
        cls.peers.append(cls.s3rver)
        cls.apigw = Peer(["/usr/bin/python3", os.path.join(REPO, "tests", "aws", "py", "apigw_standin.py"),
                          ACCESS_KEY, SECRET_KEY, TOKEN, "us-east-1"])
        cls.peers.append(cls.apigw)
        cls.create_table()
        env = base_env(cls.dynalite.port, cls.s3rver.port, cls.apigw.port)
        cls.http = Bootstrap("http", "qr-upload-http-api-test", env)
        cls.ws = Bootstrap("ws", "qr-upload-websocket-event-test", env)

    @classmethod
    def tearDownClass(cls):
        for boot in (getattr(cls, "http", None), getattr(cls, "ws", None)):
            if boot:
                boot.stop()
        for peer in cls.peers:
            peer.stop()

    @classmethod
    def create_table(cls):
        """Creates the sessions table exactly as deploy/template.yaml declares it."""
        import botocore.session
        import yaml

        with open(os.path.join(REPO, "deploy", "template.yaml"), encoding="utf-8") as f:
            props = yaml.safe_load(f)["Resources"]["SessionsTable"]["Properties"]
        client = botocore.session.get_session().create_client(
            "dynamodb", region_name="us-east-1", endpoint_url="http://127.0.0.1:%d" % cls.dynalite.port,
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
        client.create_table(TableName=TABLE, BillingMode=props["BillingMode"],
                            AttributeDefinitions=props["AttributeDefinitions"],
                            KeySchema=props["KeySchema"],
                            GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"])
        client.get_waiter("table_exists").wait(TableName=TABLE, WaiterConfig={"Delay": 0.1})
        client.close()

    def body(self, result):
        self.assertEqual(result.kind, "response", result.body)
        doc = result.json()
        return doc["statusCode"], json.loads(doc["body"]) if doc.get("body") else None

    def slot(self, session_id, key):
        """The session item's slot for `key`, read from dynalite with botocore."""
        import botocore.session

        client = botocore.session.get_session().create_client(
            "dynamodb", region_name="us-east-1", endpoint_url="http://127.0.0.1:%d" % self.dynalite.port,
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
        try:
            item = client.get_item(TableName=TABLE, Key={"sessionId": {"S": session_id}},
                                   ConsistentRead=True)["Item"]
        finally:
            client.close()
        return item["uploads"]["M"][key]["M"]

    def notifications(self):
        url = "http://127.0.0.1:%d/_control/requests" % self.apigw.port
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.loads(r.read())

    def test_create_connect_upload_notify(self):
        # 1. The desktop creates a session.
        status, created = self.body(self.http.api.invoke(http_event("POST", "/sessions")))
        self.assertEqual(status, 200, created)
        session_id, token = created["sessionId"], created["desktopToken"]

        # 2. It opens its WebSocket.
        status, _ = self.body(self.ws.api.invoke(
            ws_event("$connect", "conn-1=", {"sessionId": session_id, "token": token})))
        self.assertEqual(status, 200)

        # 3. The phone asks for an upload URL and PUTs the photo to s3rver.
        status, upload = self.body(self.http.api.invoke(http_event(
            "GET", "/upload-url", {"sessionId": session_id, "contentType": "image/jpeg",
                                   "contentLength": str(len(JPEG))})))
        self.assertEqual(status, 200, upload)
        self.assertTrue(upload["uploadUrl"].startswith("http://127.0.0.1:%d/%s/" % (self.s3rver.port, BUCKET)))
        put = urllib.request.Request(upload["uploadUrl"], data=JPEG, method="PUT",
                                     headers=upload["headers"])
        with urllib.request.urlopen(put, timeout=10) as r:
            self.assertEqual(r.status, 200)

        # 4. S3 announces the object; the event function completes the session and notifies.
        status, _ = self.body(self.ws.api.invoke(s3_event(upload["uploadKey"], len(JPEG))))
        self.assertEqual(status, 200)
        notes = self.notifications()
        # The phone's claim, the photo, and (a single-photo session being full) the session's end.
        self.assertEqual([json.loads(n["body"])["action"] for n in notes],
                         ["PHONE_CONNECTED", "UPLOAD_COMPLETED", "SESSION_COMPLETED"])
        for n in notes:
            self.assertIsNone(n["error"], n)  # botocore verified the signature
        note = notes[1]
        self.assertEqual(note["connectionId"], "conn-1=")
        message = json.loads(note["body"])
        self.assertEqual(message["action"], "UPLOAD_COMPLETED")
        self.assertEqual(message["sessionId"], session_id)
        self.assertEqual(message["uploadKey"], upload["uploadKey"])
        self.assertEqual(message["size"], len(JPEG))
        self.assertIn("downloadUrl", message)
        # Delivered, so recorded on the photo's slot in DynamoDB; a second delivery of the same
        # event (S3 delivers at least once) counts nothing and sends nothing again.
        slot = self.slot(session_id, upload["uploadKey"])
        self.assertIn("notifiedAt", slot)
        self.assertNotIn("notifyingUntil", slot)
        status, again = self.body(self.ws.api.invoke(s3_event(upload["uploadKey"], len(JPEG))))
        self.assertEqual((status, again["duplicates"]), (200, 1))
        self.assertEqual(len(self.notifications()), 3)

        # 5. The desktop can read the completed session; the download URL serves the photo.
        status, state = self.body(self.http.api.invoke(http_event(
            "GET", "/sessions/" + session_id, headers={"authorization": "Bearer " + token})))
        self.assertEqual(status, 200, state)
        self.assertEqual(state["status"], "COMPLETED")
        with urllib.request.urlopen(state["downloadUrl"], timeout=10) as r:
            self.assertEqual(r.read(), JPEG)

        # 6. $disconnect finds the session through the index and always answers 200.
        status, _ = self.body(self.ws.api.invoke(ws_event("$disconnect", "conn-1=")))
        self.assertEqual(status, 200)

        # Every log line is JSON; metrics went out in Embedded Metric Format with the function name.
        metrics = {}
        for line in self.http.log_lines() + self.ws.log_lines():
            if "_aws" in line:
                for m in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                    metrics.setdefault(m["Name"], set()).add(line["Service"])
        self.assertEqual(metrics.get("SessionsCreated"), {"qr-upload-http-api-test"})
        self.assertEqual(metrics.get("UploadUrlsIssued"), {"qr-upload-http-api-test"})
        self.assertEqual(metrics.get("UploadsCompleted"), {"qr-upload-websocket-event-test"})
        for boot in (self.http, self.ws):
            self.assertIsNone(boot.proc.poll())


def main():
    global REPO
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", default=REPO)
    parser.add_argument("--http")
    parser.add_argument("--ws")
    parser.add_argument("--zip-dir")
    args, rest = parser.parse_known_args()
    REPO = os.path.abspath(args.repo)
    unpacked = None
    if args.zip_dir:
        # As Lambda does: unpack each package into its own task root and run ./bootstrap.
        unpacked = tempfile.mkdtemp(prefix="lambda-task-")
        for kind, name in (("http", "http_api_handler"), ("ws", "websocket_event_handler")):
            root = os.path.join(unpacked, name)
            with zipfile.ZipFile(os.path.join(args.zip_dir, name + ".zip")) as z:
                names = z.namelist()
                if names != ["bootstrap"]:
                    sys.exit("%s.zip must hold exactly bootstrap, has %s" % (name, names))
                info = z.getinfo("bootstrap")
                if not (info.external_attr >> 16) & 0o100:
                    sys.exit("%s.zip: bootstrap is not executable" % name)
                z.extractall(root)
            os.chmod(os.path.join(root, "bootstrap"), (info.external_attr >> 16) & 0o777)
            BINARIES[kind] = os.path.join(root, "bootstrap")
    else:
        BINARIES["http"], BINARIES["ws"] = os.path.abspath(args.http), os.path.abspath(args.ws)
    try:
        result = unittest.main(argv=[sys.argv[0]] + rest, verbosity=2, exit=False).result
    finally:
        if unpacked:
            shutil.rmtree(unpacked, ignore_errors=True)
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
