# SPDX-License-Identifier: GPL-2.0-or-later
# udpbig.py - UDP datagrams larger than the MTU both ways, for test-udp-big.sh:
# a host server that answers what it got (length, SHA-256) or sends what it
# is asked for, and a namespace client that checks both directions while a
# packet socket on the tap records the largest non-TCP frame that arrived.
# Every loop is bounded in count and time.
import hashlib, os, socket, struct, sys, threading, time


def pattern(n, seed):
    return bytes((seed + i * 7 + (i >> 8)) & 0xff for i in range(n))


def server(host, port, lifetime):
    fam = socket.AF_INET6 if ':' in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((host, port))
    s.settimeout(1)
    end = time.monotonic() + lifetime
    while time.monotonic() < end:
        try:
            d, peer = s.recvfrom(70000)
        except socket.timeout:
            continue
        if d.startswith(b'SEND '):
            n, seed = (int(x) for x in d[5:].split())
            s.sendto(pattern(n, seed), peer)
        else:
            s.sendto(b'GOT %d %s' % (len(d), hashlib.sha256(d).hexdigest().encode()), peer)


class Sniffer(threading.Thread):
    """the largest non-TCP frame the namespace received on the tap"""

    def __init__(self, ifname):
        super().__init__(daemon=True)
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.s.bind((ifname, 0))
        self.s.settimeout(0.2)
        self.largest = 0
        self.frames = 0
        self.stop = False

    def run(self):
        while not self.stop:
            try:
                f, addr = self.s.recvfrom(70000)
            except socket.timeout:
                continue
            if addr[2] == socket.PACKET_OUTGOING or len(f) < 34:
                continue
            et = struct.unpack('!H', f[12:14])[0]
            proto = f[23] if et == 0x0800 else f[20] if et == 0x86dd else None
            if proto is None or proto == 6:
                continue
            self.frames += 1
            self.largest = max(self.largest, len(f))


def exchange(s, addr, msg, tries=3):
    for _ in range(tries):
        s.sendto(msg, addr)
        try:
            return s.recv(70000)
        except socket.timeout:
            continue
    return None


def client(ifname, mtu, host4, host6, port4, port6, sizes):
    sn = Sniffer(ifname)
    sn.start()
    bad = 0
    for host, port, hl in ((host4, port4, 28), (host6, port6, 48)):
        fam = socket.AF_INET6 if ':' in host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.settimeout(2)
        addr = (host, port)
        for n in [mtu - hl, mtu - hl + 1] + sizes:
            d = os.urandom(n)
            got = exchange(s, addr, d)
            want = b'GOT %d %s' % (n, hashlib.sha256(d).hexdigest().encode())
            ok = got == want
            bad += not ok
            print('%s - IPv%d namespace -> host: %d bytes %s' % (
                'ok' if ok else 'not ok', 6 if fam == socket.AF_INET6 else 4, n,
                'arrived whole' if ok else 'got %r' % (got[:60] if got else None)))
            got = exchange(s, addr, b'SEND %d %d' % (n, n & 0xff))
            ok = got == pattern(n, n & 0xff)
            bad += not ok
            print('%s - IPv%d host -> namespace: %d bytes %s' % (
                'ok' if ok else 'not ok', 6 if fam == socket.AF_INET6 else 4, n,
                'arrived whole' if ok else 'got %s bytes' % (len(got) if got else None)))
        s.close()
    time.sleep(0.3)
    sn.stop = True
    sn.join(2)
    ok = sn.largest <= mtu + 14
    bad += not ok
    print('%s - the largest of %d non-TCP frames into the namespace: %d bytes (MTU %d + 14)' % (
        'ok' if ok else 'not ok', sn.frames, sn.largest, mtu))
    return 1 if bad else 0


if __name__ == '__main__':
    if sys.argv[1] == 'server':
        server(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        _, _, ifname, mtu, h4, h6, p4, p6, *sz = sys.argv
        sys.exit(client(ifname, int(mtu), h4, h6, int(p4), int(p6), [int(x) for x in sz]))
