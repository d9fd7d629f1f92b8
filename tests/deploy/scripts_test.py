#!/usr/bin/python3
"""Checks deploy/deploy.sh and deploy/package.sh without AWS: syntax (bash -n, shellcheck when
installed), the config.js it writes (evaluated by node like the pages do), the template it renders
(WebSocket deployment renamed by a hash of the routes; cfn-lint clean), and whole runs of
deploy.sh (deploy, recovery from a rolled-back first create, --delete, --replay-failed) against a
stub `aws` that records its calls, keeps a little state (stack status, S3 objects, an SQS queue)
and answers with canned stack outputs.

Run: /usr/bin/python3 tests/deploy/scripts_test.py [--repo DIR] [--cfn-lint PATH]
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

import yaml

# The helper beside this file; no __pycache__ left in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cfn_lint  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

OUTPUTS = {
    "HttpApiUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com",
    "WebSocketUrl": "wss://def456.execute-api.eu-west-1.amazonaws.com/live",
    "PhoneUrl": "https://d111111abcdef8.cloudfront.net/phone.html",
    "SiteUrl": "https://d111111abcdef8.cloudfront.net",
    "SiteBucketName": "qr-upload-test-sitebucket-1",
    "SiteDistributionId": "E2EXAMPLE",
    "MaxUploadBytes": "26214400",
    "FailedEventsQueueUrl": "https://sqs.eu-west-1.amazonaws.com/123456789012/qr-upload-failed-events-test",
    "WebSocketEventFunctionName": "qr-upload-websocket-event-test",
}
ARTIFACTS = "qr-upload-artifacts-123456789012-eu-west-1"

# The stub aws CLI: logs each call as a JSON line to STUB_LOG and keeps its state in STUB_STATE:
# the stack's status ("NONE" = no stack; starts as STUB_STACK_STATUS), the SQS queue (a JSON list),
# the Lambda invocations and the last template deployed. S3 is a directory tree in STUB_S3_DIR.
# A Lambda invocation fails when its payload mentions "still-broken".
STUB = textwrap.dedent("""\
    #!/usr/bin/python3
    import json, os, re, shutil, sys
    args = sys.argv[1:]
    with open(os.environ["STUB_LOG"], "a") as f:
        f.write(json.dumps(args) + "\\n")
    outputs = json.loads(os.environ["STUB_OUTPUTS"])
    store = os.environ["STUB_S3_DIR"]
    state = os.environ["STUB_STATE"]
    def local(url):
        return os.path.join(store, url[len("s3://"):])
    def opt(name, default=None):
        return args[args.index(name) + 1] if name in args else default
    def load(name, default):
        path = os.path.join(state, name)
        if not os.path.exists(path):
            return default
        with open(path) as f:
            return json.load(f)
    def save(name, value):
        with open(os.path.join(state, name), "w") as f:
            json.dump(value, f)
    status = load("status", os.environ.get("STUB_STACK_STATUS", "CREATE_COMPLETE"))
    if args[:2] == ["sts", "get-caller-identity"]:
        print("123456789012")
    elif args[:2] == ["cloudformation", "describe-stacks"]:
        if status == "NONE":
            sys.stderr.write("An error occurred (ValidationError) when calling the DescribeStacks "
                             "operation: Stack with id %s does not exist\\n" % opt("--stack-name"))
            sys.exit(254)
        query = opt("--query")
        if query == "Stacks[0].StackStatus":
            print(status)
        else:
            print(outputs[re.search(r"OutputKey=='(\\w+)'", query).group(1)])
    elif args[:2] == ["cloudformation", "deploy"]:
        shutil.copyfile(opt("--template-file"), os.path.join(state, "deployed-template.yaml"))
        save("status", "CREATE_COMPLETE" if status == "NONE" else "UPDATE_COMPLETE")
    elif args[:2] == ["cloudformation", "delete-stack"]:
        save("status", "NONE")
    elif args[:2] == ["cloudformation", "list-stack-resources"]:
        print("\\t".join(json.loads(os.environ.get("STUB_BUCKETS", "[]"))))
    elif args[:2] == ["s3", "cp"]:
        os.makedirs(os.path.dirname(local(args[3])), exist_ok=True)
        shutil.copyfile(args[2], local(args[3]))
    elif args[:2] == ["s3", "sync"]:
        excluded = [args[i + 1] for i, a in enumerate(args) if a == "--exclude"]
        for root, _, files in os.walk(args[2]):
            for name in files:
                rel = os.path.relpath(os.path.join(root, name), args[2])
                if rel in excluded:
                    continue
                dest = os.path.join(local(args[3]), rel)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.copyfile(os.path.join(root, name), dest)
    elif args[:2] == ["s3", "rm"]:
        assert "--recursive" in args, args
        shutil.rmtree(local(args[2]), ignore_errors=True)
    elif args[:2] == ["sqs", "receive-message"]:
        queue = load("queue", [])
        batch = [m for m in queue if not m.get("hidden")][:int(opt("--max-number-of-messages", "1"))]
        for m in batch:
            m["hidden"] = True
        save("queue", queue)
        if batch:
            print(json.dumps({"Messages": [{k: m[k] for k in ("MessageId", "ReceiptHandle", "Body")}
                                           for m in batch]}, indent=4))
    elif args[:2] == ["sqs", "delete-message"]:
        save("queue", [m for m in load("queue", []) if m["ReceiptHandle"] != opt("--receipt-handle")])
    elif args[:2] == ["lambda", "invoke"]:
        payload_arg = opt("--payload")
        assert payload_arg.startswith("fileb://"), payload_arg
        with open(payload_arg[len("fileb://"):]) as f:
            payload = json.load(f)
        save("invocations", load("invocations", []) + [{"function": opt("--function-name"),
                                                        "payload": payload}])
        broken = "still-broken" in json.dumps(payload)
        with open(args[-1], "w") as f:
            f.write('{"errorType": "Runtime.Error", "errorMessage": "storage down"}' if broken else "null")
        meta = {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
        if broken:
            meta["FunctionError"] = "Unhandled"
        print(json.dumps(meta, indent=4))
    elif args[:2] == ["cloudfront", "create-invalidation"]:
        print("{}")
    """)


def s3_event(key):
    """An S3 ObjectCreated event as S3 sends it to the event function."""
    return {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "eu-west-1",
                         "eventName": "ObjectCreated:Put",
                         "s3": {"bucket": {"name": "qr-upload-uploads-123456789012-eu-west-1-test"},
                                "object": {"key": key, "size": 1234}}}]}


def invocation_record(event, request_id):
    """What Lambda sends to an on-failure destination after the last attempt of an async event."""
    return {"version": "1.0", "timestamp": "2024-05-01T10:00:00.000Z",
            "requestContext": {"requestId": request_id,
                               "functionArn": "arn:aws:lambda:eu-west-1:123456789012:function:"
                                              "qr-upload-websocket-event-test:$LATEST",
                               "condition": "RetriesExhausted", "approximateInvokeCount": 3},
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                                "functionError": "Unhandled"},
            "responsePayload": {"errorType": "Runtime.Error", "errorMessage": "storage down"}}


class StubAws:
    """A scratch directory with the stub aws CLI first on PATH, and a way to run deploy.sh."""

    def __init__(self, status="CREATE_COMPLETE", buckets=(), queue=()):
        self.work = tempfile.mkdtemp(prefix="deploy-test-")
        self.bin, self.dist, self.store, self.state = (
            os.path.join(self.work, d) for d in ("bin", "dist", "s3", "state"))
        for d in (self.bin, self.dist, self.store, self.state):
            os.makedirs(d)
        stub = os.path.join(self.bin, "aws")
        with open(stub, "w") as f:
            f.write(STUB)
        os.chmod(stub, 0o755)
        for fn in ("http_api_handler", "websocket_event_handler"):
            with open(os.path.join(self.dist, fn + ".zip"), "wb") as f:
                f.write(fn.encode())
        self.log = os.path.join(self.work, "calls.jsonl")
        self.buckets = list(buckets)
        self.save("status", status)
        self.save("queue", list(queue))

    def save(self, name, value):
        with open(os.path.join(self.state, name), "w") as f:
            json.dump(value, f)

    def load(self, name, default=None):
        path = os.path.join(self.state, name)
        if not os.path.exists(path):
            return default
        with open(path) as f:
            return json.load(f)

    def put_object(self, bucket, key, data=b"x"):
        path = os.path.join(self.store, bucket, key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    def objects(self, bucket):
        root = os.path.join(self.store, bucket)
        return sorted(os.path.relpath(os.path.join(d, n), root)
                      for d, _, names in os.walk(root) for n in names)

    def run(self, *args, **extra_env):
        env = dict(os.environ, PATH=self.bin + ":" + os.environ["PATH"], STUB_LOG=self.log,
                   STUB_OUTPUTS=json.dumps(OUTPUTS), STUB_S3_DIR=self.store, STUB_STATE=self.state,
                   STUB_BUCKETS=json.dumps(self.buckets), AWS_REGION="eu-west-1",
                   SKIP_PACKAGE="1", DIST_DIR=self.dist)
        env.pop("ARTIFACTS_BUCKET", None)
        env.pop("PARAMETER_OVERRIDES", None)
        env.update(extra_env)
        return subprocess.run(["bash", os.path.join(REPO, "deploy", "deploy.sh")] + list(args),
                              env=env, capture_output=True, text=True, timeout=60)

    def calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f]

    def close(self):
        shutil.rmtree(self.work, ignore_errors=True)


def index_of(calls, prefix):
    """Position of the first call starting with `prefix` (a list), or -1."""
    for i, c in enumerate(calls):
        if c[:len(prefix)] == prefix:
            return i
    return -1


def source_in_bash(function, *args):
    """Runs one function of deploy.sh (sourced, so main does not run)."""
    return subprocess.run(["bash", "-c", 'source "$1" && shift && "$@"', "bash",
                           os.path.join(REPO, "deploy", "deploy.sh"), function] + list(args),
                          capture_output=True, text=True)


def read_config_js(path):
    """Evaluates a config.js as the browser would and returns window.QR_UPLOAD_CONFIG."""
    node = shutil.which("node")
    if node:
        script = ("const fs=require('fs');global.window={};eval(fs.readFileSync(process.argv[1],'utf8'));"
                  "process.stdout.write(JSON.stringify(window.QR_UPLOAD_CONFIG))")
        out = subprocess.run([node, "-e", script, path], capture_output=True, text=True, check=True)
        return json.loads(out.stdout)
    # Without node: the object literal as JSON after quoting its keys.
    text = open(path, encoding="utf-8").read()
    body = re.search(r"QR_UPLOAD_CONFIG\s*=\s*(\{.*?\})\s*;", text, re.S).group(1)
    return json.loads(re.sub(r"(\w+)\s*:", r'"\1":', body))


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class ScriptsTest(unittest.TestCase):
    scripts = ("deploy/deploy.sh", "deploy/package.sh")

    def test_bash_syntax(self):
        for script in self.scripts:
            subprocess.run(["bash", "-n", os.path.join(REPO, script)], check=True)
            self.assertTrue(os.access(os.path.join(REPO, script), os.X_OK), script)

    def test_shellcheck(self):
        if shutil.which("shellcheck") is None:
            self.skipTest("shellcheck not installed (apt-get install shellcheck)")
        result = subprocess.run(["shellcheck"] + [os.path.join(REPO, s) for s in self.scripts],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout)

    def write_config(self, *values):
        out = os.path.join(tempfile.mkdtemp(), "config.js")
        result = subprocess.run(
            ["bash", "-c", 'source "$1" && shift && write_web_config "$@"', "bash",
             os.path.join(REPO, "deploy", "deploy.sh"), out] + list(values),
            capture_output=True, text=True)
        return result, out

    def test_config_js_has_the_pages_format(self):
        result, out = self.write_config(OUTPUTS["HttpApiUrl"], OUTPUTS["WebSocketUrl"],
                                        OUTPUTS["PhoneUrl"], "1048576")
        self.assertEqual(result.returncode, 0, result.stderr)
        config = read_config_js(out)
        # confirmTimeoutMs: on AWS the phone waits up to 90 s for S3's event to reach the Lambda
        # that accepts the photo (issue 11), not the pages' 15 s default. No shortLinkBase: the
        # pages and the API are on different origins, so the phone page's address is typed.
        self.assertEqual(config, {"apiBase": OUTPUTS["HttpApiUrl"], "wsUrl": OUTPUTS["WebSocketUrl"],
                                  "phoneUrl": OUTPUTS["PhoneUrl"], "maxUploadBytes": 1048576,
                                  "confirmTimeoutMs": 90000})
        # The repository's own config.js's keys, which the pages read, plus the AWS-only timeout.
        self.assertEqual(set(config) - {"confirmTimeoutMs"},
                         set(read_config_js(os.path.join(REPO, "web", "config.js"))))
        # The pages read the timeout under this name (web/common.js's resolveConfig).
        with open(os.path.join(REPO, "web", "common.js"), encoding="utf-8") as f:
            self.assertIn("config.confirmTimeoutMs", f.read())

    def test_config_js_refuses_values_that_would_need_escaping(self):
        result, _ = self.write_config('https://x"; alert(1); "', "wss://y", "https://z", "1")
        self.assertNotEqual(result.returncode, 0)
        result, _ = self.write_config("https://x", "wss://y", "https://z", "1e9")
        self.assertNotEqual(result.returncode, 0)
        # What it refuses, it does not half-write either.
        result, out = self.write_config("https://x", "wss://y", "https://z/</script>", "1")
        self.assertNotEqual(result.returncode, 0)
        self.assertFalse(os.path.exists(out))

    def test_deploy_run_against_a_stub_aws_cli(self):
        aws = StubAws(status="NONE")
        try:
            dist, store = aws.dist, aws.store
            repo_config = os.path.join(REPO, "web", "config.js")
            template = os.path.join(REPO, "deploy", "template.yaml")
            before, template_before = sha256(repo_config), sha256(template)
            result = aws.run("test", PARAMETER_OVERRIDES="PointInTimeRecovery=true")
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            self.assertEqual(sha256(repo_config), before, "deploy.sh modified web/config.js")
            self.assertEqual(sha256(template), template_before, "deploy.sh modified the template")
            calls = aws.calls()

            # The zips went to the artifacts bucket under the keys the stack is given.
            artifacts = ARTIFACTS
            uploads = {c[3]: c[2] for c in calls if c[:2] == ["s3", "cp"] and c[2].endswith(".zip")}
            (deploy,) = [c for c in calls if c[:2] == ["cloudformation", "deploy"]]
            self.assertEqual(deploy[deploy.index("--stack-name") + 1], "qr-upload-test")
            self.assertIn("CAPABILITY_IAM", deploy)
            start = deploy.index("--parameter-overrides") + 1
            params = dict(p.split("=", 1) for p in deploy[start:])
            self.assertEqual(params["Env"], "test")
            self.assertEqual(params["ArtifactsBucket"], artifacts)
            self.assertEqual(params["PointInTimeRecovery"], "true")
            for param, fn in (("HttpApiCodeKey", "http_api_handler"),
                              ("WebSocketEventCodeKey", "websocket_event_handler")):
                self.assertRegex(params[param], r"^qr-upload/test/%s-[0-9a-f]{16}\.zip$" % fn)
                self.assertEqual(uploads["s3://%s/%s" % (artifacts, params[param])],
                                 os.path.join(dist, fn + ".zip"))
            # The template goes through S3 (CloudFormation refuses bodies over 51,200 bytes).
            self.assertEqual(deploy[deploy.index("--s3-bucket") + 1], artifacts)

            # Every template parameter without a default is given; nothing unknown is.
            with open(template, encoding="utf-8") as f:
                declared = yaml.safe_load(f)["Parameters"]
            self.assertLessEqual(set(params), set(declared))
            self.assertLessEqual({k for k, v in declared.items() if "Default" not in v}, set(params))

            # What was deployed is the rendered template: the WebSocket deployment's logical ID
            # carries the routes' hash, which is also the WebSocketRoutesHash parameter.
            routes_hash = params["WebSocketRoutesHash"]
            self.assertRegex(routes_hash, r"^[0-9a-f]{12}$")
            with open(os.path.join(aws.state, "deployed-template.yaml"), encoding="utf-8") as f:
                deployed = yaml.safe_load(f)["Resources"]
            self.assertIn("WebSocketDeployment" + routes_hash, deployed)
            self.assertNotIn("WebSocketDeployment", deployed)

            # The site bucket holds the pages and a config.js with the stack's endpoints.
            site = os.path.join(store, OUTPUTS["SiteBucketName"])
            self.assertTrue(os.path.exists(os.path.join(site, "index.html")))
            self.assertTrue(os.path.exists(os.path.join(site, "phone.html")))
            self.assertFalse(os.path.exists(os.path.join(site, "node_modules")))
            self.assertEqual(read_config_js(os.path.join(site, "config.js")), {
                "apiBase": OUTPUTS["HttpApiUrl"], "wsUrl": OUTPUTS["WebSocketUrl"],
                "phoneUrl": OUTPUTS["PhoneUrl"], "maxUploadBytes": 26214400, "confirmTimeoutMs": 90000})
            (sync,) = [c for c in calls if c[:2] == ["s3", "sync"]]
            self.assertNotEqual(os.path.realpath(sync[2]), os.path.realpath(os.path.join(REPO, "web")))
            self.assertTrue([c for c in calls if c[:2] == ["cloudfront", "create-invalidation"]])
            self.assertIn(OUTPUTS["SiteUrl"], result.stdout)
            # A stack that did not exist is simply created: nothing is deleted.
            self.assertEqual(index_of(calls, ["cloudformation", "delete-stack"]), -1)
        finally:
            aws.close()

    def test_deploy_rejects_a_bad_environment_name(self):
        result = subprocess.run(["bash", os.path.join(REPO, "deploy", "deploy.sh"), "Bad_Env!"],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 2)
        for args in (["--delete", "Bad_Env!"], ["--replay-failed"], ["--bogus", "test"],
                     ["test", "extra"]):
            result = subprocess.run(["bash", os.path.join(REPO, "deploy", "deploy.sh")] + args,
                                    capture_output=True, text=True)
            self.assertEqual(result.returncode, 2, args)

    # ------------------------------------------------------------------ a first create rolled back
    def test_deploy_recreates_a_stack_whose_first_create_rolled_back(self):
        aws = StubAws(status="ROLLBACK_COMPLETE")
        try:
            result = aws.run("test")
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            calls = aws.calls()
            delete = index_of(calls, ["cloudformation", "delete-stack"])
            wait = index_of(calls, ["cloudformation", "wait", "stack-delete-complete"])
            deploy = index_of(calls, ["cloudformation", "deploy"])
            self.assertGreaterEqual(delete, 0, calls)
            self.assertEqual(calls[delete][calls[delete].index("--stack-name") + 1], "qr-upload-test")
            # Deleted, and only then created again.
            self.assertLess(delete, wait)
            self.assertLess(wait, deploy)
            self.assertEqual(aws.load("status"), "CREATE_COMPLETE")
            self.assertIn("ROLLBACK_COMPLETE", result.stdout)
        finally:
            aws.close()

    def test_deploy_updates_a_healthy_stack_without_deleting_it(self):
        aws = StubAws(status="UPDATE_ROLLBACK_COMPLETE")
        try:
            result = aws.run("test")
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            self.assertEqual(index_of(aws.calls(), ["cloudformation", "delete-stack"]), -1)
            self.assertGreaterEqual(index_of(aws.calls(), ["cloudformation", "deploy"]), 0)
        finally:
            aws.close()

    def test_deploy_stops_on_a_stack_that_failed_to_roll_back(self):
        aws = StubAws(status="ROLLBACK_FAILED")
        try:
            result = aws.run("test")
            self.assertEqual(result.returncode, 1)
            self.assertIn("--delete test", result.stderr)
            self.assertEqual(index_of(aws.calls(), ["cloudformation", "deploy"]), -1)
        finally:
            aws.close()

    # ------------------------------------------------------------------ --delete
    def test_delete_empties_the_buckets_then_deletes_the_stack(self):
        uploads = "qr-upload-uploads-123456789012-eu-west-1-test"
        site = OUTPUTS["SiteBucketName"]
        aws = StubAws(buckets=[uploads, site])
        try:
            aws.put_object(uploads, "session-uploads/5f0c/image-1.jpg")
            aws.put_object(uploads, "session-uploads/5f0c/image-2.png")
            aws.put_object(site, "index.html")
            aws.put_object(ARTIFACTS, "qr-upload/test/http_api_handler-0123.zip")
            aws.put_object(ARTIFACTS, "qr-upload/prod/http_api_handler-4567.zip")
            result = aws.run("--delete", "test")
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            self.assertEqual(aws.objects(uploads), [])
            self.assertEqual(aws.objects(site), [])
            # This environment's packages go; the other environments' stay.
            self.assertEqual(aws.objects(ARTIFACTS), ["qr-upload/prod/http_api_handler-4567.zip"])
            calls = aws.calls()
            removals = [i for i, c in enumerate(calls) if c[:2] == ["s3", "rm"]
                        and c[2] in ("s3://" + uploads, "s3://" + site)]
            self.assertEqual(len(removals), 2, calls)
            delete = index_of(calls, ["cloudformation", "delete-stack"])
            wait = index_of(calls, ["cloudformation", "wait", "stack-delete-complete"])
            self.assertLess(max(removals), delete)
            self.assertLess(delete, wait)
            self.assertEqual(aws.load("status"), "NONE")
            self.assertEqual(index_of(calls, ["cloudformation", "deploy"]), -1)
        finally:
            aws.close()

    def test_delete_of_a_missing_stack_succeeds(self):
        aws = StubAws(status="NONE")
        try:
            result = aws.run("--delete", "test")
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            self.assertEqual(index_of(aws.calls(), ["cloudformation", "delete-stack"]), -1)
            self.assertIn("No stack qr-upload-test", result.stdout)
        finally:
            aws.close()

    # ------------------------------------------------------------------ --replay-failed
    def test_replay_failed_reinvokes_each_event_and_deletes_the_replayed(self):
        events = [s3_event("session-uploads/%s/image-1.jpg" % name)
                  for name in ("aaaa", "still-broken", "cccc")]
        queue = [{"MessageId": "m%d" % i, "ReceiptHandle": "handle-%d" % i,
                  "Body": json.dumps(invocation_record(e, "req-%d" % i))}
                 for i, e in enumerate(events)]
        queue.append({"MessageId": "m-odd", "ReceiptHandle": "handle-odd", "Body": "not json"})
        aws = StubAws(queue=queue)
        try:
            result = aws.run("--replay-failed", "test")
            # One event still fails and one message is no invocation record: both stay, exit 1.
            self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
            invocations = aws.load("invocations", [])
            self.assertEqual([i["payload"] for i in invocations], events)
            self.assertEqual({i["function"] for i in invocations},
                             {OUTPUTS["WebSocketEventFunctionName"]})
            self.assertEqual([m["MessageId"] for m in aws.load("queue")], ["m1", "m-odd"])
            receives = [c for c in aws.calls() if c[:2] == ["sqs", "receive-message"]]
            self.assertTrue(all(c[c.index("--queue-url") + 1] == OUTPUTS["FailedEventsQueueUrl"]
                                for c in receives))
            self.assertIn("Replayed 2", result.stdout)
            self.assertIn("2 still failing", result.stdout)
        finally:
            aws.close()

    def test_replay_failed_with_an_empty_queue_succeeds(self):
        aws = StubAws()
        try:
            result = aws.run("--replay-failed", "test")
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            self.assertEqual(aws.load("invocations", []), [])
            self.assertIn("Replayed 0", result.stdout)
        finally:
            aws.close()

    # ------------------------------------------------------------------ rendered template
    def test_routes_hash_follows_the_websocket_section_only(self):
        template = os.path.join(REPO, "deploy", "template.yaml")
        with open(template, encoding="utf-8") as f:
            text = f.read()
        work = tempfile.mkdtemp(prefix="deploy-hash-")
        try:
            def hash_of(body):
                path = os.path.join(work, "t.yaml")
                with open(path, "w", encoding="utf-8") as f:
                    f.write(body)
                result = source_in_bash("websocket_routes_hash", path)
                self.assertEqual(result.returncode, 0, result.stderr)
                return result.stdout.strip()

            original = hash_of(text)
            self.assertRegex(original, r"^[0-9a-f]{12}$")
            # A changed or added WebSocket route changes it.
            self.assertIn("RouteKey: $disconnect", text)
            self.assertNotEqual(hash_of(text.replace("RouteKey: $disconnect", "RouteKey: $default")),
                                original)
            # A change elsewhere (the HTTP API's routes) does not.
            self.assertIn("RouteKey: GET /upload-url", text)
            self.assertEqual(hash_of(text.replace("RouteKey: GET /upload-url", "RouteKey: GET /u")),
                             original)
            # No WebSocket section: an error, never a constant hash.
            self.assertNotEqual(source_in_bash("websocket_routes_hash", "/dev/null").returncode, 0)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def test_rendered_template_renames_only_the_websocket_deployment(self):
        template = os.path.join(REPO, "deploy", "template.yaml")
        work = tempfile.mkdtemp(prefix="deploy-render-")
        try:
            rendered = os.path.join(work, "template.yaml")
            result = source_in_bash("render_template", template, rendered, "0123456789ab")
            self.assertEqual(result.returncode, 0, result.stderr)
            with open(template, encoding="utf-8") as f:
                source = yaml.safe_load(f)
            with open(rendered, encoding="utf-8") as f:
                out = yaml.safe_load(f)
            name = "WebSocketDeployment0123456789ab"
            self.assertEqual(out["Resources"][name], source["Resources"]["WebSocketDeployment"])
            self.assertEqual(out["Resources"]["WebSocketStage"]["Properties"]["DeploymentId"],
                             {"Ref": name})
            rest = {k: v for k, v in out["Resources"].items() if k not in (name, "WebSocketStage")}
            self.assertEqual(rest, {k: v for k, v in source["Resources"].items()
                                    if k not in ("WebSocketDeployment", "WebSocketStage")})
            self.assertEqual(out["Parameters"], source["Parameters"])
            self.assertEqual(out["Outputs"], source["Outputs"])
            # What CloudFormation receives is as clean as the source.
            cfn_lint.run(self, rendered)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def main():
    global REPO
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", default=REPO)
    parser.add_argument("--cfn-lint", dest="cfn_lint")
    args, rest = parser.parse_known_args()
    REPO = os.path.abspath(args.repo)
    if args.cfn_lint:
        cfn_lint.EXPLICIT.append(args.cfn_lint)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
