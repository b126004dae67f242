# SPDX-License-Identifier: GPL-2.0-or-later
# shortconn.py - TCP peers for the connection-churn tests (test-timewait.sh,
# test-memory.sh, test-shards.sh): who closes first, half-close, bursts, idle
# connections, many echoed at once.
# Every loop is bounded in count and time; output goes to stdout or a file.
import hashlib, selectors, socket, sys, time


def listener(host, port, rcvbuf=0, backlog=256):
    fam = socket.AF_INET6 if ':' in host else socket.AF_INET
    ls = socket.socket(fam)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    ls.bind((host, port))
    ls.listen(backlog)
    return ls


def answer_close(host, port):       # 1 byte in, 1 out, close first
    ls = listener(host, int(port))
    while True:
        c, _ = ls.accept()
        try:
            if c.recv(1):
                c.sendall(b'y')
        except OSError:
            pass
        c.close()


def wait_close(host, port):         # 1 byte in, 1 out, close after the peer
    ls = listener(host, int(port))
    while True:
        c, _ = ls.accept()
        c.settimeout(10)
        try:
            if c.recv(1):
                c.sendall(b'y')
            while c.recv(100):
                pass
        except OSError:
            pass
        c.close()


def sink(host, port):               # read every connection to EOF
    ls = listener(host, int(port), backlog=1024)
    ls.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fileobj is ls:
                c, _ = ls.accept()
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ)
                continue
            try:
                d = key.fileobj.recv(262144)
            except BlockingIOError:
                continue
            except OSError:
                d = b''
            if not d:
                sel.unregister(key.fileobj)
                key.fileobj.close()


def client(host, port, n, closer):  # N short connections: "ok bad"
    ok = bad = 0
    end = time.monotonic() + 120
    for i in range(int(n)):
        try:
            s = socket.create_connection((host, int(port)), timeout=5)
            s.sendall(b'x')
            good = s.recv(1) == b'y'
            if closer == 'server':      # wait for the server's FIN first
                good = good and s.recv(1) == b''
            s.close()
            ok += good
            bad += not good
        except OSError:
            bad += 1
        if time.monotonic() > end:
            break
    print(ok, bad)


def halfclose_server(host, port, out):  # answer, shut down, read slowly
    ls = listener(host, int(port), rcvbuf=65536)
    c, _ = ls.accept()
    c.settimeout(30)
    c.recv(1)
    c.sendall(b'y')
    c.shutdown(socket.SHUT_WR)
    time.sleep(1.0)                 # the namespace's bytes pile up in libslirp
    h = hashlib.sha256()
    r = 'EOF'
    try:
        while True:                 # and keep piling up: a slow reader
            d = c.recv(32768)
            if not d:
                break
            h.update(d)
            time.sleep(0.002)
    except OSError as e:
        r = 'ERR %s' % e
    open(out, 'w').write('%s %s\n' % (h.hexdigest(), r))


def halfclose_client(host, port):   # after the server's FIN, send 16 MB
    s = socket.create_connection((host, int(port)), timeout=30)
    s.sendall(b'x')
    assert s.recv(1) == b'y' and s.recv(1) == b''
    data = bytes(range(256)) * (16 * 4096)
    s.sendall(data)
    s.close()
    print(hashlib.sha256(data).hexdigest())


def burst(host, port, n, size, out):    # N concurrent, close all but one
    n, size = int(n), int(size)
    socks = [socket.create_connection((host, int(port)), timeout=10)
             for i in range(n)]
    # opened last, held open: the memory must come back while the daemon
    # still serves a connection allocated after the burst's
    last = socket.create_connection((host, int(port)), timeout=10)
    last.sendall(b'z')
    chunk = b'z' * 16384
    sent = [0] * n
    end = time.monotonic() + 120
    while min(sent) < size and time.monotonic() < end:
        for i, s in enumerate(socks):
            if sent[i] < size:
                s.sendall(chunk)
                sent[i] += len(chunk)
    for s in socks:
        s.close()
    open(out, 'w').write('%d\n' % sum(sent))
    time.sleep(60)


def hold(host, port, n, out):       # N idle connections, for a minute
    socks = [socket.create_connection((host, int(port)), timeout=10)
             for i in range(int(n))]
    open(out, 'w').write('%d\n' % len(socks))
    time.sleep(60)


def echo(host, port):               # echo every connection, many at once
    ls = listener(host, int(port), backlog=1024)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ)
    end = time.monotonic() + 300
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=1):
            if key.fileobj is ls:
                c, _ = ls.accept()
                sel.register(c, selectors.EVENT_READ)
                continue
            try:
                data = key.fileobj.recv(65536)
            except OSError:
                data = b''
            if data:
                key.fileobj.sendall(data)
            else:
                sel.unregister(key.fileobj)
                key.fileobj.close()


def many(host, port, n, hold_s='0'):  # N open at once, 2 echoes each
    n = int(n)
    socks = [socket.create_connection((host, int(port)), timeout=20)
             for i in range(n)]
    bad = 0
    for rnd in range(2):
        for i, s in enumerate(socks):
            s.sendall(b'%d.%d;' % (rnd, i))
        for i, s in enumerate(socks):
            want, got = b'%d.%d;' % (rnd, i), b''
            try:
                while len(got) < len(want):
                    d = s.recv(len(want) - len(got))
                    if not d:
                        break
                    got += d
            except OSError:
                pass
            bad += got != want
        if rnd == 0:
            print('open %d' % n, flush=True)
            time.sleep(float(hold_s))
    for s in socks:
        s.close()
    print('%d %d' % (n - bad, bad), flush=True)


MODES = {
    'echo': echo, 'many': many,
    'answer-close': answer_close, 'wait-close': wait_close, 'sink': sink,
    'client': client, 'halfclose-server': halfclose_server,
    'halfclose-client': halfclose_client, 'burst': burst, 'hold': hold,
}

if __name__ == '__main__':
    MODES[sys.argv[1]](*sys.argv[2:])
