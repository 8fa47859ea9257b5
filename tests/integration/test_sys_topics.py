"""The plugin's $SYS/broker/jobs/... topics: published retained every
plugin_opt_sys_interval seconds (1 here), with jobs and executions by status and the
device requests of the last minute; none with plugin_opt_sys_interval 0."""
import time
import unittest

from harness import WAIT, BrokerTest, P

PREFIX = "$SYS/broker/jobs/"
JOB_STATUSES = ["in_progress", "completed", "canceled", "deletion_in_progress", "scheduled"]
EXEC_STATUSES = ["queued", "in_progress", "succeeded", "failed", "timed_out", "rejected", "removed",
                 "canceled"]
TOPICS = ({f"{PREFIX}jobs/{s}" for s in JOB_STATUSES} | {f"{PREFIX}executions/{s}" for s in EXEC_STATUSES}
          | {f"{PREFIX}requests/1min", f"{PREFIX}requests/total"})


class SysTopicsTest(BrokerTest):
    options = {"sys_interval": "1"}

    def values_until(self, watcher, want, seen):
        """Reads $SYS messages into `seen` (topic -> text) until it holds `want`'s
        values; fails after a generous deadline (publications come every second)."""
        deadline = time.time() + 3 * WAIT
        while any(seen.get(t) != v for t, v in want.items()):
            left = deadline - time.time()
            if left <= 0:
                self.fail(f"$SYS values never became {want}; last seen {seen}")
            m = watcher.get(left)
            if m is not None and m.topic.startswith(PREFIX):
                seen[m.topic] = m.payload.decode()
        return seen

    def test_counts_and_requests(self):
        watcher = self.client("sys-watcher")
        watcher.subscribe(PREFIX + "#")
        # the retained values of the first publication: nothing yet
        seen = self.values_until(watcher, {t: "0" for t in TOPICS}, {})
        self.assertEqual(set(seen), TOPICS)

        self.create_job("j1", ["a", "b"])
        self.create_job("j2", ["c"])
        [resp] = self.operator.control({"command": "cancelJob", "jobId": "j2"})
        self.assertNotIn("error", resp, resp)
        dev = self.client("a")
        outcome, body, _ = dev.request(P("a", "start-next"), {})
        self.assertEqual(outcome, "accepted", body)
        outcome, body, _ = dev.request(P("a", "get"), {})
        self.assertEqual(outcome, "accepted", body)
        want = {t: "0" for t in TOPICS}
        want.update({
            PREFIX + "jobs/in_progress": "1", PREFIX + "jobs/canceled": "1",
            PREFIX + "executions/queued": "1", PREFIX + "executions/in_progress": "1",
            PREFIX + "executions/canceled": "1",
            PREFIX + "requests/1min": "2", PREFIX + "requests/total": "2",
        })
        self.values_until(watcher, want, seen)

        # retained: a client that subscribes now gets the latest values at once
        late = self.client("sys-late")
        late.subscribe(PREFIX + "jobs/in_progress")
        m = late.get(WAIT)
        self.assertIsNotNone(m)
        self.assertTrue(m.retain)
        self.assertEqual(m.payload, b"1")


class SysTopicsOffTest(BrokerTest):
    options = {"sys_interval": "0"}

    def test_none_with_interval_0(self):
        self.create_job("j1", ["a"])
        watcher = self.client("sys-watcher")
        watcher.subscribe(PREFIX + "#")
        # retained messages come right after the SUBACK, before the round trip's own
        self.assertEqual([m.topic for m in watcher.sync()], [])


if __name__ == "__main__":
    unittest.main()
