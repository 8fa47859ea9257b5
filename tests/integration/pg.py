"""A real PostgreSQL server of the test's own: initdb in a private temp dir, the
postmaster on a free loopback port and on a unix socket in that dir, stopped and
removed at the end.

    with PostgresServer() as pg:            # or pg = PostgresServer(); pg.start()
        pg.psql("create table t (a int); insert into t values (1)")
        assert pg.psql("select a from t") == [("1",)]
        ...  # a program under test connects with pg.conninfo

initdb and postgres refuse to run as root. When the tests run as root (here and in
CI), the server runs as Debian's `postgres` system user (every machine with the
postgresql package has it), through `setpriv`, which execs the command in place (the
pid held is the postmaster's) with a parent-death signal: should the test process die
without cleaning up, the postmaster gets SIGQUIT (an immediate shutdown) and takes its
children with it. Any other user runs the server as itself. The temp dir belongs to
that user; the tests' own processes reach the server through TCP or the socket with
`trust` authentication, as user `jobs`, a superuser.

fsync is off by default, for speed: a server killed with kill() still recovers every
committed transaction (they are in the kernel's page cache), but nothing would survive
the machine's crash. A test of durability itself passes fsync=True.

Environment:
  JOBS_PG_BINDIR  PostgreSQL's server programs (default: the newest
                  /usr/lib/postgresql/*/bin, Debian's place, else initdb's dir on PATH)
"""
import atexit
import csv
import glob
import io
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time

from harness import SLOW, WAIT, free_port, listens_on

# How long a start may take: initdb and the first start take about a second on an
# idle machine, crash recovery a little more; the machine may be loaded.
START_TIMEOUT = 60.0 * SLOW
# The unprivileged user the server runs as when the tests run as root.
SYSTEM_USER = "postgres"
# stop()'s modes: the signals the postmaster takes for them.
STOP_SIGNALS = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}
# What psql() prints for NULL (a value no test stores), read back as None.
_NULL = "\x1a"


def bindir():
    """The directory of initdb, postgres, pg_isready and psql."""
    env = os.environ.get("JOBS_PG_BINDIR")
    if env:
        return env
    def version(d):
        return [int(n) for n in re.findall(r"\d+", d.split("/")[-2])]
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version)
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    raise RuntimeError("PostgreSQL's server programs are not installed (Debian: the postgresql"
                       " package, scripts/install-deps); JOBS_PG_BINDIR names another place")


class PsqlError(RuntimeError):
    """psql failed (an SQL error, no connection): .returncode, .stderr."""

    def __init__(self, returncode, stderr):
        super().__init__(f"psql exited with {returncode}: {stderr.strip()}")
        self.returncode = returncode
        self.stderr = stderr


def _proc_stat(pid):
    """(state, ppid) of a process, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[1])


def alive(pid):
    """Whether process pid exists and is not a zombie (an exited child of a parent
    that does not reap, such as a container's init, holds nothing)."""
    stat = _proc_stat(pid)
    return stat is not None and stat[0] != "Z"


def _signal(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:  # exited (and reaped) meanwhile
            pass


def _stopped(pid):
    stat = _proc_stat(pid)
    return stat is None or stat[0] in ("T", "Z")


def _children(pid):
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _proc_stat(int(entry))
            if stat is not None and stat[1] == pid and stat[0] != "Z":
                kids.append(int(entry))
    return kids


_live = set()  # the servers not cleaned up yet, for atexit


@atexit.register
def _cleanup_all():
    for server in list(_live):
        server.cleanup()


class PostgresServer:
    """One PostgreSQL cluster in its own temp dir (self.dir: the socket and the log;
    self.data_dir: the cluster). stop() then start() is a restart over the same data,
    on the same port. settings: more `-c name=value` for the postmaster."""

    def __init__(self, fsync=False, dbname="jobs", user="jobs", settings=None):
        self.bindir = bindir()
        self.fsync = fsync
        self.dbname = dbname
        self.user = user
        self.settings = dict(settings or {})
        self.host = "127.0.0.1"
        self.port = None
        self.proc = None
        self.paused = []
        self.initialized = False
        self.started_once = False
        self.run_as = None  # (uid, gid) of the unprivileged user when running as root
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam(SYSTEM_USER)
            except KeyError:
                raise RuntimeError(f"running as root, the server needs the unprivileged user "
                                   f"'{SYSTEM_USER}' (Debian's postgresql package makes it)")
            self.run_as = (pw.pw_uid, pw.pw_gid)
        self.dir = tempfile.mkdtemp(prefix="jobs-pg-")
        _live.add(self)
        if self.run_as:
            os.chown(self.dir, *self.run_as)
        self.socket_dir = self.dir
        self.data_dir = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "postgres.log")

    # -- what clients connect with

    @property
    def conninfo(self):
        """libpq's conninfo over TCP: host=127.0.0.1 port=N user=jobs dbname=jobs."""
        return f"host={self.host} port={self.port} user={self.user} dbname={self.dbname}"

    @property
    def socket_conninfo(self):
        """The same over the unix socket in socket_dir."""
        return f"host={self.socket_dir} port={self.port} user={self.user} dbname={self.dbname}"

    @property
    def uri(self):
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}"

    def env(self):
        """The variables a program under the server gets (tests/with-postgres)."""
        return {"JOBS_PG_CONNINFO": self.conninfo, "JOBS_PG_SOCKET_DIR": self.socket_dir,
                "PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": self.user,
                "PGDATABASE": self.dbname}

    # -- running it

    def _command(self, program, *args):
        """program of bindir with args, as the unprivileged user when we are root; with
        SIGQUIT should this process die first."""
        prefix = ["setpriv", "--pdeathsig", "SIGQUIT"]
        if self.run_as:
            prefix += ["--reuid", str(self.run_as[0]), "--regid", str(self.run_as[1]),
                       "--init-groups"]
        return prefix + ["--", os.path.join(self.bindir, program), *args]

    def _initdb(self):
        r = subprocess.run(self._command("initdb", "-D", self.data_dir, "-A", "trust",
                                         "-U", self.user, "--no-sync", "-E", "UTF8",
                                         "--locale", "C"),
                           cwd=self.dir, capture_output=True, text=True, timeout=START_TIMEOUT)
        if r.returncode != 0:
            raise RuntimeError(f"initdb failed ({r.returncode}):\n{r.stdout}{r.stderr}")
        self.initialized = True

    def start(self, timeout=START_TIMEOUT):
        """Starts the postmaster (the first time: initdb, then the database dbname) and
        waits until it accepts connections. A start after kill() runs crash recovery.
        When another process took the port first, the first start tries a new one; a
        restart keeps its port, as clients expect. Returns self."""
        if self.proc is not None:
            raise RuntimeError("the server is running already")
        if not self.initialized:
            self._initdb()
        for attempt in range(5):
            if self.port is None or (not self.started_once and attempt > 0):
                self.port = free_port()
            log_start = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
            args = ["-D", self.data_dir, "-k", self.socket_dir, "-p", str(self.port),
                    "-c", f"listen_addresses={self.host}",
                    "-c", "fsync=" + ("on" if self.fsync else "off")]
            for name, value in self.settings.items():
                args += ["-c", f"{name}={value}"]
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(self._command("postgres", *args), cwd=self.dir,
                                             stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=subprocess.STDOUT)
            deadline = time.time() + timeout
            while time.time() < deadline:
                if self.proc.poll() is not None:
                    self.proc = None
                    text = self.read_log(log_start)
                    if "Address already in use" in text and not self.started_once:
                        break
                    raise RuntimeError("postgres exited at start:\n" + text)
                if self._ready() and listens_on(self.proc.pid, self.port) is not False:
                    break
                time.sleep(0.05)
            else:
                self.kill()
                raise RuntimeError(f"postgres was not ready within {timeout} s:\n"
                                   + self.read_log(log_start))
            if self.proc is not None:
                break
        else:
            raise RuntimeError("postgres found no free port:\n" + self.read_log())
        if not self.started_once:
            self.started_once = True
            self.psql(f'create database "{self.dbname}"', dbname="postgres")
        return self

    def _ready(self):
        r = subprocess.run([os.path.join(self.bindir, "pg_isready"), "-q", "-h", self.host,
                            "-p", str(self.port), "-U", self.user, "-d", "postgres", "-t", "5"],
                           stdin=subprocess.DEVNULL, timeout=WAIT)
        return r.returncode == 0

    @property
    def pid(self):
        """The postmaster's pid (None when it is not running)."""
        return self.proc.pid if self.proc is not None else None

    def processes(self):
        """The postmaster and its children (backends, checkpointer, ...)."""
        return [self.pid] + _children(self.pid) if self.proc is not None else []

    def stop(self, mode="fast", timeout=WAIT * 3):
        """Shuts the server down: 'smart' (waits for the clients to leave), 'fast'
        (ends their sessions, checkpoints) or 'immediate' (no checkpoint: the next
        start recovers from the WAL). Waits until the postmaster exits, having reaped
        its children. Returns the log."""
        if self.proc is None:
            return self.read_log()
        if self.paused:
            self.resume()
        self.proc.send_signal(STOP_SIGNALS[mode])
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"postgres did not stop ({mode}) within {timeout} s:\n"
                                 + self.read_log())
        self.proc = None
        return self.read_log()

    def kill(self):
        """SIGKILL to the postmaster and every child at once, as a machine or container
        would lose them (for fault tests); waits until they are gone. The data stays:
        start() recovers it."""
        if self.proc is None:
            return
        _signal([self.proc.pid], signal.SIGSTOP)  # forks no one from now on
        pids = self.processes()
        _signal(pids, signal.SIGKILL)
        self.proc.wait()
        self.proc = None
        self.paused = []
        deadline = time.time() + WAIT
        while any(alive(p) for p in pids):
            if time.time() > deadline:
                raise AssertionError(f"postgres processes outlived SIGKILL: {pids}")
            time.sleep(0.02)

    def restart(self, mode="fast"):
        self.stop(mode)
        return self.start()

    def pause(self):
        """SIGSTOP to the postmaster and its children: a stalled network or database.
        Connections wait (the kernel still accepts TCP connections); resume() goes on."""
        if self.proc is None or self.paused:
            return
        _signal([self.proc.pid], signal.SIGSTOP)  # first: forks no one from now on
        self.paused = self.processes()
        _signal(self.paused[1:], signal.SIGSTOP)
        # a signal takes effect when its process next runs: wait for that
        deadline = time.time() + WAIT
        while not all(_stopped(p) for p in self.paused):
            if time.time() > deadline:
                raise AssertionError(f"postgres processes did not stop: {self.paused}")
            time.sleep(0.01)

    def resume(self):
        _signal(reversed(self.paused), signal.SIGCONT)
        self.paused = []

    def cleanup(self):
        """Stops the server whatever its state (immediately) and removes its dir."""
        if self.proc is not None:
            try:
                self.stop("immediate")
            except Exception:
                if self.proc is not None:
                    self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
        _live.discard(self)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, *exc):
        self.cleanup()

    # -- reading it

    def read_log(self, offset=0):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def psql(self, sql, dbname=None, timeout=WAIT, conninfo=None):
        """Runs sql (one or more statements, stopping at the first error) with psql
        through the TCP conninfo; returns the rows every statement returned, in order,
        as tuples of strings (None for NULL). Raises PsqlError on an error."""
        conninfo = conninfo or self.conninfo
        if dbname:
            conninfo += f" dbname={dbname}"
        return psql(sql, conninfo, timeout, self.bindir)


def psql(sql, conninfo, timeout=WAIT, programs=None):
    """Runs sql with psql through conninfo, as PostgresServer.psql does (rows as tuples
    of strings, None for NULL; PsqlError on an error). programs: PostgreSQL's bindir
    (default: bindir())."""
    r = subprocess.run([os.path.join(programs or bindir(), "psql"), "-X", "-q", "-t", "--csv",
                        "-v", "ON_ERROR_STOP=1", "-P", f"null={_NULL}", "-d", conninfo,
                        "-f", "-"],
                       input=sql, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise PsqlError(r.returncode, r.stderr)
    return [tuple(None if v == _NULL else v for v in row)
            for row in csv.reader(io.StringIO(r.stdout))]
