"""A RabbitMQ cluster of three nodes of our own on this machine, for the cluster fault test.

Each node has its own name (palace-c<n>-<pid>@localhost), AMQP, distribution, management and
Prometheus ports and its own data, log and configuration under a temporary directory, with an
Erlang cookie of its own there (HOME), so nothing of the machine's RabbitMQ node (rabbit@localhost
on 5672: its data, its configuration in /etc/rabbitmq, its cookie) is read or touched. They share
the machine's epmd, as any two Erlang nodes here do. Every wait is bounded; `stop()` kills what
is left."""
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import requests

from tests.harness import free_port

BIN = Path("/usr/lib/rabbitmq/bin")  # Debian's scripts run as the caller (/usr/sbin's switch to rabbitmq)
PLUGINS = "[rabbitmq_management,rabbitmq_prometheus]."


def available():
    """None when this machine can run the cluster, else why not."""
    for tool in ("rabbitmq-server", "rabbitmqctl"):
        if not (BIN / tool).exists():
            return f"{BIN / tool} is not here (Debian's rabbitmq-server package)"
    return None


class Node:
    def __init__(self, root, index, tag):
        self.index, self.tag = index, tag
        self.name = f"palace-c{index}-{os.getpid()}@localhost"
        self.amqp, self.dist, self.management, self.prometheus = (free_port() for _ in range(4))
        self.home = root
        self.base = root / f"node{index}"
        self.proc = None

    def env(self):
        """The node's own everything; RABBITMQ_CONF_ENV_FILE keeps /etc/rabbitmq/rabbitmq-env.conf's
        NODENAME (the machine's node) out of it."""
        return {**{k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))},
                "HOME": str(self.home), "RABBITMQ_NODENAME": self.name, "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
                "RABBITMQ_NODE_PORT": str(self.amqp), "RABBITMQ_DIST_PORT": str(self.dist),
                "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"), "RABBITMQ_LOG_BASE": str(self.base / "log"),
                "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
                "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.base / "advanced.config"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
                "RABBITMQ_CONF_ENV_FILE": str(self.base / "rabbitmq-env.conf"),
                "RABBITMQ_PID_FILE": str(self.base / "pid"), "ERL_EPMD_ADDRESS": "127.0.0.1",
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
                # the harness's sweep stops a node whose test run was killed, as it does the stack's processes
                "PALACE_DB_PREFIX": self.tag}

    def write_files(self):
        self.base.mkdir(parents=True)
        (self.base / "rabbitmq-env.conf").write_text("")
        (self.base / "enabled_plugins").write_text(PLUGINS + "\n")
        (self.base / "rabbitmq.conf").write_text("\n".join([
            f"listeners.tcp.default = 127.0.0.1:{self.amqp}",
            f"management.tcp.port = {self.management}", "management.tcp.ip = 127.0.0.1",
            f"prometheus.tcp.port = {self.prometheus}", "prometheus.tcp.ip = 127.0.0.1",
            "cluster_partition_handling = pause_minority",
            "disk_free_limit.absolute = 50MB",
            "log.console = false", "log.file.level = info", ""]))

    def start(self):
        log = open(self.base / "server.out", "ab")
        self.proc = subprocess.Popen([str(BIN / "rabbitmq-server")], env=self.env(), stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def ctl(self, *args, timeout=60, check=True):
        done = subprocess.run([str(BIN / "rabbitmqctl"), "-n", self.name, *args], env=self.env(),
                              capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} on {self.name}: {done.stdout[-500:]}"
                               f" {done.stderr[-500:]}")
        return done

    def await_startup(self, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.tail()}")
            if self.ctl("await_startup", "--timeout", "10", timeout=30, check=False).returncode == 0:
                return
            time.sleep(1)
        raise RuntimeError(f"{self.name} did not start in {timeout} s: {self.tail()}")

    def kill(self):
        """Gone at once, as a crashed machine would be: SIGKILL to the node's whole process group."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def tail(self):
        found = []
        for path in [self.base / "server.out", *sorted((self.base / "log").glob("*.log"))]:
            if path.exists():
                found.append(f"{path.name}: {path.read_text(errors='replace')[-1500:]}")
        return "\n".join(found)

    def url(self, vhost):
        return f"amqp://guest:guest@127.0.0.1:{self.amqp}/{quote(vhost, safe='')}"

    def api(self, path):
        return f"http://127.0.0.1:{self.management}/api/{path}"


class Cluster:
    """Three nodes joined into one cluster; `uri(vhost)` gives all three to a client, first to last."""

    def __init__(self, root, tag, size=3):
        self.root = Path(root)
        self.nodes = [Node(self.root, i, tag) for i in range(size)]

    def start(self):
        self.root.mkdir(parents=True, exist_ok=True)
        cookie = self.root / ".erlang.cookie"
        cookie.write_text(f"palacecluster{os.getpid()}")
        cookie.chmod(0o400)
        for node in self.nodes:
            node.write_files()
            node.start()
        for node in self.nodes:
            node.await_startup()
        first = self.nodes[0]
        for node in self.nodes[1:]:
            node.ctl("stop_app")
            node.ctl("join_cluster", first.name)
            node.ctl("start_app")
            node.await_startup()
        running = self.running_nodes(first)
        if set(running) != {n.name for n in self.nodes}:
            raise RuntimeError(f"the cluster has {running}")

    def running_nodes(self, node):
        answer = requests.get(node.api("nodes"), auth=("guest", "guest"), timeout=10).json()
        return [n["name"] for n in answer if n.get("running")]

    def add_vhost(self, vhost):
        node = self.nodes[0]
        requests.put(node.api(f"vhosts/{quote(vhost, safe='')}"), auth=("guest", "guest"), timeout=10
                     ).raise_for_status()
        requests.put(node.api(f"permissions/{quote(vhost, safe='')}/guest"), auth=("guest", "guest"), timeout=10,
                     json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()

    def uri(self, vhost, first=0):
        """Every node's URL, `first` first: a client connects to the first that answers."""
        order = self.nodes[first:] + self.nodes[:first]
        return ";".join(node.url(vhost) for node in order)

    def stop(self):
        for node in self.nodes:
            try:
                node.kill()
            except (OSError, subprocess.TimeoutExpired):
                pass
        shutil.rmtree(self.root, ignore_errors=True)
