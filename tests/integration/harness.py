"""Test harness: a real mosquitto with the built plugin on a free loopback port,
and paho-mqtt clients that talk to it.

Environment (set by ctest, see tests/CMakeLists.txt):
  JOBS_PLUGIN   path of the built mosquitto_jobs.so (required)
  JOBS_PRELOAD  sanitizer runtime to LD_PRELOAD into mosquitto (sanitizer builds)
  JOBS_MOSQUITTO  the mosquitto to start (default: `mosquitto` on the PATH), for
                instance the broker of scripts/build-mosquitto-strict
  JOBS_BROKER_WRAPPER  a command line to start mosquitto under, for instance
                "valgrind --leak-check=full --log-file=/tmp/vg/vg-%p.log"
                (scripts/valgrind-it); the broker is then given more time to start
                and stop, and its exit code is left to whoever judges the wrapper
  JOBS_STORE    the store every Broker gets: `sqlite` (the default: a file of its
                own) or `postgresql`: a database of its own (CREATE DATABASE, dropped
                at cleanup) on the server that tests/with-postgres started (its
                PGHOST, PGPORT, PGUSER). Tests of SQLite-only things are marked
                @sqlite_only and skipped then.
"""
import itertools
import json
import os
import queue
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

import paho.mqtt.client as mqtt

PLUGIN = os.environ.get("JOBS_PLUGIN")
PRELOAD = os.environ.get("JOBS_PRELOAD", "")
MOSQUITTO = os.environ.get("JOBS_MOSQUITTO") or "mosquitto"
HERE = os.path.dirname(os.path.abspath(__file__))
WRAPPER = shlex.split(os.environ.get("JOBS_BROKER_WRAPPER", ""))
# Under a wrapper such as valgrind the broker starts and stops far more slowly.
SLOW = 8 if WRAPPER else 1


STORE = os.environ.get("JOBS_STORE", "sqlite")
if STORE not in ("sqlite", "postgresql"):
    raise RuntimeError(f"JOBS_STORE is {STORE!r}: sqlite or postgresql")


def sqlite_only(why):
    """Marks a test (or a class of them) that is about the SQLite store itself (its
    file, WAL, synchronous, size limit...): skipped, with `why`, when the suite runs
    against PostgreSQL (JOBS_STORE=postgresql)."""
    return unittest.skipIf(STORE != "sqlite", f"SQLite store only: {why}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# How long a client waits for what the broker owes it (a CONNACK, a SUBACK, a reply):
# generous, since the machine may be loaded; only a test that fails waits that long.
WAIT = 10.0 * SLOW


def listens_on(pid, port):
    """Whether process `pid` holds the listening TCP socket of 127.0.0.1:port (None
    when /proc cannot tell). Another process may take a port free_port() gave between
    its test and mosquitto's bind: connecting to it proves nothing."""
    try:
        with open("/proc/net/tcp") as f:
            rows = [line.split() for line in f.readlines()[1:]]
        inodes = {r[9] for r in rows if r[1] == f"0100007F:{port:04X}" and r[3] == "0A"}
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    for fd in fds:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            return True
    return False


def P(thing, *levels):
    """The jobs topic of `thing`, with more levels: P("t", "j1", "get")."""
    return "/".join((f"$aws/things/{thing}/jobs",) + levels)


ARN_PREFIX = "arn:aws:iot:us-east-1:000000000000"  # the plugin's default region and account


def thing_arn(name):
    return f"{ARN_PREFIX}:thing/{name}"


def group_arn(name):
    return f"{ARN_PREFIX}:thinggroup/{name}"


def make_certificates(directory, clients):
    """A test CA (ca.crt), a server certificate for localhost / 127.0.0.1
    (server.crt, server.key) and, for each name in clients, a client certificate
    with that CN (<name>.crt, <name>.key), written into directory."""
    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=jobs test CA")
    certs = [("server", "localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
              "extendedKeyUsage=serverAuth\n")]
    certs += [(name, name, "extendedKeyUsage=clientAuth\n") for name in clients]
    for name, cn, ext in certs:
        with open(os.path.join(directory, f"{name}.ext"), "w") as f:
            f.write("basicConstraints=CA:FALSE\n" + ext)
        openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext")


class SqliteStore:
    """A SQLite database file: `path`, in a private temp dir of its own (removed when
    the last broker using it is cleaned up), or the file given (left alone)."""

    kind = "sqlite"

    def __init__(self, path=None):
        self.own_dir = None if path else tempfile.mkdtemp(prefix="jobs-it-db-")
        self.path = path or os.path.join(self.own_dir, "jobs.db")
        self.users = 0

    def options(self):
        return {"db_path": self.path}

    def location(self):
        """What the plugin reports as the store's location (describeBroker, its log)."""
        return self.path

    def acquire(self):
        self.users += 1
        return self

    def release(self):
        self.users -= 1
        if self.users <= 0 and self.own_dir:
            shutil.rmtree(self.own_dir, ignore_errors=True)


_store_names = itertools.count(1)


class PostgresStore:
    """A database of its own, jobs_<pid>_<n>, on a PostgreSQL server: created at once,
    dropped (WITH (FORCE): a killed broker's session may linger) when the last broker
    using it is cleaned up. The server: host, port and user given (a
    pg.PostgresServer's: PostgresStore.on(server)) or, by default, libpq's PGHOST,
    PGPORT and PGUSER (tests/with-postgres sets them)."""

    kind = "postgresql"

    def __init__(self, host=None, port=None, user=None):
        self.host = host or os.environ.get("PGHOST")
        self.port = int(port or os.environ.get("PGPORT") or 0)
        self.user = user or os.environ.get("PGUSER")
        if not (self.host and self.port and self.user):
            raise RuntimeError("JOBS_STORE=postgresql needs PGHOST, PGPORT and PGUSER "
                               "(run the tests under tests/with-postgres)")
        self.dbname = f"jobs_{os.getpid()}_{next(_store_names)}"
        self.users = 0
        self.dropped = False
        self.psql(f'create database "{self.dbname}"', dbname="postgres")

    @classmethod
    def on(cls, server):
        return cls(server.host, server.port, server.user)

    @property
    def uri(self):
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}"

    @property
    def conninfo(self):
        return f"host={self.host} port={self.port} user={self.user} dbname={self.dbname}"

    def options(self):
        return {"store": self.uri}

    def location(self):
        return self.uri

    def psql(self, sql, dbname=None, timeout=WAIT):
        """sql run with psql in this database (or dbname); rows as tuples of strings."""
        import pg  # pg imports this module
        return pg.psql(sql, f"host={self.host} port={self.port} user={self.user} "
                            f"dbname={dbname or self.dbname}", timeout=timeout)

    def acquire(self):
        self.users += 1
        return self

    def release(self):
        self.users -= 1
        if self.users <= 0 and not self.dropped:
            self.dropped = True
            try:
                self.psql(f'drop database if exists "{self.dbname}" with (force)', dbname="postgres")
            except Exception as e:  # the server may be gone (a fault test stopped it)
                sys.stderr.write(f"warning: could not drop database {self.dbname}: {e}\n")


def default_store():
    """A new store of the kind JOBS_STORE names."""
    return PostgresStore() if STORE == "postgresql" else SqliteStore()


class Broker:
    """A mosquitto process with the plugin, on a store of its own (of the kind
    JOBS_STORE names) unless given one: stop() followed by start() is a broker restart
    over the same state, and Broker(store=other.store) a broker on the same state as
    another (one after the other for SQLite; at once for PostgreSQL). The store is
    removed when the last broker using it is cleaned up. db_path (or the option
    db_path): a SQLite file given (SQLite-only tests), which b.db_path then names."""

    def __init__(self, options=None, extra_conf="", db_path=None, store=None):
        if not PLUGIN:
            raise RuntimeError("JOBS_PLUGIN is not set")
        self.dir = tempfile.mkdtemp(prefix="jobs-it-")
        self.port = free_port()
        if store is None:
            path = db_path or (options or {}).get("db_path")
            store = SqliteStore(path) if path else default_store()
        self.store = store.acquire()
        self.db_path = store.path if store.kind == "sqlite" else None
        # An open lab by default (tests of the protocol use whatever client ids they
        # like); test_security.py and test_aws_sdk.py test the isolating defaults.
        self.options = dict(store.options())
        self.options.update({"isolation": "off", "other_topics": "allow", "operators": "*"})
        self.options.update(options or {})
        # None removes a default: the plugin's own default applies
        self.options = {k: v for k, v in self.options.items() if v is not None}
        self.extra_conf = extra_conf
        self.proc = None
        self.started_once = False
        self.log_path = os.path.join(self.dir, "mosquitto.log")
        self.conf_path = os.path.join(self.dir, "mosquitto.conf")

    def write_conf(self):
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "per_listener_settings false",
            "set_tcp_nodelay true",
            "persistence false",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            f"plugin {PLUGIN}",
        ]
        if os.geteuid() == 0:
            lines.append("user root")
        for k, v in self.options.items():
            lines.append(f"plugin_opt_{k} {v}")
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines) + "\n" + self.extra_conf + "\n")

    def env(self):
        env = dict(os.environ)
        if PRELOAD:
            env["LD_PRELOAD"] = PRELOAD
            env["ASAN_OPTIONS"] = ("abort_on_error=0:halt_on_error=1:detect_leaks=1:"
                                   f"log_path={self.dir}/asan")
            env["UBSAN_OPTIONS"] = f"halt_on_error=1:print_stacktrace=1:log_path={self.dir}/ubsan"
        return env

    def start(self, expect_failure=False, timeout=30.0):
        """Starts mosquitto; waits until it listens on its port (or, with
        expect_failure, until the process exits, returning its log). When another
        process took the port in the meantime, starts again on a new one (a restart
        keeps its port, as clients and tests expect)."""
        for attempt in range(5):
            self.write_conf()
            log_start = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
            self.log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(WRAPPER + [MOSQUITTO, "-c", self.conf_path], stdout=self.log,
                                         stderr=subprocess.STDOUT, env=self.env())
            deadline = time.time() + timeout * SLOW
            while time.time() < deadline:
                if self.proc.poll() is not None:
                    self.log.close()
                    if expect_failure:
                        return self.read_log()
                    if (b"Address already in use" in self.read_log_bytes(log_start)
                            and not self.started_once and attempt < 4):
                        break
                    raise RuntimeError("mosquitto exited at start:\n" + self.read_log())
                if not expect_failure:
                    try:
                        with socket.create_connection(("127.0.0.1", self.port), timeout=1.0):
                            pass
                        if listens_on(self.proc.pid, self.port) is not False:
                            self.started_once = True
                            return None
                    except OSError:
                        pass
                time.sleep(0.05)
            else:
                break
            self.port = free_port()
        if expect_failure:
            self.stop()
            raise RuntimeError("mosquitto kept running where it should have refused to start")
        raise RuntimeError("mosquitto did not open its port:\n" + self.read_log())

    def read_log(self):
        return self.read_log_bytes().decode("utf-8", "replace")

    def read_log_bytes(self, offset=0):
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read()

    def sanitizer_reports(self):
        return [os.path.join(self.dir, n) for n in os.listdir(self.dir)
                if n.startswith("asan") or n.startswith("ubsan")]

    def stop(self, sig=signal.SIGTERM):
        """Stops the broker; asserts a clean exit (after SIGTERM) and no sanitizer
        report. Returns the log."""
        if self.proc is None:
            return self.read_log()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20 * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("mosquitto did not stop on SIGTERM")
        code = self.proc.returncode
        self.proc = None
        self.log.close()
        reports = self.sanitizer_reports()
        text = "".join(open(r, errors="replace").read() for r in reports)
        # LeakSanitizer's own tracer sometimes crashes while it stops the process's
        # threads at exit ("LeakSanitizer has encountered a fatal error"): that is no
        # finding about the code, and it leaves the exit code non-zero. Anything else
        # a sanitizer says is.
        lsan_tracer_failed = "LeakSanitizer has encountered a fatal error" in text and not any(
            k in text for k in ("ERROR: AddressSanitizer", "detected memory leaks", "runtime error"))
        if text and not lsan_tracer_failed:
            raise AssertionError("sanitizer report:\n" + text)
        if lsan_tracer_failed:
            sys.stderr.write("warning: LeakSanitizer's tracer failed at the broker's exit; leaks unchecked this run\n")
        if sig == signal.SIGTERM and code != 0 and not WRAPPER and not lsan_tracer_failed:
            raise AssertionError(f"mosquitto exited with {code}:\n" + self.read_log())
        return self.read_log()

    def cleanup(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
        if getattr(self, "log", None) is not None and not self.log.closed:
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.store is not None:
            store, self.store = self.store, None
            store.release()

    def client(self, client_id, protocol=mqtt.MQTTv311, **kw):
        return Client(self.port, client_id, protocol=protocol, **kw)


class PahoWithReasonCodes(mqtt.Client):
    """paho-mqtt 1.6.1 reads the reason code of an MQTT 5 PUBACK and drops it: this
    client keeps it in puback_codes (mid -> reason code), for tests that check a
    publish was accepted (< 0x80) or refused (0x87)."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.puback_codes = {}

    def _handle_pubackcomp(self, cmd):
        packet = self._in_packet["packet"]
        if cmd == "PUBACK" and len(packet) >= 2:
            (mid,) = struct.unpack("!H", packet[:2])
            self.puback_codes[mid] = packet[2] if len(packet) > 2 else 0
        return super()._handle_pubackcomp(cmd)


class Client:
    """A connected paho client whose received messages land in a queue."""

    def __init__(self, port, client_id, protocol=mqtt.MQTTv311, username=None):
        self.id = client_id
        self.messages = queue.Queue()
        self.c = mqtt.Client(client_id=client_id, protocol=protocol)
        if username:
            self.c.username_pw_set(username)
        self.c.on_message = lambda c, u, m: self.messages.put(m)
        self.protocol = protocol
        self.connected = False
        self.disconnects = []
        self.c.on_disconnect = lambda c, u, rc, *a: self.disconnects.append(rc)
        self._subacks = set()
        self.c.on_subscribe = lambda c, u, mid, *a: self._subacks.add(mid)
        self._sync_topic = None
        self._sync_count = 0
        self.c.connect("127.0.0.1", port, keepalive=30)
        # Like the AWS SDKs: without it, a request sent right after the PUBACK of the
        # previous reply waits ~40 ms for the broker's delayed ACK (Nagle).
        self.c.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.c.loop_start()
        deadline = time.time() + WAIT
        while not self.c.is_connected() and time.time() < deadline:
            time.sleep(0.01)
        if not self.c.is_connected():
            raise RuntimeError(f"client {client_id} could not connect")

    def subscribe(self, topic, qos=1, timeout=WAIT):
        """Subscribes and waits for the SUBACK: the broker sends it once the
        subscription is in place, so whatever is published after this returns is
        delivered."""
        result, mid = self.c.subscribe(topic, qos)
        assert result == mqtt.MQTT_ERR_SUCCESS
        deadline = time.time() + timeout
        while mid not in self._subacks:
            if time.time() > deadline:
                raise AssertionError(f"{self.id}: no SUBACK for {topic}")
            time.sleep(0.002)

    def publish(self, topic, payload, qos=1, **kw):
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload)
        info = self.c.publish(topic, payload, qos=qos, **kw)
        if qos > 0:
            info.wait_for_publish(timeout=WAIT)
            assert info.is_published(), f"publish on {topic} was not acknowledged"
        return info

    def get(self, timeout=3.0):
        """The next message, or None."""
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            return None

    def expect(self, topic, timeout=WAIT):
        """Waits for a message on `topic` (others are kept in order); returns
        (payload as JSON, message). Fails the test when none comes."""
        kept = []
        deadline = time.time() + timeout
        try:
            while True:
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError(f"{self.id}: no message on {topic}; others: "
                                         + ", ".join(m.topic for m in kept))
                m = self.get(left)
                if m is None:
                    continue
                if m.topic == topic:
                    return json.loads(m.payload), m
                kept.append(m)
        finally:
            for m in kept:
                self.messages.put(m)

    def drain(self, wait=0.3):
        """Returns every message received within `wait` seconds."""
        out = []
        deadline = time.time() + wait
        while True:
            m = self.get(max(0.0, deadline - time.time()))
            if m is None:
                return out
            out.append(m)

    def sync(self, timeout=WAIT):
        """A round trip through the broker: publishes on a topic only this client
        subscribes to and waits for it to come back. Returns (and consumes) every
        other message received before it. Whatever the broker queued for this client
        before the round trip started (for instance the replies and notifications of
        a request whose reply was already seen) is in that list, so "nothing else
        was sent" can be checked without sleeping."""
        if self._sync_topic is None:
            topic = f"sync/{self.id}"
            result, mid = self.c.subscribe(topic, 1)
            assert result == mqtt.MQTT_ERR_SUCCESS
            deadline = time.time() + timeout
            while mid not in self._subacks:
                if time.time() > deadline:
                    raise AssertionError(f"{self.id}: no SUBACK for {topic}")
                time.sleep(0.005)
            self._sync_topic = topic
        self._sync_count += 1
        token = str(self._sync_count).encode()
        self.publish(self._sync_topic, token, qos=1)
        out = []
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            m = self.get(left) if left > 0 else None
            if m is None:
                raise AssertionError(f"{self.id}: sync message did not come back")
            if m.topic == self._sync_topic and m.payload == token:
                return out
            out.append(m)

    def request(self, topic, payload=None, qos=1, timeout=WAIT):
        """Publishes a jobs request and waits for its accepted or rejected reply.
        Returns (outcome, payload, message) with outcome 'accepted' or 'rejected'."""
        if payload is None:
            payload = {}
        self.publish(topic, payload, qos=qos)
        deadline = time.time() + timeout
        kept = []
        try:
            while time.time() < deadline:
                m = self.get(deadline - time.time())
                if m is None:
                    break
                for outcome in ("accepted", "rejected"):
                    if m.topic == f"{topic}/{outcome}":
                        return outcome, json.loads(m.payload), m
                kept.append(m)
        finally:
            for m in kept:
                self.messages.put(m)
        raise AssertionError(f"{self.id}: no reply to {topic}")

    def control(self, *commands, timeout=WAIT):
        """Sends a $CONTROL/jobs/v1 request; returns the list of responses."""
        self.publish("$CONTROL/jobs/v1", {"commands": list(commands)})
        body, _ = self.expect("$CONTROL/jobs/v1/response", timeout)
        return body["responses"]

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


class BrokerTest(unittest.TestCase):
    """Starts one broker per test; self.broker, self.operator."""

    options = None

    def setUp(self):
        self.broker = Broker(options=self.options)
        self.broker.start()
        self.clients = []
        self.operator = self.client("operator")

    def tearDown(self):
        for c in self.clients:
            try:
                c.close()
            except Exception:
                pass
        try:
            self.broker.stop()
        finally:
            self.broker.cleanup()

    def client(self, client_id, **kw):
        c = self.broker.client(client_id, **kw)
        self.clients.append(c)
        return c

    def create_job(self, job_id, targets, document=None, **fields):
        cmd = {"command": "createJob", "jobId": job_id, "targets": targets,
               "document": document if document is not None else {"action": job_id}}
        cmd.update(fields)
        [resp] = self.operator.control(cmd)
        self.assertNotIn("error", resp, resp)
        return resp["data"]


_unique = itertools.count(1)


class SharedBrokerTest(unittest.TestCase):
    """One broker for the whole class (cls.broker, cls.operator). Tests must not
    interfere: each uses its own names, from self.name() (self.thing is one made
    for the test)."""

    options = None

    @classmethod
    def setUpClass(cls):
        cls.broker = Broker(options=cls.options)
        try:
            cls.broker.start()
            cls.operator = cls.broker.client(f"operator-{cls.__name__}"[:60])
        except Exception:
            cls.broker.cleanup()
            raise

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

    def setUp(self):
        self.started = time.time()
        self.clients = []
        self.thing = self.name("t")

    def assert_recent(self, seconds, msg=None):
        """An epoch time in whole seconds that the broker took during this test: not
        before the test started, not after now (whatever time the test took)."""
        self.assertGreaterEqual(seconds, int(self.started), msg)
        self.assertLessEqual(seconds, time.time(), msg)

    def tearDown(self):
        for c in self.clients:
            try:
                c.close()
            except Exception:
                pass

    def name(self, prefix="n"):
        """A name unique in this process, valid as a thing name and as a job id."""
        return f"{prefix}{next(_unique)}-{self._testMethodName[5:35]}"

    def client(self, client_id=None, **kw):
        c = self.broker.client(client_id or self.name("c"), **kw)
        self.clients.append(c)
        return c

    create_job = BrokerTest.create_job


class OwnBrokersTest(unittest.TestCase):
    """For tests that start, stop and restart brokers of their own (one or more per
    test), each removed after the test with its clients."""

    def broker(self, **options):
        """A broker for this test (not started), removed after it."""
        b = Broker(options=options)
        self.addCleanup(b.cleanup)
        return b

    def connect(self, broker, name):
        c = broker.client(name)
        self.addCleanup(c.close)
        return c

    def control_ok(self, op, command, **fields):
        [resp] = op.control(dict(fields, command=command))
        self.assertNotIn("error", resp, resp)
        return resp["data"]


class ControlAssertions:
    """One management command through self.operator, with its outcome asserted."""

    def run1(self, command, **fields):
        [resp] = self.operator.control(dict(fields, command=command))
        self.assertEqual(resp.get("command"), command)
        return resp

    def ok(self, command, **fields):
        resp = self.run1(command, **fields)
        self.assertNotIn("error", resp, resp)
        self.assertIsInstance(resp.get("data"), dict, resp)
        return resp["data"]

    def fails(self, command, exception, **fields):
        resp = self.run1(command, **fields)
        self.assertNotIn("data", resp, resp)
        self.assertIsInstance(resp.get("error"), str, resp)
        self.assertTrue(resp["error"].startswith(exception + ": "), resp["error"])
        return resp["error"]

    # The jobs of a SharedBrokerTest (self.name, self.thing).

    def create(self, targets=None, document=None, **fields):
        """createJob (for self.thing by default), its jobId checked; returns the id."""
        job_id = fields.pop("jobId", None) or self.name("j")[:64]
        data = self.ok("createJob", jobId=job_id, targets=targets or [self.thing],
                       document=document if document is not None else {"job": job_id},
                       **fields)
        self.assertEqual(data["jobId"], job_id)
        return job_id

    def describe_job(self, job_id):
        return self.ok("describeJob", jobId=job_id)["job"]

    def describe_exec(self, job_id, thing=None, **fields):
        return self.ok("describeJobExecution", jobId=job_id, thingName=thing or self.thing,
                       **fields)["execution"]

    def counts(self, job_id):
        """jobProcessDetails without its zero counts."""
        pd = self.describe_job(job_id)["jobProcessDetails"]
        return {k: v for k, v in pd.items() if v}
