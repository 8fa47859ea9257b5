"""The queue limits of the shipped configuration (conf/mosquitto.conf, see
docs/configuration.md "Memory under slow or silent devices"): a device that stops
reading gets at most 20 messages in flight and 100 queued, and still finds its jobs
when it asks. The memory they save is measured by `scripts/bench slow-consumers`."""
import json
import os
import time
import unittest

import paho.mqtt.client as mqtt

from harness import HERE, SLOW, Broker, P

SHIPPED_CONF = os.path.join(HERE, "..", "..", "conf", "mosquitto.conf")
LIMITS = ("max_queued_messages", "max_queued_bytes", "max_inflight_messages", "max_inflight_bytes",
          "queue_qos0_messages", "persistent_client_expiration", "max_keepalive", "memory_limit")


def shipped_limits():
    """The queue, session and keepalive lines of conf/mosquitto.conf."""
    with open(SHIPPED_CONF) as f:
        return "".join(line for line in f if line.split(" ", 1)[0] in LIMITS)


class ShippedQueueLimits(unittest.TestCase):

    def setUp(self):
        self.limits = shipped_limits()
        self.broker = Broker(extra_conf=self.limits)
        self.addCleanup(self.broker.cleanup)
        self.broker.start()
        self.addCleanup(self.broker.stop)

    def client(self, name):
        c = self.broker.client(name)
        self.addCleanup(c.close)
        return c

    def test_shipped_configuration_sets_the_limits(self):
        self.assertIn("max_queued_messages 100\n", self.limits)
        self.assertIn("max_queued_bytes 262144\n", self.limits)

    def test_a_device_that_stops_reading_gets_120_messages_then_asks_for_its_jobs(self):
        operator = self.client("operator")
        dev = self.client("dev-slow")
        dev.subscribe(P("dev-slow", "notify"))
        # The device stops reading its socket: nothing it is sent is acknowledged.
        dev.c.loop_stop()
        jobs = [f"mem-{i:03d}" for i in range(130)]
        for first in range(0, len(jobs), 65):
            responses = operator.control(*[
                {"command": "createJob", "jobId": j, "targets": ["dev-slow"], "document": {"n": j}}
                for j in jobs[first:first + 65]])
            self.assertEqual(len(responses), 65)
            for r in responses:
                self.assertNotIn("error", r, r)
        # Each createJob reply follows its notification, so all 130 were published:
        # 20 went in flight, 100 were queued, 10 were dropped.
        dev.c.loop_start()
        notifies = []
        deadline = time.time() + 30 * SLOW
        while len(notifies) < 120:
            m = dev.get(max(0.0, deadline - time.time()))
            self.assertIsNotNone(m, f"only {len(notifies)} notify messages came")
            if m.topic == P("dev-slow", "notify"):
                notifies.append(json.loads(m.payload))
        # Anything else the broker held for the device comes before this round trip.
        later = [m for m in dev.sync() if m.topic == P("dev-slow", "notify")]
        self.assertEqual(len(later), 0, "notify messages beyond 20 in flight + 100 queued were kept")
        # The device learns of the rest by asking.
        outcome, body, _ = dev.request(P("dev-slow", "start-next"))
        self.assertEqual(outcome, "accepted", body)
        self.assertEqual(body["execution"]["jobId"], "mem-000")
        outcome, body, _ = dev.request(P("dev-slow", "get"))
        self.assertEqual(outcome, "accepted", body)
        self.assertEqual(body["inProgressJobs"][0]["jobId"], "mem-000")
        self.assertIn("Outgoing messages are being dropped for client dev-slow", self.broker.read_log())

    def test_an_mqtt5_device_asking_for_no_keepalive_is_given_1200_seconds(self):
        props = {}
        c = mqtt.Client(client_id="dev-k0", protocol=mqtt.MQTTv5)
        c.on_connect = lambda client, userdata, flags, rc, properties=None: props.update(
            rc=rc, keepalive=getattr(properties, "ServerKeepAlive", None))
        c.connect("127.0.0.1", self.broker.port, keepalive=0)
        self.addCleanup(c.disconnect)
        deadline = time.time() + 10 * SLOW
        while "rc" not in props and time.time() < deadline:
            c.loop(timeout=0.1)
        self.assertEqual(props.get("rc"), 0, props)
        self.assertEqual(props.get("keepalive"), 1200)


if __name__ == "__main__":
    unittest.main()
