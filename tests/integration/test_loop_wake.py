"""The wake-up of the broker's loop for PostgreSQL's answers (plugin/mqtt/loop_wake.h):
the plugin's own MQTT connection to a listener, a PINGREQ when the store's socket has an
answer, so a reply held for a commit does not wait for the broker's next idle pass
(Mosquitto 2.0 sleeps up to 100 ms). Starts a PostgreSQL server of its own (pg.py).

- with the default (plugin_opt_loop_wake on) the broker logs which listener the plugin
  connected to, and a client sending updates one after the other, each waiting for its
  reply, is answered much faster than with plugin_opt_loop_wake off: measured in the same
  run, on the same database, the total with it on is under a third of the total with it
  off (the mechanism: off, each reply waits for an idle pass of up to 100 ms; on, it
  goes out as PostgreSQL answers);
- a broker whose listener takes no anonymous connection logs that it has no wake-up,
  and answers all the same.
"""
import os
import sys
import time
import unittest

from harness import Broker, P, PostgresStore, WAIT
from pg import PostgresServer

UPDATES = 20


def report(test, line):
    print(f"\n  [{test.id().rsplit('.', 1)[-1]}] {line}", file=sys.stderr, flush=True)


class LoopWakeTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.pg = PostgresServer()
        cls.pg.start()

    @classmethod
    def tearDownClass(cls):
        cls.pg.cleanup()

    def setUp(self):
        self.brokers = []

    def tearDown(self):
        for b in self.brokers:
            b.stop()
            b.cleanup()

    def broker(self, store, extra_conf="", **options):
        b = Broker(options={"store": store.uri, **options}, extra_conf=extra_conf)
        self.brokers.append(b)
        b.start()
        return b

    def wait_log(self, broker, text):
        deadline = time.time() + WAIT
        while time.time() < deadline:
            if text in broker.read_log():
                return
            time.sleep(0.05)
        self.fail(f"the broker's log never said {text!r}:\n{broker.read_log()[-3000:]}")

    def sequential_updates(self, broker, thing):
        op, dev = broker.client("op"), broker.client(thing)
        outcome = op.control({"command": "createJob", "jobId": f"j-{thing}", "targets": [thing], "document": {}})
        self.assertIn("data", outcome[0], outcome)
        started = time.monotonic()
        for i in range(UPDATES):
            outcome, body, _ = dev.request(P(thing, f"j-{thing}", "update"),
                                           {"status": "IN_PROGRESS", "statusDetails": {"i": str(i)}})
            self.assertEqual(outcome, "accepted", body)
        took = time.monotonic() - started
        op.close()
        dev.close()
        return took

    def test_replies_go_out_when_postgresql_answers(self):
        store = PostgresStore.on(self.pg)
        woken = self.broker(store)
        self.wait_log(woken, "waking the broker's loop for PostgreSQL's answers through listener "
                             f"127.0.0.1:{woken.port}")
        self.assertIn("as mosquitto-jobs-wake-", woken.read_log())
        on = self.sequential_updates(woken, "wake-on")
        asleep = self.broker(store, loop_wake="off")
        off = self.sequential_updates(asleep, "wake-off")
        self.assertNotIn("mosquitto-jobs-wake-", asleep.read_log())
        report(self, f"{UPDATES} sequential updates: {on * 1000:.0f} ms with the wake-up, {off * 1000:.0f} ms without")
        self.assertLess(on, off / 3, f"with the wake-up {on:.3f} s, without {off:.3f} s")

    def test_no_anonymous_listener_no_wake_up(self):
        store = PostgresStore.on(self.pg)
        b = Broker(options={"store": store.uri})
        self.brokers.append(b)
        passwords = os.path.join(b.dir, "passwords")
        open(passwords, "w").close()
        # the listener refuses anonymous clients (the last allow_anonymous wins)
        b.extra_conf = f"allow_anonymous false\npassword_file {passwords}\n"
        b.start()
        self.wait_log(b, "no listener of this broker took an anonymous MQTT connection from the plugin")
        self.assertNotIn("waking the broker's loop", b.read_log())


if __name__ == "__main__":
    unittest.main()
