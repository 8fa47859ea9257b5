"""Management API on $CONTROL/jobs/v1 beyond createJob/cancelJob/describe*
(docs/management.md): deleteJob, getJobDocument, listJobs,
cancelJobExecution, deleteJobExecution, the execution listings, thing groups and their
effect on continuous jobs, batches, MQTT 5 response topics, concurrent operators and
the audit log. Every change is checked from the device side too (replies and
notify / notify-next)."""
import json
import re
import threading
import time
import unittest

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

import harness
from harness import ARN_PREFIX, P, SharedBrokerTest, group_arn, thing_arn


RESPONSE_TOPIC = "$CONTROL/jobs/v1/response"
JOB_SUMMARY_KEYS = {"jobArn", "jobId", "targetSelection", "status", "createdAt",
                    "lastUpdatedAt", "isConcurrent"}


class FleetTest(harness.ControlAssertions, SharedBrokerTest):

    def setUp(self):
        super().setUp()
        self.dev = self.client()

    # -- management --

    def group(self, *things, description=None):
        name = self.name("g")
        fields = {"thingGroupName": name}
        if description is not None:
            fields["thingGroupProperties"] = {"thingGroupDescription": description}
        self.ok("createThingGroup", **fields)
        for thing in things:
            self.ok("addThingToThingGroup", thingGroupName=name, thingName=thing)
        return name

    def pages(self, command, key, page_size, **fields):
        """Walks every page of a listing; returns all rows. Checks that nextToken is a
        string, present exactly while more rows follow, and that no page is too long."""
        rows, token = [], None
        for _ in range(1000):
            f = dict(fields, maxResults=page_size)
            if token is not None:
                f["nextToken"] = token
            data = self.ok(command, **f)
            self.assertIsInstance(data.get(key), list, data)
            self.assertLessEqual(len(data[key]), page_size)
            if token is not None:
                self.assertGreater(len(data[key]), 0, "a nextToken led to an empty page")
            rows += data[key]
            token = data.get("nextToken")
            if token is None:
                self.assertNotIn("nextToken", data)
                return rows
            self.assertIsInstance(token, str)
        self.fail("paging never ended")

    # -- device --

    def device(self, thing, levels, payload=None):
        outcome, body, _ = self.dev.request(P(thing, *levels.split("/")), payload)
        return outcome, body

    def device_ok(self, thing, levels, payload=None):
        outcome, body = self.device(thing, levels, payload)
        self.assertEqual(outcome, "accepted", body)
        return body

    def device_rejected(self, thing, levels, code, payload=None):
        outcome, body = self.device(thing, levels, payload)
        self.assertEqual((outcome, body.get("code")), ("rejected", code), body)
        return body

    def pending_ids(self, thing):
        body = self.device_ok(thing, "get", {})
        return [s["jobId"] for s in body["inProgressJobs"] + body["queuedJobs"]]

    def watcher(self, thing=None):
        w = self.client()
        w.subscribe(P(thing or self.thing, "notify"))
        w.subscribe(P(thing or self.thing, "notify-next"))
        w.thing = thing or self.thing
        return w

    def received(self, w):
        """What w got since the last call: {"notify": [...], "notify-next": [...]}."""
        out = {"notify": [], "notify-next": []}
        for m in w.sync():
            kind = m.topic[len(P(w.thing)) + 1:]
            self.assertIn(kind, out, f"unexpected message on {m.topic}")
            out[kind].append(json.loads(m.payload))
        return out

    def assert_nothing(self, w):
        self.assertEqual(self.received(w), {"notify": [], "notify-next": []})

    def notify_ids(self, notify):
        return {k: [s["jobId"] for s in v] for k, v in notify["jobs"].items()}

    def assert_idle_notified(self, w):
        """w's thing was told that nothing is pending any more."""
        got = self.received(w)
        self.assertEqual(len(got["notify"]), 1, got)
        self.assertEqual(got["notify"][0]["jobs"], {})
        self.assertEqual(len(got["notify-next"]), 1, got)
        self.assertEqual(set(got["notify-next"][0]), {"timestamp"})


class DeleteJobTest(FleetTest):

    def test_needs_completed_or_canceled_without_force(self):
        w = self.watcher()
        j = self.create()
        self.received(w)
        err = self.fails("deleteJob", "InvalidStateTransitionException", jobId=j)
        self.assertIn(j, err)
        self.fails("deleteJob", "InvalidStateTransitionException", jobId=j, force=False)
        self.assertEqual(self.describe_job(j)["status"], "IN_PROGRESS")
        self.assertEqual(self.describe_exec(j)["status"], "QUEUED")
        self.assertEqual(self.pending_ids(self.thing), [j])
        self.assert_nothing(w)

        self.ok("cancelJob", jobId=j)
        self.received(w)
        self.assertEqual(self.ok("deleteJob", jobId=j), {})
        self.fails("describeJob", "ResourceNotFoundException", jobId=j)
        self.fails("getJobDocument", "ResourceNotFoundException", jobId=j)
        self.fails("describeJobExecution", "ResourceNotFoundException", jobId=j,
                   thingName=self.thing)
        self.device_rejected(self.thing, f"{j}/get", "ResourceNotFound")
        listed = self.ok("listJobExecutionsForThing", thingName=self.thing)["executionSummaries"]
        self.assertEqual(listed, [])
        self.assertNotIn(j, [s["jobId"] for s in self.pages("listJobs", "jobs", 250)])
        # the execution was already terminal: nothing for the device
        self.assert_nothing(w)
        self.fails("deleteJob", "ResourceNotFoundException", jobId=j)

    def test_completed_job_is_deleted(self):
        j = self.create()
        self.device_ok(self.thing, f"{j}/update", {"status": "SUCCEEDED"})
        self.assertEqual(self.describe_job(j)["status"], "COMPLETED")
        self.assertEqual(self.ok("deleteJob", jobId=j), {})
        self.fails("describeJob", "ResourceNotFoundException", jobId=j)
        self.device_rejected(self.thing, f"{j}/get", "ResourceNotFound")

    def test_errors(self):
        self.fails("deleteJob", "ResourceNotFoundException", jobId=self.name("nojob"))
        self.fails("deleteJob", "InvalidRequestException")
        self.fails("deleteJob", "InvalidRequestException", jobId="bad id")
        j = self.create()
        self.device_ok(self.thing, f"{j}/update", {"status": "SUCCEEDED"})
        self.fails("deleteJob", "InvalidRequestException", jobId=j, force="yes")
        self.assertEqual(self.describe_job(j)["status"], "COMPLETED")

    def test_force_deletes_an_in_progress_job_and_notifies(self):
        t_run, t_queued, t_done = self.thing, self.name("t"), self.name("t")
        w_run, w_queued, w_done = (self.watcher(t) for t in (t_run, t_queued, t_done))
        j = self.create([t_run, t_queued, t_done], document={"first": True})
        later = self.create([t_queued], document={"later": 1})
        self.device_ok(t_run, "start-next", {})
        self.device_ok(t_done, f"{j}/update", {"status": "SUCCEEDED"})
        for w in (w_run, w_queued, w_done):
            self.received(w)

        self.assertEqual(self.ok("deleteJob", jobId=j, force=True), {})
        self.fails("describeJob", "ResourceNotFoundException", jobId=j)
        # the running execution went: nothing pending for t_run
        self.assert_idle_notified(w_run)
        # t_queued's next is now the later job
        got = self.received(w_queued)
        self.assertEqual(len(got["notify"]), 1, got)
        self.assertEqual(self.notify_ids(got["notify"][0]), {"QUEUED": [later]})
        self.assertEqual(len(got["notify-next"]), 1, got)
        e = got["notify-next"][0]["execution"]
        self.assertEqual((e["jobId"], e["jobDocument"]), (later, {"later": 1}))
        # a finished execution is not pending: no notification
        self.assert_nothing(w_done)

        self.device_rejected(t_run, f"{j}/update", "ResourceNotFound", {"status": "SUCCEEDED"})
        self.assertEqual(self.pending_ids(t_run), [])
        self.assertEqual(self.pending_ids(t_queued), [later])
        self.assertNotIn("execution", self.device_ok(t_run, "start-next", {}))

    def test_deleting_a_canceled_job_with_an_execution_left_running(self):
        # cancelJob without force leaves IN_PROGRESS executions; the job is CANCELED, so
        # deleteJob needs no force, and the thing whose execution goes is told
        w = self.watcher()
        j = self.create()
        self.device_ok(self.thing, "start-next", {})
        self.ok("cancelJob", jobId=j)
        self.assertEqual(self.describe_exec(j)["status"], "IN_PROGRESS")
        self.received(w)
        self.assertEqual(self.ok("deleteJob", jobId=j), {})
        self.assert_idle_notified(w)
        self.assertEqual(self.pending_ids(self.thing), [])

    def test_job_id_can_be_reused(self):
        t2 = self.name("t")
        j = self.create(document={"v": 1}, description="old")
        self.device_ok(self.thing, "start-next", {})
        self.device_ok(self.thing, f"{j}/update", {"status": "SUCCEEDED"})
        self.ok("deleteJob", jobId=j)

        w = self.watcher()
        data = self.ok("createJob", jobId=j, targets=[self.thing, t2], document={"v": 2})
        self.assertEqual(data, {"jobId": j, "jobArn": f"{ARN_PREFIX}:job/{j}"})
        got = self.received(w)
        self.assertEqual(len(got["notify-next"]), 1, got)
        e = got["notify-next"][0]["execution"]
        self.assertEqual((e["jobId"], e["status"], e["executionNumber"], e["versionNumber"]),
                         (j, "QUEUED", 1, 1))
        self.assertEqual(e["jobDocument"], {"v": 2})
        job = self.describe_job(j)
        self.assertEqual(job["status"], "IN_PROGRESS")
        self.assertNotIn("description", job)
        self.assertNotIn("completedAt", job)
        self.assertEqual(self.counts(j), {"numberOfQueuedThings": 2})
        e = self.describe_exec(j)
        self.assertEqual((e["status"], e["executionNumber"], e["versionNumber"]), ("QUEUED", 1, 1))
        self.assertNotIn("startedAt", e)
        self.assertEqual(json.loads(self.ok("getJobDocument", jobId=j)["document"]), {"v": 2})
        history = self.ok("listJobExecutionsForJob", jobId=j)["executionSummaries"]
        self.assertEqual(sorted(s["thingArn"] for s in history),
                         sorted([thing_arn(self.thing), thing_arn(t2)]))


class GetJobDocumentTest(FleetTest):

    def test_document_is_the_stored_json_as_a_string(self):
        doc = {"operation": "upgrade", "url": "https://example.com/fw-2.1.bin", "size": 1024,
               "steps": [1, 2, {"n": None, "ok": True}]}
        j = self.create(document=doc)
        data = self.ok("getJobDocument", jobId=j)
        self.assertEqual(set(data), {"document"})
        self.assertIsInstance(data["document"], str)
        self.assertEqual(data["document"], json.dumps(doc, separators=(",", ":")))
        self.assertEqual(json.loads(data["document"]),
                         self.device_ok(self.thing, f"{j}/get", {})["execution"]["jobDocument"])

    def test_document_given_as_a_string(self):
        doc = {"big": 1234567890123, "pi": 3.25, "text": "caf\u00e9 \u2713",
               "nested": {"a": [1, "x"]}}
        j = self.create(document=json.dumps(doc, indent=2))
        stored = self.ok("getJobDocument", jobId=j)["document"]
        self.assertIsInstance(stored, str)
        self.assertEqual(json.loads(stored), doc)
        self.assertEqual(self.device_ok(self.thing, f"{j}/get", {})["execution"]["jobDocument"],
                         doc)

    def test_errors(self):
        self.fails("getJobDocument", "ResourceNotFoundException", jobId=self.name("nojob"))
        self.fails("getJobDocument", "InvalidRequestException")
        self.fails("getJobDocument", "InvalidRequestException", jobId=7)
        self.fails("getJobDocument", "InvalidRequestException", jobId="no/slash")


class ListJobsTest(FleetTest):

    def test_filters(self):
        g = self.group(self.thing)
        ns = self.name("ns")[:64]
        j_snap = self.create([group_arn(g)])
        j_cont = self.create([group_arn(g)], targetSelection="CONTINUOUS")
        j_plain = self.create()
        j_ns = self.create(namespaceId=ns)
        j_canceled = self.create()
        self.ok("cancelJob", jobId=j_canceled)
        t_done = self.name("t")
        j_done = self.create([t_done])
        self.device_ok(t_done, f"{j_done}/update", {"status": "SUCCEEDED"})
        mine = [j_snap, j_cont, j_plain, j_ns, j_canceled, j_done]

        listed = self.ok("listJobs", thingGroupName=g)["jobs"]
        self.assertEqual([s["jobId"] for s in listed], [j_snap, j_cont])
        self.assertEqual(self.ok("listJobs", thingGroupName=self.name("nogroup"))["jobs"], [])
        listed = self.ok("listJobs", thingGroupName=g, targetSelection="CONTINUOUS")["jobs"]
        self.assertEqual([s["jobId"] for s in listed], [j_cont])
        listed = self.ok("listJobs", thingGroupName=g, targetSelection="SNAPSHOT")["jobs"]
        self.assertEqual([s["jobId"] for s in listed], [j_snap])
        listed = self.ok("listJobs", namespaceId=ns)["jobs"]
        self.assertEqual([s["jobId"] for s in listed], [j_ns])

        def ids(**fields):
            rows = self.pages("listJobs", "jobs", 250, **fields)
            for s in rows:
                for k, v in fields.items():
                    self.assertEqual(s[k], v, s)
            return [s["jobId"] for s in rows if s["jobId"] in mine]

        self.assertEqual(ids(status="IN_PROGRESS"), [j_snap, j_cont, j_plain, j_ns])
        self.assertEqual(ids(status="CANCELED"), [j_canceled])
        self.assertEqual(ids(status="COMPLETED"), [j_done])
        self.assertEqual(ids(targetSelection="CONTINUOUS"), [j_cont])
        self.assertEqual(ids(targetSelection="SNAPSHOT"),
                         [j_snap, j_plain, j_ns, j_canceled, j_done])
        self.assertEqual(ids(), mine)

        # summary shape
        rows = {s["jobId"]: s for s in self.pages("listJobs", "jobs", 250) if s["jobId"] in mine}
        for j, s in rows.items():
            keys = set(s)
            self.assertTrue(JOB_SUMMARY_KEYS <= keys, s)
            self.assertTrue(keys <= JOB_SUMMARY_KEYS | {"completedAt"}, s)
            self.assertEqual(s["jobArn"], f"{ARN_PREFIX}:job/{j}")
            self.assertIs(s["isConcurrent"], False)
            self.assert_recent(s["createdAt"], s)
        self.assertEqual(rows[j_cont]["targetSelection"], "CONTINUOUS")
        self.assertEqual(rows[j_canceled]["status"], "CANCELED")
        self.assertIn("completedAt", rows[j_done])
        self.assertNotIn("completedAt", rows[j_plain])

    def test_paging_walks_every_job_once(self):
        g = self.group(self.thing)
        mine = [self.create([group_arn(g)]) for _ in range(7)]
        for size in (1, 2, 3, 6, 7, 250):
            with self.subTest(maxResults=size):
                rows = self.pages("listJobs", "jobs", size, thingGroupName=g)
                self.assertEqual([s["jobId"] for s in rows], mine)
        first = self.ok("listJobs", thingGroupName=g, maxResults=3)
        self.assertEqual(len(first["jobs"]), 3)
        self.assertIn("nextToken", first)
        self.assertNotIn("nextToken", self.ok("listJobs", thingGroupName=g, maxResults=7))
        # the whole list, in small pages and in one: the same rows, none twice
        small = [s["jobId"] for s in self.pages("listJobs", "jobs", 2)]
        whole = [s["jobId"] for s in self.pages("listJobs", "jobs", 250)]
        self.assertEqual(small, whole)
        self.assertEqual(len(set(whole)), len(whole))
        self.assertEqual([j for j in whole if j in mine], mine)

    def test_bad_arguments(self):
        g = self.group()
        for fields in ({"status": "QUEUED"}, {"status": "BOGUS"}, {"status": 1},
                       {"targetSelection": "SOMETIMES"}, {"thingGroupName": 5},
                       {"namespaceId": 5}):
            with self.subTest(fields=fields):
                self.fails("listJobs", "InvalidRequestException", **fields)
        # paging arguments, for every listing command
        listings = {
            "listJobs": {},
            "listJobExecutionsForJob": {"jobId": self.create()},
            "listJobExecutionsForThing": {"thingName": self.thing},
            "listThingsInThingGroup": {"thingGroupName": g},
            "listThingGroups": {},
        }
        bad = [{"maxResults": 0}, {"maxResults": 251}, {"maxResults": -1},
               {"maxResults": 2.5}, {"maxResults": True}, {"nextToken": "abc"},
               {"nextToken": "-1"}, {"nextToken": ""}, {"nextToken": "1x"},
               {"nextToken": 2}]
        for command, base in listings.items():
            self.ok(command, maxResults=250, **base)
            self.ok(command, maxResults=1, **base)
            for fields in bad:
                with self.subTest(command=command, fields=fields):
                    self.fails(command, "InvalidRequestException", **dict(base, **fields))


class CancelJobExecutionTest(FleetTest):

    def test_queued_execution(self):
        w = self.watcher()
        j = self.create()
        self.received(w)
        self.assertEqual(self.ok("cancelJobExecution", jobId=j, thingName=self.thing), {})
        self.assert_idle_notified(w)
        e = self.describe_exec(j)
        self.assertEqual((e["status"], e["versionNumber"], e["forceCanceled"]),
                         ("CANCELED", 2, False))
        e = self.device_ok(self.thing, f"{j}/get", {})["execution"]
        self.assertEqual((e["status"], e["versionNumber"]), ("CANCELED", 2))
        self.assertEqual(self.pending_ids(self.thing), [])
        body = self.device_rejected(self.thing, f"{j}/update", "InvalidStateTransition",
                                    {"status": "IN_PROGRESS"})
        self.assertEqual(body["executionState"], {"status": "CANCELED", "versionNumber": 2})
        self.assertEqual(self.counts(j), {"numberOfCanceledThings": 1})
        # a snapshot job whose executions are all terminal is COMPLETED
        job = self.describe_job(j)
        self.assertEqual(job["status"], "COMPLETED")
        self.assertIn("completedAt", job)

    def test_in_progress_needs_force(self):
        w = self.watcher()
        j1 = self.create(document={"n": 1})
        j2 = self.create(document={"n": 2})
        self.device_ok(self.thing, "start-next", {"statusDetails": {"a": "1", "b": "2"}})
        self.assertEqual(self.describe_exec(j1)["versionNumber"], 2)
        self.received(w)

        self.fails("cancelJobExecution", "InvalidStateTransitionException", jobId=j1,
                   thingName=self.thing)
        self.fails("cancelJobExecution", "InvalidStateTransitionException", jobId=j1,
                   thingName=self.thing, force=False)
        e = self.describe_exec(j1)
        self.assertEqual((e["status"], e["versionNumber"], e["forceCanceled"]),
                         ("IN_PROGRESS", 2, False))
        self.assert_nothing(w)

        self.assertEqual(self.ok("cancelJobExecution", jobId=j1, thingName=self.thing, force=True,
                                 expectedVersion=2, statusDetails={"reason": "operator"}), {})
        e = self.describe_exec(j1)
        self.assertEqual((e["status"], e["versionNumber"], e["forceCanceled"]),
                         ("CANCELED", 3, True))
        # the given map replaces the stored one
        self.assertEqual(e["statusDetails"], {"detailsMap": {"reason": "operator"}})
        got = self.received(w)
        self.assertEqual(len(got["notify"]), 1, got)
        self.assertEqual(self.notify_ids(got["notify"][0]), {"QUEUED": [j2]})
        self.assertEqual(len(got["notify-next"]), 1, got)
        nxt = got["notify-next"][0]["execution"]
        self.assertEqual((nxt["jobId"], nxt["status"], nxt["jobDocument"]), (j2, "QUEUED", {"n": 2}))

        e = self.device_ok(self.thing, f"{j1}/get", {})["execution"]
        self.assertEqual((e["status"], e["versionNumber"]), ("CANCELED", 3))
        self.assertEqual(e["statusDetails"], {"reason": "operator"})
        body = self.device_rejected(self.thing, f"{j1}/update", "InvalidStateTransition",
                                    {"status": "SUCCEEDED"})
        self.assertEqual(body["executionState"]["status"], "CANCELED")
        self.assertEqual(self.pending_ids(self.thing), [j2])
        self.assertEqual(self.describe_job(j1)["status"], "COMPLETED")

    def test_details_kept_when_not_given(self):
        j = self.create()
        self.device_ok(self.thing, f"{j}/update", {"status": "IN_PROGRESS",
                                                   "statusDetails": {"pct": "40"}})
        self.ok("cancelJobExecution", jobId=j, thingName=self.thing, force=True)
        e = self.describe_exec(j)
        self.assertEqual((e["status"], e["statusDetails"]), ("CANCELED", {"detailsMap": {"pct": "40"}}))

    def test_terminal_execution(self):
        t2 = self.name("t")
        j = self.create([self.thing, t2])
        self.device_ok(self.thing, f"{j}/update", {"status": "SUCCEEDED"})
        self.ok("cancelJobExecution", jobId=j, thingName=t2)
        w = self.watcher()
        for thing, status in ((self.thing, "SUCCEEDED"), (t2, "CANCELED")):
            for force in (False, True):
                with self.subTest(thing=thing, force=force):
                    err = self.fails("cancelJobExecution", "InvalidStateTransitionException",
                                     jobId=j, thingName=thing, force=force)
                    self.assertIn(status, err)
                    e = self.describe_exec(j, thing)
                    self.assertEqual((e["status"], e["versionNumber"]), (status, 2))
        self.assert_nothing(w)

    def test_expected_version(self):
        w = self.watcher()
        j = self.create()
        self.received(w)
        for expected in (0, 2, 7):
            with self.subTest(expectedVersion=expected):
                self.fails("cancelJobExecution", "VersionConflictException", jobId=j,
                           thingName=self.thing, expectedVersion=expected)
        e = self.describe_exec(j)
        self.assertEqual((e["status"], e["versionNumber"]), ("QUEUED", 1))
        self.assert_nothing(w)
        self.ok("cancelJobExecution", jobId=j, thingName=self.thing, expectedVersion=1)
        self.assertEqual(self.describe_exec(j)["status"], "CANCELED")

    def test_status_details_limits(self):
        j = self.create()
        eleven = {f"k{i}": f"v{i}" for i in range(11)}
        err = self.fails("cancelJobExecution", "InvalidRequestException", jobId=j,
                         thingName=self.thing, statusDetails=eleven)
        self.assertIn("10", err)
        for bad in ({"k": 1}, {"k": "x" * 1025}, {"bad key": "v"}, ["k", "v"], "k=v"):
            with self.subTest(statusDetails=bad):
                self.fails("cancelJobExecution", "InvalidRequestException", jobId=j,
                           thingName=self.thing, statusDetails=bad)
        e = self.describe_exec(j)
        self.assertEqual((e["status"], e["versionNumber"]), ("QUEUED", 1))
        self.assertEqual(e["statusDetails"].get("detailsMap", {}), {})
        ten = {f"k{i}": f"v{i}" for i in range(10)}
        self.ok("cancelJobExecution", jobId=j, thingName=self.thing, statusDetails=ten)
        e = self.describe_exec(j)
        self.assertEqual((e["status"], e["statusDetails"]), ("CANCELED", {"detailsMap": ten}))

    def test_errors(self):
        j = self.create()
        self.fails("cancelJobExecution", "ResourceNotFoundException", jobId=self.name("nojob"),
                   thingName=self.thing)
        self.fails("cancelJobExecution", "ResourceNotFoundException", jobId=j,
                   thingName=self.name("t"))
        self.fails("cancelJobExecution", "InvalidRequestException", jobId=j)
        self.fails("cancelJobExecution", "InvalidRequestException", thingName=self.thing)
        self.fails("cancelJobExecution", "InvalidRequestException", jobId=j,
                   thingName=self.thing, force="yes")
        self.fails("cancelJobExecution", "InvalidRequestException", jobId=j,
                   thingName=self.thing, expectedVersion="one")
        self.assertEqual(self.describe_exec(j)["status"], "QUEUED")


class DeleteJobExecutionTest(FleetTest):

    def test_execution_number_is_required(self):
        j = self.create()
        err = self.fails("deleteJobExecution", "InvalidRequestException", jobId=j,
                         thingName=self.thing, force=True)
        self.assertIn("executionNumber", err)
        for number in (0, -1, "x", 1.5):
            with self.subTest(executionNumber=number):
                self.fails("deleteJobExecution", "InvalidRequestException", jobId=j,
                           thingName=self.thing, executionNumber=number, force=True)
        self.assertEqual(self.describe_exec(j)["status"], "QUEUED")

    def test_terminal_execution_is_deleted(self):
        w = self.watcher()
        j = self.create()
        self.device_ok(self.thing, f"{j}/update", {"status": "FAILED"})
        self.received(w)
        self.assertEqual(self.ok("deleteJobExecution", jobId=j, thingName=self.thing,
                                 executionNumber=1), {})
        self.fails("describeJobExecution", "ResourceNotFoundException", jobId=j,
                   thingName=self.thing)
        self.device_rejected(self.thing, f"{j}/get", "ResourceNotFound")
        self.assertEqual(self.ok("listJobExecutionsForJob", jobId=j)["executionSummaries"], [])
        self.assertEqual(self.counts(j), {})
        self.assert_nothing(w)
        # gone: a second delete finds nothing
        self.fails("deleteJobExecution", "ResourceNotFoundException", jobId=j,
                   thingName=self.thing, executionNumber=1)

    def test_pending_execution_needs_force_and_notifies(self):
        w = self.watcher()
        j = self.create()
        self.received(w)
        err = self.fails("deleteJobExecution", "InvalidStateTransitionException", jobId=j,
                         thingName=self.thing, executionNumber=1)
        self.assertIn("QUEUED", err)
        self.assertEqual(self.describe_exec(j)["status"], "QUEUED")
        self.assert_nothing(w)

        self.device_ok(self.thing, "start-next", {})
        self.fails("deleteJobExecution", "InvalidStateTransitionException", jobId=j,
                   thingName=self.thing, executionNumber=1, force=False)
        self.assertEqual(self.describe_exec(j)["status"], "IN_PROGRESS")
        self.assert_nothing(w)

        self.assertEqual(self.ok("deleteJobExecution", jobId=j, thingName=self.thing,
                                 executionNumber=1, force=True), {})
        self.assert_idle_notified(w)
        self.fails("describeJobExecution", "ResourceNotFoundException", jobId=j,
                   thingName=self.thing)
        self.device_rejected(self.thing, f"{j}/get", "ResourceNotFound")
        self.device_rejected(self.thing, f"{j}/update", "ResourceNotFound", {"status": "SUCCEEDED"})
        self.assertEqual(self.pending_ids(self.thing), [])

    def test_deleting_the_last_pending_execution_completes_a_snapshot_job(self):
        t2 = self.name("t")
        j = self.create([self.thing, t2])
        self.device_ok(self.thing, f"{j}/update", {"status": "SUCCEEDED"})
        self.assertEqual(self.describe_job(j)["status"], "IN_PROGRESS")
        self.ok("deleteJobExecution", jobId=j, thingName=t2, executionNumber=1, force=True)
        job = self.describe_job(j)
        self.assertEqual(job["status"], "COMPLETED")
        self.assertIn("completedAt", job)
        self.assertEqual(self.counts(j), {"numberOfSucceededThings": 1})

    def test_an_older_execution_by_number(self):
        # continuous job: execution 1 REMOVED when the thing left, 2 QUEUED when it came back
        g = self.group(self.thing)
        j = self.create([group_arn(g)], targetSelection="CONTINUOUS")
        self.ok("removeThingFromThingGroup", thingGroupName=g, thingName=self.thing)
        self.ok("addThingToThingGroup", thingGroupName=g, thingName=self.thing)
        self.assertEqual(self.describe_exec(j)["executionNumber"], 2)
        w = self.watcher()
        self.fails("deleteJobExecution", "ResourceNotFoundException", jobId=j,
                   thingName=self.thing, executionNumber=3)
        self.fails("deleteJobExecution", "InvalidStateTransitionException", jobId=j,
                   thingName=self.thing, executionNumber=2)
        self.ok("deleteJobExecution", jobId=j, thingName=self.thing, executionNumber=1)
        self.fails("describeJobExecution", "ResourceNotFoundException", jobId=j,
                   thingName=self.thing, executionNumber=1)
        e = self.describe_exec(j)
        self.assertEqual((e["status"], e["executionNumber"]), ("QUEUED", 2))
        self.assertEqual(self.pending_ids(self.thing), [j])
        self.assert_nothing(w)

    def test_errors(self):
        j = self.create()
        self.fails("deleteJobExecution", "ResourceNotFoundException", jobId=self.name("nojob"),
                   thingName=self.thing, executionNumber=1)
        self.fails("deleteJobExecution", "ResourceNotFoundException", jobId=j,
                   thingName=self.name("t"), executionNumber=1)
        self.fails("deleteJobExecution", "ResourceNotFoundException", jobId=j,
                   thingName=self.thing, executionNumber=2, force=True)
        self.fails("deleteJobExecution", "InvalidRequestException", jobId=j, executionNumber=1)
        self.fails("deleteJobExecution", "InvalidRequestException", jobId=j,
                   thingName=self.thing, executionNumber=1, force="yes")
        self.assertEqual(self.describe_exec(j)["status"], "QUEUED")


class ListExecutionsTest(FleetTest):

    def check_summary(self, s, status, started):
        keys = {"status", "queuedAt", "lastUpdatedAt", "executionNumber"}
        if started:
            keys.add("startedAt")
        # retryAttempt is AWS's too (JobExecutionSummary); nothing else may appear
        self.assertEqual(set(s) - {"retryAttempt"}, keys, s)
        self.assertEqual(s.get("retryAttempt", 0), 0, s)
        self.assertEqual(s["status"], status)
        for k in keys - {"status"}:
            self.assertIsInstance(s[k], int, k)
        for k in keys - {"status", "executionNumber"}:
            self.assert_recent(s[k], k)

    def test_for_job(self):
        base = self.name("t")
        t_b, t_a, t_c = base + "-b", base + "-a", base + "-c"
        j = self.create([t_b, t_a, t_c])
        self.device_ok(t_b, "start-next", {})
        self.device_ok(t_c, "start-next", {})
        self.device_ok(t_c, f"{j}/update", {"status": "SUCCEEDED"})
        data = self.ok("listJobExecutionsForJob", jobId=j)
        self.assertEqual(set(data), {"executionSummaries"})
        rows = data["executionSummaries"]
        # by thing name, not by creation
        self.assertEqual([r["thingArn"] for r in rows], [thing_arn(t) for t in (t_a, t_b, t_c)])
        for r in rows:
            self.assertEqual(set(r), {"thingArn", "jobExecutionSummary"}, r)
            self.assertEqual(r["jobExecutionSummary"]["executionNumber"], 1)
        self.check_summary(rows[0]["jobExecutionSummary"], "QUEUED", started=False)
        self.check_summary(rows[1]["jobExecutionSummary"], "IN_PROGRESS", started=True)
        self.check_summary(rows[2]["jobExecutionSummary"], "SUCCEEDED", started=True)

        for status, things in (("QUEUED", [t_a]), ("IN_PROGRESS", [t_b]),
                               ("SUCCEEDED", [t_c]), ("CANCELED", [])):
            with self.subTest(status=status):
                got = self.ok("listJobExecutionsForJob", jobId=j, status=status)
                self.assertEqual([r["thingArn"] for r in got["executionSummaries"]],
                                 [thing_arn(t) for t in things])
        for size in (1, 2, 3):
            with self.subTest(maxResults=size):
                self.assertEqual(self.pages("listJobExecutionsForJob", "executionSummaries",
                                            size, jobId=j), rows)
        self.fails("listJobExecutionsForJob", "ResourceNotFoundException", jobId=self.name("nojob"))
        self.fails("listJobExecutionsForJob", "InvalidRequestException")
        self.fails("listJobExecutionsForJob", "InvalidRequestException", jobId=j, status="BOGUS")

    def test_for_thing(self):
        ns = self.name("ns")[:64]
        j1 = self.create()
        j2 = self.create(namespaceId=ns)
        j3 = self.create()
        self.device_ok(self.thing, "start-next", {})
        data = self.ok("listJobExecutionsForThing", thingName=self.thing)
        self.assertEqual(set(data), {"executionSummaries"})
        rows = data["executionSummaries"]
        # by job creation
        self.assertEqual([r["jobId"] for r in rows], [j1, j2, j3])
        for r in rows:
            self.assertEqual(set(r), {"jobId", "jobExecutionSummary"}, r)
        self.check_summary(rows[0]["jobExecutionSummary"], "IN_PROGRESS", started=True)
        self.check_summary(rows[1]["jobExecutionSummary"], "QUEUED", started=False)
        self.check_summary(rows[2]["jobExecutionSummary"], "QUEUED", started=False)

        got = self.ok("listJobExecutionsForThing", thingName=self.thing, status="QUEUED")
        self.assertEqual([r["jobId"] for r in got["executionSummaries"]], [j2, j3])
        got = self.ok("listJobExecutionsForThing", thingName=self.thing, namespaceId=ns)
        self.assertEqual([r["jobId"] for r in got["executionSummaries"]], [j2])

        page1 = self.ok("listJobExecutionsForThing", thingName=self.thing, maxResults=2)
        self.assertEqual([r["jobId"] for r in page1["executionSummaries"]], [j1, j2])
        self.assertIsInstance(page1.get("nextToken"), str)
        page2 = self.ok("listJobExecutionsForThing", thingName=self.thing, maxResults=2,
                        nextToken=page1["nextToken"])
        self.assertEqual([r["jobId"] for r in page2["executionSummaries"]], [j3])
        self.assertNotIn("nextToken", page2)
        self.assertEqual(self.pages("listJobExecutionsForThing", "executionSummaries", 1,
                                    thingName=self.thing), rows)

        self.assertEqual(self.ok("listJobExecutionsForThing", thingName=self.name("t")),
                         {"executionSummaries": []})
        self.fails("listJobExecutionsForThing", "InvalidRequestException")
        self.fails("listJobExecutionsForThing", "InvalidRequestException", thingName="bad name")
        self.fails("listJobExecutionsForThing", "InvalidRequestException", thingName=self.thing,
                   status="DONE")


class ThingGroupTest(FleetTest):

    def test_create_is_idempotent_with_the_same_properties(self):
        name = self.name("g")
        want = {"thingGroupName": name, "thingGroupArn": group_arn(name), "thingGroupId": name}
        props = {"thingGroupDescription": "line A"}
        self.assertEqual(self.ok("createThingGroup", thingGroupName=name,
                                 thingGroupProperties=props), want)
        self.assertEqual(self.ok("createThingGroup", thingGroupName=name,
                                 thingGroupProperties=props), want)
        self.ok("addThingToThingGroup", thingGroupName=name, thingName=self.thing)
        err = self.fails("createThingGroup", "ResourceAlreadyExistsException", thingGroupName=name,
                         thingGroupProperties={"thingGroupDescription": "line B"})
        self.assertIn(name, err)
        # the group is untouched: members kept
        self.assertEqual(self.ok("listThingsInThingGroup", thingGroupName=name)["things"],
                         [self.thing])
        bare = self.name("g")
        self.ok("createThingGroup", thingGroupName=bare)
        self.assertEqual(self.ok("createThingGroup", thingGroupName=bare)["thingGroupName"], bare)

    def test_create_errors(self):
        self.fails("createThingGroup", "InvalidRequestException")
        self.fails("createThingGroup", "InvalidRequestException", thingGroupName="bad name")
        self.fails("createThingGroup", "InvalidRequestException", thingGroupName="g" * 129)
        name = self.name("g")
        self.fails("createThingGroup", "InvalidRequestException", thingGroupName=name,
                   thingGroupProperties="line A")
        self.fails("createThingGroup", "InvalidRequestException", thingGroupName=name,
                   thingGroupProperties={"thingGroupDescription": 5})
        self.assertEqual(self.ok("listThingGroups", namePrefixFilter=name)["thingGroups"], [])

    def test_delete_missing_group_succeeds(self):
        self.assertEqual(self.ok("deleteThingGroup", thingGroupName=self.name("nogroup")), {})
        g = self.group(self.thing)
        self.assertEqual(self.ok("deleteThingGroup", thingGroupName=g), {})
        self.assertEqual(self.ok("deleteThingGroup", thingGroupName=g), {})
        self.assertEqual(self.ok("listThingGroups", namePrefixFilter=g)["thingGroups"], [])
        self.fails("listThingsInThingGroup", "ResourceNotFoundException", thingGroupName=g)
        self.fails("createJob", "ResourceNotFoundException", jobId=self.name("j"),
                   targets=[group_arn(g)], document={})
        self.fails("deleteThingGroup", "InvalidRequestException")

    def test_deleting_a_group_removes_pending_continuous_executions(self):
        t_queued, t_run, t_done = self.thing, self.name("t"), self.name("t")
        g = self.group(t_queued, t_run, t_done)
        jc = self.create([group_arn(g)], targetSelection="CONTINUOUS", document={"c": 1})
        js = self.create([group_arn(g)], document={"s": 1})
        self.device_ok(t_run, "start-next", {})
        self.device_ok(t_done, f"{jc}/update", {"status": "SUCCEEDED"})
        ws = {t: self.watcher(t) for t in (t_queued, t_run, t_done)}
        for w in ws.values():
            self.received(w)

        self.assertEqual(self.ok("deleteThingGroup", thingGroupName=g), {})
        for thing, status, version in ((t_queued, "REMOVED", 2), (t_run, "REMOVED", 3),
                                       (t_done, "SUCCEEDED", 2)):
            with self.subTest(thing=thing):
                e = self.describe_exec(jc, thing)
                self.assertEqual((e["status"], e["versionNumber"]), (status, version))
        # snapshot executions stay
        for thing in (t_queued, t_run):
            self.assertEqual(self.describe_exec(js, thing)["status"], "QUEUED")
        self.assertEqual(self.counts(jc), {"numberOfRemovedThings": 2, "numberOfSucceededThings": 1})

        # t_queued: jc left the pending set and js is next now
        got = self.received(ws[t_queued])
        self.assertEqual(len(got["notify"]), 1, got)
        self.assertEqual(self.notify_ids(got["notify"][0]), {"QUEUED": [js]})
        self.assertEqual(len(got["notify-next"]), 1, got)
        self.assertEqual(got["notify-next"][0]["execution"]["jobId"], js)
        # t_run: its IN_PROGRESS jc went; js is left
        got = self.received(ws[t_run])
        self.assertEqual(len(got["notify"]), 1, got)
        self.assertEqual(self.notify_ids(got["notify"][0]), {"QUEUED": [js]})
        self.assertEqual([n["execution"]["jobId"] for n in got["notify-next"]], [js])
        # t_done: its js is next and stays so; its finished jc is untouched
        self.assert_nothing(ws[t_done])
        self.device_rejected(t_run, f"{jc}/update", "InvalidStateTransition",
                             {"status": "SUCCEEDED"})
        self.assertEqual(self.pending_ids(t_run), [js])

    def test_add_to_a_missing_group(self):
        w = self.watcher()
        g = self.name("nogroup")
        err = self.fails("addThingToThingGroup", "ResourceNotFoundException", thingGroupName=g,
                         thingName=self.thing)
        self.assertIn(g, err)
        self.assertEqual(self.ok("listThingGroups", namePrefixFilter=g)["thingGroups"], [])
        self.fails("addThingToThingGroup", "InvalidRequestException", thingGroupName=g)
        self.fails("addThingToThingGroup", "InvalidRequestException", thingName=self.thing)
        self.assert_nothing(w)

    def test_adding_twice_is_a_no_op(self):
        g = self.group()
        j = self.create([group_arn(g)], targetSelection="CONTINUOUS")
        w = self.watcher()
        self.assertEqual(self.ok("addThingToThingGroup", thingGroupName=g, thingName=self.thing), {})
        got = self.received(w)
        self.assertEqual((len(got["notify"]), len(got["notify-next"])), (1, 1), got)
        self.assertEqual(self.ok("addThingToThingGroup", thingGroupName=g, thingName=self.thing), {})
        self.assert_nothing(w)
        self.assertEqual(self.ok("listThingsInThingGroup", thingGroupName=g)["things"],
                         [self.thing])
        e = self.describe_exec(j)
        self.assertEqual((e["executionNumber"], e["versionNumber"], e["status"]), (1, 1, "QUEUED"))
        self.assertEqual(len(self.ok("listJobExecutionsForJob", jobId=j)["executionSummaries"]), 1)

    def test_removing_a_non_member_succeeds(self):
        g = self.group(self.name("t"))
        j = self.create([group_arn(g)], targetSelection="CONTINUOUS")
        w = self.watcher()
        self.assertEqual(self.ok("removeThingFromThingGroup", thingGroupName=g,
                                 thingName=self.thing), {})
        self.assert_nothing(w)
        self.assertEqual(len(self.ok("listThingsInThingGroup", thingGroupName=g)["things"]), 1)
        self.assertEqual(self.counts(j), {"numberOfQueuedThings": 1})

    def test_list_things_in_group(self):
        base = self.name("t")
        things = [base + s for s in ("-d", "-a", "-c", "-e", "-b")]
        g = self.group(*things)
        data = self.ok("listThingsInThingGroup", thingGroupName=g)
        self.assertEqual(data, {"things": sorted(things)})
        p1 = self.ok("listThingsInThingGroup", thingGroupName=g, maxResults=2)
        self.assertEqual(p1["things"], sorted(things)[:2])
        p2 = self.ok("listThingsInThingGroup", thingGroupName=g, maxResults=2,
                     nextToken=p1["nextToken"])
        self.assertEqual(p2["things"], sorted(things)[2:4])
        p3 = self.ok("listThingsInThingGroup", thingGroupName=g, maxResults=2,
                     nextToken=p2["nextToken"])
        self.assertEqual(p3, {"things": sorted(things)[4:]})
        self.assertNotIn("nextToken", self.ok("listThingsInThingGroup", thingGroupName=g,
                                              maxResults=5))
        self.assertEqual(self.pages("listThingsInThingGroup", "things", 3, thingGroupName=g),
                         sorted(things))
        self.assertEqual(self.ok("listThingsInThingGroup", thingGroupName=self.group()),
                         {"things": []})
        self.fails("listThingsInThingGroup", "ResourceNotFoundException",
                   thingGroupName=self.name("nogroup"))
        self.fails("listThingsInThingGroup", "InvalidRequestException")

    def test_list_thing_groups(self):
        prefix = self.name("gp")
        names = [prefix + s for s in ("-c", "-a", "-d", "-b")]
        for n in names:
            self.ok("createThingGroup", thingGroupName=n)
        self.ok("createThingGroup", thingGroupName="z" + prefix)  # holds the prefix, later
        data = self.ok("listThingGroups", namePrefixFilter=prefix)
        self.assertEqual(data["thingGroups"],
                         [{"groupName": n, "groupArn": group_arn(n)} for n in sorted(names)])
        self.assertNotIn("nextToken", data)
        self.assertEqual([g["groupName"] for g in self.pages("listThingGroups", "thingGroups", 3,
                                                              namePrefixFilter=prefix)],
                         sorted(names))
        p1 = self.ok("listThingGroups", namePrefixFilter=prefix, maxResults=2)
        self.assertEqual([g["groupName"] for g in p1["thingGroups"]], sorted(names)[:2])
        p2 = self.ok("listThingGroups", namePrefixFilter=prefix, maxResults=2,
                     nextToken=p1["nextToken"])
        self.assertEqual([g["groupName"] for g in p2["thingGroups"]], sorted(names)[2:])
        self.assertNotIn("nextToken", p2)
        # a prefix is a prefix: '_' is no wildcard
        wild = self.name("gq") + "_"
        self.ok("createThingGroup", thingGroupName=wild + "1")
        self.ok("createThingGroup", thingGroupName=wild[:-1] + "x1")
        self.assertEqual([g["groupName"] for g in self.ok("listThingGroups",
                                                          namePrefixFilter=wild)["thingGroups"]],
                         [wild + "1"])
        # without a filter: every group, sorted, none twice
        every = [g["groupName"] for g in self.pages("listThingGroups", "thingGroups", 4)]
        self.assertEqual(every, sorted(every))
        self.assertEqual(len(set(every)), len(every))
        for n in names + ["z" + prefix, wild + "1", wild[:-1] + "x1"]:
            self.assertIn(n, every)

    def test_two_groups_of_the_same_continuous_job(self):
        g1, g2 = self.group(self.thing), self.group(self.thing)
        j = self.create([group_arn(g1), group_arn(g2)], targetSelection="CONTINUOUS")
        self.assertEqual(self.counts(j), {"numberOfQueuedThings": 1})
        w = self.watcher()
        self.ok("removeThingFromThingGroup", thingGroupName=g1, thingName=self.thing)
        e = self.describe_exec(j)
        self.assertEqual((e["status"], e["versionNumber"], e["executionNumber"]), ("QUEUED", 1, 1))
        self.assertEqual(self.pending_ids(self.thing), [j])
        self.assert_nothing(w)
        # deleting the other group: now nothing targets the thing
        self.ok("deleteThingGroup", thingGroupName=g2)
        self.assertEqual(self.describe_exec(j)["status"], "REMOVED")
        self.assert_idle_notified(w)

    def test_a_thing_named_directly_keeps_its_execution(self):
        g = self.group(self.thing)
        j = self.create([self.thing, group_arn(g)], targetSelection="CONTINUOUS")
        w = self.watcher()
        self.ok("removeThingFromThingGroup", thingGroupName=g, thingName=self.thing)
        self.assertEqual(self.describe_exec(j)["status"], "QUEUED")
        self.assert_nothing(w)

    def test_a_thing_that_finished_does_not_run_again(self):
        g = self.group(self.thing)
        j = self.create([group_arn(g)], targetSelection="CONTINUOUS")
        self.device_ok(self.thing, f"{j}/update", {"status": "SUCCEEDED"})
        self.ok("removeThingFromThingGroup", thingGroupName=g, thingName=self.thing)
        w = self.watcher()
        self.ok("addThingToThingGroup", thingGroupName=g, thingName=self.thing)
        self.assert_nothing(w)
        e = self.describe_exec(j)
        self.assertEqual((e["status"], e["executionNumber"]), ("SUCCEEDED", 1))
        self.assertEqual(self.pending_ids(self.thing), [])


class RequestTest(FleetTest):

    def test_a_failing_command_in_the_middle_of_a_batch(self):
        t_a, t_b, t_c = self.thing, self.name("t"), self.name("t")
        ws = {t: self.watcher(t) for t in (t_a, t_b, t_c)}
        j_a, j_b, j_c = self.name("j"), self.name("j"), self.name("j")
        # the middle createJob queues t_b's execution before it meets the missing group
        responses = self.operator.control(
            {"command": "createJob", "correlationData": "a", "jobId": j_a, "targets": [t_a],
             "document": {"a": 1}},
            {"command": "createJob", "correlationData": "b", "jobId": j_b,
             "targets": [t_b, group_arn(self.name("nogroup"))], "document": {"b": 1}},
            {"command": "createJob", "correlationData": "c", "jobId": j_c, "targets": [t_c],
             "document": {"c": 1}},
            {"command": "listJobExecutionsForThing", "correlationData": "d", "thingName": t_b})
        self.assertEqual([r["correlationData"] for r in responses], ["a", "b", "c", "d"])
        self.assertEqual([r["command"] for r in responses],
                         ["createJob", "createJob", "createJob", "listJobExecutionsForThing"])
        self.assertEqual(responses[0]["data"]["jobId"], j_a)
        self.assertNotIn("data", responses[1])
        self.assertTrue(responses[1]["error"].startswith("ResourceNotFoundException: "), responses[1])
        self.assertEqual(responses[2]["data"]["jobId"], j_c)
        self.assertEqual(responses[3]["data"], {"executionSummaries": []})

        self.fails("describeJob", "ResourceNotFoundException", jobId=j_b)
        self.assertEqual(self.pending_ids(t_b), [])
        self.assert_nothing(ws[t_b])
        for thing, j in ((t_a, j_a), (t_c, j_c)):
            self.assertEqual(self.pending_ids(thing), [j])
            got = self.received(ws[thing])
            self.assertEqual((len(got["notify"]), len(got["notify-next"])), (1, 1), got)
            self.assertEqual(got["notify-next"][0]["execution"]["jobId"], j)

    def test_group_changes_in_one_batch(self):
        g = self.name("g")
        j = self.name("j")
        responses = self.operator.control(
            {"command": "createThingGroup", "thingGroupName": g},
            {"command": "addThingToThingGroup", "thingGroupName": g, "thingName": self.thing},
            {"command": "createJob", "jobId": j, "targets": [group_arn(g)], "document": {},
             "targetSelection": "CONTINUOUS"},
            {"command": "addThingToThingGroup", "thingGroupName": self.name("nogroup"),
             "thingName": self.thing},
            {"command": "removeThingFromThingGroup", "thingGroupName": g, "thingName": self.thing},
            {"command": "describeJobExecution", "jobId": j, "thingName": self.thing})
        self.assertEqual([("error" in r) for r in responses],
                         [False, False, False, True, False, False], responses)
        self.assertEqual(responses[5]["data"]["execution"]["status"], "REMOVED")

    def test_mqtt5_response_topic_and_correlation_data(self):
        op5 = self.client(protocol=mqtt.MQTTv5)
        reply_topic = f"replies/{self.name('r')}"
        op5.subscribe(reply_topic)
        j = self.create()
        missing = self.name("nojob")
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = reply_topic
        props.CorrelationData = b"\x00op5\xffcorr"
        op5.publish("$CONTROL/jobs/v1", {"commands": [
            {"command": "getJobDocument", "jobId": j, "correlationData": 1},
            {"command": "describeJob", "jobId": missing, "correlationData": 2}]},
            properties=props)
        plain, _ = op5.expect(RESPONSE_TOPIC)
        body, msg = op5.expect(reply_topic)
        self.assertEqual(body, plain)
        self.assertEqual(getattr(msg.properties, "CorrelationData", None), b"\x00op5\xffcorr")
        [doc, err] = body["responses"]
        self.assertEqual(json.loads(doc["data"]["document"]), {"job": j})
        self.assertTrue(err["error"].startswith("ResourceNotFoundException: "), err)
        # once on each topic, nothing more
        self.assertEqual([m.topic for m in op5.sync()], [])

        # without correlation data: the response topic still gets the response
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = reply_topic
        op5.publish("$CONTROL/jobs/v1", {"commands": [{"command": "describeJob", "jobId": j}]},
                    properties=props)
        body, msg = op5.expect(reply_topic)
        self.assertEqual(body["responses"][0]["data"]["job"]["jobId"], j)
        self.assertIsNone(getattr(msg.properties, "CorrelationData", None))
        op5.expect(RESPONSE_TOPIC)
        self.assertEqual([m.topic for m in op5.sync()], [])

    def test_mqtt5_response_topic_that_is_the_response_topic(self):
        op5 = self.client(protocol=mqtt.MQTTv5)
        j = self.create()
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = RESPONSE_TOPIC
        props.CorrelationData = b"same-topic"
        op5.publish("$CONTROL/jobs/v1", {"commands": [{"command": "describeJob", "jobId": j}]},
                    properties=props)
        body, msg = op5.expect(RESPONSE_TOPIC)
        self.assertEqual(body["responses"][0]["data"]["job"]["jobId"], j)
        self.assertEqual(getattr(msg.properties, "CorrelationData", None), b"same-topic")
        self.assertEqual([m.topic for m in op5.sync()], [], "answered once")

    def test_mqtt5_response_topic_with_wildcards_is_refused(self):
        op5 = self.client(protocol=mqtt.MQTTv5)
        op5.subscribe("#")
        for bad in ("replies/+", "replies/#", "+", "#", "a/+/b"):
            with self.subTest(response_topic=bad):
                j = self.name("j")
                props = Properties(PacketTypes.PUBLISH)
                props.ResponseTopic = bad
                props.CorrelationData = b"wild"
                op5.publish("$CONTROL/jobs/v1", {"commands": [
                    {"command": "createJob", "jobId": j, "targets": [self.thing], "document": {}}]},
                    properties=props)
                body, msg = op5.expect(RESPONSE_TOPIC)
                [err] = body["responses"]
                self.assertTrue(err["error"].startswith("InvalidRequestException: the MQTT 5 response topic"), err)
                self.assertEqual(getattr(msg.properties, "CorrelationData", None), b"wild")
                # nothing was run, and no PUBLISH carried a wildcard topic
                self.fails("describeJob", "ResourceNotFoundException", jobId=j)
                self.assertFalse([m.topic for m in op5.sync() if "+" in m.topic or "#" in m.topic])
        self.assertTrue(op5.c.is_connected())

    def test_a_request_holds_at_most_100_commands(self):
        prefix = self.name("cap")
        commands = [{"command": "createThingGroup", "thingGroupName": f"{prefix}-{i}",
                     "correlationData": i} for i in range(101)]
        [err] = self.operator.control(*commands, timeout=20)
        self.assertEqual(set(err), {"error"}, err)
        self.assertTrue(err["error"].startswith(
            "LimitExceededException: a request holds at most 100 commands, this one 101"), err)
        # none was run; 100 are
        self.fails("listThingsInThingGroup", "ResourceNotFoundException", thingGroupName=f"{prefix}-0")
        responses = self.operator.control(*commands[:100], timeout=20)
        self.assertEqual([r["correlationData"] for r in responses], list(range(100)))
        self.assertTrue(all("data" in r for r in responses), responses)
        self.ok("listThingsInThingGroup", thingGroupName=f"{prefix}-99")

    def test_two_operators_at_once_get_only_their_own_responses(self):
        a = self.client(self.name("opA"))
        b = self.client(self.name("opB"), protocol=mqtt.MQTTv5)
        # b even subscribes to every $CONTROL topic: still only its own responses, once
        b.subscribe("$CONTROL/#")
        thing = self.thing
        n = 25
        barrier = threading.Barrier(2)
        errors = []

        def send(op, tag):
            try:
                barrier.wait(harness.WAIT)
                for i in range(n):
                    cmds = [{"command": "createJob", "correlationData": f"{tag}-{i}",
                             "jobId": f"{tag}-{i}", "targets": [thing], "document": {"by": tag}},
                            {"command": "describeJob", "correlationData": f"{tag}-{i}-d",
                             "jobId": f"{tag}-{i}"}]
                    op.publish("$CONTROL/jobs/v1", {"commands": cmds})
            except Exception as e:  # reported in the main thread
                errors.append(e)

        tag_a, tag_b = self.name("A"), self.name("B")
        threads = [threading.Thread(target=send, args=(a, tag_a)),
                   threading.Thread(target=send, args=(b, tag_b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(errors, [])

        for op, tag in ((a, tag_a), (b, tag_b)):
            seen = []
            for _ in range(n):
                body, _ = op.expect(RESPONSE_TOPIC)
                [created, described] = body["responses"]
                self.assertNotIn("error", created, created)
                seen.append(created["correlationData"])
                self.assertEqual(described["correlationData"], created["correlationData"] + "-d")
                self.assertEqual(described["data"]["job"]["jobId"], created["data"]["jobId"])
            self.assertEqual(sorted(seen), sorted(f"{tag}-{i}" for i in range(n)))
            extra = op.sync()
            self.assertEqual([(m.topic, m.payload[:80]) for m in extra], [],
                             f"{op.id} got more than its own responses")
        self.assertEqual(len(self.pending_ids(thing)), min(2 * n, 10))
        listed = self.ok("listJobExecutionsForThing", thingName=thing, maxResults=250)
        self.assertEqual(len(listed["executionSummaries"]), 2 * n)

    def audit_lines(self, client_id, count, timeout=harness.WAIT):
        """The audit lines of client_id in the broker log, once there are `count`."""
        deadline = time.time() + timeout
        while True:
            lines = [line for line in self.broker.read_log().splitlines()
                     if f"jobs: admin client={client_id} " in line]
            if len(lines) >= count or time.time() > deadline:
                return lines
            time.sleep(0.05)

    def test_every_command_writes_one_audit_line(self):
        user = self.name("alice")
        op = self.client(self.name("audit"), username=user)
        g, j, t = self.name("g"), self.name("j"), self.thing
        missing = self.name("nojob")
        cmds = [
            {"command": "createThingGroup", "thingGroupName": g},
            {"command": "addThingToThingGroup", "thingGroupName": g, "thingName": t},
            {"command": "createJob", "jobId": j, "targets": [group_arn(g)], "document": {}},
            {"command": "describeJob", "jobId": j},
            {"command": "getJobDocument", "jobId": j},
            {"command": "listJobs", "thingGroupName": g},
            {"command": "describeJobExecution", "jobId": j, "thingName": t},
            {"command": "listJobExecutionsForJob", "jobId": j},
            {"command": "listJobExecutionsForThing", "thingName": t},
            {"command": "listThingsInThingGroup", "thingGroupName": g},
            {"command": "listThingGroups", "namePrefixFilter": g},
            {"command": "cancelJobExecution", "jobId": j, "thingName": t, "expectedVersion": 9},
            {"command": "cancelJobExecution", "jobId": j, "thingName": t},
            {"command": "deleteJobExecution", "jobId": j, "thingName": t, "executionNumber": 1},
            {"command": "cancelJob", "jobId": missing},
            {"command": "deleteJob", "jobId": j},
            {"command": "removeThingFromThingGroup", "thingGroupName": g, "thingName": t},
            {"command": "deleteThingGroup", "thingGroupName": g},
        ]
        responses = op.control(*cmds)
        self.assertEqual(len(responses), len(cmds))
        self.assertEqual([("error" in r) for r in responses],
                         [False] * 11 + [True] + [False] * 2 + [True] + [False] * 3, responses)
        lines = self.audit_lines(op.id, len(cmds))
        self.assertEqual(len(lines), len(cmds), "\n".join(lines))
        for line, cmd, resp in zip(lines, cmds, responses):
            with self.subTest(command=cmd["command"]):
                job = cmd.get("jobId", "-")
                outcome = resp.get("error", "ok")
                want = (f"jobs: admin client={op.id} user={user} command={cmd['command']} "
                        f"job={job} outcome={outcome}")
                self.assertTrue(line.endswith(want), f"{line!r}\n does not end with\n{want!r}")
        self.assertIn("VersionConflictException", lines[11])
        self.assertIn(f"outcome=ResourceNotFoundException: job {missing} does not exist", lines[14])

    def test_audit_line_without_username_and_for_unknown_commands(self):
        op = self.client(self.name("anon"))
        j = self.create()
        responses = op.control({"command": "describeJob", "jobId": j},
                               {"command": "frobnicate", "jobId": j})
        self.assertNotIn("error", responses[0])
        lines = self.audit_lines(op.id, 2)
        self.assertEqual(len(lines), 2, lines)
        self.assertTrue(lines[0].endswith(
            f"jobs: admin client={op.id} user= command=describeJob job={j} outcome=ok"), lines[0])
        self.assertRegex(lines[1], rf"jobs: admin client={re.escape(op.id)} user= "
                                   r"command=frobnicate job=\S+ outcome=InvalidRequestException: ")


if __name__ == "__main__":
    unittest.main()
