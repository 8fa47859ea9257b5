"""The recipes of README.md and docs/*.md, run as written.

Every code block of those files carries a marker, an HTML comment on the line before
it (docs/development.md, "Recipes in the docs"):

  <!-- doc-test: conf name=N [extends=M] -->   a Mosquitto configuration
  <!-- doc-test: sh uses=N [before] [restart] -->   shell commands against conf N
  <!-- doc-test: expect -->                    output the sh block before must print
  <!-- doc-test: by-hand reason="..." -->      checked by hand (the text says so)
  <!-- doc-test: illustration -->              not a recipe (a payload, a log line)

Blocks fenced as ```json or ```text are illustrations without a marker; any other
block without one fails test_every_block_is_marked, so a new recipe cannot go
untested.

Each configuration runs in a broker configured by that text alone, on Mosquitto's
own defaults, in private network and mount namespaces: 127.0.0.1:1883 (and any other
port) is free there, and /var/lib/mosquitto, /etc/mosquitto and
/usr/local/lib/mosquitto are private folders (the last holds the built plugin), so
the docs' ports and paths are used as they are. Mosquitto started as root drops to
the `mosquitto` user, as on a real install. `uses=file:conf/mosquitto.conf` is the
broker `scripts/run` starts (its configuration with the `user` line the script adds,
run from a copy of the working tree's top holding build/ and var/). `jobsctl` on the
PATH, and build/jobsctl there, is the built one.

Environment: JOBS_PLUGIN, JOBS_JOBSCTL, JOBS_PRELOAD (see harness.py). Needs root
(namespaces, `chown mosquitto:` in the recipes), unshare, nsenter and ip; a private
folder missing on the machine is made (empty) before it is mounted over.
JOBS_DOCS_VERBOSE=1 prints every block's output."""
import glob
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import harness
from test_http_api import INSTALL_HINT, boto3_python

ROOT = os.path.abspath(os.path.join(harness.HERE, "..", ".."))
JOBSCTL = os.environ.get("JOBS_JOBSCTL")
DOCS = ["README.md"] + sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))

KINDS = {"conf", "sh", "python", "expect", "by-hand", "illustration"}
UNMARKED_OK = {"json", "text"}
MARKER = re.compile(r"^<!--\s*doc-test:\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(```+)\s*([\w+-]*)\s*$")
# Private folders inside the namespaces: (path, owner as on Debian)
PRIVATE = [("/var/lib/mosquitto", "mosquitto"), ("/etc/mosquitto", "root"),
           ("/usr/local/lib/mosquitto", "root"), ("/var/log/mosquitto", "mosquitto")]
# Debian's /etc/mosquitto/mosquitto.conf as the package installs it: the main file of
# a `conf file=/etc/mosquitto/conf.d/...` block (its pid_file is written only by a
# daemon, so it is left out)
DEBIAN_MAIN = """persistence true
persistence_location /var/lib/mosquitto/

log_dest file /var/log/mosquitto/mosquitto.log

include_dir /etc/mosquitto/conf.d
"""
# refusals the mosquitto clients print while they exit 0; a block whose marker says
# `denied` may show them
DENIED = ("Not authorized", "subscription requests were denied", "Connection Refused")
WAIT = 15.0 * harness.SLOW  # the most a broker start or an expected line may take


class Block:
    def __init__(self, doc, line, lang, text, marker):
        self.doc, self.line, self.lang, self.text = doc, line, lang, text
        self.kind, self.attrs = None, {}
        if marker is not None:
            words = shlex.split(marker)
            self.kind = words[0] if words else ""
            for w in words[1:]:
                k, _, v = w.partition("=")
                self.attrs[k] = v if _ else True

    def where(self):
        return f"{self.doc}:{self.line}"


def parse(doc):
    """The code blocks of one markdown file, with their markers; and the problems
    found on the way (indented code blocks, markers followed by no block)."""
    blocks, problems = [], []
    with open(os.path.join(ROOT, doc), encoding="utf-8") as f:
        lines = f.read().split("\n")
    i, marker, marker_line, prev_blank, in_list = 0, None, 0, True, False
    while i < len(lines):
        line = lines[i]
        m = MARKER.match(line)
        if m:
            if marker is not None:
                problems.append(f"{doc}:{marker_line}: marker not followed by a fenced block")
            marker, marker_line = m.group(1), i + 1
            i += 1
            continue
        f = FENCE.match(line)
        if f:
            end = i + 1
            while end < len(lines) and lines[end].strip() != f.group(1):
                end += 1
            blocks.append(Block(doc, i + 1, f.group(2), "\n".join(lines[i + 1:end]) + "\n", marker))
            marker, i, prev_blank = None, end + 1, False
            continue
        if marker is not None and line.strip():
            problems.append(f"{doc}:{marker_line}: marker not followed by a fenced block")
            marker = None
        if line.startswith(("- ", "* ", "| ")) or re.match(r"^\d+\. ", line):
            in_list = True
        elif not line.strip():
            pass
        elif not line.startswith(" "):
            in_list = False
        if line.startswith("    ") and line.strip() and prev_blank and not in_list:
            problems.append(f"{doc}:{i + 1}: indented code block: fence it and mark it")
        prev_blank = not line.strip()
        i += 1
    if marker is not None:
        problems.append(f"{doc}:{marker_line}: marker not followed by a fenced block")
    return blocks, problems


def all_blocks():
    blocks, problems = [], []
    for doc in DOCS:
        b, p = parse(doc)
        blocks += b
        problems += p
    return blocks, problems


def scenarios(blocks):
    """name -> {"conf": Block or a file name, "steps": [sh / expect blocks in order]}."""
    out = {}
    for b in blocks:
        if b.kind == "conf":
            out[b.attrs["name"]] = {"conf": b, "steps": [], "before": []}
    last_sh = None
    for b in blocks:
        if b.kind in ("sh", "python"):
            name = b.attrs.get("uses")
            if name and name.startswith("file:") and name not in out:
                out[name] = {"conf": name[5:], "steps": [], "before": []}
            if name in out:
                out[name]["before" if b.attrs.get("before") else "steps"].append(b)
            last_sh = b
        elif b.kind == "expect" and last_sh is not None:
            sc = out.get(last_sh.attrs.get("uses"))
            if sc is not None:
                sc["before" if last_sh.attrs.get("before") else "steps"].append(b)

    def before(name):  # a conf that extends another needs what that one needs first
        sc = out[name]
        base = sc["conf"].attrs.get("extends") if isinstance(sc["conf"], Block) else None
        return (before(base) if base in out else []) + sc["before"]
    for name, sc in out.items():
        sc["all_before"] = before(name)
    return out


def conf_text(blocks_by_name, name):
    b = blocks_by_name[name]
    base = b.attrs.get("extends")
    return (conf_text(blocks_by_name, base) if base else "") + b.text


_aws = []


def real_aws():
    """The AWS CLI behind a pyenv shim (each call through the shim costs about half a
    second, and http-api.md runs 26), or None to leave `aws` to the PATH."""
    if not _aws:
        path = shutil.which("aws") or ""
        real = None
        if "/shims/" in path and shutil.which("pyenv"):
            proc = subprocess.run(["pyenv", "which", "aws"], capture_output=True, text=True)
            real = proc.stdout.strip() if proc.returncode == 0 else None
        _aws.append(real)
    return _aws[0]


class Sandbox:
    """Private network and mount namespaces held by a sleeping process; every
    broker and command of one scenario runs inside them."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="jobs-docs-")
        os.chmod(self.tmp, 0o755)
        mosq = pwd.getpwnam("mosquitto")
        self.mounts = []
        for path, owner in PRIVATE:
            d = os.path.join(self.tmp, path.strip("/").replace("/", "_"))
            os.mkdir(d, 0o755)
            if owner == "mosquitto":
                os.chown(d, mosq.pw_uid, mosq.pw_gid)
            self.mounts.append((d, path))
        os.symlink(harness.PLUGIN, os.path.join(self.tmp, "usr_local_lib_mosquitto", "mosquitto_jobs.so"))
        # the top of a working tree, as scripts/run uses it
        self.tree = os.path.join(self.tmp, "tree")
        for d in ("build", "var", "conf", "bin", "home"):
            os.makedirs(os.path.join(self.tree, d))
        os.chown(os.path.join(self.tree, "var"), mosq.pw_uid, mosq.pw_gid)
        os.symlink(harness.PLUGIN, os.path.join(self.tree, "build", "mosquitto_jobs.so"))
        os.symlink(JOBSCTL, os.path.join(self.tree, "build", "jobsctl"))
        os.symlink(JOBSCTL, os.path.join(self.tree, "bin", "jobsctl"))
        if real_aws():
            os.symlink(real_aws(), os.path.join(self.tree, "bin", "aws"))
        shutil.copy(os.path.join(ROOT, "conf", "mosquitto.conf"), os.path.join(self.tree, "conf"))
        script = ["ip link set lo up"]
        for src, dst in self.mounts:
            script.append(f"mkdir -p {dst} && mount --bind {src} {dst}")
        script.append("echo ready && exec sleep 100000")
        self.holder = subprocess.Popen(
            ["unshare", "--net", "--mount", "--propagation", "private", "bash", "-ec",
             " && ".join(script)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        first = self.holder.stdout.readline()
        if first.strip() != "ready":
            self.holder.wait()
            raise RuntimeError("cannot make namespaces: " + first + self.holder.stdout.read())
        self.groups = []

    def private(self, path):
        """The host folder that is `path` inside the namespaces."""
        return dict((dst, src) for src, dst in self.mounts)[path]

    def enter(self):
        return ["nsenter", "-t", str(self.holder.pid), "-n", "-m", f"--wd={self.tree}", "--"]

    def env(self):
        env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "JOBSCTL_CONFIG")}
        env = {k: v for k, v in env.items() if not k.startswith("AWS_")}
        env.update(PATH=os.path.join(self.tree, "bin") + ":" + os.environ.get("PATH", ""),
                   HOME=os.path.join(self.tree, "home"), JOBSCTL_CONFIG="", AWS_PAGER="",
                   AWS_EC2_METADATA_DISABLED="true")
        return env

    def run(self, text, name):
        """Runs shell text with bash -e; returns (exit status, output). The blocks of
        a scenario share a shell session: variables, aliases and the working folder
        one sets are there for the next (the state is saved on exit and sourced).
        Processes it leaves in the background live until close()."""
        out_path = os.path.join(self.tmp, f"{name}.out")
        state = os.path.join(self.tmp, "shell-state")
        script = (f"shopt -s expand_aliases\n__known=\" $(compgen -v | tr '\\n' ' ') __known \"\n"
                  f"if [ -f {state} ]; then . {state}; fi\n"
                  f"trap '{{ for v in $(compgen -v); do case \"$__known\" in *\" $v \"*) ;; *) declare -p $v;; esac; done; "
                  f"for v in $(compgen -e); do declare -p $v; done; alias -p; "
                  f"echo \"cd $(printf %q \"$PWD\")\"; }} > {state}.new 2>/dev/null && mv {state}.new {state}' EXIT\n"
                  + text)
        with open(out_path, "wb") as out:
            proc = subprocess.Popen(self.enter() + ["bash", "-e", "-o", "pipefail", "-c", script],
                                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=self.env(), start_new_session=True)
            self.groups.append(proc.pid)
            try:
                code = proc.wait(timeout=120 * harness.SLOW)
            except subprocess.TimeoutExpired:
                code = "timeout"
        return code, out_path

    def close(self):
        for pgid in self.groups:
            try:
                os.killpg(pgid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        self.holder.kill()
        self.holder.wait()
        self.holder.stdout.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class DocBroker(harness.Broker):
    """A mosquitto inside a Sandbox, configured by a doc's text alone."""

    def __init__(self, sandbox, text, conf_file=None):
        """conf_file: where the text goes, a file under /etc/mosquitto/conf.d/ read
        by Debian's mosquitto.conf; by default a file of its own, alone."""
        super().__init__()
        os.chmod(self.dir, 0o777)  # the sanitizer logs of a broker running as mosquitto
        self.sandbox, self.text, self.conf_file = sandbox, text, conf_file
        self.file_log = None
        if conf_file:
            if not conf_file.startswith("/etc/mosquitto/conf.d/"):
                raise ValueError(f"file={conf_file}: only /etc/mosquitto/conf.d/ is known")
            etc = sandbox.private("/etc/mosquitto")
            os.makedirs(os.path.join(etc, "conf.d"), exist_ok=True)
            with open(os.path.join(etc, "mosquitto.conf"), "w") as f:
                f.write(DEBIAN_MAIN)
            self.conf_path = "/etc/mosquitto/mosquitto.conf"
            self.file_log = os.path.join(sandbox.private("/var/log/mosquitto"), "mosquitto.log")

    def env(self):
        env = super().env()
        if "ASAN_OPTIONS" in env:
            # Mosquitto 2.0.11 itself leaks a subscription that a persistent session
            # makes again (sub__add), as README's walk-through does; only that is
            # suppressed, which takes full stacks to recognise
            supp = os.path.join(self.dir, "lsan.supp")
            with open(supp, "w") as f:
                f.write("leak:sub__add\n")
            os.chmod(supp, 0o644)
            env["ASAN_OPTIONS"] += ":fast_unwind_on_malloc=0"
            env["LSAN_OPTIONS"] = f"suppressions={supp}:print_suppressions=0"
        return env

    def write_conf(self):
        if self.conf_file:
            path = os.path.join(self.sandbox.private("/etc/mosquitto"), "conf.d",
                                os.path.basename(self.conf_file))
        else:
            path = self.conf_path
        with open(path, "w") as f:
            f.write(self.text)
        os.chmod(path, 0o644)

    def read_log(self):
        text = super().read_log()
        if self.file_log and os.path.exists(self.file_log):
            with open(self.file_log, "rb") as f:
                text += f.read().decode("utf-8", "replace")
        return text

    def start(self, expect_failure=False, timeout=WAIT):
        self.write_conf()
        self.log = open(self.log_path, "ab")
        start = len(self.read_log())
        self.proc = subprocess.Popen(self.sandbox.enter() + harness.WRAPPER + ["mosquitto", "-c", self.conf_path],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=self.env(),
                                     stdin=subprocess.DEVNULL)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.log.close()
                raise RuntimeError("mosquitto exited at start:\n" + self.read_log())
            # logged once the listeners are open and the plugins initialised
            if re.search(r"mosquitto version \S+ running", self.read_log()[start:]):
                return None
            time.sleep(0.05)
        raise RuntimeError("mosquitto did not start:\n" + self.read_log())



def squeeze(line):
    return " ".join(line.split())


def expected_lines(text):
    return [squeeze(ln).rstrip(",") for ln in text.split("\n") if ln.strip() and ln.strip() != "..."]


def line_matches(expected, line):
    """`expected` occurs in `line`; `...` inside it stands for anything."""
    pos = 0
    for part in expected.split("..."):
        k = line.find(part, pos)
        if k < 0:
            return False
        pos = k + len(part)
    return True


def missing_lines(expected, output):
    """The expected lines not found in the output, each in a line of its own after
    the line the previous one matched."""
    out_lines = [squeeze(ln) for ln in output.split("\n")]
    missing, at = [], 0
    for e in expected_lines(expected):
        k = next((i for i in range(at, len(out_lines)) if line_matches(e, out_lines[i])), None)
        if k is None:
            missing.append(e)
        else:
            at = k + 1
    return missing


@unittest.skipUnless(JOBSCTL, "JOBS_JOBSCTL is not set")
@unittest.skipUnless(os.geteuid() == 0, "needs root: namespaces, and recipes that chown")
class DocsTest(unittest.TestCase):

    def test_every_block_is_marked(self):
        problems = marker_problems(DOCS)
        self.assertEqual(problems, [], "\n".join(problems))

    def test_marker_check_sees_unmarked_blocks(self):
        """The meta-check itself: an unmarked shell block, an indented block, a
        by-hand block whose text does not say so and an expect after no command are
        found; a json block and an indented list continuation are not."""
        tmp = tempfile.mkdtemp(prefix="jobs-docs-meta-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "x.md")
        with open(path, "w") as f:
            f.write("Text:\n\n```sh\nmosquitto -c x\n```\n\nMore:\n\n    listener 1883\n\n"
                    "<!-- doc-test: illustration -->\n```conf\nx\n```\n\n- a list\n\n      indented in it\n\n"
                    "```json\n{}\n```\n\n<!-- doc-test: by-hand reason=\"x\" -->\n```sh\nx\n```\n\n"
                    "<!-- doc-test: expect -->\n```text\nx\n```\n")
        problems = marker_problems([os.path.relpath(path, ROOT)])
        self.assertEqual([p.split(": ", 1)[1] for p in problems], [
            "indented code block: fence it and mark it",
            "a ```sh block without a doc-test marker",
            "the text around a by-hand block must say it is checked by hand",
            "expect must follow a sh block"], problems)


def marker_problems(docs):
    """What is wrong with the markers of these markdown files."""
    blocks, problems = [], []
    for doc in docs:
        b, p = parse(doc)
        blocks += b
        problems += p
    names = {}
    for b in blocks:
        if b.kind is None:
            if b.lang not in UNMARKED_OK:
                problems.append(f"{b.where()}: a ```{b.lang} block without a doc-test marker")
            continue
        if b.kind not in KINDS:
            problems.append(f"{b.where()}: unknown doc-test kind {b.kind!r}")
        if b.kind == "conf":
            name = b.attrs.get("name")
            if not name or name in names:
                problems.append(f"{b.where()}: conf needs a name of its own")
            names[name] = b
    for b in blocks:
        if b.kind == "conf" and b.attrs.get("extends") and b.attrs["extends"] not in names:
            problems.append(f"{b.where()}: extends an unknown conf")
        if b.kind in ("sh", "python"):
            uses = b.attrs.get("uses", "")
            if not (uses in names or (uses.startswith("file:") and os.path.isfile(os.path.join(ROOT, uses[5:])))):
                problems.append(f"{b.where()}: sh uses= names no conf block or file")
        if b.kind == "by-hand":
            if not b.attrs.get("reason"):
                problems.append(f"{b.where()}: by-hand needs a reason")
            if not said_by_hand(b):
                problems.append(f"{b.where()}: the text around a by-hand block must say it is checked by hand")
    for i, b in enumerate(blocks):
        if b.kind == "expect" and (i == 0 or blocks[i - 1].kind not in ("sh", "python") or blocks[i - 1].doc != b.doc):
            problems.append(f"{b.where()}: expect must follow a sh block")
    return problems


def said_by_hand(block):
    with open(os.path.join(ROOT, block.doc), encoding="utf-8") as f:
        lines = f.read().split("\n")
    start = block.line - 1
    end = start + 1 + block.text.count("\n")
    around = " ".join(lines[max(0, start - 6):start] + lines[end:end + 4])
    return "by hand" in around


def make_test(name, sc, confs):
    def test(self):
        t0 = time.time()
        sandbox = Sandbox()
        self.addCleanup(sandbox.close)
        for b in sc["all_before"]:
            self.run_block(sandbox, b, sc)
        if isinstance(sc["conf"], str):
            # as scripts/run starts it: its configuration plus the `user` line
            with open(os.path.join(ROOT, sc["conf"])) as f:
                text = f.read() + "user mosquitto\n"
        else:
            text = conf_text(confs, name)
        conf_file = None if isinstance(sc["conf"], str) else sc["conf"].attrs.get("file")
        broker = DocBroker(sandbox, text, conf_file)
        self.addCleanup(broker.cleanup)
        broker.start()
        for b in sc["steps"]:
            if b.kind == "sh" and b.attrs.get("restart"):
                broker.stop()
                broker.start()
            self.run_block(sandbox, b, sc)
        log = broker.stop()
        for bad in ("Error", "Warning: ", "jobs: cannot", "bad configuration"):
            self.assertNotIn(bad, log, f"broker log of {name}:\n{log}")
        print(f"\n{name}: {time.time() - t0:.1f} s", end=" ", flush=True)
    return test


def run_block(self, sandbox, b, sc):
    if b.kind in ("sh", "python"):
        text = b.text
        if b.kind == "python":
            python = boto3_python() if "import boto3" in text else "/usr/bin/python3"
            if not python:
                self.fail(f"{b.where()}: no python3 with boto3 found: {INSTALL_HINT}")
            text = f"{shlex.quote(python)} - <<'__DOC_PYTHON__'\n{text}__DOC_PYTHON__\n"
        code, out_path = sandbox.run(text, f"{b.doc.replace('/', '_')}-{b.line}")
        self.last_out = out_path
        with open(out_path, errors="replace") as f:
            out = f.read()
        if os.environ.get("JOBS_DOCS_VERBOSE"):
            print(f"\n--- {b.where()} ({code}):\n{out}", end="")
        self.assertEqual(code, 0, f"{b.where()} failed ({code}):\n{out}")
        if not b.attrs.get("denied"):
            # mosquitto_rr and mosquitto_sub say so but exit 0
            for word in DENIED:
                self.assertNotIn(word, out, f"{b.where()}:\n{out}")
    elif b.kind == "expect":
        deadline = time.time() + WAIT
        while True:  # a background subscriber may print a little later
            with open(self.last_out, errors="replace") as f:
                out = f.read()
            missing = missing_lines(b.text, out)
            if not missing or time.time() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(missing, [], f"{b.where()}: not in the output:\n{out}")


DocsTest.run_block = run_block


def add_scenario_tests():
    blocks, _ = all_blocks()
    confs = {b.attrs["name"]: b for b in blocks if b.kind == "conf" and "name" in b.attrs}
    for name, sc in scenarios(blocks).items():
        where = sc["conf"] if isinstance(sc["conf"], str) else sc["conf"].where()
        test = make_test(name, sc, confs)
        test.__doc__ = f"{name} ({where}) and the commands that use it"
        setattr(DocsTest, "test_recipe_" + re.sub(r"\W", "_", name), test)


add_scenario_tests()

if __name__ == "__main__":
    unittest.main()
