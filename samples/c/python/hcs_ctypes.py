#!/usr/bin/env python3
# Copyright (c) hcs contributors. Licensed under the MIT licence.
"""The HCS C API from Python with nothing but ctypes: libcomputecore.so, one VM through its life.

    python3 hcs_ctypes.py [--library PATH] [--document fake|uefi]

--library   libcomputecore.so (default: artifacts/computecore/libcomputecore.so of this source tree)
--document  fake: a kernel-direct VM for hcsd's fake backend (`hcsd --backends fake`; nothing boots);
            uefi: the seed sample's kind of VM (UEFI, no disk) for a real QEMU backend (default)

The service is whatever the library is told by its environment: hcsd at $HCS_SOCKET (default /run/hcs/hcsd.sock),
or the engine inside this very process with HCS_SERVICE_MODE=embedded.

It creates an operation and a system, sets the system's event callback (a Python function called on the library's
threads), starts the system, reads its properties, terminates it, waits for the exit (on the operation and on the
callback), frees every returned string with LocalFree and closes every handle. Output: one line per step, then
"python: ok"; exit code 1 (and the reason on stderr) on any failure.

wchar_t is 4 bytes on Linux, as the library's PCWSTR strings are UTF-32: ctypes.c_wchar_p fits them as they are.
"""

import argparse
import ctypes
import json
import os
import sys
import threading

WAIT_MS = 300_000  # every wait is bounded

HRESULT = ctypes.c_int32
HANDLE = ctypes.c_void_p
PWSTR_OUT = ctypes.POINTER(ctypes.c_void_p)  # PWSTR*: read with wstring_at, free with LocalFree

HCS_EVENT_SYSTEM_EXITED = 0x00000001


class HcsEvent(ctypes.Structure):
    """HCS_EVENT: { HCS_EVENT_TYPE Type; PCWSTR EventData; HCS_OPERATION Operation; } (24 bytes)."""

    _fields_ = [("Type", ctypes.c_uint32), ("EventData", ctypes.c_void_p), ("Operation", HANDLE)]


HCS_EVENT_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.POINTER(HcsEvent), ctypes.c_void_p)

FAKE_VM = {
    "SchemaVersion": {"Major": 2, "Minor": 5},
    "Owner": "hcs_ctypes",
    "VirtualMachine": {
        "Chipset": {
            "LinuxKernelDirect": {
                "KernelFilePath": "/fake/vmlinuz",
                "InitRdPath": "/fake/initrd.img",
                "KernelCmdLine": "console=ttyS0 hcstest=idle",
            }
        },
        "ComputeTopology": {"Memory": {"SizeInMB": 256}, "Processor": {"Count": 1}},
    },
}

UEFI_VM = {
    "SchemaVersion": {"Major": 2, "Minor": 1},
    "Owner": "hcs_ctypes",
    "VirtualMachine": {
        "Chipset": {"Uefi": {}},
        "ComputeTopology": {"Memory": {"Backing": "Physical", "SizeInMB": 256}, "Processor": {"Count": 1}},
    },
    "ShouldTerminateOnLastHandleClosed": True,
}


class HcsError(Exception):
    pass


def load(path):
    lib = ctypes.CDLL(path)
    signatures = {
        "HcsCreateOperation": (HANDLE, [ctypes.c_void_p, ctypes.c_void_p]),
        "HcsCloseOperation": (None, [HANDLE]),
        "HcsWaitForOperationResult": (HRESULT, [HANDLE, ctypes.c_uint32, PWSTR_OUT]),
        "HcsCreateComputeSystem": (HRESULT, [ctypes.c_wchar_p, ctypes.c_wchar_p, HANDLE, ctypes.c_void_p, ctypes.POINTER(HANDLE)]),
        "HcsCloseComputeSystem": (None, [HANDLE]),
        "HcsStartComputeSystem": (HRESULT, [HANDLE, HANDLE, ctypes.c_wchar_p]),
        "HcsTerminateComputeSystem": (HRESULT, [HANDLE, HANDLE, ctypes.c_wchar_p]),
        "HcsGetComputeSystemProperties": (HRESULT, [HANDLE, HANDLE, ctypes.c_wchar_p]),
        "HcsWaitForComputeSystemExit": (HRESULT, [HANDLE, ctypes.c_uint32, PWSTR_OUT]),
        "HcsSetComputeSystemCallback": (HRESULT, [HANDLE, ctypes.c_uint32, ctypes.c_void_p, HCS_EVENT_CALLBACK]),
        "LocalFree": (ctypes.c_void_p, [ctypes.c_void_p]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    return lib


def take_string(lib, pointer):
    """The UTF-32 string the library returned (None for NULL), freed with LocalFree."""
    if not pointer:
        return None
    try:
        return ctypes.wstring_at(pointer)
    finally:
        lib.LocalFree(pointer)


def check(hr, what, document=None):
    if hr < 0:
        raise HcsError(f"{what}: 0x{hr & 0xFFFFFFFF:08X} {document or ''}")


def run(lib, document):
    system_id = f"hcs-ctypes-{os.getpid()}"
    exited = threading.Event()
    events = []

    # Runs on a library thread (ctypes takes the GIL). It must not raise: ctypes would print the exception and carry
    # on, and a C caller has no way to see it.
    def on_event(event, _context):
        try:
            kind = event.contents.Type
            data = ctypes.wstring_at(event.contents.EventData) if event.contents.EventData else None  # valid during the call only
            events.append((kind, data))
            if kind == HCS_EVENT_SYSTEM_EXITED:
                exited.set()
        except Exception as e:  # noqa: BLE001 - nothing may escape a callback
            print(f"callback: {e}", file=sys.stderr)

    callback = HCS_EVENT_CALLBACK(on_event)  # kept alive until the system handle is closed

    operation = lib.HcsCreateOperation(None, None)
    if not operation:
        raise HcsError("HcsCreateOperation returned NULL")
    system = HANDLE()
    try:
        def wait(what):
            result = ctypes.c_void_p()
            hr = lib.HcsWaitForOperationResult(operation, WAIT_MS, ctypes.byref(result))
            text = take_string(lib, result.value)
            check(hr, what, text)
            return text

        check(lib.HcsCreateComputeSystem(system_id, json.dumps(document), operation, None, ctypes.byref(system)), "create")
        wait("create")
        print("create: ok")
        check(lib.HcsSetComputeSystemCallback(system, 0, None, callback), "set callback")

        check(lib.HcsStartComputeSystem(system, operation, None), "start")
        wait("start")
        print("start: ok")

        check(lib.HcsGetComputeSystemProperties(system, operation, None), "properties")
        properties = json.loads(wait("properties"))
        print(f"properties: State={properties.get('State')}")

        check(lib.HcsTerminateComputeSystem(system, operation, None), "terminate")
        wait("terminate")
        print("terminate: ok")

        result = ctypes.c_void_p()
        hr = lib.HcsWaitForComputeSystemExit(system, WAIT_MS, ctypes.byref(result))
        status = take_string(lib, result.value)
        check(hr, "wait for exit", status)
        print(f"exit: ExitType={json.loads(status).get('ExitType') if status else None}")

        if not exited.wait(WAIT_MS / 1000):
            raise HcsError("the callback did not see SystemExited")
        data = next(d for k, d in events if k == HCS_EVENT_SYSTEM_EXITED)
        print(f"callback: SystemExited EventData={'present' if data else 'missing'}")
    finally:
        if system.value:
            lib.HcsCloseComputeSystem(system)  # waits for a callback in flight: `callback` outlives every call
        lib.HcsCloseOperation(operation)


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--library", default=os.path.join(root, "artifacts", "computecore", "libcomputecore.so"))
    parser.add_argument("--document", choices=["fake", "uefi"], default="uefi")
    args = parser.parse_args()
    try:
        lib = load(args.library)
        run(lib, FAKE_VM if args.document == "fake" else UEFI_VM)
    except (HcsError, OSError) as e:
        print(f"hcs_ctypes: {e}", file=sys.stderr)
        return 1
    print("python: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
