"""Security through the real broker (docs/security.md, plugin/mqtt/topic_access.h, plugin/core/access.h):
thing isolation keyed by client id, username or certificate CN; grants; who may use the
management API (the plugin's operators, or the broker's ACL: an acl_file, the
dynamic-security plugin); and what happens to the other topics.

Negative checks never sleep: Client.settle() makes two SUBACK round trips. Mosquitto
queues a plugin's publishes at the start of its next loop pass, and the second SUBSCRIBE
is only read after the first SUBACK went out, so by the second SUBACK everything the
broker had decided to send the client (a reply, a notification) is in its queue.
"""
import base64
import hashlib
import json
import os
import queue
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import paho.mqtt.client as mqtt

import harness
from harness import Broker, P, free_port

V3 = mqtt.MQTTv311
V5 = mqtt.MQTTv5
REFUSED = {V3: 0x80, V5: 0x87}   # SUBACK: 3.1.1 failure, 5 NotAuthorized
NOT_AUTHORIZED = 0x87             # MQTT 5 PUBACK
# The plugin's own defaults (harness.Broker's are an open lab).
PLUGIN_DEFAULTS = {"isolation": None, "other_topics": None, "operators": None}
DYNSEC = "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so"


_Paho = harness.PahoWithReasonCodes


class Client(harness.Client):
    """harness.Client with MQTT 5 reason codes (SUBACK and PUBACK), a password, TLS and
    a will."""

    def __init__(self, port, client_id, protocol=V3, username=None, password=None,
                 tls=None, will=None):
        self.id = client_id
        self.messages = queue.Queue()
        self.protocol = protocol
        self.disconnects = []
        self._subacks = set()
        self.suback_codes = {}
        self._sync_topic = None
        self._sync_count = 0
        self._settles = 0
        self.connack = None
        self.c = _Paho(client_id=client_id, protocol=protocol)
        if username is not None:
            self.c.username_pw_set(username, password)
        if tls:
            self.c.tls_set(**tls)
        if will:
            self.c.will_set(*will)
        self.c.on_message = lambda c, u, m: self.messages.put(m)
        self.c.on_disconnect = lambda c, u, rc, *a: self.disconnects.append(rc)
        self.c.on_subscribe = self._on_subscribe
        self.c.on_connect = lambda c, u, flags, rc, *a: setattr(self, "connack", rc)
        self.c.connect("127.0.0.1", port, keepalive=30)
        self.c.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.c.loop_start()
        deadline = time.time() + harness.WAIT
        while not self.c.is_connected() and time.time() < deadline:
            if self.connack is not None and self.connack != 0:
                break
            time.sleep(0.005)
        if not self.c.is_connected():
            self.c.loop_stop()
            raise RuntimeError(f"client {client_id} could not connect: {self.connack}")

    def _on_subscribe(self, c, u, mid, granted, *a):
        self.suback_codes[mid] = [g if isinstance(g, int) else g.value for g in granted]
        self._subacks.add(mid)

    def sub(self, topic, qos=1, timeout=harness.WAIT):
        """Subscribes and waits for the SUBACK: its code (the QoS granted, or refused:
        0x80 under MQTT 3.1.1, 0x87 under 5)."""
        result, mid = self.c.subscribe(topic, qos)
        assert result == mqtt.MQTT_ERR_SUCCESS
        deadline = time.time() + timeout
        while mid not in self.suback_codes:
            if time.time() > deadline:
                raise AssertionError(f"{self.id}: no SUBACK for {topic}")
            time.sleep(0.002)
        return self.suback_codes[mid][0]

    def pub(self, topic, payload=None, qos=1):
        """Publishes (QoS 1) and waits for the PUBACK; returns its reason code under
        MQTT 5, None under 3.1.1 (which has none)."""
        info = self.publish(topic, {} if payload is None else payload, qos=qos)
        return self.c.puback_codes.get(info.mid) if self.protocol == V5 else None

    def settle(self):
        """Every message the broker had decided to send this client before now (see the
        module's docstring). Works whatever the client may subscribe to."""
        for _ in range(2):
            self._settles += 1
            self.sub(f"settle/{self.id}/{self._settles}")
        return self.drain(0)


def topics(messages):
    return [m.topic for m in messages]


class SecurityTest(unittest.TestCase):
    """One broker per class with `options` over the plugin's own defaults (isolation on,
    other topics deferred, no operators) and `operator_id` as its operator."""

    options = {"operators": "operator"}
    operator_id = "operator"
    _count = 0

    @classmethod
    def extra_conf(cls):
        return ""

    @classmethod
    def operator_kw(cls):
        return {}

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="jobs-sec-")
        try:
            cls.prepare()
            cls.broker = Broker(options=dict(PLUGIN_DEFAULTS, **cls.options),
                                extra_conf=cls.extra_conf())
        except Exception:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise
        try:
            cls.broker.start()
            cls.after_start()
            cls.operator = cls.connect(cls.operator_id, **cls.operator_kw())
        except Exception:
            cls.broker.cleanup()
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def prepare(cls):
        """Writes files the configuration needs, in cls.tmp."""

    @classmethod
    def after_start(cls):
        """Configures the running broker, before the operator connects."""

    @classmethod
    def tearDownClass(cls):
        try:
            cls.operator.close()
        except Exception:
            pass
        try:
            cls.broker.stop()
        finally:
            cls.broker.cleanup()
            shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def connect(cls, client_id, port=None, **kw):
        return Client(port or cls.broker.port, client_id, **kw)

    def setUp(self):
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            try:
                c.close()
            except Exception:
                pass

    def client(self, client_id, protocol=V5, **kw):
        c = self.connect(client_id, protocol=protocol, **kw)
        self.clients.append(c)
        return c

    def name(self, prefix="t"):
        """A thing name or job id unique in this process."""
        SecurityTest._count += 1
        return f"{prefix}{SecurityTest._count}-{self._testMethodName[5:25]}"

    # -- management, by the operator --

    def control(self, command, **fields):
        [resp] = self.operator.control(dict(fields, command=command))
        return resp

    def job(self, *things):
        """Creates a job for these things; returns its id."""
        job_id = self.name("j")
        resp = self.control("createJob", jobId=job_id, targets=list(things),
                            document={"op": job_id})
        self.assertNotIn("error", resp, resp)
        return job_id

    def execution(self, job_id, thing):
        resp = self.control("describeJobExecution", jobId=job_id, thingName=thing)
        self.assertNotIn("error", resp, resp)
        return resp["data"]["execution"]

    def assert_unchanged(self, job_id, thing):
        e = self.execution(job_id, thing)
        self.assertEqual((e["status"], e["versionNumber"]), ("QUEUED", 1), e)

    def assert_no_job(self, job_id):
        resp = self.control("describeJob", jobId=job_id)
        self.assertTrue(resp.get("error", "").startswith("ResourceNotFoundException"), resp)

    def assert_job(self, job_id):
        resp = self.control("describeJob", jobId=job_id)
        self.assertNotIn("error", resp, resp)
        self.assertEqual(resp["data"]["job"]["jobId"], job_id)

    # -- device checks --

    def assert_reaches(self, c, thing):
        """c subscribes to thing's jobs topics, gets its notifications and its answers."""
        self.assertEqual(c.sub(P(thing, "#")), 1)
        j = self.job(thing)
        body, _ = c.expect(P(thing, "notify-next"))
        self.assertEqual(body["execution"]["jobId"], j)
        outcome, body, _ = c.request(P(thing, "get"))
        self.assertEqual(outcome, "accepted", body)
        self.assertEqual([q["jobId"] for q in body["queuedJobs"]], [j])
        outcome, body, _ = c.request(P(thing, "start-next"))
        self.assertEqual((outcome, body["execution"]["jobId"]), ("accepted", j), body)
        self.assertEqual(self.execution(j, thing)["status"], "IN_PROGRESS")
        return j

    def assert_cannot_reach(self, c, thing):
        """c's subscriptions to thing's jobs topics are refused, its requests on them get
        no reply and change nothing, and it never hears of thing's jobs."""
        for f in (P(thing, "#"), P(thing, "notify"), P(thing, "notify-next"),
                  P(thing, "get", "accepted"), P(thing, "+", "update", "accepted"),
                  f"$aws/things/{thing}/#", f"$aws/things/{thing}/+/notify",
                  f"$aws/+/{thing}/jobs/#"):
            self.assertEqual(c.sub(f), REFUSED[c.protocol], f)
        j = self.job(thing)
        for topic, payload in ((P(thing, "get"), {}), (P(thing, "start-next"), {}),
                               (P(thing, j, "get"), {}), (P(thing, "$next", "get"), {}),
                               (P(thing, j, "update"), {"status": "SUCCEEDED"})):
            rc = c.pub(topic, payload)
            if c.protocol == V5:
                self.assertEqual(rc, NOT_AUTHORIZED, topic)
        leaked = [t for t in topics(c.settle()) if f"/{thing}/" in t]
        self.assertEqual(leaked, [])
        self.assertEqual(c.disconnects, [])
        self.assert_unchanged(j, thing)


class ClientIdIsolationTest(SecurityTest):
    """The plugin's defaults: isolation by client id, other topics deferred (with no
    other ACL source, Mosquitto then denies them)."""

    def test_device_reaches_its_own_jobs_topics(self):
        t = self.name()
        dev = self.client(t)
        self.assertEqual(dev.sub(P(t, "notify")), 1)
        j = self.assert_reaches(dev, t)
        outcome, body, _ = dev.request(P(t, j, "update"), {"status": "SUCCEEDED"})
        self.assertEqual(outcome, "accepted", body)
        self.assertEqual(self.execution(j, t)["status"], "SUCCEEDED")
        # its own request topics accept its publishes (0x00: it subscribed to P(t, "#"))
        self.assertEqual(dev.pub(P(t, "get")), 0)

    def test_publish_to_another_things_jobs_refused_mqtt5(self):
        a, b = self.name("a"), self.name("b")
        dev_b = self.client(b)
        j = self.job(b)
        self.assertEqual(dev_b.sub(P(b, "notify-next")), 1)
        dev_a = self.client(a)
        fake = {"timestamp": 1, "execution": {"jobId": "evil", "status": "QUEUED"}}
        for topic, payload in ((P(b, "get"), {}), (P(b, "start-next"), {}),
                               (P(b, j, "get"), {}), (P(b, "$next", "get"), {}),
                               (P(b, j, "update"), {"status": "SUCCEEDED"}),
                               (P(b, "notify-next"), fake), (P(b, "notify"), fake)):
            self.assertEqual(dev_a.pub(topic, payload), NOT_AUTHORIZED, topic)
        self.assertEqual(topics(dev_a.settle()), [])     # no reply
        self.assertEqual(topics(dev_b.settle()), [])     # no forged notification
        self.assertEqual(dev_a.disconnects, [])
        self.assert_unchanged(j, b)
        # the topics are live for b itself
        outcome, body, _ = dev_b.request(P(b, j, "get"))
        self.assertEqual((outcome, body["execution"]["status"]), ("accepted", "QUEUED"))

    def test_publish_to_another_things_jobs_dropped_mqtt311(self):
        a, b = self.name("a"), self.name("b")
        dev_b = self.client(b, protocol=V3)
        j = self.job(b)
        self.assertEqual(dev_b.sub(P(b, "notify-next")), 1)
        dev_a = self.client(a, protocol=V3)
        for topic, payload in ((P(b, "get"), {}), (P(b, "start-next"), {}),
                               (P(b, j, "update"), {"status": "SUCCEEDED"}),
                               (P(b, "notify-next"), {"timestamp": 1})):
            dev_a.pub(topic, payload)                     # acknowledged, dropped
        self.assertEqual(topics(dev_a.settle()), [])
        self.assertEqual(topics(dev_b.settle()), [])
        self.assertEqual(dev_a.disconnects, [])
        self.assert_unchanged(j, b)
        # and a still reaches its own thing on the same connection
        outcome, _, _ = dev_a.request(P(a, "get"))
        self.assertEqual(outcome, "accepted")

    def test_subscriptions_beyond_its_own_thing_refused(self):
        for protocol in (V3, V5):
            with self.subTest(protocol=protocol):
                a, b = self.name("a"), self.name("b")
                dev = self.client(a, protocol=protocol)
                self.assertEqual(dev.sub(P(a, "#")), 1)
                for f in (P(b, "#"), P(b, "notify"), P(b, "notify-next"),
                          P(b, "get", "accepted"), P(b, "+", "update", "accepted"),
                          f"$aws/things/{b}/#", f"$aws/things/{b}/+/notify",
                          f"$aws/+/{b}/jobs/#",
                          "$aws/things/+/jobs/#", "$aws/things/+/jobs/notify",
                          "$aws/things/+/+/notify", "$aws/+/+/jobs/#", "$aws/+/#",
                          "$aws/things/#", "$aws/#"):
                    self.assertEqual(dev.sub(f), REFUSED[protocol], f)
                self.job(b)
                self.job(a)
                dev.expect(P(a, "notify-next"))
                self.assertEqual([t for t in topics(dev.settle()) if b in t], [])

    def test_other_thing_is_unreachable_in_every_way(self):
        a, b = self.name("a"), self.name("b")
        self.assert_cannot_reach(self.client(a), b)
        self.assert_cannot_reach(self.client(self.name("c"), protocol=V3), b)

    def test_prefix_named_things_do_not_leak(self):
        base = self.name("dev")
        dev, dev1 = base, base + "1"
        c0, c1 = self.client(dev), self.client(dev1)
        self.assertEqual(c0.sub(P(dev, "#")), 1)
        self.assertEqual(c1.sub(P(dev1, "#")), 1)
        self.assertEqual(c0.sub(P(dev1, "#")), 0x87)
        self.assertEqual(c1.sub(P(dev, "#")), 0x87)
        self.assertEqual(c0.sub(f"$aws/things/{dev}1/jobs/notify"), 0x87)
        j1 = self.job(dev1)
        j0 = self.job(dev)
        body, _ = c0.expect(P(dev, "notify-next"))
        self.assertEqual(body["execution"]["jobId"], j0)
        body, _ = c1.expect(P(dev1, "notify-next"))
        self.assertEqual(body["execution"]["jobId"], j1)
        self.assertEqual([t for t in topics(c0.settle()) if not t.startswith(P(dev) + "/")], [])
        self.assertEqual([t for t in topics(c1.settle()) if not t.startswith(P(dev1) + "/")], [])
        _, body, _ = c0.request(P(dev, "get"))
        self.assertEqual([q["jobId"] for q in body["queuedJobs"]], [j0])
        self.assertEqual(c0.pub(P(dev1, "get")), NOT_AUTHORIZED)
        self.assertEqual(c1.pub(P(dev, "start-next")), NOT_AUTHORIZED)
        self.assertEqual([t for t in topics(c0.settle()) if dev1 in t], [])
        self.assert_unchanged(j0, dev)

    def test_other_topics_deferred_are_denied(self):
        c5 = self.client(self.name("c"))
        self.assertEqual(c5.pub("room/1/temp", "21"), NOT_AUTHORIZED)
        self.assertEqual(c5.sub("room/#"), 0x87)
        self.assertEqual(c5.sub("#"), 0x87)
        c3 = self.client(self.name("c"), protocol=V3)
        self.assertEqual(c3.sub("#"), 0x80)
        self.assertEqual(c3.sub("room/1/temp"), 0x80)


class OtherTopicsAllowedTest(SecurityTest):
    """Isolation on, other topics allowed: wildcards and shared subscriptions still
    never carry another thing's jobs traffic."""

    options = {"operators": "operator", "other_topics": "allow"}

    def test_non_jobs_topics_allowed(self):
        c = self.client(self.name("c"))
        self.assertEqual(c.sub("room/#"), 1)
        self.assertEqual(c.sub("#"), 1)
        self.assertEqual(c.pub("room/1/temp", "21"), 0)
        self.assertEqual(c.expect("room/1/temp")[0], 21)
        c3 = self.client(self.name("c"), protocol=V3)
        self.assertEqual(c3.sub("room/#"), 1)

    def test_hash_subscriber_never_sees_another_things_jobs(self):
        a, b = self.name("a"), self.name("b")
        spy = self.client(a)
        for f in ("#", "+/things/#", "+/+/+/jobs/#", P(a, "#")):
            self.assertEqual(spy.sub(f), 1, f)
        for f in (P(b, "#"), "$aws/things/+/jobs/#", "$aws/#"):
            self.assertEqual(spy.sub(f), 0x87, f)
        dev_b = self.client(b)
        jb = self.job(b)
        outcome, _, _ = dev_b.request(P(b, "start-next"))     # b's request and reply
        self.assertEqual(outcome, "accepted")
        ja = self.job(a)
        body, _ = spy.expect(P(a, "notify-next"))
        self.assertEqual(body["execution"]["jobId"], ja)
        self.assertEqual([t for t in topics(spy.settle()) if b in t], [])
        self.assertEqual(self.execution(jb, b)["status"], "IN_PROGRESS")

    def test_shared_subscription_delivers_nothing_of_another_thing(self):
        a, b = self.name("a"), self.name("b")
        spy = self.client(a)
        spy.sub(f"$share/g/{P(b, '#')}")
        spy.sub("$share/g/$aws/things/+/jobs/#")
        dev_b = self.client(b)
        self.job(b)
        outcome, _, _ = dev_b.request(P(b, "start-next"))
        self.assertEqual(outcome, "accepted")
        self.assertEqual([t for t in topics(spy.settle()) if b in t], [])

    # Mosquitto 2.0.11 passes the whole $share/g/... filter to the ACL check: the plugin
    # judges what follows $share/<group>/.
    def test_shared_subscription_to_another_things_jobs_refused(self):
        a, b = self.name("a"), self.name("b")
        spy = self.client(a)
        self.assertEqual(spy.sub(f"$share/g/{P(b, '#')}"), 0x87)
        self.assertEqual(spy.sub("$share/g/$aws/things/+/jobs/#"), 0x87)


class UsernameIdentityTest(SecurityTest):
    options = {"operators": "operator", "identity": "username"}
    operator_id = "operator-console"

    @classmethod
    def operator_kw(cls):
        return {"username": "operator"}

    def test_username_decides_not_client_id(self):
        ua, ub = self.name("ua"), self.name("ub")
        # a's client id is b's thing name: it still reaches a (its username) only
        ca = self.client(ub, username=ua)
        cb = self.client(self.name("any-client-id"), username=ub, protocol=V3)
        self.assert_reaches(ca, ua)
        self.assert_reaches(cb, ub)
        self.assert_cannot_reach(ca, ub)
        self.assert_cannot_reach(cb, ua)

    def test_client_without_username_gets_nothing(self):
        t = self.name()
        c = self.client(t)       # client id = thing name, no username
        self.assertEqual(c.sub(P(t, "#")), 0x87)
        j = self.job(t)
        self.assertEqual(c.pub(P(t, "get")), NOT_AUTHORIZED)
        self.assertEqual(c.pub(P(t, "start-next")), NOT_AUTHORIZED)
        self.assertEqual(topics(c.settle()), [])
        self.assert_unchanged(j, t)

    def test_usernames_with_wildcards_or_slash_refused(self):
        t = self.name()
        j = self.job(t)
        slash = self.client(self.name("c"), username=f"{t}/x")
        self.assertEqual(slash.sub(P(t, "#")), 0x87)
        self.assertEqual(slash.sub(f"$aws/things/{t}/x/jobs/#"), 0x87)
        self.assertEqual(slash.pub(P(t, "start-next")), NOT_AUTHORIZED)
        self.assertEqual(slash.pub(f"$aws/things/{t}/x/jobs/get"), NOT_AUTHORIZED)
        plus = self.client(self.name("c"), username="+")
        hash_ = self.client(self.name("c"), username="#")
        wild = self.client(self.name("c"), username=f"{t}+")
        for c in (plus, hash_, wild):
            for f in ("$aws/things/+/jobs/#", "$aws/things/#", "$aws/#", P(t, "#")):
                self.assertEqual(c.sub(f), 0x87, (c.id, f))
            self.assertEqual(c.pub(P(t, "get")), NOT_AUTHORIZED)
        for c in (slash, plus, hash_, wild):
            self.assertEqual(topics(c.settle()), [])
        self.assert_unchanged(j, t)


class CertificateIdentityTest(SecurityTest):
    """identity cert_cn on a TLS listener that requires a client certificate."""

    options = {"operators": "operator", "identity": "cert_cn"}
    operator_id = "operator-console"

    @classmethod
    def prepare(cls):
        if not shutil.which("openssl"):
            raise unittest.SkipTest("needs the openssl command")

        harness.make_certificates(cls.tmp, ["devA", "devB", "operator"])
        cls.tls_port = free_port()

    @classmethod
    def extra_conf(cls):
        f = lambda n: os.path.join(cls.tmp, n)  # noqa: E731
        return (f"listener {cls.tls_port} 127.0.0.1\n"
                f"cafile {f('ca.crt')}\ncertfile {f('server.crt')}\nkeyfile {f('server.key')}\n"
                "require_certificate true\n")

    @classmethod
    def tls(cls, name):
        f = lambda n: os.path.join(cls.tmp, n)  # noqa: E731
        return {"ca_certs": f("ca.crt"), "certfile": f(f"{name}.crt"),
                "keyfile": f(f"{name}.key"), "tls_version": ssl.PROTOCOL_TLS_CLIENT}

    @classmethod
    def operator_kw(cls):
        return {"port": cls.tls_port, "tls": cls.tls("operator")}

    def device(self, cn, client_id, protocol=V5):
        return self.client(client_id, protocol=protocol, port=self.tls_port, tls=self.tls(cn))

    def test_certificate_cn_decides_not_client_id(self):
        a = self.device("devA", "devB")       # certificate devA, client id devB
        b = self.device("devB", self.name("c"), protocol=V3)
        self.assert_reaches(a, "devA")
        self.assert_reaches(b, "devB")
        self.assert_cannot_reach(a, "devB")
        self.assert_cannot_reach(b, "devA")

    def test_client_without_certificate_gets_nothing(self):
        # the plain listener: no certificate, so no identity, whatever the client id
        c = self.client("devA")
        self.assertEqual(c.sub(P("devA", "#")), 0x87)
        j = self.job("devA")
        self.assertEqual(c.pub(P("devA", "start-next")), NOT_AUTHORIZED)
        self.assertEqual(topics(c.settle()), [])
        self.assert_unchanged(j, "devA")


class OfflineCertificateSessionTest(CertificateIdentityTest):
    """cert_cn with use_identity_as_username: a device away with a persistent session
    gets the notifications sent while it was away (its connection, and so its
    certificate, is gone; the username Mosquitto keeps for the session is its CN)."""

    @classmethod
    def prepare(cls):
        super().prepare()
        # one CA for all, and "away": a thing no other test has jobs for
        harness.make_certificates(cls.tmp, ["devA", "devB", "operator", "away"])

    @classmethod
    def extra_conf(cls):
        return super().extra_conf() + "use_identity_as_username true\n"

    def persistent_device(self, cn):
        c = mqtt.Client(client_id=cn, clean_session=False, protocol=V3)
        got = queue.Queue()
        c.on_message = lambda cl, u, m: got.put(m)
        c.tls_set(**self.tls(cn))
        c.connect("127.0.0.1", self.tls_port, keepalive=30)
        c.loop_start()
        deadline = time.time() + harness.WAIT
        while not c.is_connected() and time.time() < deadline:
            time.sleep(0.01)
        self.assertTrue(c.is_connected())
        return c, got

    def test_notification_sent_while_away_arrives_on_return(self):
        c, _ = self.persistent_device("away")
        subscribed = threading.Event()
        c.on_subscribe = lambda *a: subscribed.set()
        c.subscribe(P("away", "notify-next"), qos=1)
        self.assertTrue(subscribed.wait(harness.WAIT))
        c.disconnect()
        c.loop_stop()
        j = self.job("away")
        c, got = self.persistent_device("away")
        try:
            m = got.get(timeout=harness.WAIT)
            self.assertEqual(m.topic, P("away", "notify-next"))
            self.assertEqual(json.loads(m.payload)["execution"]["jobId"], j)
        finally:
            c.disconnect()
            c.loop_stop()


class GrantTest(SecurityTest):
    options = {"operators": "operator", "grant_gateway": "dev1 dev2", "grant_harness": "*"}

    def test_gateway_acts_for_its_granted_things(self):
        gw = self.client("gateway")
        for t in ("dev1", "dev2"):
            self.assert_reaches(gw, t)
        outcome, _, _ = gw.request(P("gateway", "get"))       # and for itself
        self.assertEqual(outcome, "accepted")
        for f in ("$aws/things/+/jobs/#", "$aws/things/+/jobs/notify", "$aws/things/#",
                  "$aws/#"):
            self.assertEqual(gw.sub(f), 0x87, f)
        self.assert_cannot_reach(gw, "dev3")

    def test_star_grant_watches_every_thing(self):
        h = self.client("harness")
        self.assertEqual(h.sub("$aws/things/+/jobs/#"), 1)
        self.assertEqual(h.sub("$aws/#"), 1)
        x, y = self.name("x"), self.name("y")
        jx, jy = self.job(x), self.job(y)
        self.assertEqual(h.expect(P(x, "notify-next"))[0]["execution"]["jobId"], jx)
        self.assertEqual(h.expect(P(y, "notify-next"))[0]["execution"]["jobId"], jy)
        # it also sees the things' own requests, and may ask for any thing
        dev_y = self.client(y)
        outcome, _, _ = dev_y.request(P(y, "start-next"))
        self.assertEqual(outcome, "accepted")
        h.expect(P(y, "start-next"))
        outcome, body, _ = h.request(P(x, "get"))
        self.assertEqual([q["jobId"] for q in body["queuedJobs"]], [jx])


class OperatorsTest(SecurityTest):
    options = {"operators": "admin"}
    operator_id = "admin"

    def test_operator_manages_jobs(self):
        t = self.name()
        j = self.job(t)
        self.assert_job(j)
        resp = self.control("cancelJob", jobId=j)
        self.assertNotIn("error", resp, resp)
        self.assertEqual(self.execution(j, t)["status"], "CANCELED")

    def test_others_cannot_use_the_management_api(self):
        for protocol in (V5, V3):
            with self.subTest(protocol=protocol):
                t = self.name()
                # username admin does not help: the identity is the client id
                m = self.client(self.name("mallory"), protocol=protocol, username="admin")
                j = self.name("j")
                rc = m.pub("$CONTROL/jobs/v1", {"commands": [
                    {"command": "createJob", "jobId": j, "targets": [t], "document": {}}]})
                if protocol == V5:
                    self.assertEqual(rc, NOT_AUTHORIZED)
                for f in ("$CONTROL/jobs/v1/response", "$CONTROL/jobs/#", "$CONTROL/#",
                          "$CONTROL/+/v1/response"):
                    self.assertEqual(m.sub(f), REFUSED[protocol], f)
                self.assertEqual(topics(m.settle()), [])
                self.assertEqual(m.disconnects, [])
                self.assert_no_job(j)

    def test_operator_requests_are_not_seen_by_others(self):
        m = self.client(self.name("mallory"))
        self.assertEqual(m.sub("$CONTROL/jobs/v1"), 0x87)
        self.job(self.name())
        self.assertEqual(topics(m.settle()), [])


def write_acl_file(path):
    with open(path, "w") as f:
        f.write("# anonymous clients\n"
                "topic readwrite open/#\n"
                "topic write news/#\n"
                "\n"
                "user ops\n"
                "topic write $CONTROL/jobs/v1\n"
                "\n"
                "user mallory\n"
                "topic readwrite open/#\n"
                "topic read news/public\n"
                "# a broad grant: the plugin's isolation still decides jobs topics\n"
                "topic readwrite $aws/#\n")


class ControlByAclFileTest(SecurityTest):
    """control_access broker with an acl_file; other topics left to the file."""

    options = {"control_access": "broker"}
    operator_id = "ops-console"

    @classmethod
    def prepare(cls):
        write_acl_file(os.path.join(cls.tmp, "acl"))

    @classmethod
    def extra_conf(cls):
        return f"acl_file {os.path.join(cls.tmp, 'acl')}\n"

    @classmethod
    def operator_kw(cls):
        return {"username": "ops"}

    def test_ops_manages_jobs(self):
        t = self.name()
        j = self.job(t)
        self.assert_job(j)
        self.assertEqual(self.execution(j, t)["status"], "QUEUED")

    def test_other_users_cannot_manage(self):
        for kw in ({"username": "mallory"}, {}, {"username": "operator"}):
            with self.subTest(**kw):
                m = self.client(self.name("m"), **kw)
                j = self.name("j")
                self.assertEqual(m.pub("$CONTROL/jobs/v1", {"commands": [
                    {"command": "createJob", "jobId": j, "targets": ["t"], "document": {}}]}),
                    NOT_AUTHORIZED)
                self.assertEqual(topics(m.settle()), [])
                self.assert_no_job(j)

    def test_others_never_see_the_operators_traffic(self):
        # Mosquitto 2.0.11's acl_file grants every subscription (it filters on
        # delivery): the response goes to the requester only, the request to nobody.
        m = self.client(self.name("m"), username="mallory")
        m.sub("$CONTROL/jobs/v1/response")
        m.sub("$CONTROL/jobs/v1")
        self.job(self.name())
        self.assertEqual(topics(m.settle()), [])

    def test_acl_file_decides_other_topics(self):
        m = self.client(self.name("m"), username="mallory")
        self.assertEqual(m.sub("open/#"), 1)
        self.assertEqual(m.pub("open/x", "1"), 0)
        m.expect("open/x")
        self.assertEqual(m.pub("closed/x", "1"), NOT_AUTHORIZED)
        self.assertEqual(m.pub("news/public", "1"), NOT_AUTHORIZED)
        m.sub("news/#")              # granted by 2.0.11's acl_file; delivery is checked
        anon = self.client(self.name("a"))
        self.assertEqual(anon.pub("closed/x", "1"), NOT_AUTHORIZED)
        self.assertEqual(anon.pub("news/private", "2"), 0)
        self.assertEqual(anon.pub("news/public", "1"), 0)
        m.expect("news/public")
        self.assertEqual(topics(m.settle()), [])

    def test_jobs_isolation_still_applies(self):
        # mallory's file grants $aws/#: the plugin's isolation decides first
        a, b = self.name("a"), self.name("b")
        dev_a = self.client(a, username="mallory")
        self.assert_reaches(dev_a, a)
        # a device the file says nothing about still reaches its own jobs topics
        self.assert_reaches(self.client(b), b)
        self.assert_cannot_reach(dev_a, b)
        self.assertEqual(dev_a.sub("$aws/things/+/jobs/#"), 0x87)


DYNSEC_ROLE = {"rolename": "jobs-operator",
               "acls": [{"acltype": "publishClientSend", "topic": "$CONTROL/jobs/v1",
                         "priority": 0, "allow": True}]}
# A careless role: the jobs plugin, loaded first, still keeps things apart.
DYNSEC_WIDE_ROLE = {"rolename": "wide",
                    "acls": [{"acltype": "publishClientSend", "topic": "$aws/#", "allow": True},
                             {"acltype": "subscribePattern", "topic": "$aws/#", "allow": True}]}


def dynsec_client(username, password, roles):
    """A dynamic-security client entry: PBKDF2-SHA512, 101 iterations, 12-byte salt,
    as `mosquitto_ctrl dynsec` writes them."""
    salt = os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 101, 64)
    return {"username": username, "password": base64.b64encode(digest).decode(),
            "salt": base64.b64encode(salt).decode(), "iterations": 101,
            "roles": [{"rolename": r} for r in roles]}


@unittest.skipUnless(os.path.exists(DYNSEC), "needs Debian's mosquitto dynamic-security plugin")
class ControlByDynamicSecurityTest(SecurityTest):
    """control_access broker with the dynamic-security plugin loaded after the jobs
    plugin: a role with publishClientSend on $CONTROL/jobs/v1 makes an operator."""

    options = {"control_access": "broker"}
    operator_id = "ops-console"

    @classmethod
    def prepare(cls):
        config = {
            "defaultACLAccess": {"publishClientSend": False, "publishClientReceive": True,
                                 "subscribe": False, "unsubscribe": True},
            "clients": [dynsec_client("ops", "ops-secret", ["jobs-operator"]),
                        dynsec_client("mallory", "mallory-secret", ["wide"])],
            "groups": [],
            "roles": [DYNSEC_ROLE, DYNSEC_WIDE_ROLE],
        }
        with open(os.path.join(cls.tmp, "dynamic-security.json"), "w") as f:
            json.dump(config, f, indent=2)

    @classmethod
    def extra_conf(cls):
        return (f"plugin {DYNSEC}\n"
                f"plugin_opt_config_file {os.path.join(cls.tmp, 'dynamic-security.json')}\n")

    @classmethod
    def operator_kw(cls):
        return {"username": "ops", "password": "ops-secret"}

    def test_ops_manages_jobs(self):
        t = self.name()
        j = self.job(t)
        self.assert_job(j)
        self.assertEqual(self.execution(j, t)["status"], "QUEUED")

    def test_other_clients_cannot_manage(self):
        for kw in ({"username": "mallory", "password": "mallory-secret"}, {}):
            with self.subTest(user=kw.get("username")):
                m = self.client(self.name("m"), **kw)
                j = self.name("j")
                self.assertEqual(m.pub("$CONTROL/jobs/v1", {"commands": [
                    {"command": "createJob", "jobId": j, "targets": ["t"], "document": {}}]}),
                    NOT_AUTHORIZED)
                self.assertEqual(m.sub("$CONTROL/jobs/v1/response"), 0x87)
                self.assertEqual(topics(m.settle()), [])
                self.assert_no_job(j)

    def test_devices_keep_their_jobs_topics_and_dynsec_decides_the_rest(self):
        a, b = self.name("a"), self.name("b")
        dev = self.client(a)                       # anonymous
        self.assert_reaches(dev, a)
        self.assert_cannot_reach(dev, b)
        self.assertEqual(dev.pub("open/x", "1"), NOT_AUTHORIZED)   # dynsec's default
        self.assertEqual(dev.sub("open/#"), 0x87)

    def test_a_wide_dynsec_role_does_not_open_other_things(self):
        # mallory's role allows $aws/#; the jobs plugin's line comes first in
        # mosquitto.conf, so its isolation is asked first
        a, b = self.name("a"), self.name("b")
        m = self.client(a, username="mallory", password="mallory-secret")
        self.assert_reaches(m, a)
        self.assert_cannot_reach(m, b)
        self.assertEqual(m.sub("$aws/things/+/jobs/#"), 0x87)


@unittest.skipUnless(os.path.exists(DYNSEC) and shutil.which("mosquitto_ctrl"),
                     "needs the dynamic-security plugin and mosquitto_ctrl")
class ControlByDynamicSecurityCtrlTest(SecurityTest):
    """The same, set up with mosquitto_ctrl as an administrator would."""

    options = {"control_access": "broker"}
    operator_id = "ops-console"

    @classmethod
    def prepare(cls):
        cls.dynsec_file = os.path.join(cls.tmp, "dynamic-security.json")
        subprocess.run(["mosquitto_ctrl", "dynsec", "init", cls.dynsec_file, "admin",
                        "admin-secret"], check=True, capture_output=True)

    @classmethod
    def extra_conf(cls):
        return f"plugin {DYNSEC}\nplugin_opt_config_file {cls.dynsec_file}\n"

    @classmethod
    def after_start(cls):
        ctrl = ["mosquitto_ctrl", "-h", "127.0.0.1", "-p", str(cls.broker.port),
                "-u", "admin", "-P", "admin-secret", "dynsec"]
        for command in (["createRole", "jobs-operator"],
                        ["addRoleACL", "jobs-operator", "publishClientSend",
                         "$CONTROL/jobs/v1", "allow"],
                        ["createClient", "ops", "-p", "ops-secret"],
                        ["addClientRole", "ops", "jobs-operator"],
                        ["createClient", "mallory", "-p", "mallory-secret"]):
            subprocess.run(ctrl + command, check=True, capture_output=True, timeout=10)

    @classmethod
    def operator_kw(cls):
        return {"username": "ops", "password": "ops-secret"}

    def test_ops_manages_and_mallory_cannot(self):
        j = self.job(self.name())
        self.assert_job(j)
        m = self.client(self.name("m"), username="mallory", password="mallory-secret")
        j = self.name("j")
        self.assertEqual(m.pub("$CONTROL/jobs/v1", {"commands": [
            {"command": "createJob", "jobId": j, "targets": ["t"], "document": {}}]}),
            NOT_AUTHORIZED)
        self.assertEqual(topics(m.settle()), [])
        self.assert_no_job(j)


class ConfigurationTest(unittest.TestCase):
    """Identities that could not be told apart from wildcards or levels are refused at
    start-up."""

    def test_wildcard_and_slash_identities_refused(self):
        for options, words in (({"grant_dev/1": "x"}, "may not"),
                               ({"grant_a+b": "x"}, "may not"),
                               ({"grant_a#": "x"}, "may not"),
                               ({"operators": "ops a/b"}, "may not"),
                               ({"grant_gateway": "dev1 +"}, "not a thing name"),
                               ({"identity": "cn"}, "identity")):
            with self.subTest(options=options):
                broker = Broker(options=dict(PLUGIN_DEFAULTS, **options))
                try:
                    log = broker.start(expect_failure=True)
                finally:
                    broker.cleanup()
                self.assertIn("jobs: bad configuration", log)
                self.assertIn(words, log)


if __name__ == "__main__":
    unittest.main()
