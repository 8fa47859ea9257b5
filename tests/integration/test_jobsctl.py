"""jobsctl, the operator CLI: its commands against a real broker with the plugin,
its exit statuses (0 ok, 1 error reply, 2 cannot connect, 3 no reply, 64 usage), the
defaults file, --help, and replies matched to the right process.

Environment: JOBS_JOBSCTL is the built jobsctl (set by ctest next to JOBS_PLUGIN)."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from harness import Broker, BrokerTest, P, free_port

JOBSCTL = os.environ.get("JOBS_JOBSCTL")

# Every subcommand with its flags and the JSON field each one fills (spec section 10,
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
}

# A value for each flag type, and the JSON it must become.
INT_FIELDS = {"maxResults", "executionNumber", "expectedVersion"}
BOOL_FIELDS = {"force"}
JSON_FIELDS = {"document", "timeoutConfig", "jobExecutionsRolloutConfig", "abortConfig",
               "jobExecutionsRetryConfig", "schedulingConfig", "statusDetails",
               "thingGroupProperties"}

SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                   "runtime error:")


@unittest.skipUnless(JOBSCTL, "JOBS_JOBSCTL is not set")
class JobsctlTest(BrokerTest):

    def setUp(self):
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
        """Runs a command that must succeed; returns its output as JSON."""
        proc = self.jobsctl(*args, **kw)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr, "")
        return json.loads(proc.stdout)

    def fails(self, code, *args, **kw):
        proc = self.jobsctl(*args, **kw)
        self.assertEqual(proc.returncode, code, f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
        self.assertEqual(proc.stdout, "")
        self.assertTrue(proc.stderr.startswith("jobsctl: "), proc.stderr)
        return proc.stderr

    def dry_run(self, *args):
        """The command jobsctl would send (--dry-run: nothing is sent)."""
        proc = self.jobsctl(*args, global_args=("--dry-run", "--output", "json"))
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
        }
        self.assertEqual(set(runs) | {"create-job", "describe-job", "cancel-job",
                                      "describe-job-execution"}, set(COMMANDS))
        for name, args in runs.items():
            with self.subTest(command=name):
                proc = self.jobsctl(name, *args)
                self.assertIn(proc.returncode, (0, 1), proc.stderr)
                if proc.returncode == 0:
                    self.assertIsInstance(json.loads(proc.stdout), dict)
                else:
                    # "unknown command" until the server has it; then e.g. not found
                    self.assertRegex(proc.stderr, r"^jobsctl: \w+Exception: ")
        # Each arrived under its wire name (the plugin's audit line).
        log = self.broker.read_log()
        for name in runs:
            self.assertIn(f"command={COMMANDS[name][0]} ", log)

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
        plain = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL,
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
                          "--output json\n")
        self.ok("create-job", "--job-id", "cfg", "--targets", "t", "--document", "{}")
        proc = subprocess.run([JOBSCTL, "describe-job", "--job-id", "cfg"], capture_output=True,
                              text=True, timeout=30, env=self.env(JOBSCTL_CONFIG=path))
        self.check_output(proc)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.count("\n"), 1, "--output json from the file")
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
            (["describe-job", "--job-id", "x", "--timeout", "3"], "global options go before"),
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
                                     (["--output", "yaml"], "pretty or json"),
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
        pretty = self.jobsctl("describe-job", "--job-id", "fmt")
        compact = self.jobsctl("describe-job", "--job-id", "fmt", global_args=("--output", "json"))
        self.assertGreater(pretty.stdout.count("\n"), 5)
        self.assertEqual(compact.stdout.count("\n"), 1)
        self.assertEqual(json.loads(pretty.stdout), json.loads(compact.stdout))

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


if __name__ == "__main__":
    unittest.main()
