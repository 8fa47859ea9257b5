"""An operator's script of AWS CLI commands, run unchanged against the plugin:
examples/aws-cli-rollout.sh registers things, creates a job from an AWS managed template
with parameters, rolled out in a maintenance window, speeds its rollout up, adds a
target to the continuous job, and watches $aws/events/# while the devices finish.

The test runs the script as it is (its settings from the environment, as an operator
would give them), moves the broker's time into the window with advanceTime once the
script watches, plays the three devices over MQTT, and checks what the script printed.

The CLI is the one on PATH. One that predates an operation or a field the script uses
(Debian 12's awscli 2.9 knows no maintenanceWindows, for one) makes the test skip,
naming what the CLI refused: the same operations are tested over $CONTROL/jobs/v1 and
HTTP in test_things, test_job_templates, test_update_job and test_job_events.
"""
import datetime
import json
import os
import queue
import subprocess
import threading
import time
import unittest

from harness import HERE, P, thing_arn
from test_http_api import ARN, HttpApiTest

SCRIPT = os.path.join(HERE, "..", "..", "examples", "aws-cli-rollout.sh")
JOB = "pump-config-7"
PUMPS = ["pump-1", "pump-2", "pump-3"]
URL, PATH = "https://files.example.com/pump.conf", "/etc/pump/pump.conf"


def window_start_after(t):
    """The first 02:00 UTC after epoch time t (the script's window: daily, 60 minutes)."""
    day = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).replace(hour=2, minute=0, second=0,
                                                                             microsecond=0)
    if day.timestamp() <= t:
        day += datetime.timedelta(days=1)
    return day.timestamp()


class OperatorScriptTest(HttpApiTest):
    http_options = {"test_controls": "on"}

    def control(self, command, **fields):
        [resp] = self.operator.control(dict(fields, command=command))
        self.assertNotIn("error", resp, resp)
        return resp["data"]

    def start_script(self):
        env = self.aws_env()
        env.update(JOBS_ENDPOINT=self.endpoint, MQTT_HOST="127.0.0.1", MQTT_PORT=str(self.broker.port),
                   WATCH_COUNT=str(len(PUMPS)), WATCH_SECONDS="300")
        proc = subprocess.Popen(["sh", SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env, cwd=self.tmp)
        lines = queue.Queue()
        err = []
        threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout] + [lines.put(None)],
                         daemon=True).start()
        threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True).start()
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        return proc, lines, err

    def read_until(self, proc, lines, err, marker, seen, timeout=240):
        deadline = time.time() + timeout
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.time()))
            except queue.Empty:
                self.fail(f"the script printed no {marker!r} in {timeout} s:\n{''.join(seen)}")
            if line is None:
                proc.wait(timeout=30)
                stderr = "".join(err)
                refused = [w for w in ("Invalid choice", "Unknown parameter", "Unknown options") if w in stderr]
                if refused and proc.returncode:
                    version = subprocess.run(["aws", "--version"], capture_output=True, text=True)
                    self.skipTest(f"the AWS CLI on PATH ({(version.stdout + version.stderr).strip()}) "
                                  f"does not know what the script asks: {stderr.strip()[-300:]}")
                self.fail(f"the script ended (exit {proc.returncode}) before {marker!r}:\n"
                          f"{''.join(seen)}\nstderr:\n{stderr}")
            seen.append(line)
            if line.startswith(marker):
                return

    def test_operator_script(self):
        # job time outside the window while the script runs, with ten minutes to spare
        # (inside it, or just before it, move to after it): the executions must wait
        now = time.time()
        if not 600 < window_start_after(now) - now < 23 * 3600:
            self.control("advanceTime", minutes=80)
            now += 80 * 60
        devices = {p: self.client(p) for p in PUMPS}
        for p, dev in devices.items():
            dev.subscribe(P(p, "notify-next"))

        proc, lines, err = self.start_script()
        seen = []
        self.read_until(proc, lines, err, "== watching", seen)
        printed = "".join(seen)

        # what the script printed on its way
        for p in PUMPS:
            self.assertIn(f'"{ARN}:thing/{p}"', printed)
        outputs = list(json_values(printed))
        self.assertIn([{"Enabled": True}, {"Enabled": True}], outputs)
        self.assertIn(sorted(PUMPS), [sorted(o) for o in outputs if isinstance(o, list)
                                      and o and isinstance(o[0], str) and o[0].startswith("pump")])
        self.assertIn(["line-a"], outputs)
        [described] = [o for o in outputs if isinstance(o, dict) and "windows" in o]
        self.assertEqual(described["status"], "IN_PROGRESS")
        self.assertEqual(described["targets"], [f"{ARN}:thinggroup/line-a", f"{ARN}:thing/pump-3"])
        self.assertEqual(described["rollout"], {"maximumPerMinute": 100})
        self.assertEqual(described["windows"], [{"startTime": "cron(0 2 * * ? *)", "durationInMinutes": 60}])

        # outside the window nothing has reached the devices
        for p, dev in devices.items():
            outcome, body, _ = dev.request(P(p, "get"), {})
            self.assertEqual(outcome, "accepted", body)
            self.assertEqual(body.get("queuedJobs", []) + body.get("inProgressJobs", []), [], p)
        self.assertEqual(self.control("listJobExecutionsForJob", jobId=JOB)["executionSummaries"], [])

        # into the window: each pump is told, runs the managed template's document with
        # the script's parameters, and succeeds
        minutes = int((window_start_after(now) - now) // 60) + 2
        self.control("advanceTime", minutes=minutes)
        for p, dev in devices.items():
            note, _ = dev.expect(P(p, "notify-next"), timeout=30)
            self.assertEqual(note["execution"]["jobId"], JOB, note)
            outcome, body, _ = dev.request(P(p, "start-next"), {})
            self.assertEqual(outcome, "accepted", body)
            step = body["execution"]["jobDocument"]["steps"][0]["action"]
            self.assertEqual(step["name"], "Download-File")
            self.assertEqual(step["input"]["args"], [URL, PATH])
            outcome, body, _ = dev.request(P(p, JOB, "update"),
                                           {"status": "SUCCEEDED", "statusDetails": {"installed": "pump.conf"}})
            self.assertEqual(outcome, "accepted", body)

        # the script saw the three executions succeed, and ends by itself
        while True:
            line = lines.get(timeout=120)
            if line is None:
                break
            seen.append(line)
        proc.wait(timeout=30)
        self.assertEqual(proc.returncode, 0, "".join(err))
        watching = next(i for i, s in enumerate(seen) if s.startswith("== watching"))
        events = [line.rstrip("\n").split(" ", 1) for line in seen[watching + 1:]]
        self.assertEqual(len(events), len(PUMPS), seen)
        things = set()
        for topic, payload in events:
            self.assertEqual(topic, f"$aws/events/jobExecution/{JOB}/succeeded")
            body = json.loads(payload)
            self.assertEqual(body["eventType"], "JOB_EXECUTION")
            self.assertEqual(body["operation"], "succeeded")
            self.assertEqual(body["jobId"], JOB)
            self.assertEqual(body["status"], "SUCCEEDED")
            self.assertEqual(body["statusDetails"], {"installed": "pump.conf"})
            things.add(body["thingArn"])
        self.assertEqual(things, {thing_arn(p) for p in PUMPS})


def json_values(text):
    """The JSON arrays and objects the CLI printed, each starting a line."""
    decoder = json.JSONDecoder()
    i = 0
    while i < len(text):
        if text[i] in "[{" and (i == 0 or text[i - 1] == "\n"):
            try:
                value, end = decoder.raw_decode(text, i)
            except ValueError:
                i += 1
                continue
            yield value
            i = end
        else:
            i += 1


if __name__ == "__main__":
    unittest.main()
