#!/usr/bin/env python3
"""Smoke test of hcs-shim (docs/shim-protocol.md) against the real runc. Run as root from the repository root after
publishing the shim (./build.sh setup, or the dotnet publish line in the protocol's README):

    python3 tools/shim-smoke.py [--shim artifacts/shim/hcs-shim] [--runc /usr/sbin/runc] [--keep]

Builds a busybox bundle whose init is the shim itself (bind-mounted at /.hcs/init), starts a monitor, and checks the
protocol scenario by scenario, printing PASS/FAIL for each; then measures start-up and exec latency. Exit status 0
when every scenario passed. Cleans up (runc delete -f, cgroups, temporary files) unless --keep.
"""
import argparse
import glob
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

RESULTS = []


def check(name, fn):
    t0 = time.monotonic()
    try:
        detail = fn()
        RESULTS.append((name, True))
        print(f"PASS {name} ({(time.monotonic() - t0) * 1000:.0f} ms){': ' + detail if detail else ''}", flush=True)
    except Exception as e:  # noqa: BLE001 - report every failure and go on
        RESULTS.append((name, False))
        print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


SHIM_PROTOCOL_VERSION = 1  # ShimProtocol.ProtocolVersion (src/Hcs.Shim.Protocol)


class Client:
    """A control-socket client: one reader thread, replies by id, events in arrival order."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.cond = threading.Condition()
        self.replies = {}
        self.events = []
        self.order = []  # ("reply", id) / (event name, pid) in arrival order
        self.eof = False
        self.next_id = 100
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        # Every connection starts with hello (docs/shim-protocol.md, Version).
        self.hello = self.call({"op": "hello", "version": SHIM_PROTOCOL_VERSION})
        expect(self.hello.get("version") == SHIM_PROTOCOL_VERSION, f"hello {self.hello}")

    def _read(self):
        buf = b""
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                with self.cond:
                    self.eof = True
                    self.cond.notify_all()
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                msg = json.loads(line)
                with self.cond:
                    if "event" in msg:
                        self.events.append(msg)
                        self.order.append((msg["event"], msg.get("pid")))
                    else:
                        self.replies[msg["id"]] = msg
                        self.order.append(("reply", msg["id"]))
                    self.cond.notify_all()

    def send(self, req):
        with self.cond:
            self.next_id += 1
            req = dict(req, id=self.next_id)
        self.sock.sendall((json.dumps(req) + "\n").encode())
        return req["id"]

    def reply(self, rid, timeout=10):
        with self.cond:
            expect(self.cond.wait_for(lambda: rid in self.replies, timeout), f"no reply to {rid}")
            return self.replies[rid]

    def call(self, req, timeout=10):
        return self.reply(self.send(req), timeout)

    def exit_event(self, pid, timeout=10):
        with self.cond:
            ok = self.cond.wait_for(lambda: any(e["event"] == "exit" and e["pid"] == pid for e in self.events), timeout)
            expect(ok, f"no exit event for pid {pid}")
            ev = next(e for e in self.events if e["event"] == "exit" and e["pid"] == pid)
            i_reply = [k for k, (kind, v) in enumerate(self.order) if kind == "exit" and v == pid][0]
            return ev, i_reply

    def ready_event(self, pid, timeout=10):
        with self.cond:
            ok = self.cond.wait_for(lambda: any(e["event"] == "ready" and e["pid"] == pid for e in self.events), timeout)
            expect(ok, f"no ready event for pid {pid}")

    def wait_eof(self, timeout=10):
        with self.cond:
            return self.cond.wait_for(lambda: self.eof, timeout)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Env:
    def __init__(self, args):
        self.args = args
        self.shim = os.path.abspath(args.shim)
        self.runc = args.runc
        self.tmp = tempfile.mkdtemp(prefix="hcs-shim-smoke-")
        self.id = f"hcs-smoke-{os.getpid()}"
        self.runc_root = "/run/hcs-shimtest"
        self.bundle = os.path.join(self.tmp, "bundle")
        self.state = os.path.join(self.tmp, "state")
        self.io = os.path.join(self.tmp, "io")
        self.monitor = None
        self.client = None
        self.init_pid = None
        self.ready_ms = None
        self.seq = 0
        os.makedirs(self.io)
        os.makedirs(self.state, mode=0o700)
        os.chmod(self.state, 0o700)

    def build_bundle(self):
        root = os.path.join(self.bundle, "rootfs")
        for d in ("bin", "proc", "sys", "dev", "tmp", "etc", ".hcs"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        shutil.copy2("/bin/busybox", os.path.join(root, "bin/busybox"))
        applets = subprocess.run(["/bin/busybox", "--list"], check=True, capture_output=True, text=True).stdout.split()
        for a in applets:
            if a != "busybox":
                os.symlink("busybox", os.path.join(root, "bin", a))
        open(os.path.join(root, ".hcs/init"), "w").close()
        subprocess.run([self.runc, "spec"], cwd=self.bundle, check=True)
        cfg_path = os.path.join(self.bundle, "config.json")
        with open(cfg_path) as f:
            cfg = json.load(f)
        cfg["process"]["terminal"] = False
        cfg["process"]["args"] = ["/.hcs/init", "init"]
        cfg["root"]["readonly"] = False
        cfg["mounts"].append({"destination": "/.hcs/init", "type": "bind", "source": self.shim, "options": ["rbind", "ro"]})
        cfg["linux"]["cgroupsPath"] = f"/hcs-shimtest/{self.id}"
        with open(cfg_path, "w") as f:
            json.dump(cfg, f, indent=2)

    def start_monitor(self):
        self.stderr = open(os.path.join(self.tmp, "monitor.stderr"), "wb")
        t0 = time.monotonic()
        self.monitor = subprocess.Popen(
            [self.shim, "monitor", "--id", self.id, "--bundle", self.bundle, "--runc", self.runc,
             "--runc-root", self.runc_root, "--state", self.state],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.stderr)
        line = self.monitor.stdout.readline()
        self.ready_ms = (time.monotonic() - t0) * 1000
        ready = json.loads(line)
        expect(ready.get("ready") is True, f"not ready: {line!r}")
        rest = self.monitor.stdout.read()  # the shim closes its stdout after the line
        expect(rest == b"", f"more on stdout: {rest!r}")
        self.init_pid = ready["initPid"]
        self.client = Client(os.path.join(self.state, "shim.sock"))
        r = self.client.hello
        expect(r.get("ready") is False, f"init ready before runc start: {r}")
        subprocess.run([self.runc, "--root", self.runc_root, "start", self.id], check=True)
        self.client.ready_event(self.init_pid)
        r = self.client.call({"op": "hello", "version": SHIM_PROTOCOL_VERSION})
        expect(r.get("ready") is True, f"hello after the ready event: {r}")
        with open(f"/proc/{self.init_pid}/status") as f:
            caught = int(next(l for l in f if l.startswith("SigCgt:")).split()[1], 16)
        expect(caught & (1 << 14), "ready before the init handles SIGTERM")
        return f"initPid {self.init_pid}, ready after {self.ready_ms:.0f} ms, init ready event after runc start"

    def process_json(self, args, terminal=False, size=None):
        self.seq += 1
        spec = {"terminal": terminal, "user": {"uid": 0, "gid": 0}, "args": args, "env": ["PATH=/bin", "TERM=xterm"], "cwd": "/"}
        if size:
            spec["consoleSize"] = {"height": size[0], "width": size[1]}
        path = os.path.join(self.io, f"p{self.seq}.json")
        with open(path, "w") as f:
            json.dump(spec, f)
        return path

    def exec(self, args, streams=("stdin", "stdout", "stderr"), tty=False, size=None):
        """Sends an exec with listening sockets for the named streams; returns (reply, {name: connected socket})."""
        spec = self.process_json(args, terminal=tty, size=size)
        listeners, paths = {}, {}
        for name in ("stdin", "stdout", "stderr"):
            if name in streams:
                p = os.path.join(self.io, f"{self.seq}.{name}.sock")
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.bind(p)
                s.listen(1)
                s.settimeout(10)
                listeners[name], paths[name] = s, p
            else:
                paths[name] = None
        rid = self.client.send({"op": "exec", "spec": spec, "tty": tty, **paths})
        conns = {}
        for name, s in listeners.items():
            if tty and name == "stderr":
                s.close()
                continue
            try:
                c, _ = s.accept()
                c.settimeout(30)
                conns[name] = c
            except socket.timeout:
                pass
            s.close()
        return self.client.reply(rid, timeout=30), conns

    def cleanup(self):
        if self.client:
            self.client.close()
        if self.monitor and self.monitor.poll() is None:
            self.monitor.kill()
            self.monitor.wait()
        subprocess.run([self.runc, "--root", self.runc_root, "delete", "-f", self.id], capture_output=True)
        for d in glob.glob(f"/sys/fs/cgroup/*/hcs-shimtest/{self.id}") + glob.glob("/sys/fs/cgroup/*/hcs-shimtest"):
            try:
                os.rmdir(d)
            except OSError:
                pass
        if not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            print(f"kept {self.tmp}")


def read_all(sock):
    chunks = []
    while True:
        d = sock.recv(1 << 20)
        if not d:
            return b"".join(chunks)
        chunks.append(d)


def count_all(sock):
    n = 0
    while True:
        d = sock.recv(1 << 20)
        if not d:
            return n
        n += len(d)


def scenarios(env):
    c = env.client

    def stdio_and_status():
        reply, io = env.exec(["/bin/sh", "-c", "echo hi; echo err >&2; exit 3"])
        expect("pid" in reply and reply.get("nsPid", 0) > 1, f"reply {reply}")
        io["stdin"].close()
        out, err = read_all(io["stdout"]), read_all(io["stderr"])
        expect(out == b"hi\n" and err == b"err\n", f"stdout {out!r} stderr {err!r}")
        ev, _ = c.exit_event(reply["pid"])
        expect(ev["status"] == 3 and "signal" not in ev, f"event {ev}")
        order = c.order
        expect(order.index(("reply", max(k for k, v in c.replies.items() if v.get("pid") == reply["pid"]))) <
               order.index(("exit", reply["pid"])), "event before reply")
        rec = json.load(open(os.path.join(env.state, "exit", f"{reply['pid']}.json")))
        # The record is the event's line (docs/shim-protocol.md): a null signal is left out of both.
        expect(rec["status"] == 3 and "signal" not in rec and rec["nsPid"] == reply["nsPid"] and rec == ev, f"exit record {rec}")
        return f"pid {reply['pid']} nsPid {reply['nsPid']}"

    def big_stdout():
        reply, io = env.exec(["/bin/sh", "-c", "yes | head -c 67108864"], streams=("stdout",))
        expect("pid" in reply, f"reply {reply}")
        t0 = time.monotonic()
        n = count_all(io["stdout"])
        dt = time.monotonic() - t0
        expect(n == 64 << 20, f"read {n} bytes")
        ev, _ = c.exit_event(reply["pid"])
        expect(ev["status"] == 0, f"event {ev}")
        return f"{n / dt / 1e6:.0f} MB/s"

    def stdin_cat():
        reply, io = env.exec(["/bin/cat"], streams=("stdin", "stdout"))
        expect("pid" in reply, f"reply {reply}")
        data = os.urandom(300000)
        t = threading.Thread(target=lambda: (io["stdin"].sendall(data), io["stdin"].shutdown(socket.SHUT_WR)))
        t.start()
        out = read_all(io["stdout"])
        t.join()
        expect(out == data, f"echoed {len(out)} of {len(data)} bytes")
        ev, _ = c.exit_event(reply["pid"])
        expect(ev["status"] == 0, f"event {ev}")

    def tty_size():
        reply, io = env.exec(["/bin/stty", "size"], streams=("stdout",), tty=True, size=(30, 100))
        expect("pid" in reply, f"reply {reply}")
        out = read_all(io["stdout"])
        expect(out.strip() == b"30 100", f"tty output {out!r}")
        ev, _ = c.exit_event(reply["pid"])
        expect(ev["status"] == 0, f"event {ev}")

    def tty_resize_and_eof():
        reply, io = env.exec(["/bin/sh", "-c", "read x; stty size; cat; echo done"], streams=("stdin", "stdout"), tty=True, size=(30, 100))
        expect("pid" in reply, f"reply {reply}")
        r = c.call({"op": "resize", "pid": reply["pid"], "rows": 40, "cols": 120})
        expect("error" not in r, f"resize {r}")
        io["stdin"].sendall(b"go\n")
        time.sleep(0.3)
        io["stdin"].sendall(b"hello\n")
        time.sleep(0.3)
        io["stdin"].shutdown(socket.SHUT_WR)  # -> ^D: cat ends
        out = read_all(io["stdout"])
        expect(b"40 120" in out and b"hello" in out and b"done" in out, f"tty output {out!r}")
        ev, _ = c.exit_event(reply["pid"])
        expect(ev["status"] == 0, f"event {ev}")
        r = c.call({"op": "resize", "pid": reply["pid"], "rows": 10, "cols": 10})
        expect(r.get("code") == "not-found", f"resize after exit {r}")

    def signals():
        reply, _ = env.exec(["/bin/sleep", "100"], streams=())
        pid = reply["pid"]
        r = c.call({"op": "signal", "pid": pid, "signal": 15})
        expect(r == {"id": r["id"]}, f"signal {r}")
        ev, _ = c.exit_event(pid)
        expect(ev["status"] == 143 and ev.get("signal") == 15, f"event {ev}")
        r = c.call({"op": "signal", "pid": pid, "signal": 15})
        expect(r.get("code") == "exited", f"second signal {r}")
        r = c.call({"op": "signal", "pid": 999999, "signal": 15})
        expect(r.get("code") == "not-found", f"unknown pid {r}")
        r = c.call({"op": "resize", "pid": pid, "rows": 10, "cols": 10})
        expect(r.get("code") == "not-found", f"resize non-tty {r}")
        r = c.call({"op": "bogus"})
        expect(r.get("code") == "bad-request", f"unknown op {r}")

    def missing_binary():
        reply, _ = env.exec(["nope"], streams=())
        expect(reply.get("code") == "exec-failed" and "nope" in reply.get("error", ""), f"reply {reply}")
        return reply["error"]

    def orphans_and_kill9():
        # An orphan of an exec'd process is reparented to the container's init, which reaps it.
        reply, io = env.exec(["/bin/sh", "-c", "sleep 300 >/dev/null 2>&1 & echo $!"], streams=("stdout",))
        ns = int(read_all(io["stdout"]).strip())
        ev, _ = c.exit_event(reply["pid"])
        expect(ev["status"] == 0, f"event {ev}")
        reply, io = env.exec(["/bin/sh", "-c", f"cat /proc/{ns}/stat"], streams=("stdout",))
        stat = read_all(io["stdout"]).split()
        expect(stat and stat[3] == b"1", f"orphan's stat {stat}")
        # kill -9 of an exec'd shell: its child is orphaned too and later killed from inside; no zombie stays.
        reply, io = env.exec(["/bin/sh", "-c", "sleep 300 & echo $!; wait"], streams=("stdout",))
        ns2 = int(io["stdout"].recv(100).strip())
        r = c.call({"op": "signal", "pid": reply["pid"], "signal": 9})
        expect("error" not in r, f"signal {r}")
        ev, _ = c.exit_event(reply["pid"])
        expect(ev["status"] == 137 and ev.get("signal") == 9, f"event {ev}")
        reply, io = env.exec(["/bin/kill", "-9", str(ns), str(ns2)], streams=())
        c.exit_event(reply["pid"])
        time.sleep(0.2)
        reply, io = env.exec(["/bin/sh", "-c", "cat /proc/[0-9]*/stat"], streams=("stdout",))
        stats = [l.split() for l in read_all(io["stdout"]).splitlines()]
        zombies = [s for s in stats if s[2] == b"Z"]
        expect(not zombies, f"zombies {zombies}")
        expect(not any(s[0] in (str(ns).encode(), str(ns2).encode()) for s in stats), "orphans still there")

    def concurrent_execs():
        ids = [c.send({"op": "exec", "spec": env.process_json(["/bin/true"]), "tty": False,
                       "stdin": None, "stdout": None, "stderr": None}) for _ in range(10)]
        replies = [c.reply(i, timeout=30) for i in ids]
        expect(all("pid" in r for r in replies), f"replies {replies}")
        for r in replies:
            ev, _ = c.exit_event(r["pid"])
            expect(ev["status"] == 0, f"event {ev}")
            with c.cond:
                expect(c.order.index(("reply", r["id"])) < c.order.index(("exit", r["pid"])), f"event before reply for {r}")

    def hello_and_reconnect():
        r = c.call({"op": "hello", "version": SHIM_PROTOCOL_VERSION})
        expect(r.get("initPid") == env.init_pid, f"hello {r}")
        second = Client(os.path.join(env.state, "shim.sock"))
        expect(c.wait_eof(5), "old connection not closed")
        env.client = second
        r = second.hello
        expect(r.get("initPid") == env.init_pid, f"hello on new connection {r}")
        c.close()

    def latency():
        lat = []
        for _ in range(20):
            spec = env.process_json(["/bin/true"])
            t0 = time.monotonic()
            r = env.client.call({"op": "exec", "spec": spec, "tty": False, "stdin": None, "stdout": None, "stderr": None})
            lat.append((time.monotonic() - t0) * 1000)
            expect("pid" in r, f"reply {r}")
        return f"exec -> reply median {statistics.median(lat):.1f} ms (min {min(lat):.1f}, max {max(lat):.1f})"

    check("a stdio, exit status 3, exit record", stdio_and_status)
    check("b 64 MiB stdout", big_stdout)
    check("c stdin through cat", stdin_cat)
    check("d tty consoleSize (stty size = 30 100)", tty_size)
    check("d2 tty resize, stdin EOF -> ^D", tty_resize_and_eof)
    check("e signal / exited / not-found", signals)
    check("h missing binary -> exec-failed", missing_binary)
    check("g orphans reaped by init, kill -9", orphans_and_kill9)
    check("i 10 concurrent execs, reply before event", concurrent_execs)
    check("j hello, new connection replaces old", hello_and_reconnect)
    check("latency", latency)

    def shutdown():
        c = env.client
        reply, _ = env.exec(["/bin/sleep", "1000"], streams=())
        sleeper = reply["pid"]
        subprocess.run([env.runc, "--root", env.runc_root, "kill", env.id, "TERM"], check=True)
        ev, _ = c.exit_event(env.init_pid, timeout=15)
        expect(ev["status"] == 0 and "signal" not in ev, f"init event {ev}")
        sev, _ = c.exit_event(sleeper)
        expect(sev["status"] == 143, f"sleeper event {sev}")
        expect(c.wait_eof(10), "no EOF after the init's exit")
        rc = env.monitor.wait(10)
        expect(rc == 0, f"monitor exit code {rc}")
        expect(not os.path.exists(os.path.join(env.state, "shim.sock")), "shim.sock left behind")
        recs = os.listdir(os.path.join(env.state, "exit"))
        expect(f"{env.init_pid}.json" in recs, f"exit records {recs}")
        with c.cond:
            expect(c.order[-1] == ("exit", env.init_pid) or all(k == "exit" for k, _ in c.order[-3:]), "order")
        return f"{len(recs)} exit records"

    check("f runc kill TERM -> init exits 0, EOF, monitor exits 0", shutdown)


def failing_create(env):
    """runc create failing (bad cgroupsPath type error is hard; use a missing rootfs) -> ready:false, exit 1."""
    bad = os.path.join(env.tmp, "badbundle")
    os.makedirs(bad)
    cfg = json.load(open(os.path.join(env.bundle, "config.json")))
    cfg["root"]["path"] = "/nonexistent-rootfs"
    cfg["linux"]["cgroupsPath"] = f"/hcs-shimtest/{env.id}-bad"
    json.dump(cfg, open(os.path.join(bad, "config.json"), "w"))
    state = os.path.join(env.tmp, "badstate")
    os.makedirs(state, mode=0o700)
    p = subprocess.run([env.shim, "monitor", "--id", env.id + "-bad", "--bundle", bad, "--runc", env.runc,
                        "--runc-root", env.runc_root, "--state", state], capture_output=True, timeout=30)
    subprocess.run([env.runc, "--root", env.runc_root, "delete", "-f", env.id + "-bad"], capture_output=True)
    line = json.loads(p.stdout)
    expect(p.returncode == 1 and line.get("ready") is False and line.get("error"), f"rc {p.returncode} stdout {p.stdout!r}")
    return line["error"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shim", default="artifacts/shim/hcs-shim")
    ap.add_argument("--runc", default="/usr/sbin/runc")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("shim-smoke: must run as root")
    if not os.access(args.shim, os.X_OK):
        sys.exit(f"shim-smoke: {args.shim} missing: publish hcs-shim first")
    env = Env(args)
    try:
        env.build_bundle()
        check("monitor start, ready line", env.start_monitor)
        if env.client:
            scenarios(env)
        check("k runc create fails -> ready:false, exit 1", lambda: failing_create(env))
        init = subprocess.run([env.shim, "init"], capture_output=True)
        check("l init outside a pid namespace exits 2", lambda: expect(init.returncode == 2, f"rc {init.returncode}"))
    finally:
        env.cleanup()
    failed = [n for n, ok in RESULTS if not ok]
    print(f"shim-smoke: {len(RESULTS) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
