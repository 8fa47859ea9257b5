"""What the broker's log tells an operator: refused requests (one notice line each,
at most a few a second, with the count of those held back), misconfigurations refused
at start-up or warned about in words that say what to change, and start-up errors
that say which file, why, and as which user."""
import json
import os
import pwd
import shutil
import socket
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from harness import Broker, OwnBrokersTest, P, free_port, sqlite_only

# The plugin's own defaults (harness.Broker's are an open lab).
PLUGIN_DEFAULTS = {"isolation": None, "other_topics": None, "operators": None}
USER = pwd.getpwuid(os.geteuid()).pw_name


def refusal_lines(log):
    return [line for line in log.splitlines() if "jobs: refused " in line]


def wait_for(broker, predicate, what, timeout=10.0, poke=None):
    """Waits until predicate(log) holds (calling poke() between looks); returns the
    log. Fails when it does not within timeout."""
    deadline = time.time() + timeout
    while True:
        log = broker.read_log()
        if predicate(log):
            return log
        if time.time() > deadline:
            raise AssertionError(f"{what} not in the log:\n{log}")
        if poke:
            poke()
        time.sleep(0.1)


def http_get(port, path, host="127.0.0.1"):
    """(status, body) of a GET, proxies ignored."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://{host}:{port}{path}", timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def edit_conf(broker, edit):
    """Makes the broker's mosquitto.conf edit(its lines)."""
    write_conf = broker.write_conf

    def edited():
        write_conf()
        with open(broker.conf_path) as f:
            lines = edit(f.read().splitlines())
        with open(broker.conf_path, "w") as f:
            f.write("\n".join(lines) + "\n")
    broker.write_conf = edited


class RefusalLogTest(OwnBrokersTest):
    """Isolation on, one operator; refused requests in the log."""

    def setUp(self):
        self.keys_dir = tempfile.mkdtemp(prefix="jobs-it-keys-")
        self.addCleanup(shutil.rmtree, self.keys_dir, True)
        keys = os.path.join(self.keys_dir, "keys")
        with open(keys, "w") as f:
            f.write("AKIDEXAMPLE wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY ops\n")
        self.http_port = free_port()
        self.b = self.broker(**dict(PLUGIN_DEFAULTS, operators="ops", other_topics="allow",
                                    http_listen=f"127.0.0.1:{self.http_port}", http_keys_file=keys))
        self.b.start()

    def test_refused_publish_subscribe_and_management_command_are_logged(self):
        mallory = self.connect(self.b, "mallory")
        # management command by a client that is no operator
        mallory.publish("$CONTROL/jobs/v1", {"commands": [{"command": "listJobs"}]})
        # another thing's topics
        mallory.publish(P("dev-b", "get"), {})
        mallory.c.subscribe(P("dev-b", "notify"), 1)
        mallory.c.subscribe("$aws/things/+/jobs/notify", 1)
        mallory.sync()
        log = wait_for(self.b, lambda log: len(refusal_lines(log)) >= 4, "four refusals")
        lines = refusal_lines(log)
        self.assertEqual(len(lines), 4, lines)
        control, publish, subscribe, wildcard = lines
        for part in ("publish on $CONTROL/jobs/v1", "client mallory", "identity mallory",
                     "not an operator", "plugin_opt_operators"):
            self.assertIn(part, control)
        for part in ("publish on $aws/things/dev-b/jobs/get", "client mallory", "thing dev-b",
                     "isolation"):
            self.assertIn(part, publish)
        for part in ("subscribe on $aws/things/dev-b/jobs/notify", "thing dev-b", "isolation"):
            self.assertIn(part, subscribe)
        for part in ("subscribe on $aws/things/+/jobs/notify", "thing *", "plugin_opt_grant_<identity> *"):
            self.assertIn(part, wildcard)
        for line in lines:
            self.assertIn("jobs: refused", line)
        # what is allowed leaves no such line: its own thing, and the operator
        ops = self.connect(self.b, "ops")
        ops.publish("$CONTROL/jobs/v1", {"commands": [{"command": "listJobs"}]})
        outcome, _, _ = mallory.request(P("mallory", "get"), {})
        self.assertEqual(outcome, "accepted")
        ops.sync()
        self.assertEqual(len(refusal_lines(self.b.read_log())), 4)

    def test_http_refusal_is_logged(self):
        status, body = http_get(self.http_port, "/things/dev-b/jobs")
        self.assertEqual(status, 403, body)
        log = wait_for(self.b, lambda log: any("HTTP GET /things/dev-b/jobs" in l for l in refusal_lines(log)),
                       "the HTTP refusal")
        [line] = [l for l in refusal_lines(log) if "HTTP" in l]
        for part in ("from 127.0.0.1", "key=-", "403"):
            self.assertIn(part, line)

    def test_a_flood_of_refusals_is_capped_and_counted(self):
        mallory = self.connect(self.b, "mallory")
        start = time.time()
        for i in range(1000):
            mallory.c.publish(P("dev-b", "get"), json.dumps({"clientToken": str(i)}), qos=0)
        mallory.sync(timeout=30)
        flood_lines = len(refusal_lines(self.b.read_log()))
        # 10 at once, then 5 a second
        self.assertGreaterEqual(flood_lines, 10)
        self.assertLessEqual(flood_lines, 10 + 5 * (time.time() - start) + 1)
        # the first refusal written after the flood says how many were held back
        pokes = []

        def poke():
            pokes.append(mallory.c.publish(P("dev-b", "get"), "{}", qos=0))
        log = wait_for(self.b, lambda log: len(refusal_lines(log)) > flood_lines, "a refusal after the flood",
                       poke=poke)
        elapsed = time.time() - start
        lines = refusal_lines(log)
        self.assertLessEqual(len(lines), 10 + 5 * elapsed + 1, f"{len(lines)} lines in {elapsed:.1f}s")
        self.assertIn("similar refusals suppressed)", lines[flood_lines])
        self.assertIn("isolation", lines[flood_lines])

        def held_back(line):
            return int(line.rsplit("(", 1)[1].split()[0]) if "suppressed)" in line else 0
        # every refusal up to that line is a line or counted in one
        accounted = flood_lines + 1 + sum(held_back(l) for l in lines[:flood_lines + 1])
        self.assertGreaterEqual(accounted, 1000)
        self.assertLessEqual(accounted, 1000 + len(pokes))


class StartupTest(OwnBrokersTest):
    """Misconfigurations and unusable files: refused at start-up, or warned about,
    saying what to change."""

    def refused(self, options, *words):
        b = self.broker(**options)
        log = b.start(expect_failure=True)
        self.assertNotEqual(b.proc.returncode, 0)
        lines = [line for line in log.splitlines() if "jobs:" in line]
        for word in words:
            self.assertTrue(any(word in line for line in lines), f"{word!r} not in {lines}")
        return lines

    def test_other_topics_defer_is_warned_about(self):
        b = self.broker(**PLUGIN_DEFAULTS)
        b.start()
        log = b.stop()
        [line] = [l for l in log.splitlines() if "plugin_opt_other_topics is defer" in l]
        for part in ("denies every one of them", "plugin_opt_other_topics allow", "acl_file"):
            self.assertIn(part, line)
        b = self.broker(**dict(PLUGIN_DEFAULTS, other_topics="allow"))
        b.start()
        self.assertNotIn("plugin_opt_other_topics is defer", b.stop())

    def test_per_listener_settings_true_is_refused(self):
        b = self.broker()
        # set before any other security setting, as Mosquitto requires
        edit_conf(b, lambda lines: ["per_listener_settings true"]
                  + [l for l in lines if not l.startswith("per_listener_settings")])
        log = b.start(expect_failure=True)
        self.assertNotEqual(b.proc.returncode, 0)
        [line] = [l for l in log.splitlines() if "jobs: per_listener_settings is true" in l]
        for part in ("never sends plugins the TICK event", "timeouts", "HTTP API",
                     "Set per_listener_settings false"):
            self.assertIn(part, line)
        if b.db_path:
            self.assertFalse(os.path.exists(b.db_path), "refused before it opened the database")

    def test_http_options_without_a_listener_are_refused(self):
        self.refused({"http_keys_file": "/etc/mosquitto/jobs-keys"}, "plugin_opt_http_keys_file is set",
                     "plugin_opt_http_listen is not", "add plugin_opt_http_listen")

    @sqlite_only("paths and permissions of the SQLite file")
    def test_unusable_database_paths_say_why_and_what_to_do(self):
        tmp = tempfile.mkdtemp(prefix="jobs-it-db-")
        self.addCleanup(shutil.rmtree, tmp, True)
        missing = os.path.join(tmp, "missing", "jobs.db")
        self.refused({"db_path": missing}, f"directory {tmp}/missing: No such file or directory",
                     f"the broker runs as {USER}", f"create the directory and chown it to {USER}")
        locked = os.path.join(tmp, "locked")
        os.mkdir(locked)
        os.chmod(tmp, 0o755)
        if os.geteuid() == 0:
            # root may write anywhere: the broker drops to nobody, for whom the directory is closed
            os.chmod(locked, 0o700)
            b = self.broker(db_path=os.path.join(locked, "jobs.db"))
            edit_conf(b, lambda lines: ["user nobody" if l == "user root" else l for l in lines])
            user = "nobody"
        else:
            os.chmod(locked, 0o500)
            b = self.broker(db_path=os.path.join(locked, "jobs.db"))
            user = USER
        log = b.start(expect_failure=True)
        [line] = [l for l in log.splitlines() if "cannot use database" in l]
        for part in (f"directory {locked}: Permission denied for {user}", f"chown the directory to {user}"):
            self.assertIn(part, line)

    def test_unreadable_keys_file_says_why(self):
        tmp = tempfile.mkdtemp(prefix="jobs-it-keys-")
        self.addCleanup(shutil.rmtree, tmp, True)
        listen = f"127.0.0.1:{free_port()}"
        self.refused({"http_listen": listen, "http_keys_file": os.path.join(tmp, "nosuch")},
                     "cannot read plugin_opt_http_keys_file", "No such file or directory",
                     f"the broker runs as {USER}")
        self.refused({"http_listen": listen, "http_keys_file": tmp},
                     "cannot read plugin_opt_http_keys_file", "Is a directory")

    def test_http_listen_takes_a_name(self):
        port = free_port()
        b = self.broker(http_listen=f"localhost:{port}", http_unsigned_identity="admin")
        b.start()
        deadline = time.time() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        status, body = http_get(port, "/jobs")
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body).get("jobs"), [])
        self.refused({"http_listen": f"no-such-host.invalid:{port}"}, "plugin_opt_http_listen: cannot resolve",
                     "no-such-host.invalid")


if __name__ == "__main__":
    unittest.main()
