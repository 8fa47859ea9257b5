"""A job changed after its creation (docs/management.md): UpdateJob (description,
presignedUrlConfig, rollout, abort, timeout and retry configs) and
AssociateTargetsWithJob (things and groups added to a continuous job in progress),
with the notifications they cause; and maintenance windows
(schedulingConfig.maintenanceWindows), which let a job's rollout happen only inside
them, checked with the test controls' advanceTime. Each new operation goes through the
AWS CLI, unmodified, at least once; the rest through $CONTROL/jobs/v1."""
import datetime
import json
import time

from harness import P
from test_http_api import ARN, HttpApiTest

WAIT = 15.0


class JobChangeTest(HttpApiTest):
    """Helpers shared by both brokers of this file."""

    def control_ok(self, command, **fields):
        [resp] = self.operator.control(dict(fields, command=command))
        self.assertNotIn("error", resp, resp)
        return resp["data"]

    def control_fails(self, command, code, **fields):
        [resp] = self.operator.control(dict(fields, command=command))
        self.assertIn("error", resp, resp)
        self.assertTrue(resp["error"].startswith(f"{code}: "), resp)
        return resp["error"]

    def describe(self, job_id):
        return self.control_ok("describeJob", jobId=job_id)["job"]

    def reached(self, job_id):
        return sum(self.describe(job_id)["jobProcessDetails"].values())

    def pending_jobs(self, dev, thing):
        outcome, body, _ = dev.request(P(thing, "get"), {})
        self.assertEqual(outcome, "accepted", body)
        return [s["jobId"] for s in body["inProgressJobs"] + body["queuedJobs"]]

    def watcher(self, *things):
        w = self.client()
        for t in things:
            w.subscribe(P(t, "notify-next"))
        w.sync()
        return w

    def next_job(self, w, thing, timeout=WAIT):
        """The jobId of the next notify-next for `thing` (None: none pending)."""
        body, _ = w.expect(P(thing, "notify-next"), timeout)
        return body.get("execution", {}).get("jobId")

    def wait_until(self, predicate, what, timeout=WAIT):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        self.fail(f"{what}: not within {timeout} s")


class UpdateJobTest(JobChangeTest):

    # -- UpdateJob

    def test_update_job_changes_configs(self):
        """aws iot update-job: what it changes shows in describe-job; a faster rollout
        reaches the waiting things at once; the new retry config retries."""
        things = [self.name("u") for _ in range(4)]
        job = self.name("j")
        w = self.watcher(*things)
        self.create_job(job, things, description="first", jobExecutionsRolloutConfig={"maximumPerMinute": 1})
        # one thing a minute: only the first is reached for now
        self.assertEqual(self.reached(job), 1)
        updated = self.aws(
            "iot", "update-job", "--job-id", job, "--description", "second",
            "--presigned-url-config", "roleArn=arn:aws:iam::000000000000:role/jobs-download,expiresInSec=600",
            "--job-executions-rollout-config", "maximumPerMinute=1000",
            "--timeout-config", "inProgressTimeoutInMinutes=30",
            "--job-executions-retry-config", "criteriaList=[{failureType=FAILED,numberOfRetries=2}]")
        self.assertEqual(self.ok(updated), {})
        # the rest of the rollout goes at the new rate, each thing told once
        self.wait_until(lambda: self.reached(job) == 4, "the rollout at its new rate")
        told = set()
        while len(told) < 4:
            m = w.get(WAIT)
            self.assertIsNotNone(m, f"notify-next for {set(things) - told}")
            self.assertEqual(json.loads(m.payload)["execution"]["jobId"], job)
            told.add(m.topic.split("/")[2])
        self.assertEqual(told, set(things))
        described = self.ok(self.aws("iot", "describe-job", "--job-id", job))["job"]
        self.assertEqual(described["description"], "second")
        self.assertEqual(described["presignedUrlConfig"],
                         {"roleArn": "arn:aws:iam::000000000000:role/jobs-download", "expiresInSec": 600})
        self.assertEqual(described["jobExecutionsRolloutConfig"], {"maximumPerMinute": 1000})
        self.assertEqual(described["timeoutConfig"], {"inProgressTimeoutInMinutes": 30})
        self.assertEqual(described["jobExecutionsRetryConfig"],
                         {"criteriaList": [{"failureType": "FAILED", "numberOfRetries": 2}]})
        self.assert_recent(self.describe(job)["lastUpdatedAt"])
        # an execution started now runs under the new timeout
        dev = self.client()
        outcome, body, _ = dev.request(P(things[0], "start-next"), {})
        self.assertEqual(outcome, "accepted", body)
        outcome, body, _ = dev.request(P(things[0], job, "get"), {})
        left = body["execution"]["approximateSecondsBeforeTimedOut"]
        self.assertTrue(1700 < left <= 1800, left)
        # a failure is retried under the new retry config: a second execution, queued
        outcome, body, _ = dev.request(P(things[0], job, "update"), {"status": "FAILED"})
        self.assertEqual(outcome, "accepted", body)
        self.assertEqual(self.pending_jobs(dev, things[0]), [job])
        latest = self.control_ok("describeJobExecution", jobId=job, thingName=things[0])["execution"]
        self.assertEqual((latest["executionNumber"], latest["status"]), (2, "QUEUED"))

    def test_update_job_abort_applies_at_once(self):
        """A new abortConfig whose criterion is already met cancels the job there and
        then; its queued executions are canceled and their things told."""
        a, b, c = (self.name("a") for _ in range(3))
        job = self.name("j")
        self.create_job(job, [a, b, c])
        dev = self.client()
        outcome, body, _ = dev.request(P(a, job, "update"), {"status": "FAILED"})
        self.assertEqual(outcome, "accepted", body)
        w = self.watcher(b, c)
        self.control_ok("updateJob", jobId=job, abortConfig={"criteriaList": [{
            "failureType": "FAILED", "action": "CANCEL", "thresholdPercentage": 30,
            "minNumberOfExecutedThings": 1}]})
        described = self.describe(job)
        self.assertEqual((described["status"], described["reasonCode"]), ("CANCELED", "ABORTED"))
        self.assertEqual(described["jobProcessDetails"]["numberOfCanceledThings"], 2)
        self.assertEqual(described["abortConfig"]["criteriaList"][0]["thresholdPercentage"], 30)
        for t in (b, c):
            self.assertIsNone(self.next_job(w, t))
            self.assertEqual(self.pending_jobs(dev, t), [])

    def test_update_job_refusals(self):
        done = self.name("j")
        self.create_job(done, [self.thing])
        dev = self.client()
        dev.request(P(self.thing, done, "update"), {"status": "SUCCEEDED"})
        self.assertEqual(self.describe(done)["status"], "COMPLETED")
        self.assertAwsError(self.aws("iot", "update-job", "--job-id", done, "--description", "late"),
                            "InvalidRequestException")
        self.assertAwsError(self.aws("iot", "update-job", "--job-id", self.name("none"), "--description", "x"),
                            "ResourceNotFoundException")
        live = self.name("j")
        self.create_job(live, [self.name("t")])
        cases = [
            ({"jobExecutionsRolloutConfig": {"maximumPerMinute": 0}}, "maximumPerMinute"),
            ({"presignedUrlConfig": {"roleArn": "short", "expiresInSec": 600}}, "roleArn"),
            ({"presignedUrlConfig": {"expiresInSec": 59}}, "expiresInSec"),
            ({"timeoutConfig": {"inProgressTimeoutInMinutes": "ten"}}, "inProgressTimeoutInMinutes"),
            ({"abortConfig": {"criteriaList": []}}, "criteriaList"),
            ({"jobExecutionsRetryConfig": {"criteriaList": [{"failureType": "REJECTED", "numberOfRetries": 1}]}},
             "failureType"),
            ({"description": 5}, "description"),
            ({"namespaceId": "bad namespace"}, "namespaceId"),
        ]
        for fields, word in cases:
            with self.subTest(fields=fields):
                self.assertIn(word, self.control_fails("updateJob", "InvalidRequestException", jobId=live, **fields))
        self.control_fails("updateJob", "ResourceNotFoundException", jobId=live, namespaceId="other")
        # nothing of the refused updates stuck
        described = self.describe(live)
        self.assertNotIn("presignedUrlConfig", described)
        self.assertNotIn("jobExecutionsRolloutConfig", described)

    # -- AssociateTargetsWithJob

    def test_associate_targets_with_continuous_job(self):
        """aws iot associate-targets-with-job: a thing and a group join a continuous
        job: each thing gets its execution and notify-next, a later member of the group
        too; a thing that already ran the job does not run it again."""
        first, single, member, later = (self.name("t") for _ in range(4))
        g1, g2 = self.name("g"), self.name("g")
        for g in (g1, g2):
            self.control_ok("createThingGroup", thingGroupName=g)
        self.control_ok("addThingToThingGroup", thingGroupName=g1, thingName=first)
        self.control_ok("addThingToThingGroup", thingGroupName=g2, thingName=member)
        job = self.name("j")
        self.create_job(job, [f"{ARN}:thinggroup/{g1}"], targetSelection="CONTINUOUS", description="fleet")
        dev = self.client()
        outcome, body, _ = dev.request(P(first, job, "update"), {"status": "SUCCEEDED"})
        self.assertEqual(outcome, "accepted", body)
        w = self.watcher(single, member, later)
        out = self.ok(self.aws("iot", "associate-targets-with-job", "--job-id", job, "--comment", "phase two",
                               "--targets", single, f"{ARN}:thinggroup/{g2}", f"{ARN}:thing/{first}"))
        self.assertEqual(out, {"jobArn": f"{ARN}:job/{job}", "jobId": job, "description": "fleet"})
        self.assertEqual(self.next_job(w, single), job)
        self.assertEqual(self.next_job(w, member), job)
        # a thing that joins the added group later is reached too
        self.control_ok("addThingToThingGroup", thingGroupName=g2, thingName=later)
        self.assertEqual(self.next_job(w, later), job)
        for t in (single, member, later):
            self.assertEqual(self.pending_jobs(dev, t), [job])
        # `first` already succeeded: no second execution
        latest = self.control_ok("describeJobExecution", jobId=job, thingName=first)["execution"]
        self.assertEqual((latest["executionNumber"], latest["status"]), (1, "SUCCEEDED"))
        described = self.describe(job)
        self.assertEqual(described["targets"],
                         [f"{ARN}:thinggroup/{g1}", single, f"{ARN}:thinggroup/{g2}", f"{ARN}:thing/{first}"])
        self.assertEqual(described["comment"], "phase two")
        self.assertEqual(described["jobProcessDetails"]["numberOfQueuedThings"], 3)
        # associating the same targets again changes nothing
        self.control_ok("associateTargetsWithJob", jobId=job, targets=[single])
        self.assertEqual(len(self.describe(job)["targets"]), 4)
        self.assertEqual(self.control_ok("describeJobExecution", jobId=job, thingName=single)
                         ["execution"]["executionNumber"], 1)
        # a target named many times in one request is added, and counted, once
        repeated = self.name("t")
        self.control_ok("associateTargetsWithJob", jobId=job, targets=[repeated] * 99)
        self.assertEqual(self.describe(job)["targets"][3:], [f"{ARN}:thing/{first}", repeated])
        self.assertEqual(self.pending_jobs(dev, repeated), [job])

    def test_associate_targets_refusals(self):
        snapshot = self.name("j")
        self.create_job(snapshot, [self.thing])
        self.assertAwsError(self.aws("iot", "associate-targets-with-job", "--job-id", snapshot,
                                     "--targets", self.name("t")), "InvalidRequestException")
        continuous = self.name("j")
        self.create_job(continuous, [self.thing], targetSelection="CONTINUOUS")
        self.assertIn("thing group", self.control_fails("associateTargetsWithJob", "ResourceNotFoundException",
                      jobId=continuous, targets=[f"{ARN}:thinggroup/{self.name('nogroup')}"]))
        # AWS's limit: 100 targets in all
        many = [self.name("m") for _ in range(100)]
        self.assertIn("100", self.control_fails("associateTargetsWithJob", "LimitExceededException",
                      jobId=continuous, targets=many))
        self.control_fails("associateTargetsWithJob", "InvalidRequestException", jobId=continuous, targets=[])
        self.control_fails("associateTargetsWithJob", "InvalidRequestException", jobId=continuous)
        self.control_fails("associateTargetsWithJob", "InvalidRequestException", jobId=continuous, targets=[7])
        self.control_fails("associateTargetsWithJob", "InvalidRequestException", jobId=continuous,
                           targets=[f"{ARN}:policy/p"])
        self.control_fails("associateTargetsWithJob", "ResourceNotFoundException", jobId=self.name("none"),
                           targets=[self.thing])
        # none of the refused targets was reached, and the job's targets are as created
        self.assertEqual(self.describe(continuous)["targets"], [self.thing])
        self.assertEqual(self.reached(continuous), 1)
        self.control_ok("cancelJob", jobId=continuous)
        self.assertIn("CANCELED", self.control_fails("associateTargetsWithJob", "InvalidRequestException",
                      jobId=continuous, targets=[self.name("t")]))


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


class MaintenanceWindowTest(JobChangeTest):
    """A broker of its own: advanceTime moves time for the whole broker."""

    http_options = {"test_controls": "on"}

    def advance(self, minutes):
        return self.control_ok("advanceTime", minutes=minutes)["offsetMinutes"]

    def test_rollout_only_inside_windows(self):
        """A daily window two hours ahead (UTC): nothing is rolled out before it, all
        of it inside it, and a thing that joins the continuous job's group after the
        window ended waits for the next day's window."""
        start = (utc_now() + datetime.timedelta(minutes=120)).replace(second=0, microsecond=0)
        cron = f"cron({start.minute} {start.hour} * * ? *)"
        group, a, b, later = self.name("g"), self.name("t"), self.name("t"), self.name("t")
        self.control_ok("createThingGroup", thingGroupName=group)
        for t in (a, b):
            self.control_ok("addThingToThingGroup", thingGroupName=group, thingName=t)
        job = self.name("j")
        w = self.watcher(a, b, later)
        created = self.ok(self.aws(
            "iot", "create-job", "--job-id", job, "--targets", f"{ARN}:thinggroup/{group}",
            "--document", '{"action":"update"}', "--target-selection", "CONTINUOUS",
            "--scheduling-config", json.dumps({"maintenanceWindows": [{"startTime": cron, "durationInMinutes": 30}]})))
        self.assertEqual(created["jobId"], job)
        described = self.ok(self.aws("iot", "describe-job", "--job-id", job))["job"]
        self.assertEqual(described["schedulingConfig"],
                         {"maintenanceWindows": [{"startTime": cron, "durationInMinutes": 30}]})
        self.assertEqual(described["status"], "IN_PROGRESS")
        dev = self.client()
        # an hour before the window: nothing yet (the tick looked: a later request
        # comes after it in the broker's loop)
        self.advance(60)
        self.assertEqual(self.reached(job), 0)
        self.assertEqual(self.pending_jobs(dev, a), [])
        # inside the window: everyone is reached and told
        self.advance(61)
        self.assertEqual(self.next_job(w, a), job)
        self.assertEqual(self.next_job(w, b), job)
        self.wait_until(lambda: self.reached(job) == 2, "the rollout inside the window")
        # after the window: a new member waits for the next window ...
        self.advance(40)
        self.control_ok("addThingToThingGroup", thingGroupName=group, thingName=later)
        self.advance(1)
        self.assertEqual(self.pending_jobs(dev, later), [])
        self.assertEqual(self.reached(job), 2)
        self.assertEqual(w.sync(), [])
        # ... which opens a day after the first
        self.advance(24 * 60 - 42 + 1)
        self.assertEqual(self.next_job(w, later), job)
        self.assertEqual(self.pending_jobs(dev, later), [job])

    def test_window_refusals(self):
        base = {"command": "createJob", "targets": [self.thing], "document": {"a": 1}}
        cases = [
            ([{"startTime": "cron(0 10 * * MON *)", "durationInMinutes": 60}], "Day-of-week"),
            ([{"startTime": "cron(0 25 ? * MON *)", "durationInMinutes": 60}], "Hours"),
            ([{"startTime": "every day", "durationInMinutes": 60}], "cron"),
            ([{"startTime": "cron(0 10 ? * MON *)", "durationInMinutes": 1431}], "durationInMinutes"),
            ([{"startTime": "cron(0 10 ? * MON *)", "durationInMinutes": 0}], "durationInMinutes"),
            ([{"startTime": "cron(0 10 ? * MON *)"}], "durationInMinutes"),
            ([{"durationInMinutes": 60}], "startTime"),
            (["cron(0 10 ? * MON *)"], "maintenanceWindows"),
            ({"startTime": "cron(0 10 ? * MON *)"}, "maintenanceWindows"),
        ]
        for windows, word in cases:
            with self.subTest(windows=windows):
                [resp] = self.operator.control(dict(base, jobId=self.name("j"),
                                                    schedulingConfig={"maintenanceWindows": windows}))
                self.assertTrue(resp.get("error", "").startswith("InvalidRequestException: "), resp)
                self.assertIn(word, resp["error"])
        bad = self.aws("iot", "create-job", "--job-id", self.name("j"), "--targets", self.thing,
                       "--document", "{}", "--scheduling-config",
                       json.dumps({"maintenanceWindows": [{"startTime": "cron(0 10 * * * *)", "durationInMinutes": 5}]}))
        self.assertAwsError(bad, "InvalidRequestException")
        self.assertEqual(self.control_ok("listJobExecutionsForThing", thingName=self.thing)["executionSummaries"], [])
        # a job template's windows are checked the same way
        self.assertIn("Day-of-week", self.control_fails(
            "createJobTemplate", "InvalidRequestException", jobTemplateId=self.name("tpl"), description="d",
            document={"a": 1}, maintenanceWindows=[{"startTime": "cron(0 10 * * MON *)", "durationInMinutes": 60}]))
