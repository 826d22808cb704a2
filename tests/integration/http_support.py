"""A static HTTP server on 127.0.0.1 (ephemeral port) for tests that read an inventory by URI."""
import functools
import http.server
import threading


class served_folder:
    """Serves `folder` while the `with` block runs; `url(name)` is a file's URI."""

    def __init__(self, folder):
        handler = functools.partial(_quiet_handler, directory=folder)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def url(self, name):
        return "http://127.0.0.1:%d/%s" % (self.server.server_address[1], name)


class _quiet_handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
