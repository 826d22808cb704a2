#!/usr/bin/env python3
"""Takes a lock the way py-lockable does (through the `pid` package), step by step as docs/design.md
describes, so the tests can show that our processes and py-lockable's exclude each other.

usage: pylockable_protocol.py FOLDER ID TIMEOUT_S
Prints "held" and holds until stdin closes, then releases (close, then unlink, as py-lockable);
prints "busy" and exits 1 when TIMEOUT_S passes first (retrying every 0.05 s).
"""
import fcntl
import os
import sys
import time


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def try_lock(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)                        # step 1
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o666)  # step 2
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)                         # step 3
    except BlockingIOError:
        os.close(fd)
        return None
    first = os.pread(fd, 16, 0).decode(errors="replace").split("\n", 1)[0].strip()  # step 4
    if first:
        try:
            pid = int(first)
        except ValueError:
            os.close(fd)
            raise SystemExit("unreadable pid file " + path)
        if pid_alive(pid):
            os.close(fd)
            return None
    os.fchmod(fd, 0o644)                                                       # step 5
    os.ftruncate(fd, 0)
    os.write(fd, b"%d\n" % os.getpid())
    return fd


def main():
    folder, rid, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
    path = os.path.join(folder, rid + ".pid")
    deadline = time.monotonic() + timeout
    while True:
        fd = try_lock(path)
        if fd is not None:
            break
        if time.monotonic() >= deadline:
            print("busy", flush=True)
            return 1
        time.sleep(0.05)
    print("held %d" % time.monotonic_ns(), flush=True)
    sys.stdin.read()
    os.close(fd)                                                               # step 6
    os.unlink(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
