"""An unmodified AWS IoT Device SDK v2 (JavaScript) jobs client against the plugin:
it lists, starts, describes and finishes a job created through $CONTROL/jobs/v1.

tests/sdk/jobs_agent.js is the agent; scripts/test installs its npm dependencies.
"""
import json
import os
import shutil
import subprocess
import time
import unittest

from harness import BrokerTest

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


if __name__ == "__main__":
    unittest.main()
