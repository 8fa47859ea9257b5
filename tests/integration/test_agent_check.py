"""jobs-agent-check, the device-agent conformance kit, against the reference agent
(examples/agent, jobs-agent-example): every scenario passes; each broken variant
(--break-...) fails exactly the scenario aimed at it and passes every other one; the
HTML page loads in headless chromium and shows every verdict; bad agents and bad
command lines get clear failures.

Each run of the kit starts its own broker with the plugin under test and the test
controls (--start-broker). The runs go a few at a time: the scenarios mostly wait
on the agent's commands (sleep), and the kit's thresholds are lower bounds on what an
agent must wait and generous upper bounds on what it may take.
"""
import concurrent.futures
import os
import shlex
import shutil
import subprocess
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

from harness import MOSQUITTO, PLUGIN, PRELOAD, Broker

CHECK = os.environ.get("JOBS_AGENT_CHECK")
AGENT = os.environ.get("JOBS_AGENT_EXAMPLE")

# Each break flag of the reference agent, and the one scenario it must fail.
BROKEN = {
    "ignore-cancel": "force-cancel",
    "no-backoff": "throttled",
    "run-duplicates": "duplicate-notify",
    "forget-in-progress": "disconnect",
    "no-retry": "dropped-reply",
    "no-progress": "queued-job",
    "poll": "notify-next",
    "no-step-extend": "step-timeout",
    "ignore-version-mismatch": "version-mismatch",
    "silent-on-bad-document": "bad-document",
}

SCENARIOS = []  # filled from --list


def list_scenarios():
    out = subprocess.run([CHECK, "--list"], capture_output=True, text=True, check=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


class Run:
    """One run of the kit: its exit status, output, JUnit verdicts and HTML page."""

    def __init__(self, workdir, name, agent_flags=()):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        self.junit = os.path.join(self.dir, "report.xml")
        self.html = os.path.join(self.dir, "report.html")
        mosquitto = MOSQUITTO
        if PRELOAD:
            # The sanitizer build's plugin needs its runtime preloaded into mosquitto.
            mosquitto = os.path.join(self.dir, "mosquitto-preload")
            with open(mosquitto, "w") as f:
                f.write(f"#!/bin/sh\nLD_PRELOAD={shlex.quote(PRELOAD)} exec {shlex.quote(MOSQUITTO)} \"$@\"\n")
            os.chmod(mosquitto, 0o755)
        agent = " ".join([shlex.quote(AGENT), "--thing {thing} -h {host} -p {port}"]
                         + [f"--break-{b}" for b in agent_flags])
        self.cmd = [CHECK, "--thing", f"agent-{name}", "--start-broker", "--plugin", PLUGIN,
                    "--mosquitto", mosquitto, "--agent-cmd", agent,
                    "--junit", self.junit, "--html", self.html]

    def run(self):
        env = dict(os.environ, TMPDIR=self.dir)
        t0 = time.monotonic()
        p = subprocess.run(self.cmd, capture_output=True, text=True, env=env, timeout=600)
        self.seconds = time.monotonic() - t0
        self.rc, self.out, self.err = p.returncode, p.stdout, p.stderr
        self.verdicts = {}
        if os.path.exists(self.junit):
            for tc in ET.parse(self.junit).getroot().iter("testcase"):
                v = "FAIL" if tc.find("failure") is not None else "SKIP" if tc.find("skipped") is not None else "PASS"
                self.verdicts[tc.get("name")] = v
        return self

    def describe(self):
        return f"exit {self.rc}\n{self.out}\n{self.err}"


@unittest.skipUnless(CHECK and AGENT, "JOBS_AGENT_CHECK and JOBS_AGENT_EXAMPLE are not set")
class TestAgentCheck(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="jobs-agent-check-it-")
        global SCENARIOS
        SCENARIOS = list_scenarios()
        # Under the sanitizers the reference run and one broken variant exercise the
        # same code as the whole matrix, which the plain build runs (minutes saved).
        variants = ["no-backoff"] if PRELOAD else list(BROKEN)
        runs = [Run(cls.workdir, "reference")] + [Run(cls.workdir, b, [b]) for b in variants]
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            done = list(pool.map(Run.run, runs))
        cls.reference = done[0]
        cls.broken = dict(zip(variants, done[1:]))
        # Reported, not asserted: the whole default set against the reference agent.
        print(f"\njobs-agent-check: {len(SCENARIOS)} scenarios against the reference agent "
              f"in {cls.reference.seconds:.1f} s", flush=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.workdir, ignore_errors=True)

    def test_reference_agent_passes_every_scenario(self):
        r = self.reference
        self.assertEqual(r.rc, 0, r.describe())
        self.assertEqual(len(SCENARIOS), 15)
        self.assertEqual(r.verdicts, {s: "PASS" for s in SCENARIOS}, r.describe())
        # A line per scenario as it ends, with its time, and the summary.
        for s in SCENARIOS:
            self.assertRegex(r.out, rf"(?m)^PASS {s} +\d+\.\d s$")
        self.assertRegex(r.out, rf"(?m)^jobs-agent-check: {len(SCENARIOS)} passed, 0 failed, 0 skipped in")

    def test_each_broken_variant_fails_exactly_its_scenario(self):
        if PRELOAD:
            self.skipTest("every variant through every scenario runs in the plain build only")
        for flag, aimed in BROKEN.items():
            with self.subTest(flag=flag):
                r = self.broken[flag]
                self.assertEqual(r.rc, 1, r.describe())
                expected = {s: "PASS" for s in SCENARIOS}
                expected[aimed] = "FAIL"
                self.assertEqual(r.verdicts, expected, r.describe())
                self.assertRegex(r.out, rf"(?m)^FAIL {aimed} +\d+\.\d s  \S")

    def test_junit_report_carries_the_reason_and_the_transcript(self):
        root = ET.parse(self.broken["no-backoff"].junit).getroot()
        suite = root.find("testsuite")
        self.assertEqual((suite.get("tests"), suite.get("failures")), (str(len(SCENARIOS)), "1"))
        failure = [tc for tc in suite.iter("testcase") if tc.get("name") == "throttled"][0].find("failure")
        self.assertIn("RequestThrottled", failure.get("message") + failure.text)
        self.assertIn("agent -> broker $aws/things/agent-no-backoff/jobs/", failure.text)

    def test_html_page_in_headless_chromium(self):
        if PRELOAD:
            self.skipTest("the browser check runs in the plain build only")
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
        options = webdriver.ChromeOptions()
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        profile = tempfile.mkdtemp(prefix="chromium-", dir=self.workdir)
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            for run, failing in ((self.reference, None), (self.broken["poll"], "notify-next")):
                driver.get("file://" + run.html)
                errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
                self.assertEqual(errors, [])
                shown = {e.get_attribute("data-scenario"): e.text
                         for e in driver.find_elements(By.CSS_SELECTOR, "#summary .verdict")}
                expected = {s: "PASS" for s in SCENARIOS}
                if failing:
                    expected[failing] = "FAIL"
                self.assertEqual(shown, expected)
                # A sequence diagram per scenario that ran, with arrows both ways.
                self.assertEqual(len(driver.find_elements(By.CSS_SELECTOR, "section svg")), len(SCENARIOS))
                self.assertTrue(driver.find_elements(By.CSS_SELECTOR, "section svg g.in line"))
                self.assertTrue(driver.find_elements(By.CSS_SELECTOR, "section svg g.out line"))
            # The throttled replies of the no-backoff run are marked as faults.
            driver.get("file://" + self.broken["no-backoff"].html)
            faults = driver.find_elements(By.CSS_SELECTOR, "#sc-throttled svg g.fault")
            self.assertTrue(faults)
        finally:
            driver.quit()


@unittest.skipUnless(CHECK, "JOBS_AGENT_CHECK is not set")
class TestBadInput(unittest.TestCase):
    def check(self, *args, timeout=120, env=None):
        p = subprocess.run([CHECK, *args], capture_output=True, text=True, timeout=timeout, env=env)
        return p.returncode, p.stdout, p.stderr

    def test_usage_errors_exit_64(self):
        for args in ([], ["--thing", "t", "--scenario", "no-such"], ["--thing", "t", "--bogus"],
                     ["--thing", "bad name"], ["--thing", "t", "--timeout", "0"],
                     ["--thing", "t", "--start-broker"], ["--thing", "t", "--output", "text"]):
            with self.subTest(args=args):
                rc, out, err = self.check(*args)
                self.assertEqual(rc, 64, err)
                self.assertIn("usage", err)

    def test_unreachable_broker_exits_2(self):
        from harness import free_port
        rc, out, err = self.check("--thing", "t", "-p", str(free_port()))
        self.assertEqual(rc, 2, err)
        self.assertIn("cannot connect", err)

    def test_broker_without_test_controls_is_one_clear_error(self):
        broker = Broker()
        broker.start()
        try:
            rc, out, err = self.check("--thing", "t", "-p", str(broker.port))
            self.assertEqual(rc, 1, err)
            self.assertEqual(err.count("jobs-agent-check: the broker cannot be used for agent tests"), 1, err)
            self.assertIn("plugin_opt_test_controls on", err)
            self.assertEqual(out, "")
        finally:
            broker.stop()
            broker.cleanup()

    def test_not_an_operator_is_one_clear_error(self):
        broker = Broker(options={"operators": "admin", "test_controls": "on"})
        broker.start()
        try:
            rc, out, err = self.check("--thing", "t", "-p", str(broker.port), "-i", "somebody")
            self.assertEqual(rc, 1, err)
            self.assertIn("operator", err)
            self.assertEqual(out, "")
        finally:
            broker.stop()
            broker.cleanup()

    def test_agents_that_never_connect_crash_or_flood_fail_clearly(self):
        mosquitto = MOSQUITTO
        workdir = tempfile.mkdtemp(prefix="jobs-agent-check-bad-")
        try:
            if PRELOAD:
                mosquitto = os.path.join(workdir, "mosquitto-preload")
                with open(mosquitto, "w") as f:
                    f.write(f"#!/bin/sh\nLD_PRELOAD={shlex.quote(PRELOAD)} exec {shlex.quote(MOSQUITTO)} \"$@\"\n")
                os.chmod(mosquitto, 0o755)
            env = dict(os.environ, TMPDIR=workdir)
            flood = "yes '{}' | mosquitto_pub -h {host} -p {port} -i {thing} -t '$aws/things/{thing}/jobs/get' -l"
            for agent, words in (("sleep 60", "did not connect and send a jobs request as thing silent"),
                                 ("echo boom; exit 7", "exited with status 7 before sending any jobs request"),
                                 (flood, "is QUEUED 10 s on (expected SUCCEEDED)")):
                with self.subTest(agent=agent):
                    rc, out, err = self.check("--thing", "silent", "--start-broker", "--plugin", PLUGIN,
                                              "--mosquitto", mosquitto, "--agent-cmd", agent,
                                              "--scenario", "queued-job", env=env)
                    self.assertEqual(rc, 1, out + err)
                    self.assertIn(words, out)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
