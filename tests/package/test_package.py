"""The Debian package (debian/, scripts/build-deb), built from this tree.

Builds the .deb once (about 25 s on an idle 2-core machine: the project is compiled
once more), then checks its file list, lintian's verdict (no error), and the
configuration snippet it installs in /etc/mosquitto/conf.d/: under Debian's stock
mosquitto.conf it changes nothing (a real broker still serves other topics, and loads
no plugin), and with the edit the snippet documents, the plugin loads and answers.
The brokers run the plugin built by this build (JOBS_PLUGIN), not an installed one;
nothing is installed on the machine (scripts/package-check does that).

Exits 77 (ctest: skipped) when dpkg-buildpackage is missing; scripts/install-deps
installs it. Environment: JOBS_PLUGIN, JOBS_JOBSCTL (see tests/integration/harness.py).
"""
import glob
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402

JOBSCTL = os.environ.get("JOBS_JOBSCTL")
SNIPPET = "etc/mosquitto/conf.d/mosquitto-jobs.conf"
DOC = "usr/share/doc/mosquitto-jobs"
VAR = "var/lib/mosquitto-jobs"

# /etc/mosquitto/mosquitto.conf as Debian 12's mosquitto 2.0.11 installs it.
DEBIAN_STOCK_CONF = """# Place your local configuration in /etc/mosquitto/conf.d/
#
# A full description of the configuration file is at
# /usr/share/doc/mosquitto/examples/mosquitto.conf.example

pid_file /run/mosquitto/mosquitto.pid

persistence true
persistence_location /var/lib/mosquitto/

log_dest file /var/log/mosquitto/mosquitto.log

include_dir /etc/mosquitto/conf.d
"""


def run(*cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def plugin_dir():
    """Where Debian's mosquitto package puts its own plugin,
    mosquitto_dynamic_security.so (usr/lib/<triplet>), without the leading /."""
    listed = run("dpkg", "-L", "mosquitto")
    for line in listed.stdout.split("\n"):
        if line.endswith("/mosquitto_dynamic_security.so"):
            return os.path.dirname(line).lstrip("/")
    triplet = run("dpkg-architecture", "-qDEB_HOST_MULTIARCH").stdout.strip()
    return f"usr/lib/{triplet}"


def installs_man_pages():
    """Whether this tree's CMake install rules install manual pages."""
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        text = f.read()
    return "CMAKE_INSTALL_MANDIR" in text or "share/man" in text


def loopback_only(pid):
    """The addresses (hex, as /proc/net/tcp* shows them) of pid's listening TCP
    sockets that are not loopback ones; and how many listening sockets it has."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    loopback = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1
    listening, others = 0, []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for row in (line.split() for line in f.readlines()[1:]):
                if row[3] == "0A" and row[9] in inodes:
                    listening += 1
                    address = row[1].split(":")[0]
                    if address not in loopback:
                        others.append(row[1])
    return others, listening


class StockBroker:
    """Debian's stock mosquitto.conf with its paths moved into a private folder, the
    package's snippet in its conf.d, started as `mosquitto -c FILE -p PORT`: the stock
    file has no listener line (Mosquitto's local-only mode: 127.0.0.1 and ::1 on port
    1883, anonymous clients), and -p changes only that port, keeping the mode. A
    broker started as root drops to the mosquitto user, as the service does."""

    def __init__(self, tmp, snippet_text):
        self.tmp = tmp
        self.conf_d = os.path.join(tmp, "conf.d")
        os.makedirs(self.conf_d, exist_ok=True)
        self.conf = os.path.join(tmp, "mosquitto.conf")
        self.log_path = os.path.join(tmp, "mosquitto.log")
        self.out_path = os.path.join(tmp, "stdout.log")
        text = DEBIAN_STOCK_CONF
        for old, new in (("/run/mosquitto/mosquitto.pid", os.path.join(tmp, "mosquitto.pid")),
                         ("/var/lib/mosquitto/", tmp + "/"),
                         ("/var/log/mosquitto/mosquitto.log", self.log_path),
                         ("/etc/mosquitto/conf.d", self.conf_d)):
            assert old in text, old
            text = text.replace(old, new)
        with open(self.conf, "w") as f:
            f.write(text)
        with open(os.path.join(self.conf_d, "mosquitto-jobs.conf"), "w") as f:
            f.write(snippet_text)
        if os.geteuid() == 0:
            mosq = pwd.getpwnam("mosquitto")
            for dirpath, dirnames, filenames in os.walk(tmp):
                for name in [dirpath] + [os.path.join(dirpath, n) for n in filenames]:
                    os.chown(name, mosq.pw_uid, mosq.pw_gid)
        self.proc = None
        self.port = None

    def start(self):
        for attempt in range(5):
            self.port = harness.free_port()
            out = open(self.out_path, "ab")
            start = os.path.getsize(self.out_path)
            self.proc = subprocess.Popen(["mosquitto", "-c", self.conf, "-p", str(self.port)],
                                         stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
            out.close()
            deadline = time.time() + 30.0
            while time.time() < deadline:
                if self.proc.poll() is not None:
                    self.proc = None
                    if b"Address already in use" in self.read(start) and attempt < 4:
                        break
                    raise AssertionError("mosquitto exited at start:\n" + self.logs())
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=1.0):
                        pass
                    if harness.listens_on(self.proc.pid, self.port) is not False:
                        return
                except OSError:
                    pass
                time.sleep(0.05)
            else:
                raise AssertionError("mosquitto did not open its port:\n" + self.logs())

    def read(self, offset=0):
        with open(self.out_path, "rb") as f:
            f.seek(offset)
            return f.read()

    def logs(self):
        text = self.read().decode("utf-8", "replace")
        if os.path.exists(self.log_path):
            with open(self.log_path, errors="replace") as f:
                text += f.read()
        return text

    def stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("mosquitto did not stop on SIGTERM")
        finally:
            self.proc = None
        if code != 0:
            raise AssertionError(f"mosquitto exited with {code}:\n" + self.logs())

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


class PackageTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="jobs-deb-test-")
        os.chmod(cls.tmp, 0o755)
        out = os.path.join(cls.tmp, "out")
        began = time.monotonic()
        built = run(os.path.join(ROOT, "scripts", "build-deb"), out)
        cls.build_seconds = time.monotonic() - began
        if built.returncode != 0:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise AssertionError("scripts/build-deb failed:\n" + built.stdout + built.stderr)
        sys.stderr.write(f"package built in {cls.build_seconds:.0f} s\n")
        debs = glob.glob(os.path.join(out, "mosquitto-jobs_*.deb"))
        assert len(debs) == 1, debs
        cls.deb = debs[0]
        cls.root = os.path.join(cls.tmp, "root")
        subprocess.run(["dpkg-deb", "-x", cls.deb, cls.root], check=True)
        listing = run("dpkg-deb", "-c", cls.deb)
        assert listing.returncode == 0, listing.stderr
        # "drwxr-xr-x root/root 0 2026-12-07 19:20 ./usr/bin/" -> mode, path
        cls.files = {}
        for line in listing.stdout.splitlines():
            parts = line.split(None, 5)
            cls.files[parts[5].split(" -> ")[0][2:].rstrip("/")] = parts[0]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_name_and_fields(self):
        with open(os.path.join(ROOT, "debian", "changelog")) as f:
            version = re.match(r"\S+ \(([^)]+)\)", f.readline()).group(1)
        arch = run("dpkg-architecture", "-qDEB_HOST_ARCH").stdout.strip()
        self.assertEqual(os.path.basename(self.deb), f"mosquitto-jobs_{version}_{arch}.deb")
        depends = run("dpkg-deb", "-f", self.deb, "Depends").stdout
        self.assertRegex(depends, r"(^|, )mosquitto(,|$)", depends)
        conffiles = run("dpkg-deb", "--info", self.deb, "conffiles").stdout.split()
        self.assertEqual(conffiles, ["/" + SNIPPET])

    def test_file_list(self):
        plugin = f"{plugin_dir()}/mosquitto_jobs.so"
        docs = [f"{DOC}/README.md"] + [f"{DOC}/docs/{os.path.basename(p)}"
                                       for p in glob.glob(os.path.join(ROOT, "docs", "*.md"))]
        expected = [plugin, "usr/bin/jobsctl", "usr/bin/jobs-agent-check", "usr/bin/jobs-store-copy", SNIPPET,
                    f"{DOC}/copyright", VAR] + docs
        missing = [p for p in expected if p not in self.files]
        self.assertEqual(missing, [], "not in the package; it holds:\n" + "\n".join(sorted(self.files)))
        for tool in ("usr/bin/jobsctl", "usr/bin/jobs-agent-check", "usr/bin/jobs-store-copy"):
            self.assertTrue(self.files[tool].startswith("-rwxr-xr-x"), f"{tool}: {self.files[tool]}")
        self.assertTrue(self.files[VAR].startswith("d"), self.files[VAR])
        self.assertTrue(self.files[SNIPPET].startswith("-rw-r--r--"), self.files[SNIPPET])
        # Manual pages: once this tree's CMake rules install them, the package has them.
        man = [p for p in self.files if p.startswith("usr/share/man/") and p.endswith(".gz")]
        if installs_man_pages():
            self.assertTrue(man, "CMakeLists.txt installs manual pages, the package has none")
            for page in ("man1/jobsctl.1.gz", "man1/jobs-agent-check.1.gz", "man1/jobs-store-copy.1.gz",
                     "man7/mosquitto-jobs.7.gz"):
                self.assertIn("usr/share/man/" + page, self.files)
        allowed = (plugin, "usr/bin/", "etc/mosquitto/conf.d/", f"{DOC}/", VAR,
                   "usr/share/man/", "usr/share/lintian/overrides/")
        dirs = {p for p, mode in self.files.items() if mode.startswith("d")}
        stray = [p for p in self.files if p not in dirs and not p.startswith(allowed)]
        self.assertEqual(stray, [], "files the package should not hold")

    def test_lintian_finds_no_error(self):
        if not shutil.which("lintian"):
            self.fail("lintian is missing: run scripts/install-deps")
        result = run("lintian", "--pedantic", self.deb)
        tags = [ln for ln in result.stdout.splitlines() if re.match(r"^[EWIPX]: ", ln)]
        sys.stderr.write("lintian:\n" + "".join(f"  {t}\n" for t in tags))
        errors = [t for t in tags if t.startswith("E: ")]
        self.assertEqual(errors, [], result.stdout + result.stderr)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def snippet(self):
        with open(os.path.join(self.root, SNIPPET)) as f:
            return f.read()

    def broker(self, snippet_text):
        tmp = tempfile.mkdtemp(prefix="stock-", dir=self.tmp)
        os.chmod(tmp, 0o755)
        broker = StockBroker(tmp, snippet_text)
        self.addCleanup(broker.kill)
        broker.start()
        return broker

    def round_trip(self, port, name):
        """A publish on a plain topic comes back to its subscriber."""
        c = harness.Client(port, f"{name}-client")
        try:
            c.subscribe(f"plain/{name}")
            c.publish(f"plain/{name}", b"hello")
            m = c.get(harness.WAIT)
            self.assertIsNotNone(m, f"no message on plain/{name}")
            self.assertEqual((m.topic, m.payload), (f"plain/{name}", b"hello"))
        finally:
            c.close()

    def assert_loopback_only(self, broker):
        others, listening = loopback_only(broker.proc.pid)
        self.assertGreater(listening, 0)
        self.assertEqual(others, [], "the broker listens beyond this machine")

    def test_snippet_as_installed_changes_nothing(self):
        text = self.snippet()
        active = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        self.assertEqual(active, [], "the snippet as installed must be all comments")
        broker = self.broker(text)
        self.round_trip(broker.port, "stock")
        self.assert_loopback_only(broker)
        broker.stop()
        log = broker.logs()
        self.assertIn("Starting in local only mode", log)
        self.assertNotIn("jobs:", log)

    def edit_command(self):
        """The sed command the snippet documents."""
        commands = [ln.lstrip("# ").strip() for ln in self.snippet().splitlines()
                    if ln.lstrip("# ").startswith("sed -i ")]
        self.assertEqual(len(commands), 1, "the snippet documents one sed command")
        return commands[0]

    def edited_snippet(self):
        """The snippet after the edit it documents, made by its own sed command."""
        text = self.snippet()
        words = shlex.split(self.edit_command())
        self.assertEqual(words[-1], "/" + SNIPPET)
        path = tempfile.mkstemp(prefix="edited-", suffix=".conf", dir=self.tmp)[1]
        with open(path, "w") as f:
            f.write(text)
        subprocess.run(words[:-1] + [path], check=True)
        with open(path) as f:
            return f.read()

    def test_readme_shows_the_edited_lines(self):
        """README's install section shows the snippet's edit and the lines it turns
        on, as they are."""
        active = [ln for ln in self.edited_snippet().splitlines()
                  if ln.strip() and not ln.startswith("#")]
        with open(os.path.join(ROOT, "README.md")) as f:
            readme = f.read()
        self.assertTrue("\n" + self.edit_command() + "\n" in readme,
                        f"README.md does not show the edit: {self.edit_command()}")
        blocks = re.findall(r"^```conf\n(.*?)^```", readme, re.M | re.S)
        shown = [b.splitlines() for b in blocks if b.startswith("plugin /usr/lib/")]
        self.assertEqual(shown, [active])

    def test_documented_edit_turns_the_plugin_on(self):
        edited = self.edited_snippet()
        active = [ln.split() for ln in edited.splitlines() if ln.strip() and not ln.startswith("#")]
        keys = [w[0] for w in active]
        self.assertEqual(keys[0], "plugin")
        self.assertEqual(active[0][1], "/" + plugin_dir() + "/mosquitto_jobs.so")
        self.assertIn(["plugin_opt_db_path", f"/{VAR}/jobs.db"], active)
        for refused in ("listener", "port", "bind_address", "plugin_opt_http_listen",
                        "per_listener_settings", "allow_anonymous"):
            self.assertNotIn(refused, keys)
        # the plugin of this build, and the database in a folder like the package's
        # (owned by the mosquitto user when the broker drops to it)
        broker_dir = tempfile.mkdtemp(prefix="edited-", dir=self.tmp)
        os.chmod(broker_dir, 0o755)
        db = os.path.join(broker_dir, "var-lib-mosquitto-jobs", "jobs.db")
        os.mkdir(os.path.dirname(db), 0o750)
        lines = []
        for ln in edited.splitlines():
            if ln.startswith("plugin "):
                ln = f"plugin {harness.PLUGIN}"
            elif ln.startswith("plugin_opt_db_path "):
                ln = f"plugin_opt_db_path {db}"
            lines.append(ln)
        broker = StockBroker(broker_dir, "\n".join(lines) + "\n")
        self.addCleanup(broker.kill)
        broker.start()
        self.round_trip(broker.port, "edited")
        self.assert_loopback_only(broker)
        device = harness.Client(broker.port, "T")
        try:
            device.subscribe("$aws/things/T/jobs/get/accepted")
            device.subscribe("$aws/things/T/jobs/get/rejected")
            outcome, body, _ = device.request("$aws/things/T/jobs/get", {"clientToken": "t1"})
            self.assertEqual(outcome, "accepted", body)
            self.assertEqual((body["inProgressJobs"], body["queuedJobs"], body["clientToken"]),
                             ([], [], "t1"))
        finally:
            device.close()
        if JOBSCTL:  # plugin_opt_operators admin: the client id admin is an operator
            listed = run(JOBSCTL, "-p", str(broker.port), "-i", "admin", "list-jobs", timeout=60)
            self.assertEqual(listed.returncode, 0, listed.stdout + listed.stderr)
        broker.stop()
        self.assertTrue(os.path.exists(db), "the plugin made no database")


if __name__ == "__main__":
    if not shutil.which("dpkg-buildpackage"):
        print("skipped: dpkg-buildpackage is missing (scripts/install-deps installs it)")
        sys.exit(77)
    if not harness.PLUGIN:
        print("JOBS_PLUGIN is not set")
        sys.exit(1)
    unittest.main()
