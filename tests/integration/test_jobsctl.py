"""jobsctl, the operator CLI: its commands against a real broker with the plugin,
its exit statuses (0 ok, 1 error reply, 2 cannot connect, 3 no reply, 64 usage; and
wait-job's 4 failures, 5 canceled, 6 still running at --wait-timeout), the
defaults file, --help, replies matched to the right process, the aws CLI's habits
(options after the command, shorthand, paging, its JSON output) and the hints when
the broker refuses jobsctl.

Environment: JOBS_JOBSCTL is the built jobsctl (set by ctest next to JOBS_PLUGIN)."""
import json
import os
import pty
import re
import select
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from harness import MOSQUITTO, Broker, BrokerTest, P, free_port, group_arn

JOBSCTL = os.environ.get("JOBS_JOBSCTL")
AWS = shutil.which("aws")

# Every subcommand with its flags and the JSON field each one fills (docs/management.md,
# AWS `iot` names).
COMMANDS = {
    "create-job": ("createJob", {
        "--job-id": "jobId", "--targets": "targets", "--document": "document",
        "--description": "description", "--target-selection": "targetSelection",
        "--namespace-id": "namespaceId", "--timeout-config": "timeoutConfig",
        "--job-executions-rollout-config": "jobExecutionsRolloutConfig",
        "--abort-config": "abortConfig",
        "--job-executions-retry-config": "jobExecutionsRetryConfig",
        "--scheduling-config": "schedulingConfig"}),
    "describe-job": ("describeJob", {"--job-id": "jobId"}),
    "wait-job": ("describeJob", {"--job-id": "jobId"}),
    "list-jobs": ("listJobs", {
        "--status": "status", "--target-selection": "targetSelection",
        "--thing-group-name": "thingGroupName", "--namespace-id": "namespaceId",
        "--max-results": "maxResults", "--next-token": "nextToken"}),
    "cancel-job": ("cancelJob", {
        "--job-id": "jobId", "--force": "force", "--reason-code": "reasonCode",
        "--comment": "comment"}),
    "delete-job": ("deleteJob", {"--job-id": "jobId", "--force": "force"}),
    "get-job-document": ("getJobDocument", {"--job-id": "jobId"}),
    "describe-job-execution": ("describeJobExecution", {
        "--job-id": "jobId", "--thing-name": "thingName",
        "--execution-number": "executionNumber"}),
    "cancel-job-execution": ("cancelJobExecution", {
        "--job-id": "jobId", "--thing-name": "thingName", "--force": "force",
        "--expected-version": "expectedVersion", "--status-details": "statusDetails"}),
    "delete-job-execution": ("deleteJobExecution", {
        "--job-id": "jobId", "--thing-name": "thingName",
        "--execution-number": "executionNumber", "--force": "force"}),
    "list-job-executions-for-job": ("listJobExecutionsForJob", {
        "--job-id": "jobId", "--status": "status", "--max-results": "maxResults",
        "--next-token": "nextToken"}),
    "list-job-executions-for-thing": ("listJobExecutionsForThing", {
        "--thing-name": "thingName", "--status": "status", "--namespace-id": "namespaceId",
        "--max-results": "maxResults", "--next-token": "nextToken"}),
    "create-thing-group": ("createThingGroup", {
        "--thing-group-name": "thingGroupName",
        "--thing-group-properties": "thingGroupProperties"}),
    "delete-thing-group": ("deleteThingGroup", {"--thing-group-name": "thingGroupName"}),
    "add-thing-to-thing-group": ("addThingToThingGroup", {
        "--thing-group-name": "thingGroupName", "--thing-name": "thingName"}),
    "remove-thing-from-thing-group": ("removeThingFromThingGroup", {
        "--thing-group-name": "thingGroupName", "--thing-name": "thingName"}),
    "list-things-in-thing-group": ("listThingsInThingGroup", {
        "--thing-group-name": "thingGroupName", "--max-results": "maxResults",
        "--next-token": "nextToken"}),
    "list-thing-groups": ("listThingGroups", {
        "--max-results": "maxResults", "--next-token": "nextToken",
        "--name-prefix-filter": "namePrefixFilter"}),
    "status": ("describeBroker", {}),
    "create-thing": ("createThing", {
        "--thing-name": "thingName", "--thing-type-name": "thingTypeName",
        "--attribute-payload": "attributePayload", "--billing-group-name": "billingGroupName"}),
    "describe-thing": ("describeThing", {"--thing-name": "thingName"}),
    "update-thing": ("updateThing", {
        "--thing-name": "thingName", "--thing-type-name": "thingTypeName",
        "--attribute-payload": "attributePayload", "--expected-version": "expectedVersion",
        "--remove-thing-type": "removeThingType"}),
    "delete-thing": ("deleteThing", {"--thing-name": "thingName", "--expected-version": "expectedVersion"}),
    "list-things": ("listThings", {
        "--attribute-name": "attributeName", "--attribute-value": "attributeValue",
        "--thing-type-name": "thingTypeName", "--use-prefix-attribute-value": "usePrefixAttributeValue",
        "--max-results": "maxResults", "--next-token": "nextToken"}),
    "list-thing-groups-for-thing": ("listThingGroupsForThing", {
        "--thing-name": "thingName", "--max-results": "maxResults", "--next-token": "nextToken"}),
    "update-job": ("updateJob", {
        "--job-id": "jobId", "--description": "description",
        "--presigned-url-config": "presignedUrlConfig",
        "--job-executions-rollout-config": "jobExecutionsRolloutConfig",
        "--abort-config": "abortConfig", "--timeout-config": "timeoutConfig",
        "--job-executions-retry-config": "jobExecutionsRetryConfig", "--namespace-id": "namespaceId"}),
    "associate-targets-with-job": ("associateTargetsWithJob", {
        "--targets": "targets", "--job-id": "jobId", "--comment": "comment",
        "--namespace-id": "namespaceId"}),
}

# A value for each flag type, and the JSON it must become.
INT_FIELDS = {"maxResults", "executionNumber", "expectedVersion"}
BOOL_FIELDS = {"force", "removeThingType", "usePrefixAttributeValue"}
JSON_FIELDS = {"document", "timeoutConfig", "jobExecutionsRolloutConfig", "abortConfig",
               "jobExecutionsRetryConfig", "schedulingConfig", "statusDetails", "presignedUrlConfig",
               "thingGroupProperties", "attributePayload"}

SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                   "runtime error:")


@unittest.skipUnless(JOBSCTL, "JOBS_JOBSCTL is not set")
class JobsctlTest(BrokerTest):

    def setUp(self):
        self.broker_started = time.time()
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="jobsctl-it-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    # -- running jobsctl --

    def env(self, **extra):
        env = dict(os.environ)
        # No defaults file unless a test says so: the user's own must not leak in.
        env["JOBSCTL_CONFIG"] = ""
        env.update(extra)
        return env

    def check_output(self, proc):
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, proc.stderr, proc.stderr)
        self.assertGreaterEqual(proc.returncode, 0, f"killed by a signal: {proc.stderr}")

    def jobsctl(self, *args, port=None, env=None, timeout=30, global_args=()):
        """Runs jobsctl against this test's broker; returns the CompletedProcess."""
        port = self.broker.port if port is None else port
        argv = [JOBSCTL, "-h", "127.0.0.1", "-p", str(port), "--timeout", "20",
                *global_args, *args]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              env=env or self.env(), stdin=subprocess.DEVNULL)
        self.check_output(proc)
        return proc

    def ok(self, *args, **kw):
        """Runs a command that must succeed; returns its output as JSON ({} for none)."""
        proc = self.jobsctl(*args, **kw)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr, "")
        return json.loads(proc.stdout) if proc.stdout else {}

    def fails(self, code, *args, **kw):
        proc = self.jobsctl(*args, **kw)
        self.assertEqual(proc.returncode, code, f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
        self.assertEqual(proc.stdout, "")
        self.assertTrue(proc.stderr.startswith("jobsctl: "), proc.stderr)
        return proc.stderr

    def dry_run(self, *args):
        """The command jobsctl would send (--dry-run: nothing is sent)."""
        proc = self.jobsctl(*args, global_args=("--dry-run", "--output", "compact"))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        [cmd] = json.loads(proc.stdout)["commands"]
        return cmd

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    # -- device side, through MQTT --

    def device_execution(self, thing, job_id):
        dev = self.client(f"dev-{thing}")
        outcome, body, _ = dev.request(P(thing, job_id, "get"), {"includeJobDocument": True})
        self.assertEqual(outcome, "accepted", body)
        return body["execution"]

    def start_next(self, thing):
        dev = self.client(f"dev-start-{thing}")
        outcome, body, _ = dev.request(P(thing, "start-next"), {})
        self.assertEqual(outcome, "accepted", body)
        return body["execution"]

    # -- createJob --

    def test_create_job_inline_document(self):
        doc = {"operation": "reboot", "n": 3, "big": 1234567890123, "pi": 3.14159, "nested": {"a": [1, "x"]}}
        data = self.ok("create-job", "--job-id", "j1", "--targets", "t1", "t2",
                       "--document", json.dumps(doc), "--description", "first job")
        self.assertEqual(data["jobId"], "j1")
        self.assertTrue(data["jobArn"].endswith(":job/j1"), data)
        self.assertEqual(data["description"], "first job")
        for thing in ("t1", "t2"):
            e = self.device_execution(thing, "j1")
            self.assertEqual(e["status"], "QUEUED")
            self.assertEqual(e["jobDocument"], doc)

    def test_create_job_document_file(self):
        doc = {"files": [{"url": "https://example.com/fw.bin", "sha256": "ab" * 32}],
               "text": "caf\u00e9 \u2713"}
        path = self.write("doc.json", json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        data = self.ok("create-job", "--job-id", "fromfile", "--targets",
                       "arn:aws:iot:us-east-1:000000000000:thing/t9",
                       "--document", "file://" + path)
        self.assertEqual(data["jobId"], "fromfile")
        self.assertEqual(self.device_execution("t9", "fromfile")["jobDocument"], doc)

    def test_create_job_bad_document_is_refused_locally(self):
        for bad in ('{"a":', '{"a": tru}', "", '{"a": "\\u0000"}'):
            err = self.fails(64, "create-job", "--job-id", "j", "--targets", "t",
                             "--document", bad)
            self.assertIn("--document", err)
        err = self.fails(64, "create-job", "--job-id", "j", "--targets", "t",
                         "--document", "file://" + os.path.join(self.tmp, "missing.json"))
        self.assertIn("missing.json", err)
        err = self.fails(64, "create-job", "--job-id", "j", "--targets", "t",
                         "--document", "file://" + self.write("bad.json", "{\n  \"a\": [1,\n}\n"))
        self.assertIn("line 3", err)
        # Nothing reached the server: the job does not exist.
        self.assertIn("ResourceNotFoundException",
                      self.fails(1, "describe-job", "--job-id", "j"))

    def test_server_refuses_a_document_that_is_not_an_object(self):
        err = self.fails(1, "create-job", "--job-id", "arr", "--targets", "t",
                         "--document", "[1, 2]")
        self.assertIn("InvalidRequestException", err)

    def test_duplicate_job_is_an_error_reply(self):
        self.ok("create-job", "--job-id", "dup", "--targets", "t1", "--document", "{}")
        err = self.fails(1, "create-job", "--job-id", "dup", "--targets", "t1",
                         "--document", "{}")
        self.assertRegex(err, r"^jobsctl: ResourceAlreadyExistsException: .*dup")

    # -- describeJob, describeJobExecution --

    def test_describe_job(self):
        self.ok("create-job", "--job-id", "d1", "--targets", "a", "b", "--document", '{"x":1}')
        job = self.ok("describe-job", "--job-id", "d1")["job"]
        self.assertEqual(job["jobId"], "d1")
        self.assertEqual(job["status"], "IN_PROGRESS")
        self.assertEqual(job["targets"], ["a", "b"])
        self.assertEqual(job["jobProcessDetails"]["numberOfQueuedThings"], 2)
        self.assertIsInstance(job["createdAt"], (int, float))
        err = self.fails(1, "describe-job", "--job-id", "nosuch")
        self.assertIn("ResourceNotFoundException", err)

    def test_describe_job_execution(self):
        self.ok("create-job", "--job-id", "e1", "--targets", "dev1", "--document", "{}")
        e = self.ok("describe-job-execution", "--job-id", "e1", "--thing-name", "dev1")["execution"]
        self.assertEqual((e["jobId"], e["status"], e["versionNumber"], e["executionNumber"]),
                         ("e1", "QUEUED", 1, 1))
        self.assertTrue(e["thingArn"].endswith(":thing/dev1"), e)
        self.start_next("dev1")
        e = self.ok("describe-job-execution", "--job-id", "e1", "--thing-name", "dev1",
                    "--execution-number", "1")["execution"]
        self.assertEqual((e["status"], e["versionNumber"]), ("IN_PROGRESS", 2))
        self.assertIn("startedAt", e)
        err = self.fails(1, "describe-job-execution", "--job-id", "e1", "--thing-name", "dev1",
                         "--execution-number", "2")
        self.assertIn("ResourceNotFoundException", err)

    def test_a_missing_execution_number_is_named(self):
        """With executions 1 and 2 of the job for the thing, asking for 99 says that
        execution 99 does not exist (not that the thing has no execution of the job)."""
        self.ok("create-job", "--job-id", "r1", "--targets", "dev1", "--document", "{}",
                "--job-executions-retry-config",
                '{"criteriaList":[{"failureType":"FAILED","numberOfRetries":1}]}')
        self.start_next("dev1")
        dev = self.client("dev-fail-dev1")
        outcome, body, _ = dev.request(P("dev1", "r1", "update"), {"status": "FAILED"})
        self.assertEqual(outcome, "accepted", body)
        e = self.ok("describe-job-execution", "--job-id", "r1", "--thing-name", "dev1",
                    "--execution-number", "2")["execution"]
        self.assertEqual((e["executionNumber"], e["status"]), (2, "QUEUED"))
        for command in ("describe-job-execution", "delete-job-execution"):
            err = self.fails(1, command, "--job-id", "r1", "--thing-name", "dev1",
                             "--execution-number", "99")
            self.assertIn("ResourceNotFoundException", err)
            self.assertIn("execution number 99 of job r1 for thing dev1 does not exist", err)
        # the device API says the same of a numbered describe
        outcome, body, _ = dev.request(P("dev1", "r1", "get"), {"executionNumber": 99})
        self.assertEqual((outcome, body["code"]), ("rejected", "ResourceNotFound"), body)
        self.assertIn("execution number 99 of job r1 for thing dev1 does not exist", body["message"])

    # -- cancelJob --

    def test_cancel_job_without_and_with_force(self):
        self.ok("create-job", "--job-id", "c1", "--targets", "busy", "idle", "--document", "{}")
        self.assertEqual(self.start_next("busy")["jobId"], "c1")

        data = self.ok("cancel-job", "--job-id", "c1", "--reason-code", "OOPS",
                       "--comment", "wrong firmware")
        self.assertEqual(data["jobId"], "c1")
        busy = self.ok("describe-job-execution", "--job-id", "c1", "--thing-name", "busy")
        idle = self.ok("describe-job-execution", "--job-id", "c1", "--thing-name", "idle")
        self.assertEqual(busy["execution"]["status"], "IN_PROGRESS")
        self.assertEqual(idle["execution"]["status"], "CANCELED")
        job = self.ok("describe-job", "--job-id", "c1")["job"]
        self.assertEqual((job["status"], job["forceCanceled"]), ("CANCELED", False))
        self.assertEqual((job["reasonCode"], job["comment"]), ("OOPS", "wrong firmware"))

        self.ok("cancel-job", "--job-id", "c1", "--force")
        busy = self.ok("describe-job-execution", "--job-id", "c1", "--thing-name", "busy")["execution"]
        self.assertEqual((busy["status"], busy["forceCanceled"]), ("CANCELED", True))
        self.assertEqual(self.device_execution("busy", "c1")["status"], "CANCELED")
        job = self.ok("describe-job", "--job-id", "c1")["job"]
        self.assertTrue(job["forceCanceled"])
        self.assertEqual(job["jobProcessDetails"]["numberOfCanceledThings"], 2)

    def test_cancel_job_comment_starting_with_dashes(self):
        self.ok("create-job", "--job-id", "c2", "--targets", "t", "--document", "{}")
        self.fails(64, "cancel-job", "--job-id", "c2", "--comment", "--weird")
        self.ok("cancel-job", "--job-id", "c2", "--comment=--weird")
        self.assertEqual(self.ok("describe-job", "--job-id", "c2")["job"]["comment"], "--weird")

    # -- the other commands --

    def test_every_command_reaches_the_server(self):
        # The server implements more commands as they land (createJob, cancelJob,
        # describeJob and describeJobExecution so far). For the others this checks
        # only that the request arrives under its camelCase name and that jobsctl
        # takes the reply, success or error (today: "unknown command").
        self.ok("create-job", "--job-id", "r1", "--targets", "t1", "--document", "{}")
        runs = {
            "list-jobs": ["--max-results", "5"],
            "delete-job": ["--job-id", "nosuch"],
            "get-job-document": ["--job-id", "r1"],
            "cancel-job-execution": ["--job-id", "nosuch", "--thing-name", "t1"],
            "delete-job-execution": ["--job-id", "nosuch", "--thing-name", "t1",
                                     "--execution-number", "1"],
            "list-job-executions-for-job": ["--job-id", "r1"],
            "list-job-executions-for-thing": ["--thing-name", "t1"],
            "create-thing-group": ["--thing-group-name", "g1"],
            "delete-thing-group": ["--thing-group-name", "nosuch"],
            "add-thing-to-thing-group": ["--thing-group-name", "nosuch", "--thing-name", "t1"],
            "remove-thing-from-thing-group": ["--thing-group-name", "nosuch", "--thing-name", "t1"],
            "list-things-in-thing-group": ["--thing-group-name", "nosuch"],
            "list-thing-groups": [],
            "status": [],
            "create-thing": ["--thing-name", "t1"],
            "describe-thing": ["--thing-name", "nosuch"],
            "update-thing": ["--thing-name", "nosuch", "--remove-thing-type"],
            "delete-thing": ["--thing-name", "nosuch"],
            "list-things": [],
            "list-thing-groups-for-thing": ["--thing-name", "t1"],
            "update-job": ["--job-id", "r1", "--description", "second",
                           "--presigned-url-config", "roleArn=arn:aws:iam::000000000000:role/r,expiresInSec=600"],
            "associate-targets-with-job": ["--job-id", "r1", "--targets", "t2", "--comment", "more"],
        }
        self.assertEqual(set(runs) | {"create-job", "describe-job", "cancel-job",
                                      "describe-job-execution", "wait-job"}, set(COMMANDS))
        for name, args in runs.items():
            with self.subTest(command=name):
                proc = self.jobsctl(name, *args)
                self.assertIn(proc.returncode, (0, 1), proc.stderr)
                if proc.returncode == 0:
                    # nothing at all for an empty response, as aws
                    self.assertIsInstance(json.loads(proc.stdout or "{}"), dict)
                else:
                    # "unknown command" until the server has it; then e.g. not found
                    self.assertRegex(proc.stderr, r"^jobsctl: \w+Exception: ")
        # Each arrived under its wire name (the plugin's audit line).
        log = self.broker.read_log()
        for name in runs:
            self.assertIn(f"command={COMMANDS[name][0]} ", log)
        # update-job took: describe-job shows what it sent
        job = self.ok("describe-job", "--job-id", "r1")["job"]
        self.assertEqual(job["description"], "second")
        self.assertEqual(job["presignedUrlConfig"], {"roleArn": "arn:aws:iam::000000000000:role/r",
                                                     "expiresInSec": 600})

    def test_status_counts_what_the_broker_holds(self):
        started = time.time()
        version = subprocess.run([JOBSCTL, "--version"], capture_output=True, text=True,
                                 timeout=30, env=self.env())
        self.assertEqual(version.returncode, 0, version.stderr)
        m = re.fullmatch(r"jobsctl \(mosquitto-jobs\) (\d+\.\d+\.\d+)\n", version.stdout)
        self.assertIsNotNone(m, version.stdout)
        self.ok("create-job", "--job-id", "s1", "--targets", "t1", "t2", "t3", "--document", "{}")
        self.ok("create-job", "--job-id", "s2", "--targets", "t4", "--document", "{}")
        self.ok("create-job", "--job-id", "s3", "--targets", "t1", "--document", "{}")
        self.ok("cancel-job", "--job-id", "s3")
        self.ok("create-thing-group", "--thing-group-name", "g1")
        self.ok("add-thing-to-thing-group", "--thing-group-name", "g1", "--thing-name", "t5")
        self.start_next("t1")
        self.start_next("t2")
        dev = self.client("dev-t2-done")
        outcome, body, _ = dev.request(P("t2", "s1", "update"), {"status": "SUCCEEDED"})
        self.assertEqual(outcome, "accepted", body)

        data = self.ok("status")
        self.assertEqual(data["version"], m.group(1))
        store = self.broker.store
        self.assertEqual(data["store"], {"kind": store.kind, "location": store.location(),
                                         "schemaVersion": data["store"]["schemaVersion"]})
        self.assertGreaterEqual(data["store"]["schemaVersion"], 1)
        self.assertEqual(data["jobs"], {"IN_PROGRESS": 2, "COMPLETED": 0, "CANCELED": 1,
                                        "DELETION_IN_PROGRESS": 0, "SCHEDULED": 0})
        self.assertEqual(data["executions"], {"QUEUED": 2, "IN_PROGRESS": 1, "SUCCEEDED": 1,
                                              "FAILED": 0, "TIMED_OUT": 0, "REJECTED": 0,
                                              "REMOVED": 0, "CANCELED": 1})
        self.assertEqual(data["things"], 5)
        self.assertEqual(data["thingGroups"], 1)
        # the broker started within this test
        self.assertGreaterEqual(data["uptimeSeconds"], 0)
        self.assertLessEqual(data["uptimeSeconds"], time.time() - started + 1 +
                             (started - self.broker_started))
        # the plugin logged the same version and store when it loaded
        self.assertIn(f"jobs: mosquitto-jobs {m.group(1)} loaded, store {store.kind} {store.location()} "
                      f"schema {data['store']['schemaVersion']}", self.broker.read_log())
        self.assertEqual(self.jobsctl("status", "--no-such-flag").returncode, 64)

    def test_requests_carry_the_aws_field_names(self):
        # --dry-run prints the request instead of sending it: every flag of every
        # command, with a value of its type.
        for name, (wire, flags) in COMMANDS.items():
            args, want = [], {}
            for flag, field in flags.items():
                if field in BOOL_FIELDS:
                    args.append(flag)
                    want[field] = True
                elif field in INT_FIELDS:
                    args += [flag, "7"]
                    want[field] = 7
                elif field in JSON_FIELDS:
                    args += [flag, '{"k": "v", "n": [1, 2.5]}']
                    want[field] = {"k": "v", "n": [1, 2.5]}
                elif field == "targets":
                    args += [flag, "t1", "arn:aws:iot:r:1:thing/t2"]
                    want[field] = ["t1", "arn:aws:iot:r:1:thing/t2"]
                else:
                    args += [flag, f"v-{field}"]
                    want[field] = f"v-{field}"
            with self.subTest(command=name):
                cmd = self.dry_run(name, *args)
                self.assertEqual(cmd.pop("command"), wire)
                self.assertRegex(cmd.pop("correlationData"), r"^[0-9a-f]{32}$")
                self.assertEqual(cmd, want)
        cmd = self.dry_run("delete-job", "--job-id", "x", "--no-force")
        self.assertIs(cmd["force"], False)
        two = {self.dry_run("describe-job", "--job-id", "x")["correlationData"] for _ in range(2)}
        self.assertEqual(len(two), 2, "correlationData must differ per request")

    # -- connection, timeout, protocol --

    def test_mqtt_311(self):
        self.ok("create-job", "--job-id", "v3", "--targets", "t", "--document", "{}",
                global_args=("-V", "mqttv311"))
        job = self.ok("describe-job", "--job-id", "v3", global_args=("-V", "311"))["job"]
        self.assertEqual(job["jobId"], "v3")

    def test_no_reply_without_the_plugin_is_a_timeout(self):
        port = free_port()
        conf = self.write("plain.conf", f"listener {port} 127.0.0.1\nallow_anonymous true\n"
                          + ("user root\n" if os.geteuid() == 0 else ""))
        plain = subprocess.Popen([MOSQUITTO, "-c", conf], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        self.addCleanup(plain.wait)
        self.addCleanup(plain.terminate)
        deadline = time.time() + 30
        while True:
            probe = subprocess.run(["mosquitto_pub", "-p", str(port), "-t", "probe", "-m", "x"],
                                   capture_output=True)
            if probe.returncode == 0 or time.time() > deadline:
                break
            time.sleep(0.05)
        start = time.time()
        err = self.fails(3, "describe-job", "--job-id", "x", port=port,
                         global_args=("--timeout", "1"))
        elapsed = time.time() - start
        # it waited its --timeout of 1 s, not the default 10 s
        self.assertIn("no reply within 1 s", err)
        self.assertGreaterEqual(elapsed, 0.9)
        self.assertLess(elapsed, 9)

    def test_connection_refused(self):
        # a port bound (so no other process takes it) but not listening refuses
        # connections; refused at once, not after the --timeout of 60 s
        with socket.socket() as held:
            held.bind(("127.0.0.1", 0))
            start = time.time()
            err = self.fails(2, "describe-job", "--job-id", "x", port=held.getsockname()[1],
                             global_args=("--timeout", "60"))
            self.assertLess(time.time() - start, 30)
        self.assertIn("cannot connect", err)
        self.assertNotIn("no answer within", err)

    @unittest.skipUnless(shutil.which("openssl"), "needs the openssl command")
    def test_tls(self):
        def openssl(*args):
            subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=self.tmp)
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
                "-subj", "/CN=jobs test CA")
        openssl("req", *ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=localhost")
        openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", "srv.crt", "-days", "2")
        # A second broker with the plugin and a TLS listener.
        tls_port = free_port()

        def t(name):
            return os.path.join(self.tmp, name)

        broker = Broker(extra_conf=f"listener {tls_port} 127.0.0.1\ncafile {t('ca.crt')}\n"
                                   f"certfile {t('srv.crt')}\nkeyfile {t('srv.key')}\n")
        self.addCleanup(broker.cleanup)
        broker.start()
        self.addCleanup(broker.stop)

        # The certificate names localhost, and only it.
        job = ("create-job", "--job-id", "tls", "--targets", "t", "--document", "{}")
        proc = subprocess.run([JOBSCTL, "-h", "localhost", "-p", str(tls_port), "--cafile",
                               t("ca.crt"), *job], capture_output=True, text=True, timeout=30,
                              env=self.env())
        self.check_output(proc)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(json.loads(proc.stdout)["jobId"], "tls")
        # By address, the name check fails, unless --insecure.
        err = self.fails(2, "describe-job", "--job-id", "tls", port=tls_port,
                         global_args=("--cafile", t("ca.crt")))
        self.assertIn("certificate verify failed", err)
        job = self.ok("describe-job", "--job-id", "tls", port=tls_port,
                      global_args=("--cafile", t("ca.crt"), "--insecure"))["job"]
        self.assertEqual(job["jobId"], "tls")
        # Another CA: refused.
        openssl("req", "-x509", *ec, "-keyout", "other.key", "-out", "other.crt", "-days", "2",
                "-subj", "/CN=other CA")
        self.fails(2, "describe-job", "--job-id", "tls", port=tls_port,
                   global_args=("--cafile", t("other.crt"), "--insecure"))
        # TLS to the plain listener, and plain to the TLS one: connection errors.
        self.fails(2, "describe-job", "--job-id", "tls", port=broker.port,
                   global_args=("--cafile", t("ca.crt")))
        self.fails(2, "describe-job", "--job-id", "tls", port=tls_port)

    # -- defaults file --

    def test_defaults_file(self):
        path = self.write("config", f"# jobsctl defaults\n\n-h 127.0.0.1\n-p {self.broker.port}\n"
                          "--output compact\n")
        self.ok("create-job", "--job-id", "cfg", "--targets", "t", "--document", "{}")
        proc = subprocess.run([JOBSCTL, "describe-job", "--job-id", "cfg"], capture_output=True,
                              text=True, timeout=30, env=self.env(JOBSCTL_CONFIG=path))
        self.check_output(proc)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.count("\n"), 1, "--output compact from the file")
        self.assertEqual(json.loads(proc.stdout)["job"]["jobId"], "cfg")

        # The command line wins over the file.
        bad = self.write("config-bad-port", f"-h 127.0.0.1\n-p {free_port()}\n")
        proc = subprocess.run([JOBSCTL, "-p", str(self.broker.port), "describe-job",
                               "--job-id", "cfg"], capture_output=True, text=True,
                              timeout=30, env=self.env(JOBSCTL_CONFIG=bad))
        self.check_output(proc)
        self.assertEqual(proc.returncode, 0, proc.stderr)

        # $XDG_CONFIG_HOME/jobsctl/config when JOBSCTL_CONFIG is unset.
        xdg = os.path.join(self.tmp, "xdg")
        os.makedirs(os.path.join(xdg, "jobsctl"))
        shutil.copy(path, os.path.join(xdg, "jobsctl", "config"))
        env = self.env(XDG_CONFIG_HOME=xdg)
        del env["JOBSCTL_CONFIG"]
        proc = subprocess.run([JOBSCTL, "describe-job", "--job-id", "cfg"], capture_output=True,
                              text=True, timeout=30, env=env)
        self.check_output(proc)
        self.assertEqual(proc.returncode, 0, proc.stderr)

        # A bad line is a usage error that names the file and the line.
        broken = self.write("config-broken", "-p 1884\n--bogus 1\n")
        proc = subprocess.run([JOBSCTL, "describe-job", "--job-id", "cfg"], capture_output=True,
                              text=True, timeout=30, env=self.env(JOBSCTL_CONFIG=broken))
        self.check_output(proc)
        self.assertEqual(proc.returncode, 64)
        self.assertIn("config-broken:2", proc.stderr)
        # A named file that does not exist is an error too.
        proc = subprocess.run([JOBSCTL, "describe-job", "--job-id", "cfg"], capture_output=True,
                              text=True, timeout=30,
                              env=self.env(JOBSCTL_CONFIG=os.path.join(self.tmp, "none")))
        self.assertEqual(proc.returncode, 64)

    # -- usage --

    def test_usage_errors(self):
        cases = [
            (["describe-job"], "--job-id is required"),
            (["describe-job", "--job-id", "x", "--bogus"], "unknown option '--bogus'"),
            (["describe-job", "--job-id"], "--job-id needs a value"),
            (["describe-job", "--job-id", "x", "--job-id", "y"], "more than once"),
            (["describe-job", "stray"], "unexpected argument"),
            (["describe-job", "--job-id", "x", "--timeout", "0"], "number of seconds"),
            (["describe-job", "--job-id", "x", "-p"], "-p needs a value"),
            (["create-job", "--job-id", "x", "--document", "{}"], "--targets is required"),
            (["create-job", "--job-id", "x", "--targets", "--document", "{}"],
             "--targets needs at least one value"),
            (["delete-job-execution", "--job-id", "x", "--thing-name", "t"],
             "--execution-number is required"),
            (["describe-job-execution", "--job-id", "x", "--thing-name", "t",
              "--execution-number", "1x"], "not an integer"),
            (["cancel-job", "--job-id", "x", "--force=yes"], "takes no value"),
            (["no-such-command"], "unknown command"),
            ([], "no command given"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                err = self.fails(64, *args)
                self.assertIn(message, err)
        for global_args, message in [(["--bogus"], "unknown global option"),
                                     (["-p", "70000"], "not a port number"),
                                     (["-V", "mqttv4"], "mqttv5"),
                                     (["--output", "yaml"], "json, text or compact"),
                                     (["--timeout", "0"], "number of seconds"),
                                     (["--cert", "/etc/hostname"], "--key")]:
            with self.subTest(global_args=global_args):
                err = self.fails(64, "describe-job", "--job-id", "x", global_args=global_args)
                self.assertIn(message, err)

    def test_help(self):
        proc = self.jobsctl("--help")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        for name in COMMANDS:
            self.assertRegex(proc.stdout, rf"(?m)^  {re.escape(name)} ")
        for flag in ("-h", "-p", "-u", "-P", "-i", "--cafile", "--capath", "--cert", "--key",
                     "--insecure", "-V", "--timeout", "--output"):
            self.assertIn(flag, proc.stdout)
        for name, (wire, flags) in COMMANDS.items():
            with self.subTest(command=name):
                proc = self.jobsctl(name, "--help")
                self.assertEqual(proc.returncode, 0, proc.stderr)
                self.assertEqual(proc.stderr, "")
                self.assertIn(f"jobsctl [global options] {name}", proc.stdout)
                self.assertIn(wire, proc.stdout)
                for flag in flags:
                    self.assertRegex(proc.stdout, rf"(?m)^  {re.escape(flag)}\b")
                # help wins over missing or bad arguments
                self.assertEqual(self.jobsctl(name, "--bogus", "--help").returncode, 0)

    # -- replies --

    def test_concurrent_processes_each_get_their_own_reply(self):
        ids = [f"par{i}" for i in range(6)]
        for job_id in ids:
            self.ok("create-job", "--job-id", job_id, "--targets", f"t-{job_id}",
                    "--document", json.dumps({"n": job_id}))
        for round_ in range(3):
            procs = [subprocess.Popen(
                [JOBSCTL, "-h", "127.0.0.1", "-p", str(self.broker.port), "--timeout", "10",
                 "--output", "json", "describe-job", "--job-id", job_id],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env())
                for job_id in ids]
            for job_id, p in zip(ids, procs):
                out, err = p.communicate(timeout=30)
                self.check_output(subprocess.CompletedProcess(p.args, p.returncode, out, err))
                self.assertEqual(p.returncode, 0, err)
                self.assertEqual(json.loads(out)["job"]["jobId"], job_id)

    def test_output_formats(self):
        self.ok("create-job", "--job-id", "fmt", "--targets", "t", "--document", "{}")
        default = self.jobsctl("describe-job", "--job-id", "fmt")
        compact = self.jobsctl("describe-job", "--job-id", "fmt", global_args=("--output", "compact"))
        self.assertGreater(default.stdout.count("\n"), 5)
        self.assertEqual(compact.stdout.count("\n"), 1)
        self.assertEqual(json.loads(default.stdout), json.loads(compact.stdout))
        # json is the default; pretty, its former name, is the same
        for name in ("json", "pretty"):
            same = self.jobsctl("describe-job", "--job-id", "fmt", global_args=("--output", name))
            self.assertEqual(same.stdout, default.stdout)

    def test_odd_input_never_crashes(self):
        deep = self.write("deep.json", "[" * 5000 + "]" * 5000)
        binary = os.path.join(self.tmp, "binary.json")
        with open(binary, "wb") as f:
            f.write(b'{"a": "\xff\xfe"}')
        nul = os.path.join(self.tmp, "nul.json")
        with open(nul, "wb") as f:
            f.write(b'{"a": 1}\x00junk')
        for doc in ("file://" + deep, "file://" + binary, "file://" + nul, "file://" + self.tmp,
                    "file://", "{" * 3000, '"just a string"', "1e999999", "\ufeff[]"):
            with self.subTest(doc=doc[:40]):
                proc = self.jobsctl("create-job", "--job-id", "odd", "--targets", "t",
                                    "--document", doc)
                self.assertIn(proc.returncode, (1, 64), proc.stderr)
        proc = self.jobsctl("create-job", "--job-id", "odd", "--targets", "t", "\udcff",
                            "--document", "{}")
        self.assertEqual(proc.returncode, 64, proc.stderr)

    # -- the aws CLI's habits --

    def test_options_after_the_command(self):
        self.ok("create-job", "--job-id", "after", "--targets", "t", "--document", "{}")
        # No option before the command: connection, output and timeout all after it.
        proc = subprocess.run([JOBSCTL, "describe-job", "--job-id", "after", "-h", "127.0.0.1",
                               "--port", str(self.broker.port), "--output", "compact",
                               "--timeout", "5"], capture_output=True, text=True, timeout=30,
                              env=self.env())
        self.check_output(proc)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.count("\n"), 1, "--output compact after the command")
        self.assertEqual(json.loads(proc.stdout)["job"]["jobId"], "after")
        # After the command the last one wins, as anywhere on the command line.
        proc = self.jobsctl("describe-job", "--job-id", "after", "-p", str(free_port()),
                            port=self.broker.port, global_args=("--output=compact",))
        self.assertEqual(proc.returncode, 2, proc.stderr)
        # An option ends a list: -p is no target.
        cmd = self.dry_run("create-job", "--job-id", "x", "--targets", "a", "b", "-p", "1884",
                           "--document", "{}")
        self.assertEqual(cmd["targets"], ["a", "b"])
        proc = self.jobsctl("create-job", "--job-id", "x", "--targets", "a", "-V", "311",
                            "--document", "{}", "--dry-run")
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_shorthand_structures(self):
        rollout = ("maximumPerMinute=10,exponentialRate={baseRatePerMinute=5,incrementFactor=1.5,"
                   "rateIncreaseCriteria={numberOfNotifiedThings=3}}")
        shorthand_file = self.write("retry.txt", "criteriaList=[{failureType=FAILED,numberOfRetries=2}]\n")
        self.ok("create-job", "--job-id", "sh", "--targets", "t1", "--document", "{}",
                "--timeout-config", "inProgressTimeoutInMinutes=30",
                "--job-executions-rollout-config", rollout,
                "--abort-config", "criteriaList=[{failureType=FAILED,action=CANCEL,"
                                  "thresholdPercentage=12.5,minNumberOfExecutedThings=4}]",
                "--job-executions-retry-config", "file://" + shorthand_file)
        job = self.ok("describe-job", "--job-id", "sh")["job"]
        self.assertEqual(job["timeoutConfig"], {"inProgressTimeoutInMinutes": 30})
        self.assertEqual(job["jobExecutionsRolloutConfig"], {
            "maximumPerMinute": 10, "exponentialRate": {
                "baseRatePerMinute": 5, "incrementFactor": 1.5,
                "rateIncreaseCriteria": {"numberOfNotifiedThings": 3}}})
        self.assertEqual(job["abortConfig"], {"criteriaList": [{
            "failureType": "FAILED", "action": "CANCEL", "thresholdPercentage": 12.5,
            "minNumberOfExecutedThings": 4}]})
        self.assertEqual(job["jobExecutionsRetryConfig"],
                         {"criteriaList": [{"failureType": "FAILED", "numberOfRetries": 2}]})
        # JSON still, inline and from a file.
        self.ok("create-job", "--job-id", "js", "--targets", "t2", "--document", "{}",
                "--timeout-config", ' {"inProgressTimeoutInMinutes": 7}',
                "--job-executions-rollout-config",
                "file://" + self.write("rollout.json", '{"maximumPerMinute": 3}'))
        job = self.ok("describe-job", "--job-id", "js")["job"]
        self.assertEqual(job["timeoutConfig"], {"inProgressTimeoutInMinutes": 7})
        self.assertEqual(job["jobExecutionsRolloutConfig"], {"maximumPerMinute": 3})
        # A map's values stay strings, quoted ones and escaped commas too.
        self.start_next("t1")
        self.ok("cancel-job-execution", "--job-id", "sh", "--thing-name", "t1", "--force",
                "--status-details", "step=3,note='a, b',path=x\\,y")
        self.assertEqual(self.device_execution("t1", "sh")["statusDetails"],
                         {"step": "3", "note": "a, b", "path": "x,y"})
        # Bad shorthand is a usage error that says what is wrong.
        for value, message in [("inProgressTimeoutInMinutes=soon", "'soon' is not an integer"),
                               ("inProgressTimeoutInMinutes", "expected '='"),
                               ("a=1,a=2", "given twice"),
                               ("a=[1,", "expected ','")]:
            with self.subTest(value=value):
                err = self.fails(64, "create-job", "--job-id", "bad", "--targets", "t",
                                 "--document", "{}", "--timeout-config", value)
                self.assertIn(message, err)
                self.assertIn("--timeout-config", err)
        # The document is a JSON string in AWS: no shorthand there.
        self.assertIn("invalid JSON", self.fails(64, "create-job", "--job-id", "bad", "--targets",
                                                 "t", "--document", "a=1"))

    def test_list_commands_follow_next_token(self):
        ids = [f"page{i}" for i in range(7)]
        for job_id in ids:
            self.ok("create-job", "--job-id", job_id, "--targets", "t", "--document", "{}")
        # Every page, two at a time, merged into one list without nextToken.
        data = self.ok("list-jobs", "--max-results", "2")
        self.assertEqual([j["jobId"] for j in data["jobs"]], ids)
        self.assertEqual(set(data), {"jobs"})
        self.assertEqual(self.broker.read_log().count("command=listJobs "), 4)
        self.assertEqual([j["jobId"] for j in self.ok("list-jobs", "--page-size", "3")["jobs"]], ids)
        # One request: the page as the server sent it.
        data = self.ok("list-jobs", "--max-results", "2", "--no-paginate")
        self.assertEqual([j["jobId"] for j in data["jobs"]], ids[:2])
        self.assertIn("nextToken", data)
        data = self.ok("list-jobs", "--max-results", "2", "--next-token", data["nextToken"])
        self.assertEqual([j["jobId"] for j in data["jobs"]], ids[2:4])
        self.assertIn("nextToken", data)
        # --max-items: at most that many, and a NextToken to go on from.
        seen, token = [], None
        for _ in range(3):
            args = ["list-jobs", "--max-items", "3"] + (["--starting-token", token] if token else [])
            data = self.ok(*args)
            seen += [j["jobId"] for j in data["jobs"]]
            token = data.get("NextToken")
            self.assertNotIn("nextToken", data)
            if token is None:
                break
        self.assertEqual(seen, ids)
        self.assertEqual(len(data["jobs"]), 1)
        self.assertEqual(len(self.ok("list-jobs", "--max-items", "7")["jobs"]), 7)
        self.assertNotIn("NextToken", self.ok("list-jobs", "--max-items", "7"))
        # Executions, things and groups page alike.
        things = [f"th{i}" for i in range(5)]
        self.ok("create-job", "--job-id", "wide", "--targets", *things, "--document", "{}")
        self.ok("create-thing-group", "--thing-group-name", "grp")
        for thing in things:
            self.ok("add-thing-to-thing-group", "--thing-group-name", "grp", "--thing-name", thing)
            self.ok("create-thing-group", "--thing-group-name", f"grp-{thing}")
        data = self.ok("list-job-executions-for-job", "--job-id", "wide", "--page-size", "2")
        self.assertEqual(len(data["executionSummaries"]), 5)
        data = self.ok("list-things-in-thing-group", "--thing-group-name", "grp", "--max-results", "2")
        self.assertEqual(data, {"things": things})
        data = self.ok("list-thing-groups", "--page-size", "4", "--max-items", "5")
        self.assertEqual(len(data["thingGroups"]), 5)
        self.assertIn("NextToken", data)
        data = self.ok("list-job-executions-for-thing", "--thing-name", "t", "--max-results", "3")
        self.assertEqual(len(data["executionSummaries"]), 7)
        # Paging options that contradict one page only are refused, as aws does.
        self.assertIn("--no-paginate", self.fails(64, "list-jobs", "--no-paginate", "--max-items", "2"))
        self.assertIn("--next-token", self.fails(64, "list-jobs", "--next-token", "2", "--page-size", "2"))
        self.assertIn("give one", self.fails(64, "list-jobs", "--page-size", "2", "--max-results", "2"))
        self.assertIn("positive", self.fails(64, "list-jobs", "--max-items", "0"))
        self.assertIn("unknown option", self.fails(64, "describe-job", "--job-id", "x", "--max-items", "2"))

    def test_empty_responses_print_nothing(self):
        self.ok("create-job", "--job-id", "quiet", "--targets", "t1", "t2", "--document", "{}")
        self.ok("create-thing-group", "--thing-group-name", "g")
        for args in (["add-thing-to-thing-group", "--thing-group-name", "g", "--thing-name", "t1"],
                     ["remove-thing-from-thing-group", "--thing-group-name", "g", "--thing-name", "t1"],
                     ["delete-thing-group", "--thing-group-name", "g"],
                     ["cancel-job-execution", "--job-id", "quiet", "--thing-name", "t1"],
                     ["delete-job-execution", "--job-id", "quiet", "--thing-name", "t1",
                      "--execution-number", "1"],
                     ["delete-job", "--job-id", "quiet", "--force"]):
            with self.subTest(command=args[0]):
                proc = self.jobsctl(*args)
                self.assertEqual((proc.returncode, proc.stdout, proc.stderr), (0, "", ""))
        # it happened
        self.assertIn("ResourceNotFoundException", self.fails(1, "describe-job", "--job-id", "quiet"))

    def test_json_is_printed_as_aws_prints_it(self):
        # The aws CLI prints json.dump(response, indent=4, ensure_ascii=False) and a newline.
        desc = 'caf\u00e9 \u2713 "quoted" back\\slash\ttab\u0001'
        self.ok("create-job", "--job-id", "aws-fmt", "--targets", "t1", "t2", "--document", "{}",
                "--description", desc, "--abort-config",
                "criteriaList=[{failureType=FAILED,action=CANCEL,thresholdPercentage=0.1,"
                "minNumberOfExecutedThings=1}]")
        self.ok("create-thing-group", "--thing-group-name", "empty")
        for args in (["describe-job", "--job-id", "aws-fmt"],
                     ["list-job-executions-for-job", "--job-id", "aws-fmt"],
                     ["list-things-in-thing-group", "--thing-group-name", "empty"],
                     ["describe-job-execution", "--job-id", "aws-fmt", "--thing-name", "t2"]):
            with self.subTest(command=args[0]):
                out = self.jobsctl(*args).stdout
                self.assertEqual(out, json.dumps(json.loads(out), indent=4, ensure_ascii=False) + "\n")
        job = json.loads(self.jobsctl("describe-job", "--job-id", "aws-fmt").stdout)["job"]
        self.assertEqual(job["description"], desc)
        self.assertEqual(job["abortConfig"]["criteriaList"][0]["thresholdPercentage"], 0.1)

    def test_text_output(self):
        # aws's text layout: the scalars of an object on one line, by sorted key, after
        # the upper-cased name of the list holding it.
        made = self.jobsctl("create-thing-group", "--thing-group-name", "tg", "--output", "text")
        self.assertEqual(made.stdout, "arn:aws:iot:us-east-1:000000000000:thinggroup/tg\ttg\ttg\n")
        for name in ("a", "b"):
            self.ok("add-thing-to-thing-group", "--thing-group-name", "tg", "--thing-name", name)
        things = self.jobsctl("list-things-in-thing-group", "--thing-group-name", "tg",
                              "--output", "text")
        self.assertEqual(things.stdout, "THINGS\ta\nTHINGS\tb\n")
        self.ok("create-job", "--job-id", "tj", "--targets", "a", "--document", "{}")
        out = self.jobsctl("list-jobs", "--output", "text", "--max-items", "1").stdout
        self.assertRegex(out, r"^JOBS\t\d+\tFalse\tarn:aws:iot:[^\t]+:job/tj\ttj\t\d+\tIN_PROGRESS\tSNAPSHOT\n$")

    # -- refusals: who jobsctl was, and what to do --

    def own_broker(self, **kw):
        broker = Broker(**kw)
        self.addCleanup(broker.cleanup)
        broker.start()
        self.addCleanup(broker.stop)
        return broker

    def test_hint_when_not_an_operator(self):
        broker = self.own_broker(options={"operators": "admin"})
        describe = ("describe-job", "--job-id", "nosuch")
        # MQTT 5: the broker says "not authorized" and jobsctl says who it was.
        err = self.fails(1, *describe, port=broker.port)
        self.assertIn("Not authorized", err)
        self.assertRegex(err, r"client id 'jobsctl-\d+', no username")
        self.assertIn("plugin_opt_operators", err)
        self.assertIn("jobsctl -i admin", err)
        err = self.fails(1, *describe, port=broker.port, global_args=("-u", "someone"))
        self.assertIn("username 'someone'", err)
        # MQTT 3.1.1: the refusal is silent; the timeout says what it may be.
        err = self.fails(3, *describe, port=broker.port, global_args=("-V", "311", "--timeout", "1"))
        self.assertIn("3.1.1", err)
        self.assertRegex(err, r"client id 'jobsctl-\d+'")
        self.assertIn("plugin_opt_operators", err)
        # As the operator, it works.
        self.assertIn("ResourceNotFoundException",
                      self.fails(1, *describe, port=broker.port, global_args=("-i", "admin")))
        self.assertIn("ResourceNotFoundException",
                      self.fails(1, *describe, "-i", "admin", "-V", "311", port=broker.port))

    def test_hint_when_the_broker_refuses_the_connection(self):
        passwd = os.path.join(self.tmp, "passwd")
        subprocess.run(["mosquitto_passwd", "-c", "-b", passwd, "admin", "secret"], check=True,
                       capture_output=True)
        os.chmod(passwd, 0o600)
        broker = self.own_broker(options={"operators": "admin"},
                                 extra_conf=f"allow_anonymous false\npassword_file {passwd}\n")
        for protocol in ("5", "311"):
            with self.subTest(protocol=protocol):
                err = self.fails(2, "describe-job", "--job-id", "x", port=broker.port,
                                 global_args=("-V", protocol, "-u", "admin", "-P", "wrong"))
                self.assertIn("refused the connection", err)
                self.assertRegex(err, r"client id 'jobsctl-\d+', username 'admin'")
                self.assertIn("-u/-P", err)
        err = self.fails(1, "describe-job", "--job-id", "x", port=broker.port,
                         global_args=("-u", "admin", "-P", "secret", "-i", "admin"))
        self.assertIn("ResourceNotFoundException", err)


@unittest.skipUnless(JOBSCTL, "JOBS_JOBSCTL is not set")
@unittest.skipUnless(AWS, "the AWS CLI (aws) is not installed: run scripts/install-deps")
class JobsctlLikeAwsTest(BrokerTest):
    """jobsctl and the aws CLI (over the plugin's HTTP API) print the same bytes."""

    def setUp(self):
        self.http_port = free_port()
        self.options = {"http_listen": f"127.0.0.1:{self.http_port}", "http_unsigned_identity": "admin"}
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="jobsctl-aws-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def run_both(self, *args, output="json"):
        for name in ("config", "credentials"):
            open(os.path.join(self.tmp, name), "w").close()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID="AKIDJOBSCTLTEST00001", AWS_SECRET_ACCESS_KEY="secret",
                   AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_MAX_ATTEMPTS="1",
                   AWS_CONFIG_FILE=os.path.join(self.tmp, "config"),
                   AWS_SHARED_CREDENTIALS_FILE=os.path.join(self.tmp, "credentials"),
                   AWS_EC2_METADATA_DISABLED="true", NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
        aws = subprocess.run([AWS, "--output", output, "--endpoint-url",
                              f"http://127.0.0.1:{self.http_port}", "iot", *args],
                             capture_output=True, text=True, timeout=120, env=env)
        mine = subprocess.run([JOBSCTL, "-h", "127.0.0.1", "-p", str(self.broker.port), *args,
                               "--output", output],
                              capture_output=True, text=True, timeout=30, env={"JOBSCTL_CONFIG": ""})
        self.assertEqual(aws.returncode, 0, aws.stderr)
        self.assertEqual(mine.returncode, 0, mine.stderr)
        return aws.stdout, mine.stdout

    def test_same_output_as_aws(self):
        self.create_job("cmp-1", ["t1", "t2"], description="caf\u00e9 \"x\"")
        self.create_job("cmp-2", ["t1"])
        for args in (["list-jobs"],
                     ["list-jobs", "--max-items", "1"],
                     ["describe-job-execution", "--job-id", "cmp-1", "--thing-name", "t2"],
                     ["list-job-executions-for-job", "--job-id", "cmp-1"],
                     ["delete-thing-group", "--thing-group-name", "none"]):
            with self.subTest(args=args):
                aws, mine = self.run_both(*args)
                if args[0] == "list-jobs" and len(args) > 1:
                    # aws's NextToken is its own encoding: compare all but that
                    aws_data, mine_data = json.loads(aws), json.loads(mine)
                    self.assertIn("NextToken", aws_data)
                    self.assertIn("NextToken", mine_data)
                    del aws_data["NextToken"], mine_data["NextToken"]
                    self.assertEqual(aws_data, mine_data)
                else:
                    self.assertEqual(mine, aws)
        self.assertEqual(self.run_both("delete-thing-group", "--thing-group-name", "none"), ("", ""))

    def test_same_text_output_as_aws(self):
        self.create_job("txt-1", ["t1", "t2"], description="caf\u00e9")
        self.create_job("txt-2", ["t1"], timeoutConfig={"inProgressTimeoutInMinutes": 5})
        self.operator.control({"command": "cancelJob", "jobId": "txt-2"})
        for args in (["describe-job", "--job-id", "txt-1"],
                     ["describe-job", "--job-id", "txt-2"],
                     ["list-jobs"],
                     ["list-jobs", "--page-size", "1"],
                     ["list-jobs", "--no-paginate", "--max-results", "1"],
                     ["list-job-executions-for-thing", "--thing-name", "t1"],
                     ["describe-job-execution", "--job-id", "txt-1", "--thing-name", "t1"],
                     ["delete-thing-group", "--thing-group-name", "none"]):
            with self.subTest(args=args):
                aws, mine = self.run_both(*args, output="text")
                self.assertEqual(mine, aws)
        # With --max-items, all but aws's own encoding of the token.
        aws, mine = self.run_both("list-jobs", "--max-items", "1", output="text")
        self.assertEqual(mine.splitlines()[:-1], aws.splitlines()[:-1])
        self.assertRegex(mine.splitlines()[-1], r"^NEXTTOKEN\t\S+$")
        self.assertRegex(aws.splitlines()[-1], r"^NEXTTOKEN\t\S+$")


if __name__ == "__main__":
    unittest.main()


WAIT_LINE = re.compile(r"^job (\S+) (\S+) \[[#.]{20}\] +(\d+)% (\d+)/(\d+) succeeded (\d+) failed (\d+) "
                       r"in progress (\d+) queued (\d+)")


@unittest.skipUnless(JOBSCTL, "JOBS_JOBSCTL is not set")
class WaitJobTest(BrokerTest):
    """wait-job: the progress of a rollout until the job ends, and its exit statuses."""

    def argv(self, *args):
        return [JOBSCTL, "-h", "127.0.0.1", "-p", str(self.broker.port), "--timeout", "20", *args]

    def env(self):
        return dict(os.environ, JOBSCTL_CONFIG="")

    def run_ctl(self, *args):
        proc = subprocess.run(self.argv(*args), capture_output=True, text=True, timeout=60,
                              env=self.env(), stdin=subprocess.DEVNULL)
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, proc.stderr, proc.stderr)
        return proc

    def update(self, thing, job_id, status):
        dev = self.client(f"dev-{thing}")
        outcome, body, _ = dev.request(P(thing, job_id, "update"), {"status": status})
        self.assertEqual(outcome, "accepted", body)

    def ctl_ok(self, *args):
        proc = self.run_ctl(*args)
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def lines(self, stdout):
        found = [WAIT_LINE.match(line) for line in stdout.splitlines()]
        self.assertTrue(found and all(found), stdout)
        return [m.groups() for m in found]

    def test_plain_lines_until_the_job_completes(self):
        self.ctl_ok("create-job", "--job-id", "w1", "--targets", "a", "b", "--document", "{}")
        proc = subprocess.Popen(self.argv("wait-job", "--job-id", "w1", "--interval", "1"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env(), stdin=subprocess.DEVNULL)
        self.addCleanup(proc.kill)
        # the first line, before any device has answered
        first = proc.stdout.readline()
        self.assertEqual(WAIT_LINE.match(first).groups(),
                         ("w1", "IN_PROGRESS", "0", "0", "2", "0", "0", "0", "2"))
        self.update("a", "w1", "SUCCEEDED")
        self.update("b", "w1", "SUCCEEDED")
        out, err = proc.communicate(timeout=60)
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, err, err)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(err, "")
        self.assertNotIn("\r", out)
        lines = self.lines(first + out)
        self.assertEqual(lines[-1], ("w1", "COMPLETED", "100", "2", "2", "2", "0", "0", "0"))
        # one line per change: no two the same in a row
        self.assertTrue(all(a != b for a, b in zip(lines, lines[1:])), lines)

    def test_failures_cancel_and_timeout_have_their_exit_statuses(self):
        self.ctl_ok("create-job", "--job-id", "f1", "--targets", "a", "b", "--document", "{}")
        self.update("a", "f1", "SUCCEEDED")
        self.update("b", "f1", "FAILED")
        proc = self.run_ctl("wait-job", "--job-id", "f1")
        self.assertEqual(proc.returncode, 4, proc.stderr)
        self.assertEqual(self.lines(proc.stdout)[-1], ("f1", "COMPLETED", "100", "2", "2", "1", "1", "0", "0"))

        self.ctl_ok("create-job", "--job-id", "c1", "--targets", "a", "--document", "{}")
        self.ctl_ok("cancel-job", "--job-id", "c1")
        proc = self.run_ctl("wait-job", "--job-id", "c1")
        self.assertEqual(proc.returncode, 5, proc.stderr)
        self.assertEqual(self.lines(proc.stdout)[-1][:2], ("c1", "CANCELED"))

        self.ctl_ok("create-job", "--job-id", "t1", "--targets", "a", "--document", "{}")
        proc = self.run_ctl("wait-job", "--job-id", "t1", "--interval", "1", "--wait-timeout", "1")
        self.assertEqual(proc.returncode, 6, proc.stderr)
        self.assertEqual(proc.stderr, "jobsctl: the job had not ended within 1 s\n")
        self.assertEqual(self.lines(proc.stdout)[-1][:2], ("t1", "IN_PROGRESS"))

        # a job that does not exist: the server's error, as describe-job's
        proc = self.run_ctl("wait-job", "--job-id", "nosuch")
        self.assertEqual(proc.returncode, 1)
        self.assertRegex(proc.stderr, r"^jobsctl: ResourceNotFoundException: ")

    def test_a_continuous_job_ends_when_nothing_is_queued_or_in_progress(self):
        self.ctl_ok("create-thing-group", "--thing-group-name", "g")
        self.ctl_ok("add-thing-to-thing-group", "--thing-group-name", "g", "--thing-name", "a")
        self.ctl_ok("create-job", "--job-id", "k1", "--targets", group_arn("g"),
                    "--target-selection", "CONTINUOUS", "--document", "{}")
        proc = self.run_ctl("wait-job", "--job-id", "k1", "--wait-timeout", "1", "--interval", "1")
        self.assertEqual(proc.returncode, 6, proc.stderr)
        self.update("a", "k1", "SUCCEEDED")
        proc = self.run_ctl("wait-job", "--job-id", "k1")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertTrue(proc.stdout.rstrip("\n").endswith("(continuous: nothing queued or in progress)"),
                        proc.stdout)
        self.assertEqual(self.lines(proc.stdout)[-1], ("k1", "IN_PROGRESS", "100", "1", "1", "1", "0", "0", "0"))

    def test_a_terminal_gets_a_bar_redrawn_in_place(self):
        self.ctl_ok("create-job", "--job-id", "p1", "--targets", "a", "b", "c", "d", "--document", "{}")
        self.update("a", "p1", "SUCCEEDED")
        for thing in ("b", "c", "d"):
            self.update(thing, "p1", "IN_PROGRESS")
        self.update("b", "p1", "SUCCEEDED")
        master, slave = pty.openpty()
        proc = subprocess.Popen(self.argv("wait-job", "--job-id", "p1", "--interval", "1", "--wait-timeout", "2"),
                                stdout=slave, stderr=subprocess.PIPE, env=self.env(),
                                stdin=subprocess.DEVNULL)
        os.close(slave)
        self.addCleanup(os.close, master)
        out = b""
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            self.assertTrue(ready, "no output from wait-job on a terminal")
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the other end is closed
                break
            if not chunk:
                break
            out += chunk
        _, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 6, err.decode())
        text = out.decode()
        # each drawing starts at the line's start and erases what the last one left
        draws = text.split("\r")
        self.assertEqual(draws[0], "")
        self.assertGreaterEqual(len(draws), 2, text)
        for d in draws[1:-1]:
            self.assertTrue(d.endswith("\x1b[K"), repr(d))
        # the bar, half full, and the line ended before the message
        self.assertIn("job p1 IN_PROGRESS [##########..........]  50% 2/4 succeeded 2 failed 0 "
                      "in progress 2 queued 0\x1b[K", text)
        self.assertTrue(text.endswith("\x1b[K\r\n"), repr(text[-20:]))
