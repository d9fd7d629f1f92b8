#!/usr/bin/python3
"""Checks deploy/template.yaml for what matters: environments match the code, IAM is exactly the
least privilege the code needs, and every event source reaches the right function.

Run: /usr/bin/python3 tests/deploy/template_test.py [--repo DIR] [--bootstrap NAME=PATH ...]
                                                    [--cfn-lint PATH]
With --bootstrap, each built executable is asked (--print-env) which settings it reads, and the
function's Environment must match that exactly. Needs Debian's python3-yaml. cfn-lint runs when
found (tests/deploy/cfn_lint.py says where it looks); under CI (CI set) it must be found.
"""

import argparse
import fnmatch
import json
import os
import re
import subprocess
import sys
import unittest

import yaml

# The helper beside this file; no __pycache__ left in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cfn_lint  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BOOTSTRAPS = {}  # logical id -> path of the built executable (from --bootstrap)

# Values the resolver substitutes for pseudo parameters; resources resolve to "<Name>".
PSEUDO = {
    "AWS::AccountId": "123456789012",
    "AWS::Region": "eu-west-1",
    "AWS::Partition": "aws",
    "AWS::StackName": "qr-upload-dev",
}

# The settings each function's code reads beyond what Lambda itself sets (AWS_*).
EXPECTED_ENV = {
    "HttpApiFunction": {"SESSIONS_TABLE_NAME", "UPLOAD_BUCKET_NAME", "MAX_UPLOAD_BYTES",
                        "ALLOWED_CONTENT_TYPES", "PHONE_PAGE_URL"},
    "WebSocketEventFunction": {
        "SESSIONS_TABLE_NAME",
        "UPLOAD_BUCKET_NAME",
        "WS_API_ENDPOINT",
        "MAX_UPLOAD_BYTES",
        "ALLOWED_CONTENT_TYPES",
    },
}
# What the template gives the code before the code reads it: a setting or an EMF metric the
# template adds ahead of the C++ goes here until the C++ reads/emits it. Empty: the code reads
# ALLOWED_CONTENT_TYPES and emits ServerErrors (one per response whose statusCode >= 500,
# namespace QrUpload, dimension Service), so the checks hold it to the template exactly.
AWAITING_CODE_ENV = set()
AWAITING_CODE_METRICS = set()
DEFAULT_CONTENT_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp", "image/heic",
                         "image/heif", "image/avif"]
# The stated capacity of the HTTP API stage's throttle (template comment and deploy/README.md).
THROTTLE = {"desktops": "2,000", "rate": 100, "burst": 200}
BOOTSTRAP_OF = {"HttpApiFunction": "http_api_handler", "WebSocketEventFunction": "websocket_event_handler"}

BUCKET = "qr-upload-uploads-123456789012-eu-west-1-dev"
UPLOADS = f"arn:aws:s3:::{BUCKET}/session-uploads/*"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"

# Exactly what each role may do: (actions, resources) per statement, after resolution.
EXPECTED_STATEMENTS = {
    "HttpApiRole": [
        ({"logs:CreateLogStream", "logs:PutLogEvents"},
         ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/qr-upload-http-api-dev:*"]),
        ({"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}, ["<SessionsTable.Arn>"]),
        ({"s3:PutObject", "s3:GetObject"}, [UPLOADS]),
        ({"s3:ListBucket"}, [BUCKET_ARN]),
    ],
    "WebSocketEventRole": [
        ({"logs:CreateLogStream", "logs:PutLogEvents"},
         ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/qr-upload-websocket-event-dev:*"]),
        ({"dynamodb:GetItem", "dynamodb:UpdateItem"}, ["<SessionsTable.Arn>"]),
        ({"dynamodb:Query"}, ["<SessionsTable.Arn>/index/wsConnectionId-index"]),
        ({"s3:GetObject", "s3:DeleteObject"}, [UPLOADS]),
        ({"s3:ListBucket"}, [BUCKET_ARN]),
        ({"sqs:SendMessage"}, ["<FailedEventsQueue.Arn>"]),
        ({"execute-api:ManageConnections"},
         ["arn:aws:execute-api:eu-west-1:123456789012:<WebSocketApi>/live/POST/@connections/*"]),
    ],
}


def load_template():
    with open(os.path.join(REPO, "deploy", "template.yaml"), encoding="utf-8") as f:
        return yaml.safe_load(f)


class Resolver:
    """Evaluates the intrinsics the template uses into strings, with parameter defaults."""

    def __init__(self, template, params=None):
        self.t = template
        self.params = {k: str(v.get("Default", "")) for k, v in template.get("Parameters", {}).items()}
        self.params.update(params or {})

    def ref(self, name):
        if name in PSEUDO:
            return PSEUDO[name]
        if name == "AWS::NoValue":
            return None
        if name in self.params:
            return self.params[name]
        assert name in self.t["Resources"], f"Ref to unknown {name}"
        return f"<{name}>"

    def getatt(self, name, attr):
        assert name in self.t["Resources"], f"GetAtt of unknown {name}"
        return f"<{name}.{attr}>"

    def condition(self, name):
        return bool(self(self.t["Conditions"][name]))

    def exists(self, logical):
        """Whether the resource is created with these parameters (its Condition holds)."""
        cond = self.t["Resources"][logical].get("Condition")
        return cond is None or self.condition(cond)

    def __call__(self, node):
        if isinstance(node, list):
            return [self(n) for n in node]
        if not isinstance(node, dict):
            return node
        if len(node) != 1:
            return {k: self(v) for k, v in node.items()}
        (key, arg), = node.items()
        if key == "Ref":
            return self.ref(arg)
        if key == "Fn::GetAtt":
            return self.getatt(*arg)
        if key == "Fn::Sub":
            def sub(m):
                name = m.group(1)
                if "." in name and name.split(".")[0] in self.t["Resources"]:
                    return self.getatt(*name.split(".", 1))
                return self.ref(name)
            return re.sub(r"\$\{([^}!]+)\}", sub, arg)
        if key == "Fn::If":
            cond, a, b = arg
            return self(a) if self.condition(cond) else self(b)
        if key == "Fn::Equals":
            return self(arg[0]) == self(arg[1])
        if key == "Fn::Not":
            return not self(arg[0])
        if key == "Fn::And":
            return all(self(a) for a in arg)
        if key == "Fn::Or":
            return any(self(a) for a in arg)
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::Join":
            return arg[0].join(self(arg[1]))
        return {key: self(arg)}


def source_text(*relative_dirs):
    """All C++ source under the given directories of the repo, concatenated."""
    parts = []
    for rel in relative_dirs:
        root = os.path.join(REPO, rel)
        for dirpath, _, files in os.walk(root):
            for name in sorted(files):
                if name.endswith((".cpp", ".hpp")):
                    with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                        parts.append(f.read())
    return "\n".join(parts)


class TemplateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = load_template()
        cls.r = Resolver(cls.t)
        cls.res = cls.t["Resources"]

    def of_type(self, type_name):
        return {k: v for k, v in self.res.items() if v["Type"] == type_name}

    # ------------------------------------------------------------------ functions
    def test_functions_are_the_specs_two_custom_runtime_functions(self):
        fns = self.of_type("AWS::Lambda::Function")
        self.assertEqual(set(fns), {"HttpApiFunction", "WebSocketEventFunction"})
        expected = {"HttpApiFunction": ("qr-upload-http-api-dev", 30),
                    "WebSocketEventFunction": ("qr-upload-websocket-event-dev", 60)}
        for logical, (name, timeout) in expected.items():
            p = fns[logical]["Properties"]
            self.assertEqual(self.r(p["FunctionName"]), name)
            self.assertEqual(p["Runtime"], "provided.al2023")
            self.assertEqual(p["Handler"], "bootstrap")
            self.assertEqual(p["Architectures"], ["x86_64"])
            self.assertEqual(p["Timeout"], timeout)
            self.assertLessEqual(int(self.r(p["MemorySize"])), 256)
            memory = self.t["Parameters"][p["MemorySize"]["Ref"]]
            self.assertLessEqual(max(memory["AllowedValues"]), 256)
            # The spec's 256 MB by default; the parameter stays to choose less.
            self.assertEqual(int(self.r(p["MemorySize"])), 256)
            self.assertIn(128, memory["AllowedValues"])

    def test_environment_is_exactly_what_the_code_reads(self):
        for logical, expected in EXPECTED_ENV.items():
            env = self.res[logical]["Properties"]["Environment"]["Variables"]
            self.assertEqual(set(env), expected, logical)
            # Lambda sets AWS_* itself and refuses templates that set the reserved ones.
            self.assertFalse([k for k in env if k.startswith("AWS_")])
        # The names in the list are the ones the C++ sources read, and no others.
        code = source_text("src/aws", "src/lambda")
        read = set(re.findall(r'"((?:SESSIONS_TABLE|UPLOAD_BUCKET|WS_API|MAX_UPLOAD)[A-Z_]*)"', code))
        read |= set(re.findall(r'"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"', source_text("src/lambda")))
        read |= set(re.findall(r'"(ALLOWED_CONTENT_TYPES)"', code))
        read = {n for n in read if not n.startswith(("AWS_", "_X_AMZN"))}
        expected = set().union(*EXPECTED_ENV.values())
        # Nothing the template does not give; everything it gives, but what awaits the code.
        self.assertLessEqual(read, expected)
        self.assertLessEqual(expected - read, AWAITING_CODE_ENV,
                             "settings the template gives and the code does not read")

    def test_environment_matches_the_built_bootstraps(self):
        if not BOOTSTRAPS:
            self.skipTest("no --bootstrap given")
        for logical, binary in BOOTSTRAP_OF.items():
            path = BOOTSTRAPS.get(binary)
            if path is None:
                continue
            out = subprocess.run([path, "--print-env"], capture_output=True, text=True, check=True,
                                 env={"PATH": "/usr/bin:/bin"}).stdout.split()
            env = self.res[logical]["Properties"]["Environment"]["Variables"]
            self.assertLessEqual(set(out), set(env), binary)
            self.assertLessEqual(set(env) - set(out), AWAITING_CODE_ENV, binary)

    def test_environment_values_name_the_stacks_resources(self):
        http = self.r(self.res["HttpApiFunction"]["Properties"]["Environment"]["Variables"])
        ws = self.r(self.res["WebSocketEventFunction"]["Properties"]["Environment"]["Variables"])
        for env in (http, ws):
            self.assertEqual(env["SESSIONS_TABLE_NAME"], "<SessionsTable>")
            self.assertEqual(env["UPLOAD_BUCKET_NAME"], BUCKET)
            self.assertEqual(env["MAX_UPLOAD_BYTES"], "26214400")
            self.assertEqual(env["ALLOWED_CONTENT_TYPES"].split(","), DEFAULT_CONTENT_TYPES)
        self.assertEqual(ws["WS_API_ENDPOINT"], "<WebSocketApi>.execute-api.eu-west-1.amazonaws.com/live")
        # The computed bucket name is the bucket's own name.
        self.assertEqual(self.r(self.res["UploadBucket"]["Properties"]["BucketName"]), BUCKET)

    def test_allow_list_and_size_limit_are_stack_parameters(self):
        params = self.t["Parameters"]
        types = params["AllowedContentTypes"]
        self.assertEqual(types["Default"].split(","), DEFAULT_CONTENT_TYPES)
        self.assertIn("image/avif", types["Default"].split(","))
        pattern = re.compile(types["AllowedPattern"])
        self.assertTrue(pattern.fullmatch(types["Default"]))
        self.assertTrue(pattern.fullmatch("image/jpeg"))
        for bad in ("", "image/jpeg,", "text/html", "image/jpeg, image/png"):
            self.assertFalse(pattern.fullmatch(bad), bad)
        size = params["MaxUploadBytes"]
        self.assertEqual(size["Type"], "Number")
        self.assertEqual(size["MaxValue"], 5 * 1024 ** 3)  # one PutObject's limit
        custom = Resolver(self.t, {"AllowedContentTypes": "image/jpeg,image/avif",
                                   "MaxUploadBytes": "1048576"})
        for fn in EXPECTED_ENV:
            env = custom(self.res[fn]["Properties"]["Environment"]["Variables"])
            self.assertEqual(env["ALLOWED_CONTENT_TYPES"], "image/jpeg,image/avif", fn)
            self.assertEqual(env["MAX_UPLOAD_BYTES"], "1048576", fn)

    # ------------------------------------------------------------------ IAM
    def test_each_role_grants_exactly_what_its_function_needs(self):
        roles = self.of_type("AWS::IAM::Role")
        self.assertEqual(set(roles), set(EXPECTED_STATEMENTS))
        for role, expected in EXPECTED_STATEMENTS.items():
            policies = roles[role]["Properties"]["Policies"]
            self.assertEqual(len(policies), 1)
            self.assertFalse(roles[role]["Properties"].get("ManagedPolicyArns"))
            got = []
            for st in policies[0]["PolicyDocument"]["Statement"]:
                self.assertEqual(st["Effect"], "Allow")
                actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                resources = self.r(st["Resource"])
                resources = resources if isinstance(resources, list) else [resources]
                got.append((set(actions), resources))
            self.assertEqual(sorted(got, key=repr), sorted(expected, key=repr), role)
        fns = self.of_type("AWS::Lambda::Function")
        self.assertEqual(self.r(fns["HttpApiFunction"]["Properties"]["Role"]), "<HttpApiRole.Arn>")
        self.assertEqual(self.r(fns["WebSocketEventFunction"]["Properties"]["Role"]),
                         "<WebSocketEventRole.Arn>")

    def test_listing_is_granted_only_inside_the_uploads_prefix(self):
        # With s3:ListBucket S3 answers 404 for a missing object instead of 403; S3 evaluates it
        # with s3:prefix set to the key asked for, so the grant can stay inside session-uploads/.
        for role in ("HttpApiRole", "WebSocketEventRole"):
            statements = self.res[role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            (listing,) = [st for st in statements if "s3:ListBucket" in st["Action"]]
            self.assertEqual(listing["Action"], ["s3:ListBucket"])
            self.assertEqual(listing["Condition"],
                             {"StringLike": {"s3:prefix": ["session-uploads/*"]}}, role)

    def test_no_policy_has_a_wildcard_resource_or_action(self):
        def statements(node):
            if isinstance(node, dict):
                if "Statement" in node:
                    yield from node["Statement"]
                for v in node.values():
                    yield from statements(v)
            elif isinstance(node, list):
                for v in node:
                    yield from statements(v)

        count = 0
        for st in statements(self.res):
            count += 1
            resources = self.r(st.get("Resource", []))
            resources = resources if isinstance(resources, list) else [resources]
            self.assertNotIn("*", resources, st)
            for res in resources:
                self.assertFalse(res.endswith(":*:*"), res)
            if st["Effect"] == "Allow":
                actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                self.assertFalse([a for a in actions if "*" in a], st)
        self.assertGreater(count, 5)

    def test_code_calls_only_granted_dynamodb_operations(self):
        code = source_text("src/aws")
        ops = set(re.findall(r"DynamoDB_20120810\.([A-Za-z]+)", code))
        ops |= set(re.findall(r'"(GetItem|PutItem|UpdateItem|Query|Scan|DeleteItem)"', code))
        if not ops:
            self.skipTest("no DynamoDB client in src/aws yet")
        granted = set()
        for statements in EXPECTED_STATEMENTS.values():
            for actions, _ in statements:
                granted |= {a.split(":", 1)[1] for a in actions if a.startswith("dynamodb:")}
        self.assertNotIn("Scan", ops, "the store must Query the index, never Scan")
        self.assertLessEqual(ops, granted)

    # ------------------------------------------------------------------ storage
    def test_sessions_table(self):
        p = self.res["SessionsTable"]["Properties"]
        self.assertEqual(p["BillingMode"], "PAY_PER_REQUEST")
        self.assertEqual(p["KeySchema"], [{"AttributeName": "sessionId", "KeyType": "HASH"}])
        self.assertEqual(p["TimeToLiveSpecification"], {"AttributeName": "expiresAt", "Enabled": True})
        (gsi,) = p["GlobalSecondaryIndexes"]
        self.assertEqual(gsi["IndexName"], "wsConnectionId-index")
        self.assertEqual(gsi["KeySchema"], [{"AttributeName": "wsConnectionId", "KeyType": "HASH"}])
        self.assertFalse(self.r(p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]))
        on = Resolver(self.t, {"PointInTimeRecovery": "true"})
        self.assertTrue(on(p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]))
        code = source_text("src/aws")
        if "-index" in code:
            self.assertIn("wsConnectionId-index", code)

    def test_upload_bucket_is_private_encrypted_and_notifies_the_event_function(self):
        p = self.res["UploadBucket"]["Properties"]
        self.assertTrue(all(p["PublicAccessBlockConfiguration"].values()))
        self.assertEqual(len(p["PublicAccessBlockConfiguration"]), 4)
        self.assertIn("ServerSideEncryptionByDefault",
                      p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0])
        (cors,) = p["CorsConfiguration"]["CorsRules"]
        self.assertEqual(set(cors["AllowedMethods"]), {"PUT", "GET"})
        # Issue 11: "*" by default (the spec's), like the HTTP API (test_cors_...).
        self.assertEqual(self.r(cors["AllowedOrigins"]), ["*"])
        custom = Resolver(self.t, {"AllowedOrigin": "https://photos.example.com"})
        self.assertEqual(custom(cors["AllowedOrigins"]), ["https://photos.example.com"])
        (rule,) = p["LifecycleConfiguration"]["Rules"]
        self.assertEqual(rule["Prefix"], "session-uploads/")
        self.assertEqual(rule["Status"], "Enabled")
        (note,) = p["NotificationConfiguration"]["LambdaConfigurations"]
        self.assertEqual(note["Event"], "s3:ObjectCreated:*")
        self.assertEqual(note["Filter"]["S3Key"]["Rules"], [{"Name": "prefix", "Value": "session-uploads/"}])
        self.assertEqual(self.r(note["Function"]), "<WebSocketEventFunction.Arn>")
        # S3 may invoke the function, for this bucket only; the bucket waits for that permission.
        perm = self.res["UploadBucketInvokePermission"]["Properties"]
        self.assertEqual(self.r(perm["FunctionName"]), "<WebSocketEventFunction>")
        self.assertEqual(perm["Principal"], "s3.amazonaws.com")
        self.assertEqual(self.r(perm["SourceArn"]), f"arn:aws:s3:::{BUCKET}")
        self.assertIn("UploadBucketInvokePermission", [self.res["UploadBucket"]["DependsOn"]])

    # ------------------------------------------------------------------ APIs
    def routes_of(self, api):
        return {self.r(v["Properties"]["RouteKey"]): v["Properties"]
                for v in self.of_type("AWS::ApiGatewayV2::Route").values()
                if self.r(v["Properties"]["ApiId"]) == f"<{api}>"}

    def integration_function(self, target):
        integration = re.fullmatch(r"integrations/<(\w+)>", self.r(target)).group(1)
        uri = self.r(self.res[integration]["Properties"]["IntegrationUri"])
        m = re.search(r"<(\w+)\.Arn>", uri)
        return integration, m.group(1)

    def test_http_routes_reach_the_http_function(self):
        routes = self.routes_of("HttpApi")
        self.assertEqual(set(routes), {"POST /sessions", "GET /upload-url", "GET /sessions/{sessionId}",
                                       "$default"})
        for route in routes.values():
            integration, fn = self.integration_function(route["Target"])
            self.assertEqual(fn, "HttpApiFunction")
            self.assertEqual(self.res[integration]["Properties"]["PayloadFormatVersion"], "2.0")
        api = self.res["HttpApi"]["Properties"]
        self.assertEqual(api["ProtocolType"], "HTTP")
        self.assertIn("authorization", api["CorsConfiguration"]["AllowHeaders"])
        stage = self.res["HttpApiStage"]["Properties"]
        self.assertIn("ThrottlingRateLimit", stage["DefaultRouteSettings"])
        # The routes are the ones the router serves.
        router = os.path.join(REPO, "src", "functions", "http_api_handler.cpp")
        if os.path.exists(router):
            with open(router, encoding="utf-8") as f:
                text = f.read()
            for path in ("/sessions", "/upload-url"):
                self.assertIn(f'"{path}', text)

    def test_websocket_routes_reach_the_event_function(self):
        routes = self.routes_of("WebSocketApi")
        self.assertEqual(set(routes), {"$connect", "$disconnect"})
        for route in routes.values():
            _, fn = self.integration_function(route["Target"])
            self.assertEqual(fn, "WebSocketEventFunction")
        stage = self.res["WebSocketStage"]["Properties"]
        self.assertEqual(self.r(stage["StageName"]), "live")
        self.assertIn("ThrottlingBurstLimit", stage["DefaultRouteSettings"])

    def test_api_gateway_may_invoke_each_function_from_its_own_api_only(self):
        perms = {self.r(p["Properties"]["FunctionName"]): self.r(p["Properties"]["SourceArn"])
                 for p in self.of_type("AWS::Lambda::Permission").values()
                 if p["Properties"]["Principal"] == "apigateway.amazonaws.com"}
        self.assertTrue(perms["<HttpApiFunction>"].startswith(
            "arn:aws:execute-api:eu-west-1:123456789012:<HttpApi>/"))
        self.assertTrue(perms["<WebSocketEventFunction>"].startswith(
            "arn:aws:execute-api:eu-west-1:123456789012:<WebSocketApi>/"))

    def test_cors_allows_any_origin_by_default_and_one_origin_when_narrowed(self):
        api = self.res["HttpApi"]["Properties"]["CorsConfiguration"]
        (bucket,) = self.res["UploadBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
        self.assertEqual(self.t["Parameters"]["AllowedOrigin"]["Default"], "*")
        for params, origins in (({}, ["*"]),
                                ({"AllowedOrigin": "https://photos.example.com"},
                                 ["https://photos.example.com"]),
                                ({"AllowedOrigin": "site"}, ["https://<SiteDistribution.DomainName>"])):
            r = Resolver(self.t, params)
            # The API and the bucket always allow the same origins.
            self.assertEqual(r(api["AllowOrigins"]), origins, params)
            self.assertEqual(r(bucket["AllowedOrigins"]), origins, params)
        # "*" is only valid without credentials; none are used (tokens travel in headers).
        self.assertFalse(api.get("AllowCredentials", False))
        self.assertLessEqual({"GET", "POST"}, set(api["AllowMethods"]))
        # The pages send Authorization (desktop token) and Content-Type, and read Date.
        self.assertLessEqual({"content-type", "authorization"}, {h.lower() for h in api["AllowHeaders"]})
        self.assertIn("date", [h.lower() for h in api["ExposeHeaders"]])
        # The phone PUTs with the signed Content-Type (preflighted); the desktop GETs.
        self.assertIn("content-type", [h.lower() for h in bucket["AllowedHeaders"]])
        self.assertLessEqual({"PUT", "GET"}, set(bucket["AllowedMethods"]))

    def test_unknown_http_routes_reach_the_function(self):
        (default,) = [v["Properties"] for v in self.of_type("AWS::ApiGatewayV2::Route").values()
                      if v["Properties"]["RouteKey"] == "$default"]
        self.assertEqual(self.r(default["ApiId"]), "<HttpApi>")
        self.assertEqual(self.integration_function(default["Target"])[1], "HttpApiFunction")
        # API Gateway may invoke the function for the $default route too: its source ARN is
        # {api}/{stage}/$default, besides {api}/{stage}/{method}/{path} for the others.
        (perm,) = [p["Properties"] for p in self.of_type("AWS::Lambda::Permission").values()
                   if self.r(p["Properties"]["FunctionName"]) == "<HttpApiFunction>"]
        source = self.r(perm["SourceArn"])
        base = "arn:aws:execute-api:eu-west-1:123456789012:<HttpApi>/"
        for arn in ("$default/$default", "$default/POST/sessions", "$default/GET/sessions/abc"):
            self.assertTrue(fnmatch.fnmatchcase(base + arn, source), (arn, source))
        self.assertFalse(fnmatch.fnmatchcase(
            "arn:aws:execute-api:eu-west-1:123456789012:<WebSocketApi>/live/$connect", source))

    def test_websocket_deployment_follows_its_routes(self):
        deployment = self.res["WebSocketDeployment"]
        self.assertEqual(self.r(deployment["Properties"]["ApiId"]), "<WebSocketApi>")
        # Created after every route, so its snapshot holds them all.
        route_ids = {k for k, v in self.of_type("AWS::ApiGatewayV2::Route").items()
                     if self.r(v["Properties"]["ApiId"]) == "<WebSocketApi>"}
        depends = deployment["DependsOn"]
        self.assertLessEqual(route_ids, set([depends] if isinstance(depends, str) else depends))
        self.assertEqual(self.r(self.res["WebSocketStage"]["Properties"]["DeploymentId"]),
                         "<WebSocketDeployment>")
        # deploy.sh gives the routes' hash; it shows in the description.
        hashed = Resolver(self.t, {"WebSocketRoutesHash": "0123456789ab"})
        self.assertIn("0123456789ab", hashed(deployment["Properties"]["Description"]))
        self.assertTrue(re.fullmatch(self.t["Parameters"]["WebSocketRoutesHash"]["AllowedPattern"],
                                     "0123456789ab"))
        # The hash covers the section deploy.sh hashes, which must hold every WebSocket resource.
        with open(os.path.join(REPO, "deploy", "template.yaml"), encoding="utf-8") as f:
            text = f.read()
        section = re.search(r"^  # -+ WebSocket API\n(.*?)^  # -+ ", text, re.S | re.M).group(1)
        ws_resources = {k for k, v in self.res.items()
                        if self.r(v["Properties"].get("ApiId")) == "<WebSocketApi>"} | {"WebSocketApi"}
        for logical in ws_resources:
            self.assertRegex(section, r"(?m)^  %s:$" % logical)

    def test_http_stage_throttle_is_sized_for_the_stated_desktops(self):
        params = self.t["Parameters"]
        self.assertEqual(params["ThrottlingRateLimit"]["Default"], THROTTLE["rate"])
        self.assertEqual(params["ThrottlingBurstLimit"]["Default"], THROTTLE["burst"])
        stage = self.res["HttpApiStage"]["Properties"]["DefaultRouteSettings"]
        self.assertEqual(int(self.r(stage["ThrottlingRateLimit"])), THROTTLE["rate"])
        self.assertEqual(int(self.r(stage["ThrottlingBurstLimit"])), THROTTLE["burst"])
        # The number of desktops is stated beside the parameters and in the README.
        with open(os.path.join(REPO, "deploy", "template.yaml"), encoding="utf-8") as f:
            self.assertIn("Sized for %s open desktop pages" % THROTTLE["desktops"], f.read())
        with open(os.path.join(REPO, "deploy", "README.md"), encoding="utf-8") as f:
            readme = f.read()
        self.assertIn("%s open desktop pages" % THROTTLE["desktops"], readme)
        self.assertRegex(readme, r"rate %d\b.*burst %d\b" % (THROTTLE["rate"], THROTTLE["burst"]))

    # ------------------------------------------------------------------ operations
    def test_log_groups_have_retention_and_match_the_function_names(self):
        groups = {self.r(g["Properties"]["LogGroupName"]): g["Properties"]
                  for g in self.of_type("AWS::Logs::LogGroup").values()}
        self.assertEqual(set(groups), {"/aws/lambda/qr-upload-http-api-dev",
                                       "/aws/lambda/qr-upload-websocket-event-dev"})
        for g in groups.values():
            self.assertIn("RetentionInDays", g)

    def test_alarms(self):
        alarms = [a["Properties"] for a in self.of_type("AWS::CloudWatch::Alarm").values()]

        def find(pred):
            return [a for a in alarms if pred(a)]

        for fn in ("HttpApiFunction", "WebSocketEventFunction"):
            dims = [{"Name": "FunctionName", "Value": f"<{fn}>"}]
            rate = find(lambda a: a.get("Metrics") and any(
                self.r(m.get("MetricStat", {}).get("Metric", {}).get("Dimensions")) == dims
                for m in a["Metrics"]) and any("errors / invocations" in m.get("Expression", "")
                                               for m in a["Metrics"]))
            self.assertEqual(len(rate), 1, fn)
            self.assertEqual(rate[0]["Threshold"], 5)
            duration = find(lambda a: a.get("MetricName") == "Duration" and self.r(a["Dimensions"]) == dims)
            self.assertEqual([a["Threshold"] for a in duration], [10000])
            throttles = find(lambda a: a.get("MetricName") == "Throttles" and self.r(a["Dimensions"]) == dims)
            self.assertEqual([a["Threshold"] for a in throttles], [0])
        ddb = find(lambda a: any(m.get("MetricStat", {}).get("Metric", {}).get("Namespace") == "AWS/DynamoDB"
                                 for m in a.get("Metrics", [])))
        self.assertEqual(len(ddb), 1)
        self.assertEqual(ddb[0]["Threshold"], 0)

    def alarm_metrics(self, alarm):
        """(namespace, metric name, resolved dimensions as a dict) of each metric the alarm reads."""
        if "MetricName" in alarm:
            return [(alarm["Namespace"], alarm["MetricName"],
                     {d["Name"]: d["Value"] for d in self.r(alarm.get("Dimensions", []))})]
        out = []
        for m in alarm.get("Metrics", []):
            metric = m.get("MetricStat", {}).get("Metric")
            if metric:
                out.append((metric["Namespace"], metric["MetricName"],
                            {d["Name"]: d["Value"] for d in self.r(metric.get("Dimensions", []))}))
        return out

    def test_alarms_see_what_users_see(self):
        alarms = {k: a["Properties"] for k, a in self.of_type("AWS::CloudWatch::Alarm").items()}

        def reading(namespace, name, dims):
            return {k: a for k, a in alarms.items()
                    if (namespace, name, dims) in self.alarm_metrics(a)}

        def expression(alarm):
            (final,) = [m for m in alarm["Metrics"] if m.get("ReturnData", True)]
            return final["Expression"]

        # The HTTP API's 5xx rate, from API Gateway's own metrics for the $default stage.
        dims = {"ApiId": "<HttpApi>", "Stage": "$default"}
        (api5xx,) = reading("AWS/ApiGateway", "5xx", dims).values()
        self.assertIn(("AWS/ApiGateway", "Count", dims), self.alarm_metrics(api5xx))
        ids = {m["MetricStat"]["Metric"]["MetricName"]: m["Id"] for m in api5xx["Metrics"]
               if "MetricStat" in m}
        self.assertIn("100 * FILL(%s, 0) / %s" % (ids["5xx"], ids["Count"]), expression(api5xx))
        self.assertEqual(api5xx["Threshold"], 5)
        self.assertEqual(api5xx["ComparisonOperator"], "GreaterThanThreshold")

        # Each function's own 5xx answers, from its EMF metric, as a share of its invocations.
        # Namespace and dimension are the ones src/core/log.cpp writes into every EMF line.
        with open(os.path.join(REPO, "src", "core", "log.cpp"), encoding="utf-8") as f:
            log_cpp = f.read()
        self.assertIn('{"Namespace", "QrUpload"}', log_cpp)
        self.assertIn('boost::json::array{"Service"}', log_cpp)
        for fn in ("HttpApiFunction", "WebSocketEventFunction"):
            (emf,) = reading("QrUpload", "ServerErrors", {"Service": f"<{fn}>"}).values()
            self.assertIn(("AWS/Lambda", "Invocations", {"FunctionName": f"<{fn}>"}),
                          self.alarm_metrics(emf))
            self.assertRegex(expression(emf), r"100 \* FILL\(\w+, 0\) / \w+")
            self.assertEqual(emf["Threshold"], 5, fn)
            # Duration above 10 s and any throttle, for both functions.
            (duration,) = reading("AWS/Lambda", "Duration", {"FunctionName": f"<{fn}>"}).values()
            self.assertEqual((duration["Threshold"], duration["Statistic"]), (10000, "Maximum"))
            (throttles,) = reading("AWS/Lambda", "Throttles", {"FunctionName": f"<{fn}>"}).values()
            self.assertEqual(throttles["Threshold"], 0)
        # The event function's Lambda errors (failed S3 events) keep their alarm.
        errors = reading("AWS/Lambda", "Errors", {"FunctionName": "<WebSocketEventFunction>"})
        self.assertEqual([a["Threshold"] for a in errors.values()], [5])
        # The EMF metric is the one the code emits (or, for now, the one it is to emit).
        emitted = set(re.findall(r'metric\("(\w+)"', source_text("src")))
        self.assertTrue("ServerErrors" in emitted or "ServerErrors" in AWAITING_CODE_METRICS)
        self.assertFalse(AWAITING_CODE_METRICS & emitted,
                         "the code emits it now: drop it from AWAITING_CODE_METRICS")

    def test_alarms_notify_a_topic(self):
        alarms = self.of_type("AWS::CloudWatch::Alarm")
        topic = self.res["AlarmTopic"]
        self.assertEqual(topic["Type"], "AWS::SNS::Topic")
        # No topic given: the stack's own topic, and every alarm notifies it.
        self.assertTrue(self.r.exists("AlarmTopic"))
        for name, alarm in alarms.items():
            self.assertEqual(self.r(alarm["Properties"]["AlarmActions"]), ["<AlarmTopic>"], name)
        # A topic given: no topic is created, every alarm notifies the one given.
        arn = "arn:aws:sns:eu-west-1:123456789012:ops"
        given = Resolver(self.t, {"AlarmTopicArn": arn})
        self.assertFalse(given.exists("AlarmTopic"))
        for name, alarm in alarms.items():
            self.assertEqual(given(alarm["Properties"]["AlarmActions"]), [arn], name)
        # The e-mail subscription exists only with an address, on the topic the alarms use.
        sub = self.res["AlarmEmailSubscription"]
        self.assertEqual(sub["Type"], "AWS::SNS::Subscription")
        self.assertFalse(self.r.exists("AlarmEmailSubscription"))
        mail = {"AlarmEmail": "ops@example.com"}
        own = Resolver(self.t, mail)
        self.assertTrue(own.exists("AlarmEmailSubscription"))
        self.assertEqual(own(sub["Properties"]), {"Protocol": "email", "Endpoint": "ops@example.com",
                                                  "TopicArn": "<AlarmTopic>"})
        both = Resolver(self.t, dict(mail, AlarmTopicArn=arn))
        self.assertEqual(both(sub["Properties"]["TopicArn"]), arn)
        self.assertTrue(re.fullmatch(self.t["Parameters"]["AlarmEmail"]["AllowedPattern"],
                                     "ops@example.com"))
        self.assertTrue(re.fullmatch(self.t["Parameters"]["AlarmEmail"]["AllowedPattern"], ""))
        self.assertEqual(self.r(self.t["Outputs"]["AlarmTopicArn"]["Value"]), "<AlarmTopic>")

    def test_failed_s3_events_are_kept_for_replay(self):
        (config,) = self.of_type("AWS::Lambda::EventInvokeConfig").values()
        p = config["Properties"]
        self.assertEqual(self.r(p["FunctionName"]), "<WebSocketEventFunction>")
        # The S3 notification invokes the unqualified function, i.e. $LATEST.
        self.assertEqual(p["Qualifier"], "$LATEST")
        self.assertEqual(p["MaximumRetryAttempts"], 2)
        self.assertEqual(self.r(p["DestinationConfig"]["OnFailure"]["Destination"]),
                         "<FailedEventsQueue.Arn>")
        queue = self.res["FailedEventsQueue"]
        self.assertEqual(queue["Type"], "AWS::SQS::Queue")
        self.assertEqual(queue["Properties"]["MessageRetentionPeriod"], 1209600)
        # Lambda sends with the function's role (EXPECTED_STATEMENTS holds sqs:SendMessage).
        # Any message waiting is an alarm.
        alarms = [a["Properties"] for a in self.of_type("AWS::CloudWatch::Alarm").values()
                  if ("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                      {"QueueName": "<FailedEventsQueue.QueueName>"}) in self.alarm_metrics(a["Properties"])]
        self.assertEqual([(a["Threshold"], a["ComparisonOperator"]) for a in alarms],
                         [(0, "GreaterThanThreshold")])
        # deploy.sh --replay-failed finds the queue and the function by these outputs.
        self.assertEqual(self.r(self.t["Outputs"]["FailedEventsQueueUrl"]["Value"]), "<FailedEventsQueue>")
        self.assertEqual(self.r(self.t["Outputs"]["WebSocketEventFunctionName"]["Value"]),
                         "<WebSocketEventFunction>")

    def test_site_is_private_behind_cloudfront_with_oac(self):
        p = self.res["SiteBucket"]["Properties"]
        self.assertTrue(all(p["PublicAccessBlockConfiguration"].values()))
        origin = self.res["SiteDistribution"]["Properties"]["DistributionConfig"]["Origins"][0]
        self.assertEqual(self.r(origin["OriginAccessControlId"]), "<SiteOriginAccessControl.Id>")
        (st,) = self.res["SiteBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        self.assertEqual(st["Principal"], {"Service": "cloudfront.amazonaws.com"})
        self.assertEqual(self.r(st["Resource"]), "<SiteBucket.Arn>/*")

    def test_outputs(self):
        self.assertLessEqual({"HttpApiUrl", "WebSocketUrl", "SiteUrl", "PhoneUrl", "UploadBucketName",
                              "SiteBucketName", "SiteDistributionId", "MaxUploadBytes"},
                             set(self.t["Outputs"]))
        self.assertEqual(self.r(self.t["Outputs"]["WebSocketUrl"]["Value"]),
                         "wss://<WebSocketApi>.execute-api.eu-west-1.amazonaws.com/live")

    def test_cfn_lint(self):
        # Skips only outside CI (environment variable CI unset): under CI a missing linter fails.
        cfn_lint.run(self, os.path.join(REPO, "deploy", "template.yaml"))


def main():
    global REPO
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", default=REPO)
    parser.add_argument("--bootstrap", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--cfn-lint", dest="cfn_lint")
    args, rest = parser.parse_known_args()
    REPO = os.path.abspath(args.repo)
    if args.cfn_lint:
        cfn_lint.EXPLICIT.append(args.cfn_lint)
    for item in args.bootstrap:
        name, path = item.split("=", 1)
        if os.path.exists(path):
            BOOTSTRAPS[name] = path
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
