"""Start and stop SecantusDB servers for the test runner, the demo and tests.

Standard library only, so that ``tools/run_tests.py`` and ``tools/demo.py``
can load this file with the system Python before any virtualenv exists.

SecantusDB (GPL, installed from PyPI into ``.venv-server``) is a
MongoDB-compatible server written in Python; it is a test tool only and is
never imported by Motor itself.
"""

import os
import random
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0

_OP_MSG = 2013


def find_free_port(host="127.0.0.1"):
    """Return a TCP port on ``host`` that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def secantusd_path():
    """Path of the ``secantusd-py`` launcher.

    ``$MOTOR_TEST_SECANTUSD`` wins; otherwise the one in ``<repo>/.venv-server``
    that ``tools/run_tests.py`` creates.
    """
    configured = os.environ.get("MOTOR_TEST_SECANTUSD")
    if configured:
        return configured
    return os.path.join(REPO_ROOT, ".venv-server", "bin", "secantusd-py")


# --- a tiny wire-protocol client, just enough for {ping: 1} ----------------


def _cstring(text):
    return text.encode("utf-8") + b"\x00"


def _ping_message(request_id):
    """An OP_MSG carrying ``{ping: 1, $db: "admin"}``, BSON encoded by hand."""
    db_name = "admin".encode("utf-8") + b"\x00"
    elements = (
        b"\x10" + _cstring("ping") + struct.pack("<i", 1)
        + b"\x02" + _cstring("$db") + struct.pack("<i", len(db_name)) + db_name
    )
    document = struct.pack("<i", 4 + len(elements) + 1) + elements + b"\x00"
    body = struct.pack("<I", 0) + b"\x00" + document  # flagBits, section kind 0
    header = struct.pack("<iiii", 16 + len(body), request_id, 0, _OP_MSG)
    return header + body


def _recv_exactly(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("server closed the connection")
        data += chunk
    return data


# Sizes of fixed-width BSON values, and types whose value starts with an int32
# length (string-like: the length excludes itself; document-like: includes).
_FIXED_SIZES = {0x01: 8, 0x07: 12, 0x08: 1, 0x09: 8, 0x0A: 0, 0x10: 4,
                0x11: 8, 0x12: 8, 0x13: 16, 0x7F: 0, 0xFF: 0}


def _top_level_ok(document):
    """Return the value of the top-level ``ok`` field of a BSON document.

    Returns None if the field is absent or an unexpected type is in the way.
    """
    pos = 4
    end = len(document) - 1
    while pos < end:
        element_type = document[pos]
        name_end = document.index(b"\x00", pos + 1)
        name = document[pos + 1:name_end]
        pos = name_end + 1
        if name == b"ok":
            if element_type == 0x01:
                return struct.unpack_from("<d", document, pos)[0]
            if element_type == 0x10:
                return struct.unpack_from("<i", document, pos)[0]
            if element_type == 0x12:
                return struct.unpack_from("<q", document, pos)[0]
            if element_type == 0x08:
                return document[pos]
            return None
        if element_type in _FIXED_SIZES:
            pos += _FIXED_SIZES[element_type]
        elif element_type in (0x02, 0x0D, 0x0E):  # string, code, symbol
            pos += 4 + struct.unpack_from("<i", document, pos)[0]
        elif element_type in (0x03, 0x04, 0x0F):  # document, array, code_w_s
            pos += struct.unpack_from("<i", document, pos)[0]
        elif element_type == 0x05:  # binary: length, subtype, bytes
            pos += 5 + struct.unpack_from("<i", document, pos)[0]
        else:
            return None
    return None


def _ping(sock):
    """Send ``ping`` on an open socket; True if the server answered ok: 1."""
    request_id = random.randint(1, 2**31 - 1)
    sock.sendall(_ping_message(request_id))
    length, _, response_to, opcode = struct.unpack("<iiii", _recv_exactly(sock, 16))
    body = _recv_exactly(sock, length - 16)
    if opcode != _OP_MSG or response_to != request_id or body[4] != 0:
        return False
    return _top_level_ok(body[5:]) == 1


# --- certificates -----------------------------------------------------------

_OPENSSL_CONFIG = """\
[req]
distinguished_name = dn
prompt = no

[dn]
CN = placeholder

[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer

[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
"""


def _openssl(*args, cwd):
    openssl = shutil.which("openssl") or "/usr/bin/openssl"
    result = subprocess.run([openssl, *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise RuntimeError("openssl %s failed:\n%s" % (" ".join(args), result.stdout))


def _serial():
    return "0x%x" % random.getrandbits(64)


def make_test_certificates(directory):
    """Generate test certificates with the ``openssl`` command into ``directory``.

    Makes a test CA, a server certificate for ``localhost`` (subjectAltName
    DNS:localhost and IP:127.0.0.1) and a client certificate, both signed by
    that CA, plus a second, unrelated CA for "wrong CA" tests. Returns a dict
    of absolute paths: ``ca``, ``ca_key``, ``server_cert``, ``server_key``,
    ``server_pem`` (certificate then key), ``client_cert``, ``client_key``,
    ``client_pem``, ``other_ca``, ``other_ca_key``.
    """
    directory = os.path.abspath(directory)
    os.makedirs(directory, exist_ok=True)
    config = os.path.join(directory, "openssl.cnf")
    with open(config, "w") as f:
        f.write(_OPENSSL_CONFIG)

    def new_ca(name, subject):
        _openssl("req", "-config", config, "-x509", "-newkey", "rsa:2048",
                 "-nodes", "-keyout", name + ".key", "-out", name + ".pem",
                 "-days", "3650", "-subj", subject, "-extensions", "ca_ext",
                 "-set_serial", _serial(), cwd=directory)

    def new_leaf(name, subject, extensions):
        _openssl("req", "-config", config, "-new", "-newkey", "rsa:2048",
                 "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
                 "-subj", subject, cwd=directory)
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem",
                 "-CAkey", "ca.key", "-set_serial", _serial(), "-days", "3650",
                 "-sha256", "-extfile", config, "-extensions", extensions,
                 "-out", name + ".crt", cwd=directory)
        os.remove(os.path.join(directory, name + ".csr"))
        with open(os.path.join(directory, name + ".pem"), "w") as combined:
            for part in (name + ".crt", name + ".key"):
                with open(os.path.join(directory, part)) as f:
                    combined.write(f.read())

    new_ca("ca", "/O=Motor Tests/CN=Motor Test CA")
    new_ca("other-ca", "/O=Somebody Else/CN=Unrelated Test CA")
    new_leaf("server", "/O=Motor Tests/CN=localhost", "server_ext")
    new_leaf("client", "/O=Motor Tests/OU=Clients/CN=motor-test-client", "client_ext")

    def path(name):
        return os.path.join(directory, name)

    return {
        "ca": path("ca.pem"),
        "ca_key": path("ca.key"),
        "server_cert": path("server.crt"),
        "server_key": path("server.key"),
        "server_pem": path("server.pem"),
        "client_cert": path("client.crt"),
        "client_key": path("client.key"),
        "client_pem": path("client.pem"),
        "other_ca": path("other-ca.pem"),
        "other_ca_key": path("other-ca.key"),
    }


# --- the server -------------------------------------------------------------


class ServerStartError(RuntimeError):
    """The server exited, or did not answer within the startup timeout."""


class SecantusServer:
    """One ``secantusd-py`` process on 127.0.0.1.

    ``storage_path`` is ``":memory:"`` (ephemeral) or a directory that
    persists across restarts. With ``tls_cert_file``/``tls_key_file`` the
    server speaks only TLS; ``tls_ca_file`` makes it ask clients for a
    certificate. ``auth`` requires SCRAM-SHA-256 (create users on a server
    started without it first). ``standalone`` makes it look like a standalone
    mongod instead of a one-member replica set named ``secantus``.

    Use as a context manager, or call :meth:`start` and :meth:`stop`; a
    server started again after :meth:`stop` comes back on the same port
    (with a storage directory, with the same data).
    """

    def __init__(self, port=None, storage_path=":memory:", extra_args=(),
                 tls_cert_file=None, tls_key_file=None, tls_ca_file=None,
                 auth=False, standalone=False, log_path=None, executable=None):
        if bool(tls_cert_file) != bool(tls_key_file):
            raise ValueError("tls_cert_file and tls_key_file go together")
        if tls_ca_file and not tls_cert_file:
            raise ValueError("tls_ca_file needs tls_cert_file and tls_key_file")
        self.host = "127.0.0.1"
        self._fixed_port = port
        self._started_port = None
        self.port = port
        self.storage_path = str(storage_path)
        self.extra_args = tuple(extra_args)
        self.tls_cert_file = tls_cert_file
        self.tls_key_file = tls_key_file
        self.tls_ca_file = tls_ca_file
        self.auth = auth
        self.standalone = standalone
        self.executable = executable or secantusd_path()
        self._given_log_path = log_path
        self.log_path = log_path
        self._temp_log = False
        self.process = None

    @property
    def tls(self):
        return bool(self.tls_cert_file)

    @property
    def address(self):
        return (self.host, self.port)

    @property
    def uri(self):
        """A URI for this server, without TLS or credential options."""
        return "mongodb://%s:%d/?directConnection=true" % (self.host, self.port)

    def command_line(self):
        args = [self.executable, "--host", self.host, "--port", str(self.port),
                "--storage-path", self.storage_path, "--enable-test-commands",
                "--log-level", "WARNING"]
        if self.auth:
            args.append("--auth")
        if self.standalone:
            args.append("--standalone")
        if self.tls_cert_file:
            args += ["--tls-cert-file", str(self.tls_cert_file),
                     "--tls-key-file", str(self.tls_key_file)]
        if self.tls_ca_file:
            args += ["--tls-ca-file", str(self.tls_ca_file)]
        args += list(self.extra_args)
        return args

    def start(self):
        """Spawn the server and wait until it answers; returns self."""
        if self.process is not None:
            raise RuntimeError("server already started")
        if not os.path.exists(self.executable):
            raise ServerStartError(
                "SecantusDB launcher not found at %s: run `python3 tools/run_tests.py` "
                "once to create .venv-server, or set MOTOR_TEST_SECANTUSD"
                % self.executable)
        # A restarted server keeps its port. With a port we pick ourselves,
        # another process can grab it between find_free_port() and the
        # server's bind: try a few ports then.
        fixed = self._fixed_port or self._started_port
        attempts = 1 if fixed else 3
        for attempt in range(attempts):
            self.port = fixed or find_free_port(self.host)
            try:
                self._spawn_and_wait()
                self._started_port = self.port
                return self
            except ServerStartError:
                lost_port_race = "in use" in self.log_tail().lower()
                if attempt + 1 == attempts or not lost_port_race:
                    raise
                self.stop()

    def _spawn_and_wait(self):
        if self._given_log_path:
            self.log_path = str(self._given_log_path)
            os.makedirs(os.path.dirname(os.path.abspath(self.log_path)), exist_ok=True)
            log = open(self.log_path, "wb")
        else:
            fd, self.log_path = tempfile.mkstemp(prefix="secantusd-%d-" % self.port,
                                                 suffix=".log")
            self._temp_log = True
            log = os.fdopen(fd, "wb")
        with log:
            self.process = subprocess.Popen(
                self.command_line(), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT,
                # Own session: a Ctrl-C meant for pytest must not kill the
                # server before the tests' teardown has run.
                start_new_session=True)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.process = None
                raise ServerStartError(self._failure("exited with code %s" % code))
            if self._answers():
                return
            if time.monotonic() > deadline:
                self._terminate()
                raise ServerStartError(self._failure(
                    "did not answer within %d s" % STARTUP_TIMEOUT))
            time.sleep(0.1)

    def _answers(self):
        """True once the server accepts a connection and answers ping."""
        try:
            sock = socket.create_connection(self.address, timeout=2)
        except OSError:
            return False
        try:
            sock.settimeout(5)
            if self.tls:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                try:
                    sock = context.wrap_socket(sock, server_hostname="localhost")
                    _ping(sock)
                except (OSError, ValueError, struct.error):
                    # E.g. --tls-require-client-cert: the server accepts
                    # connections and talks TLS; it just won't talk to us.
                    pass
                return True
            return _ping(sock)
        except (OSError, ValueError, struct.error):
            return False
        finally:
            sock.close()

    def log_tail(self, lines=40):
        if not self.log_path:
            return ""
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _failure(self, what):
        return "SecantusDB on port %d %s.\ncommand: %s\nlog %s:\n%s" % (
            self.port, what, " ".join(self.command_line()), self.log_path,
            self.log_tail() or "(empty)")

    def _terminate(self):
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return process.returncode

    def kill(self):
        """Kill the server at once with SIGKILL (``kill -9``), as a crash would.

        Nothing is flushed and no connection is closed politely: clients see
        their sockets reset. :meth:`start` (or :meth:`restart`) brings it
        back on the same port; with a storage directory, with whatever the
        storage engine had made durable. Returns the exit code (``-9``).

        .. versionadded:: 4.0
        """
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            process.kill()
        code = process.wait(STOP_TIMEOUT)
        self._remove_temp_log()
        return code

    def restart(self, down_for=0.0, kill=False):
        """Stop (or, with ``kill=True``, SIGKILL) the server, stay down for
        ``down_for`` seconds, then start it again on the same port and storage.

        Blocking: from a test on the loop, run it off the loop thread::

            await off_loop(server.restart, 2.0, True)

        .. versionadded:: 4.0
        """
        if kill:
            self.kill()
        else:
            self.stop()
        if down_for:
            time.sleep(down_for)
        return self.start()

    def _remove_temp_log(self):
        if self._temp_log:
            try:
                os.remove(self.log_path)
            except OSError:
                pass
            self._temp_log = False

    def stop(self):
        """Stop the server (SIGTERM, then SIGKILL after a timeout)."""
        self._terminate()
        self._remove_temp_log()

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def __repr__(self):
        return "SecantusServer(port=%r, storage_path=%r, tls=%r, auth=%r)" % (
            self.port, self.storage_path, self.tls, self.auth)
