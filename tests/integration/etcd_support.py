"""A throw-away etcd server on 127.0.0.1 for the Python integration tests: ephemeral ports, a
temporary data folder, stopped by PID. The C++ tests have the same in tests/support/etcd_server.
"""
import base64
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.request

ETCD = "/usr/bin/etcd"
START_GUARD = 30  # seconds: a bound that only a broken etcd reaches


def available():
    return os.access(ETCD, os.X_OK)


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class etcd_server:
    """One etcd member; `uri(prefix, ttl=2)` names it for --lock-server. Call `close` (or use
    `with`) to stop it and remove its folder."""

    def __init__(self, tls=None, extra=()):
        """`tls`: {"ca", "cert", "key"} PEM files: clients talk HTTPS and must present a
        certificate signed by "ca" (etcd's --client-cert-auth); `ssl_context` then reaches it.
        `extra`: more etcd arguments."""
        self.folder = tempfile.mkdtemp(prefix="etcd_test.")
        self.client_port, peer_port = free_port(), free_port()
        client = "%s://127.0.0.1:%d" % ("https" if tls else "http", self.client_port)
        peer = "http://127.0.0.1:%d" % peer_port
        self.log = os.path.join(self.folder, "etcd.log")
        self.ssl_context = None
        secure = []
        if tls:
            secure = ["--cert-file", tls["cert"], "--key-file", tls["key"],
                      "--trusted-ca-file", tls["ca"], "--client-cert-auth"]
            self.ssl_context = ssl.create_default_context(cafile=tls["ca"])
            self.ssl_context.load_cert_chain(tls["client_cert"], tls["client_key"])
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [ETCD, "--name", "test", "--data-dir", os.path.join(self.folder, "data"),
                 "--listen-client-urls", client, "--advertise-client-urls", client,
                 "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                 "--initial-cluster", "test=" + peer, *secure, *extra],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            self._wait_healthy(client)
        except Exception:
            self.close()
            raise

    def _wait_healthy(self, client):
        # No proxy: the environment's http_proxy must not see loopback requests.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=self.ssl_context))
        deadline = time.monotonic() + START_GUARD
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with opener.open(client + "/health", timeout=1) as answer:
                    if json.load(answer).get("health") == "true":
                        return
            except OSError:
                pass
            time.sleep(0.05)  # polling a server that is starting; bounded by the deadline
        with open(self.log) as log:
            tail = log.read()[-2000:]
        raise RuntimeError("etcd did not become healthy within %d s:\n%s" % (START_GUARD, tail))

    def uri(self, prefix="/test/locks", **params):
        query = "&".join("%s=%s" % item for item in params.items())
        return "etcd://127.0.0.1:%d%s%s" % (self.client_port, prefix, "?" + query if query else "")

    def call(self, path, body):
        """POSTs `body` (JSON) to the v3 gateway and returns its JSON answer."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        request = urllib.request.Request("http://127.0.0.1:%d%s" % (self.client_port, path),
                                         json.dumps(body).encode())
        with opener.open(request, timeout=START_GUARD) as answer:
            return json.load(answer)

    def keys(self, prefix):
        """The keys that start with `prefix`, in order, with their entries (value decoded)."""
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        encode = lambda text: base64.b64encode(text.encode()).decode()
        answer = self.call("/v3/kv/range", {"key": encode(prefix), "range_end": encode(end)})
        out = []
        for kv in answer.get("kvs", []):
            kv["key"] = base64.b64decode(kv["key"]).decode()
            kv["value"] = base64.b64decode(kv.get("value", "")).decode()
            out.append(kv)
        return out

    def lease_ttl(self, lease):
        """The TTL that lease `lease` was granted, and what is left of it (seconds)."""
        answer = self.call("/v3/lease/timetolive", {"ID": lease})
        return int(answer.get("grantedTTL", 0)), int(answer.get("TTL", -1))

    def stop(self, number=signal.SIGKILL):
        """Stops etcd by PID (SIGKILL by default: it vanishes as in a crash) and reaps it."""
        if self.process.poll() is None:
            self.process.send_signal(number)
            self.process.wait(timeout=START_GUARD)

    def close(self):
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()


class cuttable_proxy:
    """A TCP proxy on 127.0.0.1 to `port` that can be cut: from `cut()` on it forwards nothing
    (connections stay open, data is dropped: a network partition, not a refused connection) until
    `heal()`. `port` is its own port. Call `close`."""

    def __init__(self, target_port):
        self.target = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.forwarding = threading.Event()
        self.forwarding.set()
        self.closed = False
        self.sockets = []
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self):
        self.forwarding.clear()

    def heal(self):
        self.forwarding.set()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source, sink):
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                try:
                    sink.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            if self.forwarding.is_set():  # cut: dropped on the floor
                try:
                    sink.sendall(data)
                except OSError:
                    return

    def close(self):
        self.closed = True
        self.listener.close()
        for s in self.sockets:
            try:
                s.close()
            except OSError:
                pass
