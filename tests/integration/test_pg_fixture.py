"""The PostgreSQL fixture (pg.py) and tests/with-postgres, which later tests build on:

- the server runs as an unprivileged user (Debian's `postgres` when the tests run as
  root), answers SQL through its conninfo, its socket and its URI, keeps its data over
  a restart, an immediate stop and a kill (crash recovery), and stalls while paused;
- two servers at once have their own ports, dirs and data;
- nothing is left running or on disk after a server is done with, also when the test
  process exits without cleaning up or is killed;
- tests/with-postgres gives its command the server's variables and returns its status.

No test needs mosquitto or the plugin.
"""
import json
import os
import pwd
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

from harness import HERE, WAIT
from pg import PostgresServer, PsqlError, alive

WITH_POSTGRES = os.path.join(HERE, "..", "with-postgres")


def uid_of(pid):
    """The process's real uid, or None when it has exited meanwhile."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return int(next(line for line in f if line.startswith("Uid:")).split()[1])
    except FileNotFoundError:
        return None


def state_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def wait_until(condition, what, timeout=WAIT):
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.02)


class SharedServerTest(unittest.TestCase):
    """One server for the class; every test leaves it running, and uses its own table."""

    @classmethod
    def setUpClass(cls):
        cls.pg = PostgresServer()
        cls.pg.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.pg.cleanup()

    def table(self, *values):
        """A table of this test's own holding values (column a)."""
        name = self._testMethodName
        self.pg.psql(f"create table {name} (a text); "
                     + "".join(f"insert into {name} values ('{v}'); " for v in values))
        return name

    def test_runs_as_an_unprivileged_user(self):
        expected = pwd.getpwnam("postgres").pw_uid if os.geteuid() == 0 else os.geteuid()
        self.assertNotEqual(expected, 0)
        pids = self.pg.processes()
        self.assertGreater(len(pids), 1, "the postmaster and its children")
        # a backend may exit between the listing and the reading (None): the rest,
        # the postmaster among them, run as the unprivileged user
        uids = {uid_of(p) for p in pids} - {None}
        self.assertEqual(uids, {expected})
        self.assertEqual(uid_of(self.pg.pid), expected)
        self.assertEqual(os.stat(self.pg.data_dir).st_uid, expected)
        self.assertEqual(self.pg.psql("select current_user, current_setting('fsync')"),
                         [("jobs", "off")])

    def test_sql_through_the_conninfo_the_socket_and_the_uri(self):
        t = self.table("x")
        self.assertIn("host=127.0.0.1", self.pg.conninfo)
        self.assertIn(f"port={self.pg.port}", self.pg.conninfo)
        for conninfo in (self.pg.conninfo, self.pg.socket_conninfo, self.pg.uri):
            self.assertEqual(self.pg.psql(f"select a, current_database() from {t}", conninfo=conninfo),
                             [("x", "jobs")], conninfo)
        self.assertTrue(os.path.exists(os.path.join(self.pg.socket_dir, f".s.PGSQL.{self.pg.port}")))
        # rows of every statement, NULL as None, values with commas, quotes, newlines
        self.assertEqual(self.pg.psql("select 1, null, ''; select 'a,\"b\nc' union all select 'd'"),
                         [("1", None, ""), ('a,"b\nc',), ("d",)])
        self.assertEqual(self.pg.psql(f"insert into {t} values ('y')"), [])

    def test_an_sql_error_raises(self):
        with self.assertRaises(PsqlError) as cm:
            self.pg.psql("select 1; select no_such_column; select 2")
        self.assertIn("no_such_column", cm.exception.stderr)

    def test_restart_keeps_the_data_and_the_port(self):
        t = self.table("kept")
        port, pid = self.pg.port, self.pg.pid
        self.pg.restart()
        self.assertEqual(self.pg.port, port)
        self.assertNotEqual(self.pg.pid, pid)
        self.assertFalse(alive(pid))
        self.assertEqual(self.pg.psql(f"select a from {t}"), [("kept",)])

    def test_kill_then_start_recovers(self):
        t = self.table("committed")
        pids = self.pg.processes()
        log_start = len(self.pg.read_log())
        self.pg.kill()
        self.assertEqual([p for p in pids if alive(p)], [])
        with self.assertRaises(PsqlError):
            self.pg.psql("select 1", timeout=WAIT)
        self.pg.start()
        self.assertIn("was interrupted", self.pg.read_log()[log_start:])
        self.assertEqual(self.pg.psql(f"select a from {t}"), [("committed",)])

    def test_immediate_stop_then_start_recovers(self):
        t = self.table("committed")
        log_start = len(self.pg.read_log())
        self.pg.stop("immediate")
        self.assertIsNone(self.pg.pid)
        self.pg.start()
        self.assertIn("automatic recovery in progress", self.pg.read_log()[log_start:])
        self.assertEqual(self.pg.psql(f"select a from {t}"), [("committed",)])

    def test_pause_stalls_and_resume_goes_on(self):
        session = subprocess.Popen(
            [os.path.join(self.pg.bindir, "psql"), "-X", "-q", "-t", "-A", "-d", self.pg.conninfo,
             "-f", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        try:
            def ask(sql):
                session.stdin.write(sql + "\n")
                session.stdin.flush()

            def answer(timeout):
                ready, _, _ = select.select([session.stdout], [], [], timeout)
                return session.stdout.readline().strip() if ready else None

            # the server bounds the query, should it never be resumed
            ask(f"set statement_timeout = '{int(WAIT * 6)}s'; select 1;")
            self.assertEqual(answer(WAIT), "1")
            self.pg.pause()
            self.assertEqual({state_of(p) for p in self.pg.paused}, {"T"})
            self.assertGreater(len(self.pg.paused), 1)
            ask("select 42;")
            self.assertIsNone(answer(0.5), "a paused server answered")
            # a new connection stalls too: the client's connect_timeout ends it
            with self.assertRaises(PsqlError) as cm:
                self.pg.psql("select 1", conninfo=self.pg.conninfo + " connect_timeout=1")
            self.assertIn("timeout expired", cm.exception.stderr)
            self.pg.resume()
            self.assertEqual(answer(WAIT), "42")
            self.assertEqual(self.pg.psql("select 7"), [("7",)])
        finally:
            self.pg.resume()
            session.stdin.close()
            session.wait(timeout=WAIT)
            session.stdout.close()

    def test_two_servers_at_once(self):
        t = self.table("first")
        with PostgresServer(fsync=True) as other:
            self.assertNotEqual(other.port, self.pg.port)
            self.assertNotEqual(other.dir, self.pg.dir)
            self.assertEqual(other.psql("show fsync"), [("on",)])
            self.assertEqual(self.pg.psql("show fsync"), [("off",)])
            other.psql(f"create table {t} (a text); insert into {t} values ('second')")
            self.assertEqual(other.psql(f"select a from {t}"), [("second",)])
            self.assertEqual(self.pg.psql(f"select a from {t}"), [("first",)])


# A test process that starts a server, says where it is, and then exits (or waits).
CHILD = textwrap.dedent("""
    import json, sys, time
    from pg import PostgresServer
    pg = PostgresServer().start()
    print(json.dumps({"pids": pg.processes(), "dir": pg.dir}), flush=True)
    if sys.argv[1] == "wait":
        time.sleep(600)
""")


class CleanupTest(unittest.TestCase):
    """Nothing runs or stays on disk once a server is done with."""

    def assert_gone(self, pids, directory):
        self.assertGreater(len(pids), 1)
        self.assertEqual([p for p in pids if alive(p)], [])
        self.assertFalse(os.path.exists(directory), directory)

    def test_context_manager_cleans_up_after_a_failure(self):
        with self.assertRaises(ZeroDivisionError):
            with PostgresServer() as pg:
                pids, directory = pg.processes(), pg.dir
                pg.psql("create table t (a int)")
                1 / 0
        self.assert_gone(pids, directory)

    def test_a_paused_server_is_cleaned_up(self):
        pg = PostgresServer().start()
        pids, directory = pg.processes(), pg.dir
        pg.pause()
        pg.cleanup()
        self.assert_gone(pids, directory)

    def test_exit_without_cleanup(self):
        child = subprocess.run([sys.executable, "-c", CHILD, "exit"], cwd=HERE, capture_output=True,
                               text=True, timeout=WAIT * 6)
        self.assertEqual(child.returncode, 0, child.stderr)
        info = json.loads(child.stdout)
        self.assert_gone(info["pids"], info["dir"])

    def test_killed_test_process(self):
        """The dir stays (nothing runs to remove it), but the server goes down."""
        child = subprocess.Popen([sys.executable, "-c", CHILD, "wait"], cwd=HERE,
                                 stdout=subprocess.PIPE, text=True)
        try:
            info = json.loads(child.stdout.readline())
        finally:
            child.kill()
            child.wait()
            child.stdout.close()
        try:
            wait_until(lambda: not any(alive(p) for p in info["pids"]), "the server going down")
        finally:
            shutil.rmtree(info["dir"], ignore_errors=True)


class WithPostgresTest(unittest.TestCase):
    """tests/with-postgres CMD ARGS..."""

    def run_wrapper(self, script, **kw):
        return subprocess.run([WITH_POSTGRES, "sh", "-c", script], capture_output=True,
                              text=True, timeout=WAIT * 6, **kw)

    def test_env_and_exit_status(self):
        r = self.run_wrapper(textwrap.dedent("""
            set -e
            echo "conninfo=$JOBS_PG_CONNINFO"
            echo "dir=$JOBS_PG_SOCKET_DIR"
            echo "env=$PGHOST $PGPORT $PGUSER $PGDATABASE"
            echo "postmaster=$(head -n 1 "$JOBS_PG_SOCKET_DIR/data/postmaster.pid")"
            echo "libpq=$(psql -X -At -c 'select current_user, current_database(), inet_server_port()')"
            echo "conninfo_sql=$(psql -X -At -d "$JOBS_PG_CONNINFO" -c 'select 6 * 7')"
            exit 3
            """))
        self.assertEqual(r.returncode, 3, r.stderr)
        out = dict(line.split("=", 1) for line in r.stdout.splitlines())
        port = out["env"].split()[1]
        self.assertEqual(out["env"], f"127.0.0.1 {port} jobs jobs")
        self.assertEqual(out["conninfo"], f"host=127.0.0.1 port={port} user=jobs dbname=jobs")
        self.assertEqual(out["libpq"], f"jobs|jobs|{port}")
        self.assertEqual(out["conninfo_sql"], "42")
        self.assert_gone(int(out["postmaster"]), out["dir"])

    def assert_gone(self, postmaster, directory):
        self.assertFalse(alive(postmaster))
        self.assertFalse(os.path.exists(directory), directory)

    def test_a_signal_goes_to_the_command_then_the_server_stops(self):
        private = tempfile.mkdtemp(prefix="jobs-it-")
        self.addCleanup(shutil.rmtree, private, ignore_errors=True)
        ready = os.path.join(private, "ready")
        wrapper = subprocess.Popen(
            [WITH_POSTGRES, "sh", "-c", 'trap "echo got TERM; exit 9" TERM; '
             f'echo "$JOBS_PG_SOCKET_DIR $(head -n 1 "$JOBS_PG_SOCKET_DIR/data/postmaster.pid")" > {ready}.tmp; '
             f'mv {ready}.tmp {ready}; while :; do sleep 0.05; done'],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_until(lambda: os.path.exists(ready), "the command starting", timeout=WAIT * 6)
            with open(ready) as f:
                directory, postmaster = f.read().split()
            wrapper.send_signal(signal.SIGTERM)
            out, err = wrapper.communicate(timeout=WAIT * 3)
        finally:
            if wrapper.poll() is None:
                wrapper.kill()
                wrapper.wait()
        self.assertIn("got TERM", out)
        self.assertEqual(wrapper.returncode, 9, err)
        self.assert_gone(int(postmaster), directory)

    def test_a_command_that_cannot_run(self):
        r = subprocess.run([WITH_POSTGRES, os.path.join(HERE, "no-such-command")],
                           capture_output=True, text=True, timeout=WAIT * 6)
        self.assertEqual(r.returncode, 127)
        self.assertIn("no-such-command", r.stderr)
        r = subprocess.run([WITH_POSTGRES], capture_output=True, text=True, timeout=WAIT)
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage", r.stderr)

    def test_killed_by_a_signal(self):
        r = self.run_wrapper("kill -KILL $$")
        self.assertEqual(r.returncode, 128 + signal.SIGKILL)


if __name__ == "__main__":
    unittest.main()
