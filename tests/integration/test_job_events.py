"""Jobs events (docs/management.md, "Jobs events"): $aws/events/job/<jobId>/<operation>
and $aws/events/jobExecution/<jobId>/<operation> with AWS's payloads, driven from every
way in (a device's update, management commands, the HTTP API with the aws CLI, the
tick), switched by the event configurations (updateEventConfigurations over MQTT,
HTTP and jobsctl), read only by operators, published only after the commit.

One broker serves the class; the event configurations are the broker's, so each test
sets the ones it needs first, and looks only at the events of its own jobs."""
import json
import os
import re
import subprocess
import time

import paho.mqtt.client as mqtt

from harness import OwnBrokersTest
from test_http_api import ARN, HttpApiTest, IDENTITY

JOBSCTL = os.environ.get("JOBS_JOBSCTL")
TYPES = ["THING", "THING_GROUP", "THING_TYPE", "THING_GROUP_MEMBERSHIP", "THING_GROUP_HIERARCHY",
         "THING_TYPE_ASSOCIATION", "JOB", "JOB_EXECUTION", "POLICY", "CERTIFICATE", "CA_CERTIFICATE"]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
OPERATOR = "ops-JobEvents"


def process_details(**counts):
    keys = ["numberOfCanceledThings", "numberOfRejectedThings", "numberOfFailedThings",
            "numberOfRemovedThings", "numberOfSucceededThings", "numberOfTimedOutThings"]
    return {k: counts.get(k[8:-6].lower(), 0) for k in keys}


class JobEvents(HttpApiTest):
    # only the operators (the class's MQTT client, the watcher and the HTTP identity)
    # may use the management API and read the events; devices are others
    http_options = {"operators": f"operator-JobEvents {OPERATOR} {OPERATOR}-cli {IDENTITY}", "test_controls": "on"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.watcher = cls.broker.client(OPERATOR)
        cls.watcher.subscribe("$aws/events/#")

    @classmethod
    def tearDownClass(cls):
        try:
            cls.watcher.close()
        finally:
            super().tearDownClass()

    def control(self, command, **fields):
        [resp] = self.operator.control(dict(fields, command=command))
        self.assertNotIn("error", resp, resp)
        return resp["data"]

    def fails(self, command, exception, **fields):
        [resp] = self.operator.control(dict(fields, command=command))
        self.assertNotIn("data", resp, resp)
        self.assertTrue(resp["error"].startswith(exception + ": "), resp)

    def create(self, targets=None, **fields):
        job_id = self.name("j")[:64]
        self.control("createJob", jobId=job_id, targets=targets or [self.thing], document={"job": job_id}, **fields)
        return job_id

    def describe_job(self, job_id):
        return self.control("describeJob", jobId=job_id)["job"]

    def configure(self, job, execution):
        self.control("updateEventConfigurations",
                     eventConfigurations={"JOB": {"Enabled": job}, "JOB_EXECUTION": {"Enabled": execution}})

    def events(self, job_id):
        """The events of the job the watcher received up to now (a round trip through
        the broker first: whatever was published before has arrived), in order, as
        (topic, payload); the events of other jobs are dropped."""
        out = []
        for m in self.watcher.sync():
            payload = json.loads(m.payload)
            if payload.get("jobId") == job_id:
                out.append((m.topic, payload))
        return out

    def assertEvent(self, event, topic, expected):
        """An event's topic and payload: eventId a fresh UUID, timestamp a time of this
        test (epoch seconds), the rest exactly as expected."""
        got_topic, payload = event
        self.assertEqual(got_topic, topic)
        payload = dict(payload)
        self.assertRegex(payload.pop("eventId"), UUID)
        self.assert_recent(payload.pop("timestamp"))
        self.assertEqual(payload, expected)

    def job_event(self, job, operation, status, targets, created, **more):
        """A job event's payload (without eventId and timestamp), its times from describeJob."""
        body = {"eventType": "JOB", "operation": operation, "jobId": job["jobId"], "status": status,
                "targetSelection": "SNAPSHOT", "targets": targets,
                "createdAt": job["createdAt"] * 1000, "lastUpdatedAt": job["lastUpdatedAt"] * 1000}
        body.update(more)
        return body

    def execution_event(self, job_id, thing, operation, status, details=None):
        body = {"eventType": "JOB_EXECUTION", "operation": operation, "jobId": job_id,
                "thingArn": f"{ARN}:thing/{thing}", "status": status}
        if details is not None:
            body["statusDetails"] = details
        return body

    def update(self, dev, thing, job_id, status, **fields):
        outcome, body, _ = dev.request(f"$aws/things/{thing}/jobs/{job_id}/update", dict(fields, status=status))
        self.assertEqual(outcome, "accepted", body)

    # ---- the tests

    def test_configurations_off_at_first_then_described_as_set(self):
        # a broker without plugin_opt_job_events: every type off, dates of its first start
        # (the first test of the class: none has switched any on yet)
        data = self.control("describeEventConfigurations")
        self.assertEqual(data["eventConfigurations"], {t: {"Enabled": False} for t in TYPES})
        self.assertEqual(data["creationDate"], data["lastModifiedDate"])
        self.configure(False, False)
        data = self.control("describeEventConfigurations")
        self.assertEqual(data["eventConfigurations"], {t: {"Enabled": False} for t in TYPES})
        self.assertLessEqual(data["creationDate"], data["lastModifiedDate"])
        self.assert_recent(data["lastModifiedDate"])
        # nothing goes out while they are off
        job_id = self.create(description="quiet")
        dev = self.client()
        self.update(dev, self.thing, job_id, "SUCCEEDED")
        self.assertEqual(self.describe_job(job_id)["status"], "COMPLETED")
        self.assertEqual(self.events(job_id), [])
        # every type AWS has is taken and kept; unknown ones and wrong values are refused whole
        self.control("updateEventConfigurations", eventConfigurations={"THING": {"Enabled": True},
                                                                      "CA_CERTIFICATE": {}})
        self.fails("updateEventConfigurations", "InvalidRequestException",
                   eventConfigurations={"JOB": {"Enabled": True}, "JOBS": {"Enabled": True}})
        self.fails("updateEventConfigurations", "InvalidRequestException",
                   eventConfigurations={"JOB": {"Enabled": "yes"}})
        self.fails("updateEventConfigurations", "InvalidRequestException", eventConfigurations=["JOB"])
        self.fails("updateEventConfigurations", "InvalidRequestException", eventConfigurations={"JOB": True})
        self.control("updateEventConfigurations")  # nothing to change
        got = self.control("describeEventConfigurations")["eventConfigurations"]
        self.assertEqual(got, {t: {"Enabled": t == "THING"} for t in TYPES})
        self.configure(False, False)
        self.control("updateEventConfigurations", eventConfigurations={"THING": {"Enabled": False}})

    def test_device_updates(self):
        self.configure(True, True)
        things = [self.name("t") for _ in range(3)]
        job_id = self.create(targets=things, description="fw 2")
        dev = self.client()
        self.update(dev, things[0], job_id, "IN_PROGRESS")
        self.assertEqual(self.events(job_id), [])  # no event for a status that is not terminal
        self.update(dev, things[0], job_id, "SUCCEEDED", statusDetails={"step": "done"})
        self.update(dev, things[1], job_id, "FAILED")
        self.update(dev, things[2], job_id, "REJECTED", statusDetails={"why": "busy"})
        job = self.describe_job(job_id)
        self.assertEqual(job["status"], "COMPLETED")
        got = self.events(job_id)
        self.assertEqual(len(got), 4, got)
        self.assertEvent(got[0], f"$aws/events/jobExecution/{job_id}/succeeded",
                         self.execution_event(job_id, things[0], "succeeded", "SUCCEEDED", {"step": "done"}))
        self.assertEvent(got[1], f"$aws/events/jobExecution/{job_id}/failed",
                         self.execution_event(job_id, things[1], "failed", "FAILED"))
        self.assertEvent(got[2], f"$aws/events/jobExecution/{job_id}/rejected",
                         self.execution_event(job_id, things[2], "rejected", "REJECTED", {"why": "busy"}))
        self.assertEvent(got[3], f"$aws/events/job/{job_id}/completed", self.job_event(
            job, "completed", "COMPLETED", [f"{ARN}:thing/{t}" for t in things], job["createdAt"],
            description="fw 2", completedAt=job["completedAt"] * 1000,
            jobProcessDetails=process_details(succeeded=1, failed=1, rejected=1)))
        self.assertEqual(len({p["eventId"] for _, p in got}), 4)

    def test_management_commands(self):
        self.configure(True, True)
        a, b, c = self.thing, self.name("t"), self.name("t")
        group = self.name("g")
        self.control("createThingGroup", thingGroupName=group)
        self.control("addThingToThingGroup", thingGroupName=group, thingName=c)
        job_id = self.create(targets=[a, f"{ARN}:thing/{b}"])
        dev = self.client()
        self.update(dev, a, job_id, "IN_PROGRESS")
        self.control("cancelJob", jobId=job_id, force=True, reasonCode="BAD", comment="withdrawn")
        job = self.describe_job(job_id)
        targets = [f"{ARN}:thing/{a}", f"{ARN}:thing/{b}"]
        got = self.events(job_id)
        self.assertEqual([t for t, _ in got], [f"$aws/events/job/{job_id}/cancellation_in_progress"]
                         + [f"$aws/events/jobExecution/{job_id}/canceled"] * 2
                         + [f"$aws/events/job/{job_id}/canceled"])
        self.assertEvent(got[0], got[0][0], self.job_event(
            job, "cancellation_in_progress", "CANCELLATION_IN_PROGRESS", targets, job["createdAt"],
            comment="withdrawn"))
        self.assertEqual(sorted(p["thingArn"] for _, p in got[1:3]), sorted(targets))
        for event in got[1:3]:
            self.assertEvent(event, event[0], self.execution_event(
                job_id, event[1]["thingArn"].rsplit("/", 1)[1], "canceled", "CANCELED"))
        self.assertEvent(got[3], got[3][0], self.job_event(
            job, "canceled", "CANCELED", targets, job["createdAt"], forceCanceled=True, comment="withdrawn",
            jobProcessDetails=process_details(canceled=2)))

        # deleteJob: each thing's execution deleted, with the status it had
        self.control("deleteJob", jobId=job_id)
        got = self.events(job_id)
        self.assertEqual([t for t, _ in got], [f"$aws/events/job/{job_id}/deletion_in_progress"]
                         + [f"$aws/events/jobExecution/{job_id}/deleted"] * 2
                         + [f"$aws/events/job/{job_id}/deleted"])
        self.assertEvent(got[0], got[0][0], self.job_event(
            job, "deletion_in_progress", "DELETION_IN_PROGRESS", targets, job["createdAt"], comment="withdrawn"))
        for event in got[1:3]:
            self.assertEvent(event, event[0], self.execution_event(
                job_id, event[1]["thingArn"].rsplit("/", 1)[1], "deleted", "CANCELED"))
        self.assertEvent(got[3], got[3][0], self.job_event(
            job, "deleted", "DELETED", targets, job["createdAt"], comment="withdrawn"))

        # cancelJobExecution, deleteJobExecution, and a thing leaving a continuous job's group
        job_id = self.create(targets=[a, f"{ARN}:thinggroup/{group}"], targetSelection="CONTINUOUS")
        self.control("cancelJobExecution", jobId=job_id, thingName=a, statusDetails={"by": "ops"})
        self.control("deleteJobExecution", jobId=job_id, thingName=a, executionNumber=1)
        self.control("removeThingFromThingGroup", thingGroupName=group, thingName=c)
        got = self.events(job_id)
        self.assertEqual(len(got), 3, got)
        self.assertEvent(got[0], f"$aws/events/jobExecution/{job_id}/canceled",
                         self.execution_event(job_id, a, "canceled", "CANCELED", {"by": "ops"}))
        self.assertEvent(got[1], f"$aws/events/jobExecution/{job_id}/deleted",
                         self.execution_event(job_id, a, "deleted", "CANCELED", {"by": "ops"}))
        self.assertEvent(got[2], f"$aws/events/jobExecution/{job_id}/removed",
                         self.execution_event(job_id, c, "removed", "REMOVED"))

        # a command that fails publishes nothing
        self.fails("cancelJob", "ResourceNotFoundException", jobId=self.name("none"))
        done = self.create(targets=[b])
        self.update(dev, b, done, "SUCCEEDED")
        self.events(done)
        self.fails("cancelJob", "InvalidStateTransitionException", jobId=done)
        self.fails("deleteJobExecution", "InvalidRequestException", jobId=done, thingName=b, executionNumber="x")
        self.assertEqual(self.events(done), [])
        # only the configured type goes out
        self.configure(True, False)
        self.control("deleteJob", jobId=done)
        self.assertEqual([t for t, _ in self.events(done)], [f"$aws/events/job/{done}/deletion_in_progress",
                                                             f"$aws/events/job/{done}/deleted"])

    def test_http_with_the_aws_cli(self):
        updated = self.aws("iot", "update-event-configurations", "--event-configurations",
                           '{"JOB":{"Enabled":true},"JOB_EXECUTION":{"Enabled":true}}')
        self.assertEqual(self.ok(updated), {})
        described = self.ok(self.aws("iot", "describe-event-configurations"))
        self.assertEqual(described["eventConfigurations"],
                         {t: {"Enabled": t in ("JOB", "JOB_EXECUTION")} for t in TYPES})
        self.assertTimestamp(described["creationDate"], "creationDate")
        self.assertTimestamp(described["lastModifiedDate"], "lastModifiedDate")
        bad = self.aws("iot", "update-event-configurations", "--event-configurations", '{"NOPE":{"Enabled":true}}')
        self.assertAwsError(bad, "InvalidRequestException")

        job_id = self.create(targets=[self.thing])
        self.ok(self.aws("iot", "cancel-job", "--job-id", job_id))
        got = self.events(job_id)
        self.assertEqual([t for t, _ in got], [f"$aws/events/job/{job_id}/cancellation_in_progress",
                                               f"$aws/events/jobExecution/{job_id}/canceled",
                                               f"$aws/events/job/{job_id}/canceled"])
        self.assertEqual(got[2][1]["forceCanceled"], False)
        self.assertEqual(got[2][1]["jobProcessDetails"], process_details(canceled=1))

        # a device's update over HTTP
        job_id = self.create(targets=[self.thing])
        self.ok(self.aws("iot-jobs-data", "update-job-execution", "--thing-name", self.thing, "--job-id", job_id,
                         "--status", "SUCCEEDED"))
        got = self.events(job_id)
        self.assertEqual([t for t, _ in got], [f"$aws/events/jobExecution/{job_id}/succeeded",
                                               f"$aws/events/job/{job_id}/completed"])

    def test_jobsctl(self):
        if not JOBSCTL:
            self.skipTest("JOBS_JOBSCTL is not set")

        def jobsctl(*args):
            proc = subprocess.run([JOBSCTL, "-h", "127.0.0.1", "-p", str(self.broker.port), "-i", OPERATOR + "-cli",
                                   "--timeout", "20", *args], capture_output=True, text=True, timeout=30)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            return json.loads(proc.stdout) if proc.stdout.strip() else {}

        jobsctl("update-event-configurations", "--event-configurations",
                "JOB={Enabled=true},JOB_EXECUTION={Enabled=false}")
        got = jobsctl("describe-event-configurations")
        self.assertEqual(got["eventConfigurations"], {t: {"Enabled": t == "JOB"} for t in TYPES})
        self.assert_recent(got["lastModifiedDate"])
        # refused by the plugin, as any command
        proc = subprocess.run([JOBSCTL, "-h", "127.0.0.1", "-p", str(self.broker.port), "-i", OPERATOR + "-cli",
                               "--timeout", "20", "update-event-configurations", "--event-configurations",
                               "JOBZ={Enabled=true}"], capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 1, proc)
        self.assertIn("InvalidRequestException", proc.stderr)

    def test_devices_never_get_events(self):
        self.configure(True, True)
        dev_id = self.name("dev")
        codes = []
        raw = mqtt.Client(client_id=dev_id, protocol=mqtt.MQTTv311)
        raw.on_subscribe = lambda c, u, mid, granted: codes.append(granted)
        raw.connect("127.0.0.1", self.broker.port)
        raw.loop_start()
        try:
            raw.subscribe("$aws/events/#", 1)
            raw.subscribe("$aws/events/job/+/completed", 1)
            deadline = time.time() + 10
            while len(codes) < 2 and time.time() < deadline:
                time.sleep(0.01)
            self.assertEqual(codes, [(128,), (128,)])
            self.assertIn(f"refused subscribe on $aws/events/#: client {dev_id}", self.broker.read_log())
            self.assertIn("the jobs events are for operators of the management API", self.broker.read_log())
        finally:
            raw.loop_stop()
            raw.disconnect()
        # a wider filter is taken (isolation is off here), but no event is delivered on it
        dev = self.client(dev_id)
        dev.subscribe("$aws/#")
        job_id = self.create(targets=[self.thing])
        self.update(dev, self.thing, job_id, "SUCCEEDED")
        self.assertEqual(len(self.events(job_id)), 2)
        self.assertEqual([m.topic for m in dev.sync() if m.topic.startswith("$aws/events/")], [])
        # nor may a client publish one
        dev.publish(f"$aws/events/job/{job_id}/completed", {"jobId": job_id})
        self.assertEqual(self.events(job_id), [])

    def test_tick_timeout(self):
        self.configure(False, True)
        job_id = self.create(targets=[self.thing], timeoutConfig={"inProgressTimeoutInMinutes": 5})
        dev = self.client()
        self.update(dev, self.thing, job_id, "IN_PROGRESS", statusDetails={"step": "1"})
        before = time.time()
        self.assertEqual(self.control("advanceTime", minutes=10)["offsetMinutes"] >= 10, True)
        deadline = time.time() + 10
        got = []
        while not got and time.time() < deadline:
            got = self.events(job_id)
        self.assertEqual(len(got), 1, got)
        topic, payload = got[0]
        self.assertEqual(topic, f"$aws/events/jobExecution/{job_id}/timed_out")
        self.assertRegex(payload.pop("eventId"), UUID)
        # job time: moved forward by advanceTime
        self.assertGreaterEqual(payload.pop("timestamp"), int(before) + 5 * 60)
        self.assertEqual(payload, self.execution_event(job_id, self.thing, "timed_out", "TIMED_OUT", {"step": "1"}))


class EventConfigurationsStored(OwnBrokersTest):
    """plugin_opt_job_events gives the first value; the stored one rules after."""

    def describe(self, broker):
        self.n = getattr(self, "n", 0) + 1
        op = self.connect(broker, f"operator{self.n}")
        return {t: v["Enabled"] for t, v in
                self.control_ok(op, "describeEventConfigurations")["eventConfigurations"].items()}

    def test_option_sets_the_first_value_and_the_store_keeps_the_rest(self):
        b = self.broker(job_events="job_execution")
        b.start()
        self.assertEqual(self.describe(b), {t: t == "JOB_EXECUTION" for t in TYPES})
        op = self.connect(b, "operator-update")
        self.control_ok(op, "updateEventConfigurations", eventConfigurations={
            "JOB": {"Enabled": True}, "JOB_EXECUTION": {"Enabled": False}, "POLICY": {"Enabled": True}})
        b.stop()
        b.options["job_events"] = "all"
        b.start()
        self.assertEqual(self.describe(b), {t: t in ("JOB", "POLICY") for t in TYPES})
        b.stop()
        b.options["job_events"] = "bogus"
        self.assertIn("plugin_opt_job_events must be off, job, job_execution or all", b.start(expect_failure=True))
