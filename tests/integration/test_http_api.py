"""The AWS-compatible HTTP API (docs/http-api.md) driven by the real clients: the AWS CLI
(`aws`, found on PATH) and boto3 (boto3_script.py, run with a Python that has boto3),
against a real mosquitto with the plugin's HTTP listener.

Each AWS CLI call costs about half a second of Python start-up, so the tests batch
them: the commands of a step that do not depend on each other run concurrently
(`aws_many`), and the set-up that is not under test (jobs, devices) goes over MQTT.

The CLI and boto3 see nothing of the machine's AWS configuration: every call gets its
keys from the environment, region us-east-1, and empty config and credentials files.
"""
import concurrent.futures
import datetime
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from harness import HERE, SharedBrokerTest, free_port

ARN = "arn:aws:iot:us-east-1:000000000000"
KEY, SECRET = "AKIDJOBSHTTPTEST0001", "cli/secret+key=0001"
BOTO3_KEY, BOTO3_SECRET = "AKIDJOBSBOTO3TEST001", "boto3/secret+key=001"
# the identity both keys act as (the harness's broker makes everyone an operator and
# leaves the jobs topics open; test_http_access.py tests who may do what)
IDENTITY = "http-admin"
INSTALL_HINT = "run scripts/install-deps (it installs Debian's awscli and python3-boto3)"

# botocore's models (iot-jobs-data 2017-09-29 and iot 2015-05-28): the members a
# response may carry.
DATA_EXECUTION = {"jobId", "thingName", "status", "statusDetails", "queuedAt", "startedAt",
                  "lastUpdatedAt", "approximateSecondsBeforeTimedOut", "versionNumber",
                  "executionNumber", "jobDocument"}
DATA_SUMMARY = {"jobId", "queuedAt", "startedAt", "lastUpdatedAt", "versionNumber", "executionNumber"}
DATA_STATE = {"status", "statusDetails", "versionNumber"}
CONTROL_EXECUTION = {"jobId", "status", "forceCanceled", "statusDetails", "thingArn", "queuedAt",
                     "startedAt", "lastUpdatedAt", "executionNumber", "versionNumber",
                     "approximateSecondsBeforeTimedOut"}
CONTROL_EXECUTION_SUMMARY = {"status", "queuedAt", "startedAt", "lastUpdatedAt", "executionNumber",
                             "retryAttempt"}
JOB = {"jobArn", "jobId", "targetSelection", "status", "forceCanceled", "reasonCode", "comment",
       "targets", "description", "presignedUrlConfig", "jobExecutionsRolloutConfig", "abortConfig",
       "createdAt", "lastUpdatedAt", "completedAt", "jobProcessDetails", "timeoutConfig",
       "namespaceId", "jobTemplateArn", "jobExecutionsRetryConfig", "documentParameters",
       "isConcurrent", "schedulingConfig", "scheduledJobRollouts", "destinationPackageVersions"}
JOB_SUMMARY = {"jobArn", "jobId", "thingGroupId", "targetSelection", "status", "createdAt",
               "lastUpdatedAt", "completedAt", "isConcurrent"}
PROCESS_DETAILS = {"processingTargets", "numberOfCanceledThings", "numberOfSucceededThings",
                   "numberOfFailedThings", "numberOfRejectedThings", "numberOfQueuedThings",
                   "numberOfInProgressThings", "numberOfRemovedThings", "numberOfTimedOutThings"}

AWS = shutil.which("aws")
_cache = {}


def aws_error_rc():
    """The exit code of a service error: 255 for AWS CLI v1, 254 for v2."""
    if "rc" not in _cache:
        out = subprocess.run([AWS, "--version"], capture_output=True, text=True, timeout=60)
        _cache["rc"] = 254 if "aws-cli/2" in out.stdout + out.stderr else 255
    return _cache["rc"]


def boto3_python():
    """A Python that can import boto3 (the one running the tests may not), or None."""
    if "boto3" not in _cache:
        _cache["boto3"] = None
        seen = set()
        for cand in (shutil.which("python3"), "/root/.pyenv/shims/python3", "/usr/bin/python3"):
            if not cand or cand in seen or not os.access(cand, os.X_OK):
                continue
            seen.add(cand)
            try:
                ok = subprocess.run([cand, "-c", "import boto3"], capture_output=True,
                                    timeout=60).returncode == 0
            except (OSError, subprocess.TimeoutExpired):
                ok = False
            if ok:
                _cache["boto3"] = cand
                break
    return _cache["boto3"]


def no_proxy_opener(context=None):
    handlers = [urllib.request.ProxyHandler({})]
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    return urllib.request.build_opener(*handlers)


class AwsResult:
    def __init__(self, args, proc):
        self.args = args
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    @property
    def json(self):
        # the CLI prints nothing for an empty response ({})
        return json.loads(self.stdout) if self.stdout.strip() else {}

    def __repr__(self):
        return (f"aws {' '.join(self.args)}\n  exit {self.rc}\n  stdout: {self.stdout.strip()}\n"
                f"  stderr: {self.stderr.strip()}")


class HttpApiTest(SharedBrokerTest):
    """A shared broker with the HTTP listener; helpers to run the AWS CLI against it."""

    keys = True        # with a keys file (every request signed)
    keys_text = None   # that file's text; None: KEY and BOTO3_KEY, acting as IDENTITY
    http_options = {}  # more plugin options
    tls = False        # HTTPS with a self-signed certificate
    http_address = "127.0.0.1"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="jobs-http-")
        try:
            cls.http_port = free_port()
            options = {"http_listen": f"{cls.http_address}:{cls.http_port}"}
            if cls.keys:
                cls.keys_file = os.path.join(cls.tmp, "keys")
                with open(cls.keys_file, "w") as f:
                    f.write(cls.keys_text if cls.keys_text is not None else
                            f"# test keys\n{KEY} {SECRET} {IDENTITY}\n{BOTO3_KEY} {BOTO3_SECRET} {IDENTITY}\n")
                options["http_keys_file"] = cls.keys_file
            options.update(cls.http_options)
            if cls.tls:
                cls.cert = os.path.join(cls.tmp, "cert.pem")
                key = os.path.join(cls.tmp, "key.pem")
                subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out",
                                cls.cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                                "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
                options.update(http_tls_cert=cls.cert, http_tls_key=key)
            for name in ("aws-config", "aws-credentials"):
                open(os.path.join(cls.tmp, name), "w").close()
            cls.options = options
            super().setUpClass()
        except Exception:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    @property
    def endpoint(self):
        return f"{'https' if self.tls else 'http'}://{self.http_address}:{self.http_port}"

    def aws_env(self, key=KEY, secret=SECRET):
        # nothing of the machine's AWS set-up (profiles, CA bundles, endpoints) leaks in
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_DEFAULT_REGION="us-east-1",
                   AWS_CONFIG_FILE=os.path.join(self.tmp, "aws-config"),
                   AWS_SHARED_CREDENTIALS_FILE=os.path.join(self.tmp, "aws-credentials"),
                   AWS_PAGER="", AWS_MAX_ATTEMPTS="1", AWS_EC2_METADATA_DISABLED="true",
                   NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
        return env

    def run_aws(self, args, key=KEY, secret=SECRET, endpoint=None):
        if not AWS:
            self.fail(f"the AWS CLI (aws) is not installed: {INSTALL_HINT}")
        args = [str(a) for a in args]
        cmd = [AWS, "--output", "json", "--endpoint-url", endpoint or self.endpoint] + args
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                              env=self.aws_env(key, secret), cwd=self.tmp)
        return AwsResult(args, proc)

    def aws(self, *args, **kw):
        return self.run_aws(list(args), **kw)

    def aws_many(self, *commands, **kw):
        """Runs independent CLI commands concurrently; returns their results in order."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(commands)) as pool:
            return list(pool.map(lambda c: self.run_aws(c, **kw), commands))

    def ok(self, result):
        """The parsed JSON output of a command that must succeed."""
        if result.rc != 0:
            self.fail(f"command failed:\n{result!r}")
        try:
            return result.json
        except ValueError:
            self.fail(f"output is not JSON:\n{result!r}")

    def assertAwsError(self, result, error):
        """A service error as the CLI reports it: its exit code and the error name."""
        self.assertEqual(result.rc, aws_error_rc(), f"expected {error}:\n{result!r}")
        self.assertIn(f"({error})", result.stderr, f"expected {error}:\n{result!r}")

    # ---- shapes

    def assertEpochSeconds(self, value, what=""):
        """A data-plane `long`: an integer near now (botocore hands it out as an int)."""
        self.assertIs(type(value), int, f"{what}: {value!r}")
        self.assertLess(abs(value - time.time()), 3600, what)

    def assertTimestamp(self, value, what=""):
        """A control-plane `timestamp`: the CLI v1 prints it as received (epoch seconds,
        fractions allowed), v2 as ISO 8601."""
        if isinstance(value, str):
            value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        self.assertIsInstance(value, (int, float), what)
        self.assertLess(abs(value - time.time()), 3600, f"{what}: {value!r}")

    def assertDataExecution(self, ex, thing, job, status, document=None):
        """An iot-jobs-data JobExecution: jobDocument a string (when given), thingName."""
        self.assertLessEqual(set(ex), DATA_EXECUTION, ex)
        self.assertEqual((ex["thingName"], ex["jobId"], ex["status"]), (thing, job, status), ex)
        for k in ("versionNumber", "executionNumber"):
            self.assertIs(type(ex[k]), int, ex)
        for k in ("queuedAt", "lastUpdatedAt", "startedAt"):
            if k in ex or k != "startedAt":
                self.assertEpochSeconds(ex[k], k)
        if document is None:
            self.assertNotIn("jobDocument", ex)
        else:
            self.assertIsInstance(ex["jobDocument"], str, ex)
            self.assertEqual(json.loads(ex["jobDocument"]), document)

    def assertDataSummary(self, s, job):
        self.assertLessEqual(set(s), DATA_SUMMARY, s)
        self.assertEqual(s["jobId"], job)
        self.assertIs(type(s["versionNumber"]), int)
        self.assertIs(type(s["executionNumber"]), int)
        self.assertEpochSeconds(s["queuedAt"], "queuedAt")

    def assertControlExecution(self, ex, thing, job, status):
        """An iot JobExecution: thingArn, forceCanceled, statusDetails.detailsMap, no
        jobDocument and no thingName."""
        self.assertLessEqual(set(ex), CONTROL_EXECUTION, ex)
        self.assertEqual((ex["thingArn"], ex["jobId"], ex["status"]), (f"{ARN}:thing/{thing}", job, status))
        self.assertIsInstance(ex["forceCanceled"], bool)
        self.assertIs(type(ex["executionNumber"]), int)
        self.assertIs(type(ex["versionNumber"]), int)
        self.assertTimestamp(ex["queuedAt"], "queuedAt")
        if "statusDetails" in ex:
            self.assertLessEqual(set(ex["statusDetails"]), {"detailsMap"}, ex)

    def assertNoMqttFields(self, body):
        self.assertNotIn("timestamp", body)
        self.assertNotIn("clientToken", body)

    # ---- MQTT side

    def device(self, thing):
        """An MQTT device subscribed to its own jobs topics."""
        dev = self.client(f"dev-{thing}"[:60])
        dev.subscribe(f"$aws/things/{thing}/jobs/#")
        return dev

    def mqtt_describe(self, dev, thing, job):
        outcome, body, _ = dev.request(f"$aws/things/{thing}/jobs/{job}/get", {"includeJobDocument": True})
        self.assertEqual(outcome, "accepted", body)
        return body["execution"]


class SignedListener(HttpApiTest):
    """The listener with a keys file: every request must carry a valid Signature V4."""

    def test_device_plane_commands(self):
        """Every `aws iot-jobs-data` command of docs/http-api.md, and its output's shape."""
        thing, job = self.thing, self.name("j")
        created = self.ok(self.aws("iot", "create-job", "--job-id", job,
                                   "--document", '{"operation":"reboot","size":1000,"parts":[1,20]}',
                                   "--targets", f"{ARN}:thing/{thing}"))
        self.assertEqual(created, {"jobId": job, "jobArn": f"{ARN}:job/{job}"})
        document = {"operation": "reboot", "size": 1000, "parts": [1, 20]}

        pending, queued = self.aws_many(
            ["iot-jobs-data", "get-pending-job-executions", "--thing-name", thing],
            ["iot-jobs-data", "describe-job-execution", "--thing-name", thing, "--job-id", job,
             "--include-job-document"])
        pending = self.ok(pending)
        self.assertEqual(set(pending), {"inProgressJobs", "queuedJobs"})
        self.assertEqual(pending["inProgressJobs"], [])
        [summary] = pending["queuedJobs"]
        self.assertDataSummary(summary, job)
        self.assertEqual((summary["versionNumber"], summary["executionNumber"]), (1, 1))
        self.assertNotIn("startedAt", summary)
        queued = self.ok(queued)
        self.assertEqual(set(queued), {"execution"})
        self.assertDataExecution(queued["execution"], thing, job, "QUEUED", document)

        started = self.ok(self.aws("iot-jobs-data", "start-next-pending-job-execution", "--thing-name", thing,
                                   "--step-timeout-in-minutes", "10", "--status-details", "step=start"))
        self.assertEqual(set(started), {"execution"})
        self.assertNoMqttFields(started)
        ex = started["execution"]
        self.assertDataExecution(ex, thing, job, "IN_PROGRESS", document)
        self.assertEqual((ex["versionNumber"], ex["statusDetails"]), (2, {"step": "start"}))
        self.assertEpochSeconds(ex["startedAt"], "startedAt")
        self.assertTrue(0 < ex["approximateSecondsBeforeTimedOut"] <= 600, ex)

        # the documented update, and one with a stale --expected-version, at the same time
        updated, stale = self.aws_many(
            ["iot-jobs-data", "update-job-execution", "--thing-name", thing, "--job-id", job,
             "--status", "IN_PROGRESS", "--expected-version", "2",
             "--status-details", "step=download,progress=50", "--include-job-execution-state",
             "--include-job-document"],
            ["iot-jobs-data", "update-job-execution", "--thing-name", thing, "--job-id", job,
             "--status", "IN_PROGRESS", "--expected-version", "1"])
        updated = self.ok(updated)
        self.assertEqual(set(updated), {"executionState", "jobDocument"})
        self.assertLessEqual(set(updated["executionState"]), DATA_STATE)
        self.assertEqual(updated["executionState"], {"status": "IN_PROGRESS", "versionNumber": 3,
                                                     "statusDetails": {"step": "download", "progress": "50"}})
        self.assertIsInstance(updated["jobDocument"], str)
        self.assertEqual(json.loads(updated["jobDocument"]), document)
        self.assertAwsError(stale, "InvalidStateTransitionException")

        done = self.ok(self.aws("iot-jobs-data", "update-job-execution", "--thing-name", thing, "--job-id", job,
                                "--status", "SUCCEEDED", "--expected-version", "3",
                                "--include-job-execution-state"))
        self.assertEqual(done, {"executionState": {"status": "SUCCEEDED", "versionNumber": 4,
                                                   "statusDetails": {"step": "download", "progress": "50"}}})

        final = self.ok(self.aws("iot-jobs-data", "describe-job-execution", "--thing-name", thing,
                                 "--job-id", job, "--execution-number", "1"))
        self.assertNoMqttFields(final)
        final = final["execution"]
        self.assertDataExecution(final, thing, job, "SUCCEEDED", document)
        self.assertEqual(final["versionNumber"], 4)
        self.assertNotIn("approximateSecondsBeforeTimedOut", final)

        with self.subTest("the document's integers come back as written"):
            # AWS returns the document as given; 1e+03 is the same number but not the
            # same text, and a device's int parser may refuse it
            compact = '{"operation":"reboot","size":1000,"parts":[1,20]}'
            self.assertEqual(final["jobDocument"], compact)
            self.assertEqual(updated["jobDocument"], compact)

    def test_control_plane_commands(self):
        """Every `aws iot` command of docs/http-api.md, with AWS's shapes; rollout,
        timeout, retry and abort configs pass through create-job. (What is not under
        test, a second job and the checks after each change, goes over MQTT.)"""
        group, a, b = self.name("g"), self.name("a"), self.name("b")
        rollout, snap = self.name("roll"), self.name("snap")
        group_arn = f"{ARN}:thinggroup/{group}"
        with open(os.path.join(self.tmp, f"{rollout}.json"), "w") as f:
            f.write('{"operation":"install","url":"https://example.com/fw.bin"}')

        made = self.ok(self.aws("iot", "create-thing-group", "--thing-group-name", group,
                                "--thing-group-properties", "thingGroupDescription=line A"))
        self.assertEqual(made, {"thingGroupName": group, "thingGroupArn": group_arn, "thingGroupId": group})
        added = self.aws("iot", "add-thing-to-thing-group", "--thing-group-name", group, "--thing-name", a)
        self.assertEqual(self.ok(added), {})
        [resp] = self.operator.control({"command": "addThingToThingGroup", "thingGroupName": group,
                                        "thingName": b})
        self.assertIn("data", resp)

        created = self.aws(
            "iot", "create-job", "--job-id", rollout, "--document", f"file://{rollout}.json",
            "--target-selection", "CONTINUOUS", "--targets", group_arn, "--description", "fw 2.1",
            "--job-executions-rollout-config", "maximumPerMinute=10",
            "--timeout-config", "inProgressTimeoutInMinutes=30",
            "--job-executions-retry-config", '{"criteriaList":[{"failureType":"FAILED","numberOfRetries":2}]}',
            "--abort-config", '{"criteriaList":[{"failureType":"FAILED","action":"CANCEL",'
                              '"thresholdPercentage":50,"minNumberOfExecutedThings":5}]}')
        self.assertEqual(self.ok(created), {"jobId": rollout, "jobArn": f"{ARN}:job/{rollout}",
                                           "description": "fw 2.1"})
        self.create_job(snap, [f"{ARN}:thing/{a}"])

        described, document, listed, for_job, for_thing, execution, members, groups = self.aws_many(
            ["iot", "describe-job", "--job-id", rollout],
            ["iot", "get-job-document", "--job-id", rollout],
            ["iot", "list-jobs", "--status", "IN_PROGRESS", "--max-results", "10"],
            ["iot", "list-job-executions-for-job", "--job-id", rollout],
            ["iot", "list-job-executions-for-thing", "--thing-name", a],
            ["iot", "describe-job-execution", "--job-id", snap, "--thing-name", a],
            ["iot", "list-things-in-thing-group", "--thing-group-name", group],
            ["iot", "list-thing-groups"])
        job = self.ok(described)["job"]
        self.assertLessEqual(set(job), JOB, job)
        self.assertEqual((job["jobId"], job["jobArn"]), (rollout, f"{ARN}:job/{rollout}"))
        self.assertEqual((job["targetSelection"], job["status"], job["forceCanceled"]),
                         ("CONTINUOUS", "IN_PROGRESS", False))
        self.assertEqual(job["targets"], [group_arn])
        self.assertEqual(job["description"], "fw 2.1")
        self.assertEqual(job["jobExecutionsRolloutConfig"], {"maximumPerMinute": 10})
        self.assertEqual(job["timeoutConfig"], {"inProgressTimeoutInMinutes": 30})
        self.assertEqual(job["jobExecutionsRetryConfig"],
                         {"criteriaList": [{"failureType": "FAILED", "numberOfRetries": 2}]})
        self.assertEqual(job["abortConfig"], {"criteriaList": [
            {"failureType": "FAILED", "action": "CANCEL", "thresholdPercentage": 50,
             "minNumberOfExecutedThings": 5}]})
        self.assertTimestamp(job["createdAt"], "createdAt")
        self.assertTimestamp(job["lastUpdatedAt"], "lastUpdatedAt")
        self.assertLessEqual(set(job["jobProcessDetails"]), PROCESS_DETAILS)
        self.assertEqual(job["jobProcessDetails"]["numberOfQueuedThings"], 2)

        self.assertEqual(self.ok(document),
                         {"document": '{"operation":"install","url":"https://example.com/fw.bin"}'})

        listed = self.ok(listed)   # the CLI follows nextToken through every page
        mine = {j["jobId"]: j for j in listed["jobs"] if j["jobId"] in (rollout, snap)}
        self.assertEqual(set(mine), {rollout, snap}, listed)
        for j in listed["jobs"]:
            self.assertLessEqual(set(j), JOB_SUMMARY, j)
            self.assertEqual(j["status"], "IN_PROGRESS")
        self.assertEqual(mine[rollout]["targetSelection"], "CONTINUOUS")
        self.assertTimestamp(mine[snap]["createdAt"], "createdAt")

        summaries = self.ok(for_job)["executionSummaries"]
        self.assertEqual([s["thingArn"] for s in summaries], [f"{ARN}:thing/{a}", f"{ARN}:thing/{b}"])
        for s in summaries:
            self.assertEqual(set(s), {"thingArn", "jobExecutionSummary"})
            self.assertLessEqual(set(s["jobExecutionSummary"]), CONTROL_EXECUTION_SUMMARY)
            self.assertEqual(s["jobExecutionSummary"]["status"], "QUEUED")
            self.assertEqual(s["jobExecutionSummary"]["executionNumber"], 1)
            self.assertTimestamp(s["jobExecutionSummary"]["queuedAt"], "queuedAt")

        summaries = self.ok(for_thing)["executionSummaries"]
        self.assertEqual(sorted(s["jobId"] for s in summaries), sorted([rollout, snap]))
        for s in summaries:
            self.assertEqual(set(s), {"jobId", "jobExecutionSummary"})
            self.assertEqual(s["jobExecutionSummary"]["status"], "QUEUED")

        execution = self.ok(execution)
        self.assertEqual(set(execution), {"execution"})
        self.assertControlExecution(execution["execution"], a, snap, "QUEUED")

        self.assertEqual(self.ok(members), {"things": sorted([a, b])})
        self.assertIn({"groupName": group, "groupArn": group_arn}, self.ok(groups)["thingGroups"])

        canceled_exec, canceled_job, removed = self.aws_many(
            ["iot", "cancel-job-execution", "--job-id", rollout, "--thing-name", b, "--force",
             "--status-details", "reason=operator"],
            ["iot", "cancel-job", "--job-id", snap, "--force", "--comment", "bad build",
             "--reason-code", "BAD_BUILD"],
            ["iot", "remove-thing-from-thing-group", "--thing-group-name", group, "--thing-name", a])
        self.assertEqual(self.ok(canceled_exec), {})
        self.assertEqual(self.ok(canceled_job), {"jobId": snap, "jobArn": f"{ARN}:job/{snap}"})
        self.assertEqual(self.ok(removed), {})

        snap_job, exec_b, exec_a, things = self.operator.control(
            {"command": "describeJob", "jobId": snap},
            {"command": "describeJobExecution", "jobId": rollout, "thingName": b},
            {"command": "describeJobExecution", "jobId": rollout, "thingName": a},
            {"command": "listThingsInThingGroup", "thingGroupName": group})
        snap_job = snap_job["data"]["job"]
        self.assertEqual((snap_job["status"], snap_job["forceCanceled"], snap_job["comment"],
                          snap_job["reasonCode"]), ("CANCELED", True, "bad build", "BAD_BUILD"))
        self.assertEqual(exec_b["data"]["execution"]["status"], "CANCELED")
        self.assertEqual(exec_b["data"]["execution"]["statusDetails"], {"detailsMap": {"reason": "operator"}})
        # a thing that left the continuous job's group: its queued execution is REMOVED
        self.assertEqual(exec_a["data"]["execution"]["status"], "REMOVED")
        self.assertEqual(things["data"]["things"], [b])

        deleted = self.aws_many(
            ["iot", "delete-job-execution", "--job-id", rollout, "--thing-name", b, "--execution-number", "1"],
            ["iot", "delete-job", "--job-id", snap],
            ["iot", "delete-thing-group", "--thing-group-name", group])
        for r in deleted:
            self.assertEqual(self.ok(r), {})
        [resp] = self.operator.control({"command": "describeJob", "jobId": rollout})
        self.assertEqual(resp["data"]["job"]["jobProcessDetails"]["numberOfCanceledThings"], 0)
        self.assertEqual(self.ok(self.aws("iot", "delete-job", "--job-id", rollout, "--force")), {})
        for resp in self.operator.control(
                {"command": "describeJob", "jobId": snap}, {"command": "describeJob", "jobId": rollout},
                {"command": "describeJobExecution", "jobId": rollout, "thingName": b}):
            self.assertTrue(resp.get("error", "").startswith("ResourceNotFoundException"), resp)
        [groups] = self.operator.control({"command": "listThingGroups", "namePrefixFilter": group})
        self.assertEqual(groups["data"]["thingGroups"], [])

        # the identity and the access key are the user of the management audit line
        log = self.broker.read_log()
        self.assertRegex(log, rf"jobs: admin client=\S+ user={IDENTITY}/{KEY} command=createJob job={rollout} outcome=ok")

    def test_errors(self):
        """Errors as the CLI reports them (the exit code, the error name on stderr); none
        changes anything. (boto3_script.py covers every error type of both models.)"""
        thing, job = self.thing, self.name("j")
        self.create_job(job, [thing])
        dev = self.device(thing)
        outcome, body, _ = dev.request(f"$aws/things/{thing}/jobs/start-next", {})
        self.assertEqual((outcome, body["execution"]["versionNumber"]), ("accepted", 2))

        results = self.aws_many(
            ["iot-jobs-data", "describe-job-execution", "--thing-name", thing, "--job-id", self.name("none")],
            ["iot-jobs-data", "get-pending-job-executions", "--thing-name", "bad.thing"],
            ["iot", "describe-job", "--job-id", self.name("none")],
            ["iot", "create-job", "--job-id", job, "--document", "{}", "--targets", f"{ARN}:thing/{thing}"],
            ["iot", "cancel-job-execution", "--job-id", job, "--thing-name", thing, "--force",
             "--expected-version", "9"],
            ["iot", "delete-job", "--job-id", job],
            ["iot", "create-job", "--job-id", self.name("j"), "--document", "{}",
             "--targets", *[f"t{i}" for i in range(101)]])
        expected = ["ResourceNotFoundException", "InvalidRequestException", "ResourceNotFoundException",
                    "ResourceAlreadyExistsException", "VersionConflictException",
                    "InvalidStateTransitionException", "LimitExceededException"]
        for result, error in zip(results, expected):
            with self.subTest(command=" ".join(result.args[:2]), error=error):
                self.assertAwsError(result, error)

        ex = self.mqtt_describe(dev, thing, job)
        self.assertEqual((ex["status"], ex["versionNumber"]), ("IN_PROGRESS", 2))
        [resp] = self.operator.control({"command": "describeJob", "jobId": job})
        self.assertEqual(resp["data"]["job"]["status"], "IN_PROGRESS")

    def test_http_change_notifies_mqtt_device(self):
        """update-job-execution and cancel-job-execution over HTTP send the MQTT
        device its notify and notify-next; the MQTT view agrees with the HTTP one."""
        thing, first, second = self.thing, self.name("first"), self.name("second")
        self.create_job(first, [thing], document={"step": 1})
        self.create_job(second, [thing], document={"step": 2})
        dev = self.device(thing)
        outcome, body, _ = dev.request(f"$aws/things/{thing}/jobs/start-next", {})
        self.assertEqual((outcome, body["execution"]["jobId"]), ("accepted", first))
        dev.sync()

        state = self.ok(self.aws("iot-jobs-data", "update-job-execution", "--thing-name", thing,
                                 "--job-id", first, "--status", "SUCCEEDED", "--expected-version", "2",
                                 "--status-details", "result=ok", "--include-job-execution-state"))
        notify, _ = dev.expect(f"$aws/things/{thing}/jobs/notify")
        self.assertEqual(list(notify["jobs"]), ["QUEUED"], notify)
        self.assertEqual([s["jobId"] for s in notify["jobs"]["QUEUED"]], [second])
        nxt, _ = dev.expect(f"$aws/things/{thing}/jobs/notify-next")
        self.assertEqual(nxt["execution"]["jobId"], second)
        self.assertEqual(nxt["execution"]["jobDocument"], {"step": 2})   # an object over MQTT
        ex = self.mqtt_describe(dev, thing, first)
        self.assertEqual(state["executionState"], {"status": ex["status"], "versionNumber": ex["versionNumber"],
                                                   "statusDetails": ex["statusDetails"]})
        self.assertEqual(ex["status"], "SUCCEEDED")
        dev.sync()

        # the control plane's cancel notifies too: nothing is pending any more
        self.assertEqual(self.ok(self.aws("iot", "cancel-job-execution", "--job-id", second,
                                          "--thing-name", thing)), {})
        notify, _ = dev.expect(f"$aws/things/{thing}/jobs/notify")
        self.assertEqual(notify["jobs"], {})
        nxt, _ = dev.expect(f"$aws/things/{thing}/jobs/notify-next")
        self.assertNotIn("execution", nxt)
        self.assertEqual(self.mqtt_describe(dev, thing, second)["status"], "CANCELED")

    def test_mqtt_change_is_seen_over_http(self):
        thing, job = self.thing, self.name("j")
        self.create_job(job, [thing], document={"operation": "flash"})
        dev = self.device(thing)
        outcome, _, _ = dev.request(f"$aws/things/{thing}/jobs/start-next", {"statusDetails": {"step": "mqtt"}})
        self.assertEqual(outcome, "accepted")
        outcome, _, _ = dev.request(f"$aws/things/{thing}/jobs/{job}/update",
                                    {"status": "IN_PROGRESS", "statusDetails": {"step": "flash"}})
        self.assertEqual(outcome, "accepted")
        mqtt_view = self.mqtt_describe(dev, thing, job)

        described, pending = self.aws_many(
            ["iot-jobs-data", "describe-job-execution", "--thing-name", thing, "--job-id", job],
            ["iot-jobs-data", "get-pending-job-executions", "--thing-name", thing])
        ex = self.ok(described)["execution"]
        self.assertDataExecution(ex, thing, job, "IN_PROGRESS", {"operation": "flash"})
        for k in ("status", "statusDetails", "versionNumber", "executionNumber", "queuedAt", "startedAt"):
            self.assertEqual(ex[k], mqtt_view[k], k)
        self.assertEqual((ex["versionNumber"], ex["statusDetails"]), (3, {"step": "flash"}))
        pending = self.ok(pending)
        self.assertEqual(pending["queuedJobs"], [])
        [summary] = pending["inProgressJobs"]
        self.assertDataSummary(summary, job)
        self.assertEqual(summary["versionNumber"], 3)

    def test_colliding_paths_told_apart_by_signing_name(self):
        """GET /things/T/jobs and GET /things/T/jobs/J are both planes' paths: the
        credential scope's signing name decides."""
        thing, job = self.thing, self.name("j")
        self.create_job(job, [thing], document={"operation": "x"})
        control_list, data_list, control_describe, data_describe = self.aws_many(
            ["iot", "list-job-executions-for-thing", "--thing-name", thing],
            ["iot-jobs-data", "get-pending-job-executions", "--thing-name", thing],
            ["iot", "describe-job-execution", "--job-id", job, "--thing-name", thing],
            ["iot-jobs-data", "describe-job-execution", "--job-id", job, "--thing-name", thing])
        control_list = self.ok(control_list)
        self.assertEqual(set(control_list), {"executionSummaries"})
        [s] = control_list["executionSummaries"]
        self.assertEqual((s["jobId"], s["jobExecutionSummary"]["status"]), (job, "QUEUED"))
        data_list = self.ok(data_list)
        self.assertEqual(set(data_list), {"inProgressJobs", "queuedJobs"})
        self.assertEqual([q["jobId"] for q in data_list["queuedJobs"]], [job])
        self.assertControlExecution(self.ok(control_describe)["execution"], thing, job, "QUEUED")
        self.assertDataExecution(self.ok(data_describe)["execution"], thing, job, "QUEUED", {"operation": "x"})

    def test_next_and_thing_names_with_colons(self):
        """botocore sends describe's $next as %24next and ':' as %3A; start-next sends a
        literal $next."""
        thing, job = f"{self.thing}:dev:7", self.name("j")
        self.create_job(job, [f"{ARN}:thing/{thing}"], document={"colon": True})
        nxt = self.ok(self.aws("iot-jobs-data", "describe-job-execution", "--thing-name", thing,
                               "--job-id", "$next"))
        self.assertDataExecution(nxt["execution"], thing, job, "QUEUED", {"colon": True})

        started = self.ok(self.aws("iot-jobs-data", "start-next-pending-job-execution", "--thing-name", thing))
        self.assertDataExecution(started["execution"], thing, job, "IN_PROGRESS", {"colon": True})
        done = self.ok(self.aws("iot-jobs-data", "update-job-execution", "--thing-name", thing, "--job-id", job,
                                "--status", "SUCCEEDED", "--include-job-execution-state"))
        self.assertEqual(done["executionState"]["status"], "SUCCEEDED")

        control, nothing = self.aws_many(
            ["iot", "describe-job-execution", "--job-id", job, "--thing-name", thing],
            ["iot-jobs-data", "describe-job-execution", "--thing-name", thing, "--job-id", "$next"])
        self.assertControlExecution(self.ok(control)["execution"], thing, job, "SUCCEEDED")
        # $next with nothing pending: no execution (as over MQTT)
        self.assertNotIn("execution", self.ok(nothing))

    def test_status_details_maps(self):
        """--status-details in the CLI's JSON and shorthand forms: a string map on the
        data plane, statusDetails.detailsMap on the control plane."""
        thing, first, second = self.thing, self.name("first"), self.name("second")
        self.create_job(first, [thing])
        self.create_job(second, [thing])
        details = {"phase": "download 1/2", "mode": "delta", "note": "ünïcode"}
        started, canceled = self.aws_many(
            ["iot-jobs-data", "start-next-pending-job-execution", "--thing-name", thing,
             "--status-details", json.dumps(details)],
            ["iot", "cancel-job-execution", "--job-id", second, "--thing-name", thing,
             "--status-details", "reason=operator,by=cli"])
        ex = self.ok(started)["execution"]
        self.assertEqual((ex["jobId"], ex["statusDetails"]), (first, details))
        self.assertEqual(self.ok(canceled), {})

        control_first, control_second = self.aws_many(
            ["iot", "describe-job-execution", "--job-id", first, "--thing-name", thing],
            ["iot", "describe-job-execution", "--job-id", second, "--thing-name", thing])
        self.assertEqual(self.ok(control_first)["execution"]["statusDetails"], {"detailsMap": details})
        second_ex = self.ok(control_second)["execution"]
        self.assertEqual(second_ex["status"], "CANCELED")
        self.assertEqual(second_ex["statusDetails"], {"detailsMap": {"reason": "operator", "by": "cli"}})

    def test_signatures(self):
        """A wrong secret, an unknown key, no signature at all: 403 and AWS's error type."""
        wrong_secret = self.aws("iot", "list-jobs", secret=SECRET + "x")
        unknown_key = self.aws("iot-jobs-data", "get-pending-job-executions", "--thing-name", self.thing,
                               key="AKIDNOSUCHKEY0000000")
        unsigned = self.aws("--no-sign-request", "iot", "list-jobs")
        self.assertAwsError(wrong_secret, "InvalidSignatureException")
        self.assertAwsError(unknown_key, "UnrecognizedClientException")
        self.assertAwsError(unsigned, "MissingAuthenticationTokenException")

        opener = no_proxy_opener()
        for headers, error in (({}, "MissingAuthenticationTokenException"),
                               ({"Authorization": "AWS4-HMAC-SHA256 Credential=x"},
                                "IncompleteSignatureException")):
            with self.subTest(error=error):
                req = urllib.request.Request(f"{self.endpoint}/things/{self.thing}/jobs", headers=headers)
                with self.assertRaises(urllib.error.HTTPError) as cm:
                    opener.open(req, timeout=10)
                self.assertEqual(cm.exception.code, 403)
                self.assertEqual(cm.exception.headers.get("x-amzn-ErrorType"), error)
                self.assertIn("message", json.loads(cm.exception.read()))

    def test_boto3(self):
        """boto3_script.py: the same operations through boto3's iot-jobs-data and iot
        clients; errors raised as the clients' modeled exception classes."""
        python = boto3_python()
        if not python:
            self.fail(f"no python3 with boto3 found: {INSTALL_HINT}")
        prefix = self.name("b3")
        args = {"endpoint": self.endpoint, "key": BOTO3_KEY, "secret": BOTO3_SECRET, "prefix": prefix}
        proc = subprocess.run([python, os.path.join(HERE, "boto3_script.py"), json.dumps(args)],
                              capture_output=True, text=True, timeout=120, cwd=self.tmp,
                              env=self.aws_env(BOTO3_KEY, BOTO3_SECRET))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = json.loads(proc.stdout)
        self.assertNotIn("script_crash", out)
        t1, t2, group, j1, j2 = f"{prefix}-dev1", f"{prefix}-dev:2", f"{prefix}-grp", f"{prefix}-j1", f"{prefix}-j2"

        def ok(name):
            self.assertIn(name, out)
            self.assertIn("ok", out[name], f"{name}: {out[name]}")
            return out[name]["ok"]

        def raised(name, exception, status):
            self.assertIn(name, out)
            rec = out[name]
            self.assertEqual(rec.get("raised"), exception, f"{name}: {rec}")
            self.assertEqual((rec["code"], rec["status"]), (exception, status), rec)
            self.assertTrue(rec["message"], rec)

        def dt(value):
            self.assertIsInstance(value, dict)
            self.assertIn("datetime", value)   # parsed by botocore into a datetime
            return value["datetime"]

        with self.subTest("thing groups and create_job"):
            self.assertEqual(ok("create_thing_group")["thingGroupArn"], f"{ARN}:thinggroup/{group}")
            self.assertEqual(ok("add_thing_to_thing_group"), {})
            self.assertEqual(ok("create_job"), {"jobId": j1, "jobArn": f"{ARN}:job/{j1}",
                                                "description": "boto3 job"})
            job = ok("describe_job")["job"]
            self.assertLessEqual(set(job), JOB)
            dt(job["createdAt"])
            self.assertEqual(job["jobExecutionsRolloutConfig"], {"maximumPerMinute": 50})
            self.assertEqual(job["timeoutConfig"], {"inProgressTimeoutInMinutes": 60})
            self.assertEqual(job["jobProcessDetails"]["numberOfQueuedThings"], 2)
            self.assertTrue({j1, j2} <= {j["jobId"] for j in ok("list_jobs")["jobs"]})
            # nextToken round trips
            self.assertEqual(ok("paginate_executions_for_job"),
                             [[f"{ARN}:thing/{t1}"], [f"{ARN}:thing/{t2}"]])

        with self.subTest("device plane"):
            pending = ok("get_pending")
            self.assertEqual([q["jobId"] for q in pending["queuedJobs"]], [j1, j2])
            ex = ok("start_next")["execution"]
            self.assertDataExecution(ex, t1, j1, "IN_PROGRESS", json.loads(ok("get_job_document")["document"]))
            self.assertEqual(ex["statusDetails"], {"step": "start"})
            self.assertEqual(ok("describe_next")["execution"]["jobId"], j1)
            self.assertIsInstance(ok("describe_with_document")["execution"]["jobDocument"], str)
            self.assertNotIn("jobDocument", ok("describe_without_document")["execution"])
            upd = ok("update_in_progress")
            self.assertEqual(upd["executionState"], {"status": "IN_PROGRESS", "versionNumber": 3,
                                                     "statusDetails": {"step": "download", "progress": "50"}})
            self.assertIsInstance(upd["jobDocument"], str)
            raised("update_wrong_version", "InvalidStateTransitionException", 409)
            self.assertEqual(ok("update_to_version_10")["executionState"]["versionNumber"], 10)
            self.assertIs(type(ok("describe_version_10")["execution"]["versionNumber"]), int)
            self.assertEqual(ok("update_succeeded")["executionState"],
                             {"status": "SUCCEEDED", "versionNumber": 11, "statusDetails": {"step": "done"}})
            raised("update_terminal", "InvalidStateTransitionException", 409)
            raised("describe_unknown_job", "ResourceNotFoundException", 404)
            raised("update_bad_status", "InvalidRequestException", 400)
            raised("bad_thing_name", "InvalidRequestException", 400)
            self.assertEqual([q["jobId"] for q in ok("get_pending_after")["queuedJobs"]], [j2])
            self.assertEqual([q["jobId"] for q in ok("get_pending_colon")["queuedJobs"]], [j1])
            self.assertDataExecution(ok("describe_next_colon")["execution"], t2, j1, "QUEUED",
                                     json.loads(ok("get_job_document")["document"]))

        with self.subTest("executions, control plane"):
            summaries = ok("list_executions_for_job")["executionSummaries"]
            self.assertEqual([(s["thingArn"], s["jobExecutionSummary"]["status"]) for s in summaries],
                             [(f"{ARN}:thing/{t1}", "SUCCEEDED"), (f"{ARN}:thing/{t2}", "QUEUED")])
            dt(summaries[0]["jobExecutionSummary"]["startedAt"])
            self.assertEqual([s["jobId"] for s in ok("list_executions_for_thing")["executionSummaries"]], [j1, j2])
            ex = ok("describe_execution_control")["execution"]
            self.assertLessEqual(set(ex), CONTROL_EXECUTION)
            self.assertEqual((ex["thingArn"], ex["status"], ex["versionNumber"], ex["statusDetails"]),
                             (f"{ARN}:thing/{t1}", "SUCCEEDED", 11, {"detailsMap": {"step": "done"}}))
            dt(ex["lastUpdatedAt"])
            raised("cancel_execution_wrong_version", "VersionConflictException", 409)
            self.assertEqual(ok("cancel_execution"), {})
            ex = ok("describe_canceled_execution")["execution"]
            self.assertEqual((ex["status"], ex["statusDetails"]), ("CANCELED", {"detailsMap": {"reason": "boto3"}}))
            raised("cancel_execution_again", "InvalidStateTransitionException", 409)
            self.assertEqual(ok("delete_execution"), {})
            raised("describe_deleted_execution", "ResourceNotFoundException", 404)

        with self.subTest("control-plane errors, cancel, delete, groups"):
            raised("describe_unknown", "ResourceNotFoundException", 404)
            raised("create_duplicate", "ResourceAlreadyExistsException", 409)
            raised("create_bad_document", "InvalidRequestException", 400)
            raised("delete_in_progress_job", "InvalidStateTransitionException", 409)
            raised("delete_pending_execution", "InvalidStateTransitionException", 409)
            raised("create_thing_group_conflict", "ResourceAlreadyExistsException", 409)
            self.assertEqual(ok("cancel_job"), {"jobId": j2, "jobArn": f"{ARN}:job/{j2}"})
            job = ok("describe_canceled_job")["job"]
            self.assertEqual((job["status"], job["forceCanceled"], job["comment"], job["reasonCode"]),
                             ("CANCELED", True, "withdrawn", "BAD_BUILD"))
            self.assertEqual(ok("delete_canceled_job"), {})
            self.assertEqual(ok("delete_job_force"), {})
            raised("describe_deleted_job", "ResourceNotFoundException", 404)
            self.assertEqual(ok("list_things_in_group"), {"things": [t2]})
            self.assertEqual(ok("list_thing_groups"),
                             {"thingGroups": [{"groupName": group, "groupArn": f"{ARN}:thinggroup/{group}"}]})
            self.assertEqual(ok("remove_thing"), {})
            self.assertEqual(ok("list_things_in_group_after"), {"things": []})
            self.assertEqual(ok("delete_thing_group"), {})
            self.assertEqual(ok("list_thing_groups_after"), {"thingGroups": []})

        with self.subTest("signatures"):
            for name, code in (("wrong_secret_iot", "InvalidSignatureException"),
                               ("wrong_secret_data", "InvalidSignatureException"),
                               ("unknown_key", "UnrecognizedClientException")):
                self.assertEqual((out[name].get("code"), out[name].get("status")), (code, 403), out[name])

        with self.subTest("the audit line names the identity and the access key"):
            self.assertRegex(self.broker.read_log(),
                             rf"user={IDENTITY}/{BOTO3_KEY} command=createJob job={j1} outcome=ok")

        with self.subTest("the document's integers come back as written"):
            document = '{"operation":"install","size":1000,"parts":[1,20,300]}'
            self.assertEqual(ok("get_job_document")["document"], document)
            self.assertEqual(ok("start_next")["execution"]["jobDocument"], document)

        with self.subTest("things, templates, UpdateJob, AssociateTargetsWithJob, event configurations"):
            thing, cont = f"{prefix}-pump", f"{prefix}-cont"
            self.assertEqual(ok("create_thing")["thingArn"], f"{ARN}:thing/{thing}")
            self.assertEqual(ok("update_thing"), {})
            raised("update_thing_stale", "VersionConflictException", 409)
            described = ok("describe_thing")
            self.assertEqual((described["thingName"], described["thingTypeName"], described["version"]),
                             (thing, "pump", 2))
            self.assertEqual(described["attributes"], {"site": "plant-7", "model": "p100", "fw": "1.2"})
            self.assertEqual([t["thingName"] for t in ok("list_things")["things"]], [thing])
            self.assertEqual(ok("list_thing_groups_for_thing")["thingGroups"], [])
            self.assertEqual(ok("create_job_template")["jobTemplateArn"], f"{ARN}:jobtemplate/{prefix}-tpl")
            template = ok("describe_job_template")
            self.assertEqual((template["description"], template["timeoutConfig"]),
                             ("boto3 template", {"inProgressTimeoutInMinutes": 30}))
            dt(template["createdAt"])
            self.assertIn(f"{prefix}-tpl", [t["jobTemplateId"] for t in ok("list_job_templates")["jobTemplates"]])
            [listed] = ok("list_managed_job_templates")["managedJobTemplates"]
            self.assertEqual((listed["templateName"], listed["templateVersion"]), ("AWS-Download-File", "1.0"))
            managed = ok("describe_managed_job_template")
            self.assertIn("downloadUrl", [p["key"] for p in managed["documentParameters"]])
            ok("create_job_from_managed")
            args = json.loads(ok("get_managed_job_document")["document"])["steps"][0]["action"]["input"]["args"]
            self.assertEqual(args, ["https://example.com/f", "/tmp/f"])
            raised("create_job_missing_parameter", "InvalidRequestException", 400)
            self.assertEqual(ok("update_job"), {})
            self.assertEqual(ok("associate_targets")["jobId"], cont)
            job = ok("describe_continuous")["job"]
            self.assertEqual((job["description"], job["jobExecutionsRolloutConfig"]),
                             ("faster", {"maximumPerMinute": 100}))
            self.assertEqual(job["targets"], [f"{ARN}:thing/{thing}", f"{ARN}:thing/{prefix}-dev3"])
            if "botocore_without_windows" not in out:  # else test_update_job has them over HTTP
                self.assertEqual(job["schedulingConfig"]["maintenanceWindows"],
                                 [{"startTime": "cron(0 2 ? * MON-FRI *)", "durationInMinutes": 120}])
            raised("associate_snapshot", "InvalidRequestException", 400)
            self.assertEqual(ok("update_event_configurations"), {})
            configs = ok("describe_event_configurations")["eventConfigurations"]
            self.assertEqual((configs["JOB"], configs["JOB_EXECUTION"]), ({"Enabled": True}, {"Enabled": False}))
            self.assertEqual(ok("delete_job_template"), {})
            raised("describe_deleted_template", "ResourceNotFoundException", 404)
            self.assertEqual(ok("delete_thing"), {})


class ListenerWithoutKeys(HttpApiTest):
    """No keys file: loopback clients are served without signature checks, acting as
    plugin_opt_http_unsigned_identity."""

    keys = False
    http_options = {"http_unsigned_identity": IDENTITY}

    def test_loopback_requests_are_served(self):
        thing, job = self.thing, self.name("j")
        # any keys will do; the signing name still picks the plane
        created = self.aws("iot", "create-job", "--job-id", job, "--document", "{}",
                           "--targets", thing, key="AKIDANYTHING", secret="anything")
        self.assertEqual(self.ok(created)["jobId"], job)
        pending = self.aws("iot-jobs-data", "get-pending-job-executions", "--thing-name", thing,
                           key="AKIDANYTHING", secret="anything")
        self.assertEqual([q["jobId"] for q in self.ok(pending)["queuedJobs"]], [job])
        # unsigned, on a path of the data plane only
        req = urllib.request.Request(f"{self.endpoint}/things/{thing}/jobs/$next", method="PUT", data=b"{}")
        with no_proxy_opener().open(req, timeout=10) as resp:
            self.assertEqual(resp.status, 200)
            self.assertEqual(json.loads(resp.read())["execution"]["jobId"], job)
        self.assertIn("only loopback clients are served", self.broker.read_log())

    def test_wire_numbers_are_plain_integers(self):
        """On the wire, `long` fields are JSON integers and the document keeps its text.
        botocore turns 1e+01 into 10 for a `long`, but SDKs that parse integers strictly
        (Go's strconv.ParseInt, Java's Long.parseLong) do not, and a jobDocument string
        with 1e+03 in it is not the document the operator gave."""
        thing, job = self.thing, self.name("j")
        self.create_job(job, [thing], document={"size": 1000, "parts": [1, 20, 300]})
        dev = self.device(thing)
        outcome, _, _ = dev.request(f"$aws/things/{thing}/jobs/start-next", {})
        self.assertEqual(outcome, "accepted")
        for v in range(2, 10):   # versionNumber 2 -> 10
            outcome, body, _ = dev.request(f"$aws/things/{thing}/jobs/{job}/update",
                                           {"status": "IN_PROGRESS", "expectedVersion": v})
            self.assertEqual(outcome, "accepted", body)
        # the path is both planes': an unchecked signature's signing name picks the data plane
        req = urllib.request.Request(f"{self.endpoint}/things/{thing}/jobs/{job}", headers={
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDANY/20261207/us-east-1/iot-jobs-data/aws4_request, "
                             "SignedHeaders=host, Signature=00"})
        with no_proxy_opener().open(req, timeout=10) as resp:
            raw = resp.read().decode()
        body = json.loads(raw)
        self.assertEqual(body["execution"]["versionNumber"], 10)
        self.assertIn('"versionNumber":10', raw.replace(" ", ""))
        self.assertEqual(body["execution"]["jobDocument"], '{"size":1000,"parts":[1,20,300]}')
        self.assertIsNone(re.search(r'"[A-Za-z]+":-?\d+(\.\d+)?[eE]', raw), raw)


def non_loopback_address():
    """An IPv4 address of this machine that is not loopback, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("203.0.113.1", 9))   # picks a route; no packet is sent
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


class RemoteClientWithoutKeys(HttpApiTest):
    """No keys file, listening on a non-loopback address of this machine: a client that
    connects from it is not loopback and is refused."""

    keys = False

    @classmethod
    def setUpClass(cls):
        cls.http_address = non_loopback_address()
        if not cls.http_address:
            raise unittest.SkipTest("this machine has no non-loopback IPv4 address")
        super().setUpClass()

    def test_remote_client_is_refused(self):
        with self.assertRaises(urllib.error.HTTPError) as cm:
            no_proxy_opener().open(f"{self.endpoint}/things/{self.thing}/jobs", timeout=10)
        self.assertEqual(cm.exception.code, 403)
        self.assertEqual(cm.exception.headers.get("x-amzn-ErrorType"), "AccessDeniedException")


class HttpsListener(HttpApiTest):
    """HTTPS with a self-signed certificate made by openssl, and a keys file."""

    tls = True

    def test_https_with_ca_bundle_and_without_verification(self):
        thing, job = self.thing, self.name("j")
        self.create_job(job, [thing], document={"over": "tls"})
        with_bundle, unverified, refused = self.aws_many(
            ["--ca-bundle", self.cert, "iot", "describe-job", "--job-id", job],
            ["--no-verify-ssl", "iot-jobs-data", "describe-job-execution", "--thing-name", thing,
             "--job-id", job],
            ["iot", "list-jobs"])
        self.assertEqual(self.ok(with_bundle)["job"]["jobId"], job)
        self.assertDataExecution(self.ok(unverified)["execution"], thing, job, "QUEUED", {"over": "tls"})
        # without the CA bundle the self-signed certificate is refused
        self.assertNotEqual(refused.rc, 0, refused)
        self.assertRegex(refused.stderr, r"SSL|CERTIFICATE_VERIFY_FAILED|certificate verify failed")
        # plain HTTP on the HTTPS port gets no answer
        with self.assertRaises((urllib.error.URLError, ConnectionError, OSError)):
            no_proxy_opener().open(f"http://127.0.0.1:{self.http_port}/jobs", timeout=5).read()
        # and the signature is still checked over TLS
        ctx = ssl.create_default_context(cafile=self.cert)
        with self.assertRaises(urllib.error.HTTPError) as cm:
            no_proxy_opener(ctx).open(f"{self.endpoint}/jobs", timeout=10)
        self.assertEqual(cm.exception.code, 403)


if __name__ == "__main__":
    unittest.main()
