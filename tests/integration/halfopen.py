# SPDX-License-Identifier: GPL-2.0-or-later
# halfopen.py - TCP peers for test-fin-timeout.sh and test-emfile.sh:
# clients that half-close, servers that never close, fd hogs.
# Every loop is bounded in count and time; output goes to stdout or a file.
import errno, selectors, socket, sys, time


def listener(host, port, backlog=1024):
    fam = socket.AF_INET6 if ':' in host else socket.AF_INET
    ls = socket.socket(fam)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(backlog)
    return ls


def connect(host, port, timeout=10):
    fam = socket.AF_INET6 if ':' in host else socket.AF_INET
    s = socket.socket(fam)
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def never_close(host, port, secs):
    """read every connection to EOF, never write, never close (for SECS)"""
    ls = listener(host, int(port))
    ls.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ)
    held = []
    end = time.monotonic() + float(secs)
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.5):
            if key.fileobj is ls:
                try:
                    c, _ = ls.accept()
                except BlockingIOError:
                    continue
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ)
                held.append(c)
                continue
            try:
                if key.fileobj.recv(65536):
                    continue
            except BlockingIOError:
                continue
            except ConnectionError:
                pass
            sel.unregister(key.fileobj)     # EOF or reset: keep it open


def trickle(host, port, secs):
    """each connection: read to EOF, then a byte every 0.5 s for SECS, close"""
    ls = listener(host, int(port))
    c, _ = ls.accept()
    c.settimeout(30)
    while c.recv(100):
        pass
    end = time.monotonic() + float(secs)
    while time.monotonic() < end:
        c.sendall(b'.')
        time.sleep(0.5)
    c.close()


def halfclose(host, port, n, secs):
    """N connections, a byte each, shutdown(SHUT_WR), kept open; wait up to
    SECS for their ends: prints 'reset R eof E open O'"""
    port, n = int(port), int(n)
    socks = []
    for _ in range(n):
        s = connect(host, port)
        s.sendall(b'x')
        s.shutdown(socket.SHUT_WR)
        socks.append(s)
    wait_ends(socks, secs)


def halfclose_accept(host, port, n, secs):
    """the same as a server: N accepted connections half-closed by us"""
    ls = listener(host, int(port))
    ls.settimeout(float(secs))
    socks = []
    for _ in range(int(n)):
        s, _ = ls.accept()
        s.sendall(b'x')
        s.shutdown(socket.SHUT_WR)
        socks.append(s)
    wait_ends(socks, secs)


def wait_ends(socks, secs):
    n = len(socks)
    for s in socks:
        s.setblocking(False)
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    reset = eof = 0
    left = n
    end = time.monotonic() + float(secs)
    while left and time.monotonic() < end:
        for key, _ in sel.select(timeout=0.5):
            try:
                d = key.fileobj.recv(4096)
                if d:
                    continue
                eof += 1
            except BlockingIOError:
                continue
            except ConnectionResetError:
                reset += 1
            sel.unregister(key.fileobj)
            left -= 1
    print('reset %d eof %d open %d' % (reset, eof, left), flush=True)


def halfclose_read(host, port, secs):
    """one connection: shutdown(SHUT_WR), read to the end: 'eof BYTES' or
    'reset BYTES' or 'open BYTES' (nothing ended within SECS)"""
    s = connect(host, int(port))
    s.shutdown(socket.SHUT_WR)
    s.settimeout(float(secs))
    got = 0
    try:
        while True:
            d = s.recv(4096)
            if not d:
                print('eof %d' % got, flush=True)
                return
            got += len(d)
    except ConnectionResetError:
        print('reset %d' % got, flush=True)
    except socket.timeout:
        print('open %d' % got, flush=True)


def hold(host, port, n, secs, out):
    """open up to N connections (stop at the first failure), write how many
    to OUT, keep them for SECS"""
    socks = []
    for _ in range(int(n)):
        try:
            socks.append(connect(host, int(port), timeout=2))
        except OSError:
            break
    with open(out, 'w') as f:
        f.write('%d\n' % len(socks))
    time.sleep(float(secs))


def roundtrip(host, port, secs):
    """one connection, one byte each way within SECS: 'ok' or the error"""
    try:
        s = connect(host, int(port), timeout=float(secs))
        s.sendall(b'x')
        print('ok' if s.recv(1) == b'x' else 'short', flush=True)
    except OSError as e:
        print(errno.errorcode.get(e.errno, str(e)), flush=True)


def echo(host, port, secs):
    """echo every connection, close it at EOF, for SECS"""
    ls = listener(host, int(port))
    ls.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ)
    end = time.monotonic() + float(secs)
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.5):
            if key.fileobj is ls:
                try:
                    c, _ = ls.accept()
                except BlockingIOError:
                    continue
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ)
                continue
            try:
                d = key.fileobj.recv(65536)
                if d:
                    key.fileobj.sendall(d)
                    continue
            except BlockingIOError:
                continue
            except OSError:
                pass
            sel.unregister(key.fileobj)
            key.fileobj.close()


if __name__ == '__main__':
    globals()[sys.argv[1].replace('-', '_')](*sys.argv[2:])
