#!/usr/bin/python3
"""Checks deploy/deploy.sh and deploy/package.sh without AWS: syntax (bash -n, shellcheck when
installed), the config.js it writes (evaluated by node like the pages do), and a whole run of
deploy.sh against a stub `aws` that records its calls and answers with canned stack outputs.

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
}

# The stub aws CLI: logs each call as a JSON line, mirrors `s3 cp`/`s3 sync` into STUB_S3_DIR.
STUB = textwrap.dedent("""\
    #!/usr/bin/python3
    import json, os, re, shutil, sys
    args = sys.argv[1:]
    with open(os.environ["STUB_LOG"], "a") as f:
        f.write(json.dumps(args) + "\\n")
    outputs = json.loads(os.environ["STUB_OUTPUTS"])
    store = os.environ["STUB_S3_DIR"]
    def local(url):
        return os.path.join(store, url[len("s3://"):])
    if args[:2] == ["sts", "get-caller-identity"]:
        print("123456789012")
    elif args[:2] == ["cloudformation", "describe-stacks"]:
        query = args[args.index("--query") + 1]
        print(outputs[re.search(r"OutputKey=='(\\w+)'", query).group(1)])
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
    elif args[:2] == ["cloudfront", "create-invalidation"]:
        print("{}")
    """)


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
        self.assertEqual(config, {"apiBase": OUTPUTS["HttpApiUrl"], "wsUrl": OUTPUTS["WebSocketUrl"],
                                  "phoneUrl": OUTPUTS["PhoneUrl"], "maxUploadBytes": 1048576})
        # Same keys as the repository's own config.js, which the pages read.
        self.assertEqual(set(config), set(read_config_js(os.path.join(REPO, "web", "config.js"))))

    def test_config_js_refuses_values_that_would_need_escaping(self):
        result, _ = self.write_config('https://x"; alert(1); "', "wss://y", "https://z", "1")
        self.assertNotEqual(result.returncode, 0)
        result, _ = self.write_config("https://x", "wss://y", "https://z", "1e9")
        self.assertNotEqual(result.returncode, 0)

    def test_deploy_run_against_a_stub_aws_cli(self):
        work = tempfile.mkdtemp(prefix="deploy-test-")
        try:
            bin_dir, dist, store = (os.path.join(work, d) for d in ("bin", "dist", "s3"))
            for d in (bin_dir, dist, store):
                os.makedirs(d)
            stub = os.path.join(bin_dir, "aws")
            with open(stub, "w") as f:
                f.write(STUB)
            os.chmod(stub, 0o755)
            for fn in ("http_api_handler", "websocket_event_handler"):
                with open(os.path.join(dist, fn + ".zip"), "wb") as f:
                    f.write(fn.encode())
            log = os.path.join(work, "calls.jsonl")
            repo_config = os.path.join(REPO, "web", "config.js")
            before = sha256(repo_config)
            env = dict(os.environ, PATH=bin_dir + ":" + os.environ["PATH"], STUB_LOG=log,
                       STUB_OUTPUTS=json.dumps(OUTPUTS), STUB_S3_DIR=store, AWS_REGION="eu-west-1",
                       SKIP_PACKAGE="1", DIST_DIR=dist, PARAMETER_OVERRIDES="PointInTimeRecovery=true")
            env.pop("ARTIFACTS_BUCKET", None)
            result = subprocess.run(["bash", os.path.join(REPO, "deploy", "deploy.sh"), "test"],
                                    env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            self.assertEqual(sha256(repo_config), before, "deploy.sh modified web/config.js")
            calls = [json.loads(line) for line in open(log)]

            # The zips went to the artifacts bucket under the keys the stack is given.
            artifacts = "qr-upload-artifacts-123456789012-eu-west-1"
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

            # Every template parameter without a default is given; nothing unknown is.
            with open(os.path.join(REPO, "deploy", "template.yaml"), encoding="utf-8") as f:
                declared = yaml.safe_load(f)["Parameters"]
            self.assertLessEqual(set(params), set(declared))
            self.assertLessEqual({k for k, v in declared.items() if "Default" not in v}, set(params))

            # The site bucket holds the pages and a config.js with the stack's endpoints.
            site = os.path.join(store, OUTPUTS["SiteBucketName"])
            self.assertTrue(os.path.exists(os.path.join(site, "index.html")))
            self.assertTrue(os.path.exists(os.path.join(site, "phone.html")))
            self.assertFalse(os.path.exists(os.path.join(site, "node_modules")))
            self.assertEqual(read_config_js(os.path.join(site, "config.js")), {
                "apiBase": OUTPUTS["HttpApiUrl"], "wsUrl": OUTPUTS["WebSocketUrl"],
                "phoneUrl": OUTPUTS["PhoneUrl"], "maxUploadBytes": 26214400})
            (sync,) = [c for c in calls if c[:2] == ["s3", "sync"]]
            self.assertNotEqual(os.path.realpath(sync[2]), os.path.realpath(os.path.join(REPO, "web")))
            self.assertTrue([c for c in calls if c[:2] == ["cloudfront", "create-invalidation"]])
            self.assertIn(OUTPUTS["SiteUrl"], result.stdout)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def test_deploy_rejects_a_bad_environment_name(self):
        result = subprocess.run(["bash", os.path.join(REPO, "deploy", "deploy.sh"), "Bad_Env!"],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 2)


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
