#!/usr/bin/env python3
# Records a QMP conversation with the installed QEMU into a transcript used by the QMP client's replay tests.
# usage: qmp-record.py OUT.qmp COMMAND_JSON...   (each COMMAND_JSON is sent after the previous reply; "sleep:S" waits)
# Transcript lines: "S: <json>" from QEMU, "C: <json>" from the client, "S: <EOF>" / "S: <RESET>" at the end.
import json, os, socket, subprocess, sys, tempfile, time

out, steps = sys.argv[1], sys.argv[2:]
tmp = tempfile.mkdtemp()
sock_path = os.path.join(tmp, "qmp.sock")
qemu = subprocess.Popen(["qemu-system-x86_64", "-accel", "tcg", "-M", "q35", "-m", "64", "-nodefaults", "-display", "none",
                         "-S", "-no-shutdown", "-qmp", f"unix:{sock_path},server=on,wait=off"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(200):
    if os.path.exists(sock_path):
        break
    time.sleep(0.02)
s = socket.socket(socket.AF_UNIX)
s.connect(sock_path)
f = s.makefile("rwb", buffering=0)
lines = []
def read_until_reply(cid):
    while True:
        try:
            raw = f.readline()
        except ConnectionResetError:
            lines.append("S: <RESET>"); return False
        if not raw:
            lines.append("S: <EOF>"); return False
        msg = json.loads(raw)
        if "timestamp" in msg:
            msg["timestamp"] = {"seconds": 1764064800, "microseconds": 123456}
        if "QMP" in msg:
            lines.append("S: " + json.dumps(msg, separators=(",", ":"))); return True
        lines.append("S: " + json.dumps(msg, separators=(",", ":")))
        if msg.get("id") == cid:
            return True
read_until_reply(None)
cid = 0
for step in ["{\"execute\":\"qmp_capabilities\"}"] + steps:
    if step.startswith("sleep:"):
        time.sleep(float(step[6:])); continue
    cid += 1
    cmd = json.loads(step); cmd["id"] = cid
    text = json.dumps(cmd, separators=(",", ":"))
    lines.append("C: " + text)
    f.write((text + "\n").encode())
    if not read_until_reply(cid):
        break
else:
    pass
# After quit, read to the end of the stream.
if steps and json.loads(steps[-1]).get("execute") == "quit" and not lines[-1].startswith("S: <"):
    read_until_reply(-1)
qemu.wait(timeout=10)
open(out, "w").write("\n".join(lines) + "\n")
