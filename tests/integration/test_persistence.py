"""Storage and configuration (docs/configuration.md): state survives a broker restart,
the plugin options are checked at start, and the broker keeps serving under load."""
import json
import os
import signal
import tempfile
import time
import unittest

from harness import STORE, OwnBrokersTest, P, sqlite_only


class PersistenceTest(OwnBrokersTest):

    def started(self, **options):
        """A running broker, stopped after the test (clean exit checked)."""
        b = self.broker(**options)
        b.start()
        self.addCleanup(b.stop)
        return b

    def device_ok(self, dev, thing, levels, payload=None):
        outcome, body, _ = dev.request(P(thing, *levels.split("/")), payload)
        self.assertEqual(outcome, "accepted", body)
        return body

    def snapshot(self, op, dev, jobs, things):
        """What a restart must keep: device views and management views."""
        snap = {}
        for thing in things:
            body = self.device_ok(dev, thing, "get")
            snap[("get", thing)] = (body["inProgressJobs"], body["queuedJobs"])
            for j in jobs:
                outcome, body, _ = dev.request(P(thing, j, "get"), {})
                snap[("describe", thing, j)] = (outcome, body.get("execution"), body.get("code"))
        for j in jobs:
            snap[("job", j)] = self.control_ok(op, "describeJob", jobId=j)["job"]
        return snap

    def test_state_survives_restart(self):
        b = self.started()
        op, dev = self.connect(b, "op1"), self.connect(b, "dev1")
        t1, t2 = "restart-t1", "restart-t2"
        jobs = ["r-started", "r-queued", "r-done", "r-canceled", "r-ns"]
        self.control_ok(op, "createJob", jobId="r-started", targets=[t1], document={"fw": "1.0"},
                        description="started before the restart")
        self.control_ok(op, "createJob", jobId="r-queued", targets=[t1, t2], document={"n": 2})
        self.control_ok(op, "createJob", jobId="r-done", targets=[t2], document={"n": 3})
        self.control_ok(op, "createJob", jobId="r-canceled", targets=[t2], document={"n": 4})
        self.control_ok(op, "createJob", jobId="r-ns", targets=[t1], document={"n": 5},
                        namespaceId="aws-gg-deployment")
        started = self.device_ok(dev, t1, "start-next", {"statusDetails": {"phase": "download"}})
        self.assertEqual(started["execution"]["jobId"], "r-started")
        self.device_ok(dev, t2, "r-done/update", {"status": "SUCCEEDED"})
        self.device_ok(dev, t2, "r-canceled/update", {"status": "IN_PROGRESS"})
        self.control_ok(op, "cancelJob", jobId="r-canceled", force=True)
        before = self.snapshot(op, dev, jobs, (t1, t2))
        self.assertEqual(before[("job", "r-done")]["status"], "COMPLETED")
        self.assertEqual(before[("job", "r-canceled")]["status"], "CANCELED")

        op.close()
        dev.close()
        b.stop()
        if STORE == "sqlite":
            self.assertTrue(os.path.exists(b.db_path))
        b.start()
        op, dev = self.connect(b, "op2"), self.connect(b, "dev2")
        after = self.snapshot(op, dev, jobs, (t1, t2))
        for key in before:
            with self.subTest(key=key):
                self.assertEqual(after[key], before[key])

        e = self.device_ok(dev, t1, "r-started/get")["execution"]
        self.assertEqual((e["status"], e["versionNumber"], e["statusDetails"]),
                         ("IN_PROGRESS", 2, {"phase": "download"}))
        self.assertEqual(e["jobDocument"], {"fw": "1.0"})
        self.assertEqual([s["jobId"] for s in after[("get", t1)][0]], ["r-started"])
        self.assertEqual([s["jobId"] for s in after[("get", t1)][1]], ["r-queued"])
        self.assertEqual(after[("describe", t1, "r-ns")][2], "ResourceNotFound")
        e = self.device_ok(dev, t1, "r-ns/namespace-aws-gg-deployment/get")["execution"]
        self.assertEqual(e["status"], "QUEUED")
        [resp] = op.control({"command": "createJob", "jobId": "r-started", "targets": [t1],
                             "document": {}})
        self.assertTrue(resp["error"].startswith("ResourceAlreadyExistsException"), resp)
        # and work goes on where it stopped
        watcher = self.connect(b, "watch2")
        watcher.subscribe(P(t1, "notify-next"))
        self.device_ok(dev, t1, "r-started/update", {"status": "SUCCEEDED", "expectedVersion": 2})
        body, _ = watcher.expect(P(t1, "notify-next"))
        self.assertEqual(body["execution"]["jobId"], "r-queued")
        self.assertEqual(self.device_ok(dev, t1, "start-next")["execution"]["jobId"], "r-queued")

    def test_state_survives_a_killed_broker(self):
        b = self.started()
        op, dev = self.connect(b, "op1"), self.connect(b, "dev1")
        self.control_ok(op, "createJob", jobId="k1", targets=["kill-t"], document={"k": 1})
        self.device_ok(dev, "kill-t", "k1/update", {"status": "IN_PROGRESS", "statusDetails": {"a": "b"}})
        op.close()
        dev.close()
        b.stop(sig=signal.SIGKILL)
        b.start()
        dev = self.connect(b, "dev2")
        e = self.device_ok(dev, "kill-t", "k1/get")["execution"]
        self.assertEqual((e["status"], e["versionNumber"], e["statusDetails"]),
                         ("IN_PROGRESS", 2, {"a": "b"}))

    @sqlite_only("plugin_opt_synchronous is SQLite's")
    def test_synchronous_full(self):
        b = self.started(synchronous="full")
        op, dev = self.connect(b, "op1"), self.connect(b, "dev1")
        self.control_ok(op, "createJob", jobId="s1", targets=["sync-t"], document={"s": 1})
        self.device_ok(dev, "sync-t", "s1/update", {"status": "FAILED"})
        op.close()
        dev.close()
        log = b.stop()
        self.assertIn("synchronous full", log)
        b.start()
        dev = self.connect(b, "dev2")
        self.assertEqual(self.device_ok(dev, "sync-t", "s1/get")["execution"]["status"], "FAILED")

    @sqlite_only("the defaults logged are SQLite's synchronous and file")
    def test_defaults_are_logged(self):
        b = self.started()
        log = b.stop()
        self.assertIn("synchronous normal", log)
        self.assertIn("max_pending 10", log)
        self.assertIn(b.db_path, log)

    def test_bad_options_refuse_to_start(self):
        not_a_file = tempfile.mkdtemp(prefix="jobs-it-dir-")  # SQLite cannot open a directory
        self.addCleanup(os.rmdir, not_a_file)
        cases = [
            ({"synchronous": "maybe"}, ["plugin_opt_synchronous", "maybe"]),
            ({"synchronous": "FULLY"}, ["plugin_opt_synchronous", "FULLY"]),
            ({"max_pending": "0"}, ["plugin_opt_max_pending", "'0'"]),
            ({"max_pending": "abc"}, ["plugin_opt_max_pending", "abc"]),
            ({"max_pending": "-5"}, ["plugin_opt_max_pending", "-5"]),
            ({"max_pending": "10x"}, ["plugin_opt_max_pending", "10x"]),
            ({"frobnicate": "1"}, ["plugin_opt_frobnicate"]),
        ]
        if STORE == "sqlite":
            cases += [({"db_path": "/proc/x/jobs.db"}, ["/proc/x/jobs.db"]),
                      ({"db_path": not_a_file}, [not_a_file])]
        for options, words in cases:
            with self.subTest(options=options):
                b = self.broker(**options)
                log = b.start(expect_failure=True)
                self.assertNotEqual(b.proc.returncode, 0)
                lines = [line for line in log.splitlines() if "jobs:" in line]
                self.assertTrue(lines, log)
                for word in words:
                    self.assertTrue(any(word in line for line in lines), f"{word!r} not in {lines}")
                self.assertNotIn("running", log)

    def test_still_serving_after_many_requests(self):
        b = self.started()
        op, dev = self.connect(b, "op1"), self.connect(b, "dev1")
        thing = "load-t"
        for i in range(30):
            self.control_ok(op, "createJob", jobId=f"load{i}", targets=[thing], document={"i": i})
        # mostly QoS 0 so the requests arrive as a burst; every tenth at QoS 1
        for i in range(300):
            qos = 1 if i % 10 == 0 else 0
            dev.publish(P(thing, "load0", "update"),
                        {"status": "IN_PROGRESS", "statusDetails": {"i": str(i)}, "clientToken": str(i)},
                        qos=qos)
            dev.publish(P(thing, "get"), {"clientToken": f"g{i}"}, qos=qos)
            dev.publish(P(thing, "load1", "update"), b"\x00not json", qos=qos)
        replies = {}
        deadline = time.time() + 60
        while sum(len(v) for v in replies.values()) < 900 and time.time() < deadline:
            m = dev.get(1.0)
            if m is not None:
                replies.setdefault(m.topic, []).append(m)
        accepted = replies.get(P(thing, "load0", "update", "accepted"), [])
        self.assertEqual(sorted(int(json.loads(m.payload)["clientToken"]) for m in accepted),
                         list(range(300)))
        self.assertEqual(len(replies.get(P(thing, "get", "accepted"), [])), 300)
        self.assertEqual(len(replies.get(P(thing, "load1", "update", "rejected"), [])), 300)
        e = self.device_ok(dev, thing, "load0/get")["execution"]
        self.assertEqual((e["versionNumber"], e["statusDetails"]), (301, {"i": "299"}))
        self.assertIsNone(b.proc.poll())
        late = self.connect(b, "late")
        body = self.device_ok(late, thing, "get")
        self.assertEqual([s["jobId"] for s in body["inProgressJobs"]], ["load0"])
        self.assertEqual(len(body["queuedJobs"]), 9)
        [resp] = op.control({"command": "describeJob", "jobId": "load29"})
        self.assertEqual(resp["data"]["job"]["jobProcessDetails"]["numberOfQueuedThings"], 1)


if __name__ == "__main__":
    unittest.main()
