#!/usr/bin/env python3
"""`lockable --lock-server etcds://...`: a real etcd with TLS (certificates made here with openssl)
that asks clients for a certificate and has authentication enabled."""
import base64
import json
import os
import subprocess
import sys
import unittest
import urllib.request

import etcd_support
from cli_support import RUN_UNTIL_STDIN_CLOSES, clean_environment, lockable_case, main, read_line

PASSWORD = "pw-Zq81-secret"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(folder):
    """A CA, a server certificate for 127.0.0.1 and a client certificate without a common name
    (so that only the password authenticates), and a second CA that signed nothing here."""
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=test " + ca, "-keyout", ca + ".key", "-out", ca + ".pem", cwd=folder)
    for name, extension in (("server", "subjectAltName=IP:127.0.0.1"),
                            ("client", "extendedKeyUsage=clientAuth")):
        # No CN in the client's: etcd's gateway refuses a client certificate with one once
        # authentication is on ("CommonName ... will be ignored"); the server's names its IP.
        subject = "/CN=lab-server" if name == "server" else "/O=lab-client"
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", subject,
                "-keyout", name + ".key", "-out", name + ".csr", cwd=folder)
        with open(os.path.join(folder, name + ".ext"), "w") as f:
            f.write(extension + "\n")
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", name + ".ext", "-out", name + ".pem",
                cwd=folder)
    return {k: os.path.join(folder, v) for k, v in
            {"ca": "ca.pem", "other_ca": "other-ca.pem", "cert": "server.pem", "key": "server.key",
             "client_cert": "client.pem", "client_key": "client.key"}.items()}


@unittest.skipUnless(etcd_support.available(), "install Debian's etcd-server to run these tests")
class etcd_tls_test(lockable_case):
    def setUp(self):
        super().setUp()
        self.files = make_certificates(self.dir)
        # Tokens live 2 s: a holder outlives several and must renew its token to keep its lease.
        self.etcd = etcd_support.etcd_server(tls=self.files, extra=["--auth-token-ttl", "2"])
        self.addCleanup(self.etcd.close)
        self.gateway = "https://127.0.0.1:%d" % self.etcd.client_port
        for path, body in (("/v3/auth/role/add", {"name": "root"}),
                           ("/v3/auth/user/add", {"name": "root", "password": PASSWORD}),
                           ("/v3/auth/user/grant", {"user": "root", "role": "root"}),
                           ("/v3/auth/enable", {})):
            self.post(path, body)
        self.password_file = os.path.join(self.dir, "password")
        with open(self.password_file, "w") as f:
            f.write(PASSWORD + "\n")

    def post(self, path, body, token=None):
        request = urllib.request.Request(self.gateway + path, json.dumps(body).encode(),
                                         {"Content-Type": "application/json"})
        if token:
            request.add_header("Authorization", token)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=self.etcd.ssl_context))
        with opener.open(request, timeout=10) as answer:
            return json.load(answer)

    def uri(self, ca=None, user="root", password_file=True, cert=True):
        params = ["ca=" + (ca or self.files["ca"])]
        if cert:
            params += ["cert=" + self.files["client_cert"], "key=" + self.files["client_key"]]
        if user:
            params.append("user=" + user)
        if password_file:
            params.append("password_file=" + self.password_file)
        return "etcds://127.0.0.1:%d/secure/locks?%s" % (self.etcd.client_port, "&".join(params))

    def lockable(self, uri, *extra, env=None):
        result = self.run_lockable(self.args("--lock-server", uri, "--timeout", "5", *extra),
                                   env=env)
        self.assertNotIn(PASSWORD, result.stdout + result.stderr)
        return result

    def test_lock_wait_release_and_status_over_tls_with_a_password(self):
        holder = self.start(self.args("--lock-server", self.uri(), "--requirements", "id=b1", "--",
                                      sys.executable, "-c", RUN_UNTIL_STDIN_CLOSES))
        line = read_line(holder.stdout, "ready from the holder")
        if line != "ready\n":
            holder.wait(timeout=10)
            self.fail(holder.stderr.read())
        status = self.lockable(self.uri(), "--status", "--json")
        self.assertEqual(status.returncode, 0, status.stderr)
        states = {entry["id"]: entry for entry in json.loads(status.stdout)}
        self.assertEqual(states["b1"]["state"], "held", states)
        # The lock's value in etcd holds no secret.
        token = self.post("/v3/auth/authenticate", {"name": "root", "password": PASSWORD})["token"]
        prefix = b"/secure/locks/"
        keys = self.post("/v3/kv/range", {"key": base64.b64encode(prefix).decode(),
                                          "range_end": base64.b64encode(prefix[:-1] + b"0").decode()},
                         token)
        self.assertEqual(len(keys.get("kvs", [])), 1, keys)
        self.assertNotIn(PASSWORD.encode(), json.dumps(keys).encode())
        # A second lockable (password from the environment) waits for b1, then gets it.
        waiter = self.start(self.args("--lock-server", self.uri(password_file=False),
                                      "--timeout", "30", "--requirements", "id=b1", "--", "true"),
                            env=clean_environment(LOCKABLE_LOCK_SERVER_PASSWORD=PASSWORD))
        holder.stdin.close()
        self.assertEqual(holder.wait(timeout=30), 0)
        self.assertEqual(waiter.wait(timeout=30), 0, waiter.stderr.read())

    def test_an_expired_token_is_renewed(self):
        # The waiter's token expires while it waits, idle, for the holder (4 s > 2 s TTL); its
        # next request is refused with HTTP 401 and must get a new token to take the lock.
        holder = self.start(self.args("--lock-server", self.uri(), "--requirements", "id=b1", "--",
                                      sys.executable, "-c",
                                      "import time; print('ready', flush=True); time.sleep(4)"))
        self.assertEqual(read_line(holder.stdout, "ready from the holder"), "ready\n")
        waiter = self.lockable(self.uri(), "--timeout", "30", "--requirements", "id=b1", "--",
                               "true")
        self.assertEqual(waiter.returncode, 0, waiter.stderr)
        self.assertEqual(holder.wait(timeout=30), 0)

    def test_a_wrong_password_is_refused_clearly(self):
        env = clean_environment(LOCKABLE_LOCK_SERVER_PASSWORD="not-it")
        result = self.lockable(self.uri(password_file=False), "--", "true", env=env)
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
        self.assertIn("refused user 'root'", result.stderr)
        self.assertIn("check the user and its password", result.stderr)
        self.assertNotIn("not-it", result.stderr)

    def test_no_user_is_refused_when_auth_is_on(self):
        result = self.lockable(self.uri(user=None, password_file=False), "--", "true")
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)

    def test_a_missing_ca_file_is_named(self):
        result = self.lockable(self.uri(ca="/no/such/ca.pem"), "--", "true")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("cannot read '/no/such/ca.pem', the ca= of lock server", result.stderr)

    def test_an_untrusted_server_certificate_is_refused(self):
        result = self.lockable(self.uri(ca=self.files["other_ca"]), "--", "true")
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
        self.assertIn("cannot talk TLS to etcd at 127.0.0.1:%d" % self.etcd.client_port,
                      result.stderr)
        self.assertIn("check ca=, cert= and key=", result.stderr)

    def test_without_a_client_certificate_the_server_refuses(self):
        result = self.lockable(self.uri(cert=False), "--", "true")
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)


if __name__ == "__main__":
    main()
