"""Upgrades (docs/configuration.md, "Upgrades"): a database written by each earlier
schema version (tests/data/stores, made by tests/data/stores/make-store from the
commit that last wrote that version) opens in this plugin with nothing lost, and the
device API works on it; a database of a newer schema version is refused, untouched.

Each store's JSON holds what its own version answered when it was made; the broker
started on a copy must answer the same, field by field, but for:
- fields later versions added, which must show their default (ADDED);
- a timer whose deadline has passed since then: the tick has timed the execution out
  (TIMED_OUT, versionNumber + 1, its statusDetails kept), and its job's counts moved;
  a timer still running reports fewer seconds left than it did;
- rollouts (and a large group's fan-out) that go on with time: their jobs may have
  queued more things (new QUEUED executions, version 1, of things they target).
"""
import glob
import hashlib
import json
import os
import shutil
import sqlite3
import time
import unittest

from harness import WAIT, OwnBrokersTest, P, sqlite_only

STORES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "stores"))
# Within this many seconds of its deadline a timer may or may not have fired yet.
MARGIN = 120

# Fields a later version shows that an earlier one did not, with the value an
# upgraded record must show: an execution summary's retryAttempt (v3).
ADDED = {"retryAttempt": 0}


def store_versions():
    return sorted(int(os.path.basename(p)[1:-3]) for p in glob.glob(os.path.join(STORES, "v*.db")))


@sqlite_only("upgrades of SQLite files of every earlier schema")
class StoreUpgradeTest(OwnBrokersTest):

    def started_on(self, version):
        """A broker on a copy of store vN, and the store's record."""
        with open(os.path.join(STORES, f"v{version}.json")) as f:
            record = json.load(f)
        b = self.broker()
        shutil.copyfile(os.path.join(STORES, f"v{version}.db"), b.db_path)
        b.start()
        self.addCleanup(b.stop)
        return b, record

    def same(self, expected, actual, where):
        """actual equals expected, but for ADDED fields at their defaults."""
        if isinstance(expected, dict) and isinstance(actual, dict):
            for k, v in expected.items():
                self.assertIn(k, actual, f"{where}: {k} is gone")
                self.same(v, actual[k], f"{where}.{k}")
            for k in actual.keys() - expected.keys():
                self.assertIn(k, ADDED, f"{where}: {k} = {actual[k]!r} is new")
                self.assertEqual(actual[k], ADDED[k], f"{where}.{k}")
        elif isinstance(expected, list) and isinstance(actual, list):
            self.assertEqual(len(expected), len(actual), f"{where}: {expected} != {actual}")
            for i, (e, a) in enumerate(zip(expected, actual)):
                self.same(e, a, f"{where}[{i}]")
        else:
            self.assertEqual(expected, actual, where)

    def timer_states(self, record):
        """(job, thing) -> 'expired', 'running' or 'near' (too close to its deadline to tell)."""
        now = time.time()
        states = {}
        for t in record["timers"]:
            key = (t["jobId"], t["thingName"])
            deadline = min(t["deadline"], states.get(key, (None, float("inf")))[1])
            state = "expired" if now > deadline + MARGIN else "running" if now < deadline - MARGIN else "near"
            states[key] = (state, deadline)
        return {k: v[0] for k, v in states.items()}

    def check_execution(self, expected, actual, timer, where):
        """One execution (management or device shape) against the record."""
        expected, actual = dict(expected), dict(actual)
        if timer == "expired":
            self.assertEqual(actual.pop("status"), "TIMED_OUT", where)
            self.assertEqual(actual.pop("versionNumber"), expected.pop("versionNumber") + 1, where)
            self.assertGreaterEqual(actual.pop("lastUpdatedAt"), expected.pop("lastUpdatedAt"), where)
            expected.pop("status")
            expected.pop("approximateSecondsBeforeTimedOut", None)
        elif timer == "running":
            left = actual.pop("approximateSecondsBeforeTimedOut", None)
            self.assertIsNotNone(left, f"{where}: its timer no longer runs")
            self.assertLessEqual(left, expected.pop("approximateSecondsBeforeTimedOut", left), where)
            self.assertGreater(left, 0, where)
        elif timer == "near":
            return  # at its deadline: either state is right
        self.same(expected, actual, where)

    def check_store(self, version):
        b, record = self.started_on(version)
        self.assertEqual(record["schemaVersion"], version)
        op = self.connect(b, "operator")
        timers = self.timer_states(record)
        rolling = {j for j, d in record["jobs"].items() if "jobExecutionsRolloutConfig" in d}
        # Expired timers fire at the first tick after start.
        for (job, thing), state in timers.items():
            if state == "expired":
                deadline = time.time() + WAIT
                while self.control_ok(op, "describeJobExecution", jobId=job, thingName=thing)[
                        "execution"]["status"] != "TIMED_OUT":
                    self.assertLess(time.time(), deadline, f"{job} on {thing} did not time out")
                    time.sleep(0.05)

        for e in record["executions"]:
            job, thing = e["jobId"], e["thingArn"].rsplit("/", 1)[1]
            actual = self.control_ok(op, "describeJobExecution", jobId=job, thingName=thing,
                                     executionNumber=e["executionNumber"])["execution"]
            latest = e == max((x for x in record["executions"] if x["jobId"] == job and x["thingArn"] == e["thingArn"]),
                              key=lambda x: x["executionNumber"])
            self.check_execution(e, actual, timers.get((job, thing)) if latest else None,
                                 f"v{version} execution {job}/{thing}#{e['executionNumber']}")

        for job, expected in record["jobs"].items():
            expected = dict(expected)
            document = expected.pop("document", None)
            actual = self.control_ok(op, "describeJob", jobId=job)["job"]
            counts = dict(expected["jobProcessDetails"])
            fired = [t for (j, t), s in timers.items() if j == job and s == "expired"]
            counts["numberOfInProgressThings"] -= len(fired)
            counts["numberOfTimedOutThings"] += len(fired)
            if fired:
                self.assertGreaterEqual(actual.pop("lastUpdatedAt"), expected.pop("lastUpdatedAt"))
            if any(s == "near" for (j, _), s in timers.items() if j == job):
                actual.pop("jobProcessDetails"), expected.pop("jobProcessDetails")
            elif job in rolling:
                got = actual.pop("jobProcessDetails")
                self.assertGreaterEqual(got.pop("numberOfQueuedThings"), counts.pop("numberOfQueuedThings"), job)
                self.assertEqual(got, counts, f"v{version} job {job}")
                expected.pop("jobProcessDetails")
            else:
                expected["jobProcessDetails"] = counts
            self.same(expected, actual, f"v{version} job {job}")
            if document is not None:
                self.assertEqual(self.control_ok(op, "getJobDocument", jobId=job)["document"], document)

        for thing, seen in record["devices"].items():
            dev = self.connect(b, thing)
            outcome, pending, _ = dev.request(P(thing, "get"), {})
            self.assertEqual(outcome, "accepted", pending)
            pending.pop("timestamp")
            want = {k: [s for s in v if timers.get((s["jobId"], thing)) != "expired"]
                    for k, v in seen["pending"].items()}
            if any(timers.get((s["jobId"], thing)) == "near" for v in seen["pending"].values() for s in v):
                continue
            extra = [s for s in pending["queuedJobs"] if s not in want["queuedJobs"]
                     and not any(x["jobId"] == s["jobId"] for x in want["queuedJobs"])]
            for s in extra:
                self.assertIn(s["jobId"], rolling, f"v{version} {thing}: {s} is new")
                self.assertEqual(s["versionNumber"], 1)
            pending["queuedJobs"] = [s for s in pending["queuedJobs"] if s not in extra]
            self.same(want, pending, f"v{version} {thing} pending")
            for job, execution in seen["describe"].items():
                ns = record["jobs"][job].get("namespaceId")
                levels = (job, f"namespace-{ns}", "get") if ns else (job, "get")
                outcome, d, _ = dev.request(P(thing, *levels), {"includeJobDocument": True})
                self.assertEqual(outcome, "accepted", d)
                self.check_execution(execution, d["execution"], timers.get((job, thing)),
                                     f"v{version} {thing} describe {job}")
            dev.close()

        for thing, want in record.get("things", {}).items():
            self.same(want, self.control_ok(op, "describeThing", thingName=thing), f"v{version} thing {thing}")
        if version >= 2:
            groups = self.paged(op, "listThingGroups", "thingGroups")
            self.assertEqual(sorted(g["groupName"] for g in groups), sorted(record["groups"]))
            for g in groups:
                self.same(record["groups"][g["groupName"]]["group"], g, f"group {g['groupName']}")
                members = self.paged(op, "listThingsInThingGroup", "things", thingGroupName=g["groupName"])
                self.assertEqual(sorted(members), record["groups"][g["groupName"]]["things"])
            touched = {j for (j, _), s in timers.items() if s != "running"}
            jobs = self.paged(op, "listJobs", "jobs")
            self.same([j["jobId"] for j in record["listJobs"]], [j["jobId"] for j in jobs], "listJobs")
            for want, got in zip(record["listJobs"], jobs):
                if want["jobId"] in touched:
                    want, got = dict(want), dict(got)
                    got.pop("lastUpdatedAt"), want.pop("lastUpdatedAt")
                    if got.get("status") != want.get("status"):
                        continue
                self.same(want, got, f"listJobs {want['jobId']}")
            for job, summaries in record["executionsForJob"].items():
                got = self.paged(op, "listJobExecutionsForJob", "executionSummaries", jobId=job)
                if job in rolling:
                    targets = {s["thingArn"] for s in got} - {s["thingArn"] for s in summaries}
                    for s in got:
                        if s["thingArn"] in targets:
                            self.assertEqual(s["jobExecutionSummary"]["status"], "QUEUED", s)
                    got = [s for s in got if s["thingArn"] not in targets]
                self.assertEqual(len(got), len(summaries), job)
                for want, s in zip(summaries, got):
                    thing = want["thingArn"].rsplit("/", 1)[1]
                    state = timers.get((job, thing))
                    if state in ("expired", "near"):
                        want, s = dict(want), dict(s)
                        want_e, s_e = dict(want.pop("jobExecutionSummary")), dict(s.pop("jobExecutionSummary"))
                        if state == "near":
                            continue
                        if state == "expired":
                            self.assertEqual(s_e.pop("status"), "TIMED_OUT")
                            want_e.pop("status")
                            self.assertGreaterEqual(s_e.pop("lastUpdatedAt"), want_e.pop("lastUpdatedAt"))
                        self.same(want_e, s_e, f"v{version} {job} summary of {thing}")
                    self.same(want, s, f"v{version} {job} summary of {thing}")
        return b, op, record

    def paged(self, op, command, key, **fields):
        items, token = [], None
        while True:
            data = self.control_ok(op, command, **fields, **({"nextToken": token} if token else {}))
            items += data[key]
            token = data.get("nextToken")
            if not token:
                return items

    def device_works(self, b, op, record):
        """A QUEUED execution of the old store is started and finished through the
        device topics, an IN_PROGRESS one updated at the version it had."""
        dev = self.connect(b, "t8")
        outcome, body, _ = dev.request(P("t8", "start-next"), {"statusDetails": {"upgraded": "yes"}})
        self.assertEqual(outcome, "accepted", body)
        self.assertEqual(body["execution"]["jobId"], "waiting")
        self.assertEqual(body["execution"]["status"], "IN_PROGRESS")
        self.assertEqual(body["execution"]["versionNumber"], 2)
        outcome, body, _ = dev.request(P("t8", "waiting", "update"),
                                       {"status": "SUCCEEDED", "expectedVersion": 2})
        self.assertEqual(outcome, "accepted", body)
        job = self.control_ok(op, "describeJob", jobId="waiting")["job"]
        self.assertEqual(job["status"], "COMPLETED")
        self.assertEqual(job["jobProcessDetails"]["numberOfSucceededThings"], 1)
        t5 = self.connect(b, "t5")
        outcome, body, _ = t5.request(P("t5", "active", "update"),
                                      {"status": "SUCCEEDED", "expectedVersion": 3,
                                       "includeJobExecutionState": True})
        self.assertEqual(outcome, "accepted", body)
        self.assertEqual(body["executionState"]["versionNumber"], 4)
        self.assertEqual(body["executionState"]["statusDetails"], {"step": "2", "percent": "40"})
        if record["schemaVersion"] >= 2:
            # a continuous job still follows its group
            self.control_ok(op, "addThingToThingGroup", thingGroupName="g1", thingName="t-new")
            e = self.control_ok(op, "describeJobExecution", jobId="continuous", thingName="t-new")["execution"]
            self.assertEqual(e["status"], "QUEUED")

    def plugin_version(self):
        """The schema version this plugin writes: that of a database it made."""
        b = self.broker()
        b.start()
        b.stop()
        db = sqlite3.connect(b.db_path)
        try:
            return db.execute("PRAGMA user_version").fetchone()[0]
        finally:
            db.close()

    def test_every_store_opens_with_nothing_lost(self):
        # a store of every version, this plugin's included (make-store makes one)
        versions = store_versions()
        self.assertEqual(versions, list(range(1, self.plugin_version() + 1)))
        for version in versions:
            with self.subTest(version=version):
                b, op, record = self.check_store(version)
                self.device_works(b, op, record)

    def test_newer_store_is_refused_and_left_untouched(self):
        version = self.plugin_version()
        b = self.broker()
        shutil.copyfile(os.path.join(STORES, f"v{version}.db"), b.db_path)
        # a rollback journal, as a tool that set the version might leave it: opening it
        # in WAL mode would rewrite the header
        db = sqlite3.connect(b.db_path)
        db.execute("PRAGMA journal_mode = DELETE")
        db.execute(f"PRAGMA user_version = {version + 1}")
        db.close()
        with open(b.db_path, "rb") as f:
            before = hashlib.sha256(f.read()).hexdigest()
        log = b.start(expect_failure=True)
        self.assertIn(f"jobs: database {b.db_path} has schema version {version + 1}, newer than "
                      f"this plugin's {version}: upgrade the plugin", log)
        with open(b.db_path, "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), before)
        self.assertFalse(os.path.exists(b.db_path + "-wal"))
        self.assertFalse(os.path.exists(b.db_path + "-shm"))


if __name__ == "__main__":
    unittest.main()
