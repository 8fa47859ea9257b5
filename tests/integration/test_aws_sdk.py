"""Unmodified AWS IoT Device SDK jobs clients against the plugin: the SDK v2
(JavaScript) lists, starts, describes and finishes a job created through
$CONTROL/jobs/v1; the SDK v1 (JavaScript, aws-iot-device-sdk) runs the jobs it is
handed over TLS with a client certificate.

tests/sdk/jobs_agent.js and tests/sdk/jobs_agent_v1.js are the agents; scripts/test
installs their npm dependencies.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import harness
from harness import Broker, BrokerTest, free_port

SDK_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sdk")
NODE = shutil.which("node")


class AwsSdkAgent(BrokerTest):
    # The plugin's isolating defaults, as a fleet would run them: the agent's client id
    # is its thing name, so it reaches its own jobs topics and nothing else.
    options = {"isolation": None, "operators": "operator"}
    def run_agent(self, thing):
        if not NODE:
            self.fail("node is not installed: run scripts/install-deps")
        if not os.path.isdir(os.path.join(SDK_DIR, "node_modules", "aws-iot-device-sdk-v2")):
            self.fail("the SDK is not installed: run (cd tests/sdk && npm ci)")
        proc = subprocess.run([NODE, "jobs_agent.js", str(self.broker.port), thing],
                              cwd=SDK_DIR, capture_output=True, text=True, timeout=90)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return json.loads(proc.stdout)

    def test_sdk_lists_starts_describes_and_finishes_a_job(self):
        before = int(time.time())
        self.create_job("sdk-job", ["sdk-thing"], document={"operation": "reboot", "n": 2})
        out = self.run_agent("sdk-thing")

        # the SDK matched every reply to its request by clientToken
        [queued] = out["pendingBefore"]["queuedJobs"]
        self.assertEqual(queued["jobId"], "sdk-job")
        self.assertEqual(out["pendingBefore"]["inProgressJobs"], [])
        self.assertGreaterEqual(queued["queuedAt"], before)

        started = out["started"]["execution"]
        self.assertEqual(started["status"], "IN_PROGRESS")
        self.assertEqual(started["versionNumber"], 2)
        self.assertEqual(started["statusDetails"], {"step": "download"})
        self.assertEqual(started["jobDocument"], {"operation": "reboot", "n": 2})

        described = out["described"]["execution"]
        self.assertEqual(described["jobId"], "sdk-job")
        self.assertEqual(described["status"], "IN_PROGRESS")
        self.assertEqual(described["jobDocument"], {"operation": "reboot", "n": 2})

        state = out["updated"]["executionState"]
        self.assertEqual(state, {"status": "SUCCEEDED", "statusDetails": {"step": "done"},
                                 "versionNumber": 3})
        self.assertEqual(out["pendingAfter"]["queuedJobs"], [])
        self.assertEqual(out["pendingAfter"]["inProgressJobs"], [])

        # the rejection reaches the SDK as a modeled error
        self.assertEqual(out["rejection"]["code"], "InvalidStateTransition")
        self.assertEqual(out["rejection"]["executionState"]["status"], "SUCCEEDED")

        # the streams saw the job leave: nothing pending, no next execution
        self.assertIn({"jobs": {}}, [{"jobs": n["jobs"]} for n in out["notify"]])
        self.assertTrue(any("execution" not in n for n in out["notifyNext"]), out["notifyNext"])

        [resp] = self.operator.control({"command": "describeJob", "jobId": "sdk-job"})
        self.assertEqual(resp["data"]["job"]["status"], "COMPLETED")


class AwsSdkV1Agent(BrokerTest):
    """aws-iot-device-sdk's jobs client: $next/get on start, then each job from
    $next/get/accepted or notify-next, routed to a handler by the document's
    `operation`; it reports IN_PROGRESS and SUCCEEDED without reading the replies."""
    options = {"isolation": None, "operators": "operator"}
    thing = "sdk-v1-thing"

    def setUp(self):
        if not shutil.which("openssl"):
            self.fail("openssl is not installed: run scripts/install-deps")
        self.certs = tempfile.mkdtemp(prefix="jobs-sdk-v1-")
        self.addCleanup(shutil.rmtree, self.certs, True)
        harness.make_certificates(self.certs, [self.thing])
        self.tls_port = free_port()
        f = lambda n: os.path.join(self.certs, n)  # noqa: E731
        # AWS IoT's endpoint as the SDK expects it: TLS with a client certificate
        self.broker = Broker(options=self.options, extra_conf=(
            f"listener {self.tls_port} 127.0.0.1\n"
            f"cafile {f('ca.crt')}\ncertfile {f('server.crt')}\nkeyfile {f('server.key')}\n"
            "require_certificate true\n"))
        self.broker.start()
        self.clients = []
        self.operator = self.client("operator")

    def run_agent(self, count):
        if not NODE:
            self.fail("node is not installed: run scripts/install-deps")
        if not os.path.isdir(os.path.join(SDK_DIR, "node_modules", "aws-iot-device-sdk")):
            self.fail("the SDK is not installed: run (cd tests/sdk && npm ci)")
        proc = subprocess.run([NODE, "jobs_agent_v1.js", str(self.tls_port), self.thing, self.certs,
                               str(count)], cwd=SDK_DIR, capture_output=True, text=True, timeout=90)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return [json.loads(line) for line in proc.stdout.splitlines()]

    def execution(self, job_id):
        [resp] = self.operator.control({"command": "describeJobExecution", "jobId": job_id,
                                        "thingName": self.thing})
        self.assertNotIn("error", resp, resp)
        return resp["data"]["execution"]

    def test_sdk_v1_runs_each_job_it_is_handed(self):
        self.create_job("v1-reboot", [self.thing], document={"operation": "reboot", "delay": 1})
        self.create_job("v1-other", [self.thing], document={"operation": "install", "pkg": "x"})
        seen = self.run_agent(2)

        # the first from $next/get/accepted, the second from notify-next once the
        # first succeeded; each to the handler of its operation
        self.assertEqual([(j["id"], j["handler"], j["operation"]) for j in seen],
                         [("v1-reboot", "reboot", "reboot"), ("v1-other", "default", "install")])
        self.assertEqual(seen[0]["document"], {"operation": "reboot", "delay": 1})
        self.assertEqual(seen[1]["document"], {"operation": "install", "pkg": "x"})
        self.assertEqual([j["status"]["status"] for j in seen], ["QUEUED", "QUEUED"])

        for job_id, handler in (("v1-reboot", "reboot"), ("v1-other", "default")):
            # the SDK publishes its updates at QoS 0 and exits once the last one is
            # written: the broker may read it after this request
            deadline = time.time() + 30
            while (e := self.execution(job_id))["status"] != "SUCCEEDED" and time.time() < deadline:
                time.sleep(0.05)
            self.assertEqual((e["status"], e["statusDetails"]),
                             ("SUCCEEDED", {"detailsMap": {"step": "done", "handler": handler}}))
            # QUEUED -> IN_PROGRESS -> SUCCEEDED: two updates
            self.assertEqual(e["versionNumber"], 3)


if __name__ == "__main__":
    unittest.main()
