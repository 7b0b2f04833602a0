#!/usr/bin/env python3
"""Holds N TCP connections to HOST:PORT from SOURCE (an address of the loopback, e.g. 127.0.0.2),
never starting TLS, for SECONDS; a connection the server closes is opened again at once (a flood).
Prints one line at the end: how many connections were opened in all and how many were held at the
end. Used by the hardening tests (tests/appliance/hardening_test.cpp)."""
import errno
import resource
import select
import socket
import sys
import time


def main():
    host, port, source, n, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, n + 64) if hard != resource.RLIM_INFINITY else n + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

    def connect():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((source, 0))
        s.setblocking(False)
        try:
            s.connect((host, port))
        except BlockingIOError:
            pass
        except OSError as e:
            if e.errno not in (errno.EINPROGRESS,):
                s.close()
                return None
        return s

    socks = []
    opened = 0
    deadline = time.monotonic() + seconds
    while len(socks) < n and time.monotonic() < deadline:
        s = connect()
        if s is None:
            time.sleep(0.01)
            continue
        socks.append(s)
        opened += 1
    # Keep them: reopen whatever the server closes, until the time is up.
    while time.monotonic() < deadline:
        poller = select.poll()
        by_fd = {}
        for s in socks:
            poller.register(s, select.POLLIN | select.POLLHUP | select.POLLERR)
            by_fd[s.fileno()] = s
        ready = poller.poll(200) if socks else []
        if not socks:
            time.sleep(0.2)
        for fd, _ in ready:
            s = by_fd[fd]
            try:
                data = s.recv(64)
            except OSError:
                data = b""
            if not data:
                socks.remove(s)
                s.close()
                t = connect()
                if t is not None:
                    socks.append(t)
                    opened += 1
                time.sleep(0.001)
    print(f"opened={opened} held={len(socks)}", flush=True)


if __name__ == "__main__":
    main()
