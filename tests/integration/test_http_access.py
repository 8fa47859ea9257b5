"""Who may do what over HTTP (docs/http-api.md, "Identities"): every request acts as an
identity (its key's, or plugin_opt_http_unsigned_identity for unsigned loopback
requests) and may do what that identity may do over MQTT: the control plane (iot) only
for operators, the data plane (iot-jobs-data) only for the things the identity holds.

Most requests are signed here by a small SigV4 signer (Debian's python3 has no
botocore), which is much faster than the AWS CLI; the CLI runs where its own behaviour
matters (a credentials file with the identity in it, --no-sign-request).
"""
import datetime
import hashlib
import hmac
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.parse

from harness import OwnBrokersTest, free_port, thing_arn
from test_http_api import AWS, HttpApiTest, INSTALL_HINT

ADMIN_KEY, ADMIN_SECRET = "AKIDACCESSADMIN00001", "admin/secret+0001"
THING_KEY, THING_SECRET = "AKIDACCESSTHINGA0001", "thing-a/secret+0001"
GW_KEY, GW_SECRET = "AKIDACCESSGATEWAY001", "gateway/secret+0001"
THING_A, THING_B = "access-thing-a", "access-thing-b"


def sign(method, path, body, key, secret, service, host, query=""):
    """The headers of an AWS Signature V4 (as botocore makes them) for a request with a
    plain path (no characters that need escaping but '$')."""
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    scope = f"{day}/us-east-1/{service}/aws4_request"
    canonical = "\n".join([
        method, urllib.parse.quote(path, safe="/~"), query,
        f"host:{host}\nx-amz-date:{amz_date}\n", "host;x-amz-date",
        hashlib.sha256(body).hexdigest()])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (day, "us-east-1", service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    return {"Host": host, "X-Amz-Date": amz_date,
            "Authorization": f"AWS4-HMAC-SHA256 Credential={key}/{scope}, "
                             f"SignedHeaders=host;x-amz-date, Signature={signature}"}


class AccessTest(HttpApiTest):
    """Helpers: one HTTP request, signed (key given) or not; the AWS CLI with a profile."""

    def call(self, method, path, body=None, key=None, secret=None, service=None):
        """(status, x-amzn-ErrorType, parsed body). service: iot or iot-jobs-data."""
        data = json.dumps(body).encode() if body is not None else b""
        host = f"{self.http_address}:{self.http_port}"
        headers = sign(method, path, data, key, secret, service, host) if key else {"Host": host}
        conn = http.client.HTTPConnection(self.http_address, self.http_port, timeout=30)
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            return resp.status, resp.getheader("x-amzn-ErrorType"), json.loads(raw) if raw else {}
        finally:
            conn.close()

    def admin(self, method, path, body=None):
        return self.call(method, path, body, ADMIN_KEY, ADMIN_SECRET, "iot")

    def as_thing(self, method, path, body=None, service="iot-jobs-data"):
        return self.call(method, path, body, THING_KEY, THING_SECRET, service)

    def create(self, *things):
        """A job for these things, created over HTTP by the operator key; its id."""
        job = self.name("j")
        status, _, body = self.admin("PUT", f"/jobs/{job}", {
            "targets": [thing_arn(t) for t in things], "document": json.dumps({"job": job})})
        self.assertEqual(status, 200, body)
        return job

    def status_of(self, job, thing):
        status, _, body = self.admin("GET", f"/things/{thing}/jobs/{job}")
        self.assertEqual(status, 200, body)
        return body["execution"]["status"]

    def assertDenied(self, result, *words):
        status, error_type, body = result
        self.assertEqual((status, error_type), (403, "AccessDeniedException"), body)
        for w in words:
            self.assertIn(w, body.get("message", ""))


class KeysWithIdentities(AccessTest):
    """A keys file in the AWS CLI's credentials format (the other format is
    test_http_api.py's and ControlAccessByBroker's): an operator, a thing, a gateway
    granted one thing. The things are isolated and only `admin` is an operator, as a production broker
    would have it."""

    keys_text = (f"[gateway]\naws_access_key_id = {GW_KEY}\naws_secret_access_key = {GW_SECRET}\n"
                 "mosquitto_jobs_identity = gateway-7\n"
                 f"[admin]\naws_access_key_id = {ADMIN_KEY}\naws_secret_access_key = {ADMIN_SECRET}\n"
                 "mosquitto_jobs_identity = admin\n"
                 f"[thing-a]\naws_access_key_id = {THING_KEY}\naws_secret_access_key = {THING_SECRET}\n"
                 f"mosquitto_jobs_identity = {THING_A}\n")
    http_options = {"isolation": "on", "operators": "admin", "grant_gateway-7": THING_B}

    def test_thing_key_acts_only_as_its_thing(self):
        job = self.create(THING_A, THING_B)
        status, _, body = self.as_thing("GET", f"/things/{THING_A}/jobs")
        self.assertEqual(status, 200, body)
        self.assertIn(job, [q["jobId"] for q in body["queuedJobs"]])
        status, _, body = self.as_thing("GET", f"/things/{THING_A}/jobs/{job}")
        self.assertEqual((status, body["execution"]["status"]), (200, "QUEUED"), body)

        for method, path, payload in (
                ("GET", f"/things/{THING_B}/jobs", None),
                ("GET", f"/things/{THING_B}/jobs/{job}", None),
                ("POST", f"/things/{THING_B}/jobs/{job}", {"status": "SUCCEEDED"}),
                ("PUT", f"/things/{THING_B}/jobs/$next", {})):
            with self.subTest(method=method, path=path):
                self.assertDenied(self.as_thing(method, path, payload), f"'{THING_A}' may not act as thing '{THING_B}'")
        # nothing changed for B
        self.assertEqual(self.status_of(job, THING_B), "QUEUED")

    def test_thing_key_has_no_control_plane(self):
        job = self.create(THING_A)
        other = self.name("j")
        for method, path, payload in (
                ("PUT", f"/jobs/{other}", {"targets": [thing_arn(THING_A)], "document": "{}"}),
                ("PUT", f"/jobs/{job}/cancel", {}),
                ("GET", "/jobs", None),
                # its own thing's execution, but through the operators' plane
                ("GET", f"/things/{THING_A}/jobs/{job}", None),
                ("PUT", f"/things/{THING_A}/jobs/{job}/cancel", {})):
            with self.subTest(method=method, path=path):
                self.assertDenied(self.as_thing(method, path, payload, service="iot"),
                                  f"'{THING_A}' is not an operator (plugin_opt_operators)")
        self.assertEqual(self.admin("GET", f"/jobs/{other}")[0], 404)
        self.assertEqual(self.status_of(job, THING_A), "QUEUED")

    def test_operator_key_runs_the_control_plane(self):
        job = self.create(THING_A, THING_B)
        status, _, body = self.admin("PUT", f"/things/{THING_B}/jobs/{job}/cancel", {"force": True})
        self.assertEqual(status, 200, body)
        self.assertEqual(self.status_of(job, THING_B), "CANCELED")
        status, _, body = self.admin("PUT", f"/jobs/{job}/cancel", {})
        self.assertEqual(status, 200, body)
        status, _, body = self.admin("GET", f"/jobs/{job}")
        self.assertEqual((status, body["job"]["status"]), (200, "CANCELED"), body)
        # the audit line names the identity and its key
        self.assertRegex(self.broker.read_log(),
                         rf"jobs: admin client=\S+ user=admin/{ADMIN_KEY} command=cancelJob job={job} outcome=ok")

    def test_operator_is_no_thing(self):
        """Over MQTT an operator holds no thing it is not granted: nor over HTTP."""
        job = self.create(THING_B)
        self.assertDenied(self.call("GET", f"/things/{THING_B}/jobs/{job}", None, ADMIN_KEY, ADMIN_SECRET,
                                    "iot-jobs-data"), "'admin' may not act as thing")

    def test_gateway_acts_for_its_granted_thing(self):
        job = self.create(THING_A, THING_B)
        status, _, body = self.call("POST", f"/things/{THING_B}/jobs/{job}", {"status": "SUCCEEDED"},
                                    GW_KEY, GW_SECRET, "iot-jobs-data")
        self.assertEqual(status, 200, body)
        self.assertEqual(self.status_of(job, THING_B), "SUCCEEDED")
        self.assertDenied(self.call("POST", f"/things/{THING_A}/jobs/{job}", {"status": "SUCCEEDED"},
                                    GW_KEY, GW_SECRET, "iot-jobs-data"), "plugin_opt_grant_gateway-7")
        self.assertEqual(self.status_of(job, THING_A), "QUEUED")

    def test_aws_cli_reads_the_keys_file_as_its_credentials(self):
        """The INI keys file is a working ~/.aws/credentials: the CLI ignores
        mosquitto_jobs_identity, and each profile gets its identity's rights."""
        if not AWS:
            self.fail(f"the AWS CLI (aws) is not installed: {INSTALL_HINT}")
        job = self.create(THING_A)

        def cli(profile, *args):
            env = {k: v for k, v in self.aws_env().items() if not k.startswith("AWS_ACCESS_KEY_ID")
                   and not k.startswith("AWS_SECRET_ACCESS_KEY")}
            env.update(AWS_SHARED_CREDENTIALS_FILE=self.keys_file, AWS_PROFILE=profile)
            return subprocess.Popen([AWS, "--output", "json", "--endpoint-url", self.endpoint] + list(args),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                    cwd=self.tmp)

        procs = [cli("admin", "iot", "describe-job", "--job-id", job),
                 cli("thing-a", "iot-jobs-data", "describe-job-execution", "--thing-name", THING_A, "--job-id", job),
                 cli("thing-a", "iot", "describe-job", "--job-id", job)]
        (admin_out, admin_err), (thing_out, thing_err), (denied_out, denied_err) = (
            p.communicate(timeout=120) for p in procs)
        self.assertEqual(procs[0].returncode, 0, admin_err)
        self.assertEqual(json.loads(admin_out)["job"]["jobId"], job)
        self.assertEqual(procs[1].returncode, 0, thing_err)
        self.assertEqual(json.loads(thing_out)["execution"]["status"], "QUEUED")
        self.assertNotEqual(procs[2].returncode, 0, denied_out)
        self.assertIn("(AccessDeniedException)", denied_err)
        self.assertIn("is not an operator", denied_err)


class ControlAccessByBroker(AccessTest):
    """plugin_opt_control_access broker: the broker's ACL decides who is an operator over
    MQTT; HTTP cannot ask it, so nobody runs the control plane over HTTP."""

    keys_text = f"{ADMIN_KEY} {ADMIN_SECRET} admin\n"
    http_options = {"isolation": "on", "operators": "admin", "control_access": "broker"}

    def test_control_plane_is_refused(self):
        self.assertDenied(self.admin("GET", "/jobs"), "plugin_opt_control_access is broker")
        self.assertDenied(self.admin("PUT", f"/jobs/{self.name('j')}", {"targets": [thing_arn("admin")],
                                                                       "document": "{}"}),
                          "plugin_opt_control_access is broker")
        # its own thing's data plane is still its
        status, _, body = self.call("GET", "/things/admin/jobs", None, ADMIN_KEY, ADMIN_SECRET, "iot-jobs-data")
        self.assertEqual((status, body), (200, {"inProgressJobs": [], "queuedJobs": []}))


class UnsignedWithoutIdentity(AccessTest):
    """No keys file and no plugin_opt_http_unsigned_identity: loopback requests act as
    nobody, even where the broker makes everyone an operator."""

    keys = False
    http_options = {"isolation": "off", "operators": "*"}

    def test_everything_is_refused(self):
        job = self.name("j")
        for method, path, payload, service in (
                ("PUT", f"/jobs/{job}", {"targets": [thing_arn(THING_A)], "document": "{}"}, None),
                ("GET", "/jobs", None, None),
                ("PUT", f"/things/{THING_A}/jobs/$next", {}, None),
                # an unchecked signature changes nothing
                ("PUT", f"/jobs/{job}", {"targets": [thing_arn(THING_A)], "document": "{}"}, "iot")):
            with self.subTest(method=method, path=path, service=service):
                result = self.call(method, path, payload, *(("AKIDANY", "any", service) if service else ()))
                self.assertDenied(result, "plugin_opt_http_unsigned_identity")
        self.assertEqual(self.operator.control({"command": "describeJob", "jobId": job})[0]["error"].split(":")[0],
                         "ResourceNotFoundException")
        self.assertIn("without plugin_opt_http_unsigned_identity they may do nothing", self.broker.read_log())


class UnsignedAsOperator(AccessTest):
    """plugin_opt_http_unsigned_identity admin, an operator: unsigned loopback requests
    run the control plane, and act on things only as admin could over MQTT."""

    keys = False
    http_options = {"http_unsigned_identity": "admin", "isolation": "on", "operators": "admin"}

    def test_unsigned_control_plane(self):
        job = self.name("j")
        status, _, body = self.call("PUT", f"/jobs/{job}", {"targets": [thing_arn(THING_A)], "document": "{}"})
        self.assertEqual((status, body.get("jobId")), (200, job), body)
        status, _, body = self.call("PUT", f"/jobs/{job}/cancel", {})
        self.assertEqual(status, 200, body)
        status, _, body = self.call("GET", f"/jobs/{job}")
        self.assertEqual(body["job"]["status"], "CANCELED")
        self.assertRegex(self.broker.read_log(), rf"user=admin command=cancelJob job={job} outcome=ok")
        # the data plane: admin holds no thing but its own
        self.assertDenied(self.call("PUT", f"/things/{THING_A}/jobs/$next", {}), "'admin' may not act as thing")
        status, _, body = self.call("PUT", "/things/admin/jobs/$next", {})
        self.assertEqual(status, 200, body)

    def test_paths_of_both_planes_are_ambiguous_unsigned(self):
        job = self.name("j")
        self.assertEqual(self.call("PUT", f"/jobs/{job}", {"targets": [thing_arn("admin")], "document": "{}"})[0], 200)
        for path in ("/things/admin/jobs", f"/things/admin/jobs/{job}"):
            with self.subTest(path=path):
                status, error_type, body = self.call("GET", path)
                self.assertEqual((status, error_type), (400, "InvalidRequestException"), body)
                self.assertIn("an operation of both iot-jobs-data and iot", body["message"])
        # a signature (unchecked without keys) names the plane
        status, _, body = self.call("GET", "/things/admin/jobs", None, "AKIDANY", "any", "iot")
        self.assertIn(job, [s["jobId"] for s in body["executionSummaries"]])
        status, _, body = self.call("GET", "/things/admin/jobs", None, "AKIDANY", "any", "iot-jobs-data")
        self.assertIn(job, [s["jobId"] for s in body["queuedJobs"] + body["inProgressJobs"]])
        # the AWS CLI without a signature
        unsigned = self.aws("--no-sign-request", "iot", "list-job-executions-for-thing", "--thing-name", "admin")
        self.assertAwsError(unsigned, "InvalidRequestException")
        self.assertIn("an operation of both iot-jobs-data and iot", unsigned.stderr)


class KeysWithoutIdentity(OwnBrokersTest):
    """A key without identity stops the broker at start-up, with the line named."""

    def test_refused_at_start(self):
        tmp = tempfile.mkdtemp(prefix="jobs-http-keys-")
        self.addCleanup(shutil.rmtree, tmp, True)
        for text, message in (
                (f"{ADMIN_KEY} {ADMIN_SECRET}\n",
                 f"line 1: access key id '{ADMIN_KEY}' has no identity"),
                (f"[default]\naws_access_key_id = {ADMIN_KEY}\naws_secret_access_key = {ADMIN_SECRET}\n",
                 "line 1: profile [default] has no mosquitto_jobs_identity")):
            with self.subTest(message=message):
                path = os.path.join(tmp, "keys")
                with open(path, "w") as f:
                    f.write(text)
                broker = self.broker(http_listen=f"127.0.0.1:{free_port()}", http_keys_file=path)
                log = broker.start(expect_failure=True)
                self.assertIn(f"jobs: HTTP API: plugin_opt_http_keys_file {path}: {message}", log)

    def test_unsigned_identity_with_keys_file_refused(self):
        tmp = tempfile.mkdtemp(prefix="jobs-http-keys-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "keys")
        with open(path, "w") as f:
            f.write(f"{ADMIN_KEY} {ADMIN_SECRET} admin\n")
        broker = self.broker(http_listen=f"127.0.0.1:{free_port()}", http_keys_file=path,
                             http_unsigned_identity="admin")
        log = broker.start(expect_failure=True)
        self.assertIn("plugin_opt_http_unsigned_identity is for a listener without keys file", log)


if __name__ == "__main__":
    unittest.main()
