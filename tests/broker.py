"""broker -- a private RabbitMQ node for tests, built from Debian's rabbitmq-server.

Every Broker is its own world: its own node name (tizza-test-<pid>-<rand>@localhost), its own
free ports (AMQP, Erlang distribution, and an epmd of its own on a private port so it never
meets a system epmd or broker), and its own config, data, log and HOME (for the Erlang
cookie, shared by the server and rabbitmqctl) in one temporary directory. Only the
rabbitmq-server scripts under /usr/lib/rabbitmq/bin are used, never the system service.

    b = Broker(); secs = b.start()   # waits for the AMQP port and `await_startup`
    b.url                             # amqp://guest:guest@127.0.0.1:<port>/%2f
    b.queue_depth("q")                # messages in q (ready + unacked), None if no such queue
    b.kill(); b.restart()             # SIGKILL the node, then start it on the same data/ports
    b.stop(); b.cleanup()             # graceful stop; then no process and no file is left

CLI: `broker.py start [--port N] [--data-dir DIR]` prints `URL <url>` and `NODE <name>`
(flushed) and runs until SIGTERM/SIGINT (or until its parent exits), then stops the node
and cleans up. With --data-dir the data persists there (and the node name is fixed,
tizza-dev@localhost, so a restart finds it).

Processes: the server script runs in a session of its own; before stopping we snapshot its
process tree (sh, beam.smp, erl_child_setup, inet_gethost) and afterwards make sure each one
is gone, SIGKILLing stragglers. This process makes itself a child subreaper so orphans of the
node are reparented to us and reaped here instead of lingering as zombies under init. """

import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SBIN = "/usr/lib/rabbitmq/bin"
PR_SET_CHILD_SUBREAPER = 36


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port, timeout=0.2):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def become_subreaper():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except OSError:
        pass


def proc_table():
    """{pid: (ppid, state, comm)} for every process."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        rest = stat[stat.rindex(")") + 2:].split()
        table[int(name)] = (int(rest[1]), rest[0], comm)
    return table


def descendants(root):
    table = proc_table()
    found, todo = [], [root]
    while todo:
        parent = todo.pop()
        for pid, (ppid, _, _) in table.items():
            if ppid == parent and pid not in found:
                found.append(pid)
                todo.append(pid)
    return found


ERLANG_HELPERS = {"beam.smp", "epmd", "erl_child_setup", "inet_gethost", "rabbitmq-server",
                  "sh", "erl", "escript"}


def reap_orphans():
    """Reaps zombies of Erlang helpers that were reparented to us (we are a subreaper):
    every rabbitmqctl run leaves some (inet_gethost, a failed `epmd -daemon`)."""
    me = os.getpid()
    for pid, (ppid, state, comm) in proc_table().items():
        if ppid == me and state == "Z" and comm in ERLANG_HELPERS:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def alive(pid):
    """True while pid exists and is not a zombie; reaps it when it is our zombie."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


class PortTaken(RuntimeError):
    """The node could not bind a port it was given: somebody took it after free_port()."""


class Broker:
    def __init__(self, port=None, data_dir=None, name=None):
        become_subreaper()
        self.tmp = tempfile.mkdtemp(prefix="tizza-rmq-")
        self.base = os.path.abspath(data_dir) if data_dir else self.tmp
        self.keep_data = data_dir is not None
        tag = f"{os.getpid()}-{random.randrange(1 << 30):x}"
        self.node = name or ("tizza-dev@localhost" if data_dir else f"tizza-test-{tag}@localhost")
        self.port_given = port is not None
        self.port = port or free_port()
        self.dist_port = free_port()
        self.epmd_port = free_port()
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/%2f"
        self.server = None
        self.epmd = None
        self.tree = []
        self.start_seconds = None
        self._write_files()

    # -- setup ------------------------------------------------------------------------
    def _write_files(self):
        home = os.path.join(self.tmp, "home")
        os.makedirs(home, exist_ok=True)
        for sub in ("mnesia", "log"):
            os.makedirs(os.path.join(self.base, sub), exist_ok=True)
        cookie = os.path.join(home, ".erlang.cookie")
        if os.path.exists(cookie):  # written again after a taken port (start)
            os.unlink(cookie)
        with open(cookie, "w") as f:
            f.write("TIZZATEST" + "".join(random.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
                                          for _ in range(20)))
        os.chmod(cookie, 0o400)
        with open(os.path.join(self.tmp, "rabbitmq.conf"), "w") as f:
            f.write(f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
                    "disk_free_limit.absolute = 1MB\n"
                    "log.console = false\n"
                    "log.file.level = info\n")
        with open(os.path.join(self.tmp, "enabled_plugins"), "w") as f:
            f.write("[].\n")
        open(os.path.join(self.tmp, "rabbitmq-env.conf"), "w").close()
        self.env = dict(os.environ)
        self.env.update({
            "HOME": home,
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_MNESIA_BASE": os.path.join(self.base, "mnesia"),
            "RABBITMQ_LOG_BASE": os.path.join(self.base, "log"),
            "RABBITMQ_CONFIG_FILE": os.path.join(self.tmp, "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": os.path.join(self.tmp, "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(self.tmp, "enabled_plugins"),
            "RABBITMQ_CONF_ENV_FILE": os.path.join(self.tmp, "rabbitmq-env.conf"),
            "RABBITMQ_PID_FILE": os.path.join(self.tmp, "rabbit.pid"),
        })

    def _start_epmd(self):
        if self.epmd and self.epmd.poll() is None:
            return
        self.epmd = subprocess.Popen(
            ["epmd", "-port", str(self.epmd_port), "-address", "127.0.0.1"],
            env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while not port_open(self.epmd_port):
            if self.epmd.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"epmd did not start on port {self.epmd_port}")
            time.sleep(0.02)

    # -- control ----------------------------------------------------------------------
    def ctl(self, *args, timeout=60, check=True):
        """Runs rabbitmqctl against this node; returns its stdout."""
        p = subprocess.run([os.path.join(SBIN, "rabbitmqctl"), "-n", self.node, *args],
                           env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=timeout)
        reap_orphans()
        if check and p.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: rc={p.returncode}\n"
                               f"{p.stdout}{p.stderr}")
        return p.stdout

    def start(self, timeout=90):
        """Starts the node; returns the seconds it took until it was ready. A port that
        free_port() chose and another process took before the node bound it is chosen
        again (three tries)."""
        for attempt in range(3):
            try:
                return self._start_once(timeout)
            except PortTaken:
                if attempt == 2:
                    raise
                self.dist_port = free_port()
                if not self.port_given:
                    self.port = free_port()
                    self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/%2f"
                self._write_files()

    def _start_once(self, timeout):
        if self.server and self.server.poll() is None:
            raise RuntimeError("broker already running")
        self._start_epmd()
        t0 = time.monotonic()
        self.log = open(os.path.join(self.tmp, "server.out"), "ab")
        self.server = subprocess.Popen([os.path.join(SBIN, "rabbitmq-server")], env=self.env,
                                       cwd=self.tmp, stdin=subprocess.DEVNULL,
                                       stdout=self.log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        deadline = t0 + timeout
        while not port_open(self.port):
            if self.server.poll() is not None:
                out = self.output()
                taken = "dist_port_already_used" in out or "eaddrinuse" in out
                raise (PortTaken if taken else RuntimeError)(
                    "rabbitmq-server exited during start:\n" + out)
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("rabbitmq-server did not open its port:\n" + self.output())
            time.sleep(0.05)
        self.ctl("await_startup", "--timeout", str(max(1, int(deadline - time.monotonic()))))
        self.start_seconds = time.monotonic() - t0
        return self.start_seconds

    def output(self):
        try:
            with open(os.path.join(self.tmp, "server.out"), errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def running(self):
        return self.server is not None and self.server.poll() is None

    def _snapshot(self):
        if self.server:
            tree = [self.server.pid] + descendants(self.server.pid)
            self.tree = list(dict.fromkeys(self.tree + tree))

    def _finish(self, grace):
        """Waits up to grace seconds for the server and its tree to end, then SIGKILLs."""
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if self.server.poll() is not None and not any(alive(p) for p in self.tree):
                break
            time.sleep(0.05)
        for pid in self.tree:
            if alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.server.wait()
        deadline = time.monotonic() + 5
        while any(alive(p) for p in self.tree) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.tree = []
        self.server = None
        self.log.close()
        reap_orphans()

    def stop(self, grace=30):
        """Graceful: rabbitmqctl stop (the VM halts), SIGTERM as a fallback."""
        if not self.running():
            return
        self._snapshot()
        try:
            self.ctl("stop", timeout=grace, check=False)
        except subprocess.TimeoutExpired:
            pass
        if self.server.poll() is None:
            try:
                os.killpg(self.server.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        self._finish(grace)

    def kill(self):
        """SIGKILL of the whole node (process group and every descendant) at once."""
        if not self.running():
            return
        self._snapshot()
        try:
            os.killpg(self.server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for pid in self.tree:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._finish(0)

    def restart(self, timeout=90):
        """Stops (if running) and starts again with the same data dir, node name and ports."""
        self.stop()
        return self.start(timeout)

    def queue_depth(self, name):
        """Messages in the queue (ready + unacknowledged), None when it does not exist."""
        out = self.ctl("list_queues", "-q", "--no-table-headers", "name", "messages")
        for line in out.splitlines():
            parts = line.rsplit("\t", 1)
            if len(parts) == 2 and parts[0] == name:
                return int(parts[1])
        return None

    def cleanup(self):
        """Stops everything this broker started and removes its files."""
        if self.running():
            self.stop()
        if self.epmd:
            if self.epmd.poll() is None:
                self.epmd.kill()
            self.epmd.wait()
            self.epmd = None
        reap_orphans()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.cleanup()


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="broker.py", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("start", help="run a private node until SIGTERM/SIGINT")
    st.add_argument("--port", type=int, help="AMQP port (default: a free one)")
    st.add_argument("--data-dir", help="keep mnesia and logs here (default: a temp dir)")
    args = ap.parse_args(argv)

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    b = Broker(port=args.port, data_dir=args.data_dir)
    try:
        secs = b.start()
        print(f"URL {b.url}", flush=True)
        print(f"NODE {b.node}", flush=True)
        print(f"broker ready in {secs:.1f} s", file=sys.stderr, flush=True)
        parent = os.getppid()
        while not stopping:
            if os.getppid() != parent:  # whoever started us is gone: do not linger
                print("broker.py: parent exited; stopping", file=sys.stderr)
                return 1
            if not b.running():
                print("broker exited unexpectedly:\n" + b.output(), file=sys.stderr)
                return 1
            time.sleep(0.2)
        return 0
    except Exception as e:  # noqa: BLE001 -- report any start failure plainly
        print(f"broker.py: {e}", file=sys.stderr)
        return 1
    finally:
        b.cleanup()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
