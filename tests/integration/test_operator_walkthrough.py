"""The operator's story end to end: the real `jobsctl` binary steering a fleet of real
devices (MQTT clients subscribed to their jobs topics) through a thing group and a
continuous job: onboarding, a late device, progress counts, cancel without and with
force, listings, and an error reply.

Environment: JOBS_PLUGIN (the plugin), JOBS_JOBSCTL (the built jobsctl)."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import ARN_PREFIX, BrokerTest, P

JOBSCTL = os.environ.get("JOBS_JOBSCTL")

SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                   "runtime error:")


@unittest.skipUnless(JOBSCTL, "JOBS_JOBSCTL is not set")
class OperatorWalkthroughTest(BrokerTest):

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="walkthrough-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    # -- jobsctl --

    def jobsctl(self, *args):
        env = dict(os.environ, JOBSCTL_CONFIG="")  # no user defaults file
        argv = [JOBSCTL, "-h", "127.0.0.1", "-p", str(self.broker.port), "--timeout", "20",
                "--output", "compact", *args]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=env,
                              stdin=subprocess.DEVNULL)
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, proc.stderr, proc.stderr)
        return proc

    def ctl(self, *args):
        """A jobsctl command that must succeed; its output as JSON."""
        proc = self.jobsctl(*args)
        self.assertEqual(proc.returncode, 0, f"{args}: {proc.stderr}")
        self.assertEqual(proc.stderr, "")
        if not proc.stdout:
            return {}  # an empty response prints nothing, as with the aws CLI
        self.assertEqual(proc.stdout.count("\n"), 1, "--output compact prints one line")
        return json.loads(proc.stdout)

    # -- devices --

    def device(self, thing):
        """A device: a client subscribed to its own jobs topics."""
        d = self.client(f"device-{thing}")
        d.subscribe(P(thing, "#"))
        d.thing = thing
        return d

    def notifications(self, d):
        """The notify / notify-next messages d received since the last call
        (a round trip through the broker first, so nothing is missed)."""
        out = {"notify": [], "notify-next": []}
        for m in d.sync():
            kind = m.topic[len(P(d.thing)) + 1:]
            if kind in out:
                out[kind].append(json.loads(m.payload))
        return out

    def device_ok(self, d, levels, payload=None):
        outcome, body, _ = d.request(P(d.thing, *levels.split("/")), payload or {})
        self.assertEqual(outcome, "accepted", body)
        return body

    def queued_ids(self, notify):
        return [s["jobId"] for s in notify["jobs"].get("QUEUED", [])]

    # -- the story --

    def test_onboarding_a_line_with_a_continuous_job(self):
        group, job = "line-a", "onboard-2-1"
        group_arn = f"{ARN_PREFIX}:thinggroup/{group}"
        sensor1, sensor2, sensor3 = (self.device(t) for t in ("sensor-1", "sensor-2", "sensor-3"))

        # a thing group with two devices
        data = self.ctl("create-thing-group", "--thing-group-name", group,
                        "--thing-group-properties", '{"thingGroupDescription": "assembly line A"}')
        self.assertEqual(data, {"thingGroupName": group, "thingGroupArn": group_arn,
                                "thingGroupId": group})
        for d in (sensor1, sensor2):
            self.assertEqual(self.ctl("add-thing-to-thing-group", "--thing-group-name", group,
                                      "--thing-name", d.thing), {})
        self.assertEqual(self.ctl("list-things-in-thing-group", "--thing-group-name", group),
                         {"things": ["sensor-1", "sensor-2"]})
        # no job yet: membership alone sends nothing
        for d in (sensor1, sensor2):
            self.assertEqual(self.notifications(d), {"notify": [], "notify-next": []})

        # a continuous job for the group, its document from a file
        document = {"operation": "onboard", "steps": ["register", "configure"],
                    "config": {"interval": 30, "endpoint": "mqtts://example.com"}}
        path = os.path.join(self.tmp, "onboard.json")
        with open(path, "w") as f:
            json.dump(document, f, indent=2)
        data = self.ctl("create-job", "--job-id", job, "--targets", group_arn,
                        "--target-selection", "CONTINUOUS", "--document", "file://" + path,
                        "--description", "Onboarding 2.1")
        self.assertEqual(data, {"jobId": job, "jobArn": f"{ARN_PREFIX}:job/{job}",
                                "description": "Onboarding 2.1"})

        # both devices are told, with the document
        for d in (sensor1, sensor2):
            body, _ = d.expect(P(d.thing, "notify-next"))
            e = body["execution"]
            self.assertEqual((e["jobId"], e["status"], e["executionNumber"]), (job, "QUEUED", 1))
            self.assertEqual(e["jobDocument"], document)
            got = self.notifications(d)
            self.assertEqual([self.queued_ids(n) for n in got["notify"]], [[job]])
            self.assertEqual(got["notify-next"], [])
        self.assertEqual(self.notifications(sensor3), {"notify": [], "notify-next": []})

        # a third device joins the line later and gets the job
        self.ctl("add-thing-to-thing-group", "--thing-group-name", group,
                 "--thing-name", sensor3.thing)
        body, _ = sensor3.expect(P(sensor3.thing, "notify"))
        self.assertEqual(self.queued_ids(body), [job])
        body, _ = sensor3.expect(P(sensor3.thing, "notify-next"))
        self.assertEqual(body["execution"]["jobId"], job)
        self.assertEqual(body["execution"]["jobDocument"], document)

        # the first two start; the first finishes
        for d in (sensor1, sensor2):
            e = self.device_ok(d, "start-next")["execution"]
            self.assertEqual((e["jobId"], e["status"], e["versionNumber"]), (job, "IN_PROGRESS", 2))
            self.assertEqual(e["jobDocument"], document)
        self.device_ok(sensor1, f"{job}/update",
                       {"status": "SUCCEEDED", "statusDetails": {"result": "registered"}})

        described = self.ctl("describe-job", "--job-id", job)["job"]
        self.assertEqual((described["status"], described["targetSelection"]),
                         ("IN_PROGRESS", "CONTINUOUS"))
        self.assertEqual(described["targets"], [group_arn])
        self.assertEqual(described["description"], "Onboarding 2.1")
        counts = described["jobProcessDetails"]
        self.assertEqual((counts["numberOfSucceededThings"], counts["numberOfInProgressThings"],
                          counts["numberOfQueuedThings"]), (1, 1, 1))
        self.assertEqual(sum(counts.values()), 3)

        listed = self.ctl("list-job-executions-for-job", "--job-id", job)
        self.assertNotIn("nextToken", listed)
        rows = listed["executionSummaries"]
        self.assertEqual([(r["thingArn"], r["jobExecutionSummary"]["status"]) for r in rows],
                         [(f"{ARN_PREFIX}:thing/sensor-1", "SUCCEEDED"),
                          (f"{ARN_PREFIX}:thing/sensor-2", "IN_PROGRESS"),
                          (f"{ARN_PREFIX}:thing/sensor-3", "QUEUED")])
        self.assertIn("startedAt", rows[1]["jobExecutionSummary"])
        self.assertNotIn("startedAt", rows[2]["jobExecutionSummary"])
        for d in (sensor1, sensor2, sensor3):
            self.notifications(d)

        # cancel without --force: only the QUEUED execution goes
        data = self.ctl("cancel-job", "--job-id", job, "--reason-code", "SUPERSEDED",
                        "--comment", "replaced by 2.2")
        self.assertEqual(data["jobId"], job)
        got = self.notifications(sensor3)
        self.assertEqual([n["jobs"] for n in got["notify"]], [{}])
        self.assertEqual([set(n) for n in got["notify-next"]], [{"timestamp"}])
        for d in (sensor1, sensor2):
            self.assertEqual(self.notifications(d), {"notify": [], "notify-next": []})
        statuses = {d.thing: self.ctl("describe-job-execution", "--job-id", job,
                                      "--thing-name", d.thing)["execution"]
                    for d in (sensor1, sensor2, sensor3)}
        self.assertEqual({t: e["status"] for t, e in statuses.items()},
                         {"sensor-1": "SUCCEEDED", "sensor-2": "IN_PROGRESS",
                          "sensor-3": "CANCELED"})
        self.assertFalse(statuses["sensor-3"]["forceCanceled"])
        described = self.ctl("describe-job", "--job-id", job)["job"]
        self.assertEqual((described["status"], described["forceCanceled"]), ("CANCELED", False))
        self.assertEqual((described["reasonCode"], described["comment"]),
                         ("SUPERSEDED", "replaced by 2.2"))
        # the running device could still finish; it is not told anything
        self.assertEqual(self.device_ok(sensor2, f"{job}/get")["execution"]["status"],
                         "IN_PROGRESS")

        # with --force the IN_PROGRESS one goes too
        self.ctl("cancel-job", "--job-id", job, "--force")
        got = self.notifications(sensor2)
        self.assertEqual([n["jobs"] for n in got["notify"]], [{}])
        self.assertEqual([set(n) for n in got["notify-next"]], [{"timestamp"}])
        e = self.ctl("describe-job-execution", "--job-id", job, "--thing-name", "sensor-2")["execution"]
        self.assertEqual((e["status"], e["forceCanceled"], e["versionNumber"]), ("CANCELED", True, 3))
        outcome, body, _ = sensor2.request(P("sensor-2", job, "update"), {"status": "SUCCEEDED"})
        self.assertEqual((outcome, body["code"]), ("rejected", "InvalidStateTransition"))
        described = self.ctl("describe-job", "--job-id", job)["job"]
        self.assertEqual((described["status"], described["forceCanceled"]), ("CANCELED", True))
        counts = {k: v for k, v in described["jobProcessDetails"].items() if v}
        self.assertEqual(counts, {"numberOfSucceededThings": 1, "numberOfCanceledThings": 2})

        listed = self.ctl("list-jobs", "--status", "CANCELED")
        self.assertEqual([(j["jobId"], j["status"]) for j in listed["jobs"]], [(job, "CANCELED")])
        self.assertEqual(self.ctl("list-jobs", "--status", "IN_PROGRESS"), {"jobs": []})

        # an error reply: exit status 1, the exception on stderr, nothing on stdout
        proc = self.jobsctl("describe-job", "--job-id", "no-such-job")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(proc.stdout, "")
        self.assertRegex(proc.stderr, r"^jobsctl: ResourceNotFoundException: .*no-such-job")

    def test_leaving_the_line_and_cleaning_up(self):
        group, job = "line-b", "calibrate"
        group_arn = f"{ARN_PREFIX}:thinggroup/{group}"
        stays, leaves = self.device("cam-1"), self.device("cam-2")
        self.ctl("create-thing-group", "--thing-group-name", group)
        for d in (stays, leaves):
            self.ctl("add-thing-to-thing-group", "--thing-group-name", group, "--thing-name", d.thing)
        self.ctl("create-job", "--job-id", job, "--targets", group_arn,
                 "--target-selection", "CONTINUOUS", "--document", '{"op": "calibrate"}')
        for d in (stays, leaves):
            d.expect(P(d.thing, "notify-next"))
            self.notifications(d)

        # a device leaving the line loses its pending execution, and is told
        self.assertEqual(self.ctl("remove-thing-from-thing-group", "--thing-group-name", group,
                                  "--thing-name", "cam-2"), {})
        got = self.notifications(leaves)
        self.assertEqual([n["jobs"] for n in got["notify"]], [{}])
        self.assertEqual([set(n) for n in got["notify-next"]], [{"timestamp"}])
        self.assertEqual(self.notifications(stays), {"notify": [], "notify-next": []})
        e = self.ctl("describe-job-execution", "--job-id", job, "--thing-name", "cam-2")["execution"]
        self.assertEqual(e["status"], "REMOVED")
        listed = self.ctl("list-job-executions-for-thing", "--thing-name", "cam-2")
        self.assertEqual([(r["jobId"], r["jobExecutionSummary"]["status"])
                          for r in listed["executionSummaries"]], [(job, "REMOVED")])
        self.assertEqual(self.ctl("list-thing-groups", "--name-prefix-filter", "line-"),
                         {"thingGroups": [{"groupName": group, "groupArn": group_arn}]})
        self.assertEqual(self.ctl("get-job-document", "--job-id", job),
                         {"document": '{"op":"calibrate"}'})

        # an IN_PROGRESS job needs --force to be deleted
        proc = self.jobsctl("delete-job", "--job-id", job)
        self.assertEqual(proc.returncode, 1)
        self.assertTrue(proc.stderr.startswith("jobsctl: InvalidStateTransitionException: "),
                        proc.stderr)
        self.assertEqual(self.ctl("delete-job", "--job-id", job, "--force"), {})
        got = self.notifications(stays)
        self.assertEqual([n["jobs"] for n in got["notify"]], [{}])
        self.assertEqual(self.notifications(leaves), {"notify": [], "notify-next": []})
        self.assertEqual(self.ctl("list-jobs"), {"jobs": []})
        self.assertEqual(self.ctl("delete-thing-group", "--thing-group-name", group), {})
        self.assertEqual(self.ctl("list-thing-groups"), {"thingGroups": []})
        proc = self.jobsctl("list-things-in-thing-group", "--thing-group-name", group)
        self.assertEqual(proc.returncode, 1)
        self.assertRegex(proc.stderr, r"^jobsctl: ResourceNotFoundException: ")


if __name__ == "__main__":
    unittest.main()
