#!/usr/bin/python3
"""peer.py: a TCP server or client for tests/enable.sh and tests/exec.sh. It never sets
SO_KEEPALIVE itself, and keeps data flowing on every connection: the client sends 1 KiB a
connection every 10 ms and checks every byte the server echoes back.

usage: peer.py server CTL PORT...        listen on 127.0.0.1:PORT and [::1]:PORT (0: any)
       peer.py client CTL HOST:PORT...   a connection to each
CTL names two FIFOs, CTL.in and CTL.out, made by the caller; both are opened read-write here,
so that neither side ever blocks opening them. The peer writes "ready PID PORT..." (its
listening ports) to CTL.out once it is ready; then each line written to CTL.in gets one line
back on CTL.out:
  stats          "sent N recv N errors N conns N"
  grown N        once this side has received N bytes more than when asked: "grown"
  ka             a word a TCP socket: LPORT:RPORT:KEEPALIVE:IDLE
  connect H P    a new connection to H:P: "ok LPORT"
  udp H P        a connected UDP socket, kept: "ok KEEPALIVE" (its SO_KEEPALIVE)
  close PORT     close the connection with this local or remote port: "ok"
  pause, resume  (client) stop sending new data, start again: "ok"
  settled        once nothing is in flight (every byte sent echoed back, and no socket has
                 unacknowledged data, so that no retransmit timer hides the keepalive timer
                 from sock_diag): "settled"
  undump         prctl(PR_SET_DUMPABLE, 0): "ok"
  quit           "bye", then exit
"""
import ctypes
import os
import select
import signal
import socket
import struct
import sys
import time

CHUNK = 1024
MAX_OUTSTANDING = 64 * 1024
TICK = 0.01


def pattern(offset, n):
    """The n bytes a client sends from stream offset on: offset + i modulo 251."""
    return bytes((offset + i) % 251 for i in range(n))


class Conn:
    def __init__(self, sock, client):
        sock.setblocking(False)
        self.sock = sock
        self.client = client
        self.sent = 0
        self.recv = 0
        self.pending = b""   # server: bytes read and not yet echoed


class Peer:
    def __init__(self, ctl):
        self.cin = os.open(ctl + ".in", os.O_RDWR)
        self.cout = os.open(ctl + ".out", os.O_RDWR)
        self.buf = b""
        self.listeners = []
        self.conns = []
        self.others = []
        self.errors = 0
        self.ports = []
        self.paused = False
        self.waits = []      # ("settled",) or ("grown", target)

    def reply(self, text):
        os.write(self.cout, (text + "\n").encode())

    def listen(self, port):
        for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if fam == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((host, port))
            s.listen(128)
            s.setblocking(False)
            self.listeners.append(s)
            port = s.getsockname()[1]
        self.ports.append(port)

    def connect(self, host, port):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.connect((host, port))
        self.conns.append(Conn(s, True))
        return s.getsockname()[1]

    def drop(self, c, failed):
        self.errors += failed
        self.conns.remove(c)
        c.sock.close()

    def received(self):
        return sum(c.recv for c in self.conns)

    def ka_words(self):
        words = []
        for s in self.listeners + [c.sock for c in self.conns]:
            try:
                rport = s.getpeername()[1]
            except OSError:
                rport = 0
            words.append("%d:%d:%d:%d" % (
                s.getsockname()[1], rport,
                s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE)))
        return " ".join(words)

    def command(self, w):
        if w[0] == "stats":
            self.reply("sent %d recv %d errors %d conns %d" % (
                sum(c.sent for c in self.conns), self.received(), self.errors,
                len(self.conns)))
        elif w[0] == "grown":
            self.waits.append(("grown", self.received() + int(w[1])))
        elif w[0] == "ka":
            self.reply(self.ka_words())
        elif w[0] == "connect":
            self.reply("ok %d" % self.connect(w[1], int(w[2])))
        elif w[0] == "udp":
            fam = socket.AF_INET6 if ":" in w[1] else socket.AF_INET
            u = socket.socket(fam, socket.SOCK_DGRAM)
            u.connect((w[1], int(w[2])))
            self.others.append(u)
            self.reply("ok %d" % u.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE))
        elif w[0] == "close":
            for c in self.conns:
                if int(w[1]) in (c.sock.getsockname()[1], c.sock.getpeername()[1]):
                    self.drop(c, False)
                    break
            self.reply("ok")
        elif w[0] in ("pause", "resume"):
            self.paused = w[0] == "pause"
            self.reply("ok")
        elif w[0] == "settled":
            self.waits.append(("settled",))
        elif w[0] == "undump":
            ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)    # PR_SET_DUMPABLE
            self.reply("ok")
        elif w[0] == "quit":
            self.reply("bye")
            sys.exit(0)
        else:
            self.reply("error: unknown command " + w[0])

    def on_ctl(self):
        self.buf += os.read(self.cin, 4096)
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            if line.split():
                self.command(line.decode().split())

    def on_readable(self, c):
        try:
            data = c.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            self.drop(c, True)
            return
        if not data:
            self.drop(c, True)   # no one closes a connection in these tests but this side
            return
        if c.client and data != pattern(c.recv, len(data)):
            self.errors += 1
        c.recv += len(data)
        if not c.client:
            c.pending += data
            self.flush(c)

    def flush(self, c):
        try:
            n = c.sock.send(c.pending[:65536])
        except BlockingIOError:
            return
        except OSError:
            self.drop(c, True)
            return
        c.sent += n
        c.pending = c.pending[n:]

    def settled(self):
        for c in self.conns:
            if c.pending or (c.client and c.sent != c.recv):
                return False
            info = c.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
            if struct.unpack_from("I", info, 24)[0] != 0:    # tcpi_unacked
                return False
        return True

    def answer_waits(self):
        for w in list(self.waits):
            if (w[0] == "settled" and self.settled()) or \
               (w[0] == "grown" and self.received() >= w[1]):
                self.waits.remove(w)
                self.reply(w[0])

    def tick(self):
        self.answer_waits()
        for c in list(self.conns):
            if c.client and not self.paused and c.sent - c.recv < MAX_OUTSTANDING:
                try:
                    c.sent += c.sock.send(pattern(c.sent, CHUNK))
                except BlockingIOError:
                    pass
                except OSError:
                    self.drop(c, True)
            elif not c.client and c.pending:
                self.flush(c)

    def run(self):
        self.reply(" ".join(["ready", str(os.getpid())] + [str(p) for p in self.ports]))
        next_tick = time.monotonic()
        while True:
            now = time.monotonic()
            if now >= next_tick:
                self.tick()
                next_tick = now + TICK
            socks = [c.sock for c in self.conns]
            r, _, _ = select.select([self.cin] + self.listeners + socks, [], [],
                                    max(0, next_tick - time.monotonic()))
            for x in r:
                if x == self.cin:
                    self.on_ctl()
                elif x in self.listeners:
                    try:
                        s, _ = x.accept()
                    except BlockingIOError:
                        continue
                    self.conns.append(Conn(s, False))
                else:
                    for c in self.conns:
                        if c.sock is x:
                            self.on_readable(c)
                            break


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("server", "client"):
        sys.exit(__doc__)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    p = Peer(sys.argv[2])
    for arg in sys.argv[3:]:
        if sys.argv[1] == "server":
            p.listen(int(arg))
        else:
            host, port = arg.rsplit(":", 1)
            p.connect(host.strip("[]"), int(port))
    p.run()


if __name__ == "__main__":
    main()
