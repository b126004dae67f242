#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# policyprobe.py - one attempt from inside a namespace, for test-policy.sh:
# what came back and how long it took, on one line ("RESULT MS [detail]").
#   tcp HOST PORT        connect (10 s bound), send a line, read its echo:
#                        echo | refused | reset | unreachable | timeout
#   udp HOST PORT        one datagram on a connected socket (3 s bound):
#                        echo | unreachable (an ICMP error came back) | timeout
#   bcast PORT           one datagram "probe\n" to 255.255.255.255
#                        (SO_BROADCAST): sent (no answer comes back: libslirp
#                        gives a reply 255.255.255.255 as its source)
#   icmp HOST            one echo request on a raw socket (2 s bound):
#                        reply | timeout
# HOST with a ':' is IPv6 (ICMPv6 echo for icmp).
#   hold HOST PORT SECS  a TCP connection that echoes a byte every 100 ms
#                        for SECS: "held N" if it lasted, "cut N" if it
#                        was reset or closed after N round trips
import errno
import select
import socket
import struct
import sys
import time


def ms(t0):
    return int((time.monotonic() - t0) * 1000)


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def tcp(host, port):
    t0 = time.monotonic()
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect((host, port))
        s.sendall(b"probe\n")
        data = s.recv(100)
        return "echo" if data == b"probe\n" else "short", ms(t0)
    except ConnectionRefusedError:
        return "refused", ms(t0)
    except ConnectionResetError:
        return "reset", ms(t0)
    except socket.timeout:
        return "timeout", ms(t0)
    except OSError as e:
        if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return "unreachable", ms(t0)
        return "error:%d" % e.errno, ms(t0)


def udp(host, port):
    t0 = time.monotonic()
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.connect((host, port))
    s.settimeout(3)
    try:
        s.send(b"probe")
        data = s.recv(100)
        return "echo" if data == b"probe" else "short", ms(t0)
    except socket.timeout:
        return "timeout", ms(t0)
    except OSError as e:
        return "unreachable", ms(t0), errno.errorcode.get(e.errno, str(e.errno))


def bcast(port):
    t0 = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.sendto(b"probe\n", ("255.255.255.255", port))
    return "sent", ms(t0)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def icmp(host):
    t0 = time.monotonic()
    v6 = family(host) == socket.AF_INET6
    if v6:
        # the kernel fills in an ICMPv6 checksum and strips the IP header
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        host = socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, host))
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident, seq = 0x4242, 1
    hdr = struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, ident, seq) + b"policyprobe"
    if not v6:
        hdr = hdr[:2] + struct.pack("!H", csum(hdr)) + hdr[4:]
    s.sendto(hdr, (host, 0))
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        r, _, _ = select.select([s], [], [], max(0, deadline - time.monotonic()))
        if not r:
            break
        pkt, addr = s.recvfrom(2000)
        if v6:
            if addr[0] == host and pkt[0] == 129:
                return "reply", ms(t0)
            continue
        ihl = (pkt[0] & 15) * 4
        if addr[0] == host and pkt[ihl] == 0:
            return "reply", ms(t0)
    return "timeout", ms(t0)


def hold(host, port, secs):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect((host, port))
    n = 0
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            s.sendall(b"x")
            if s.recv(1) != b"x":
                return "cut", n
        except OSError:
            return "cut", n
        n += 1
        time.sleep(0.1)
    return "held", n


def main():
    mode = sys.argv[1]
    if mode == "tcp":
        res = tcp(sys.argv[2], int(sys.argv[3]))
    elif mode == "udp":
        res = udp(sys.argv[2], int(sys.argv[3]))
    elif mode == "bcast":
        res = bcast(int(sys.argv[2]))
    elif mode == "icmp":
        res = icmp(sys.argv[2])
    else:
        res = hold(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    print(" ".join(str(x) for x in res), flush=True)


main()
