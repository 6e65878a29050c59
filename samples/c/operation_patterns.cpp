// Copyright (c) hcs contributors. Licensed under the MIT licence.
// The three ways to learn that an HCS operation completed, on the seed sample's kind of VM (UEFI, no disk), and the
// rules for closing handles while callbacks run. Our own program (not Microsoft's sample text).
//
//   operation_patterns            runs every check below against the service ($HCS_SOCKET, or HCS_SERVICE_MODE)
//   operation_patterns throw      a completion callback that throws: the process must end (it is not a way to report
//                                 errors; callbacks must not throw). Expected to die with SIGABRT.
//
// Output: one line "<check>: ok" per check, then "patterns: ok"; on any failure a reason on stderr and exit code 1.
//   a. wait synchronously         create the VM and HcsWaitForOperationResult (bounded)
//   b. completion callback        start it with an HCS_OPERATION_COMPLETION that reads the result with
//                                 HcsGetOperationResult, closes the operation inside the callback, signals an event
//   c. system callback            HcsEventOptionEnableOperationCallbacks on a second handle: an operation with its own
//                                 callback is refused (HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET); one without
//                                 completes as HcsEventOperationCallback on the system callback
//   close waits (operation/system) a close on another thread does not return while a callback is still running
//   close inside callback         the system callback closes its own handle (the operation one is pattern b)
#include <computecore.h>
#include <wil/resource.h>
#include <wil/result.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <cwchar>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>

namespace {

// Every wait of this program is bounded: a broken service fails the run instead of hanging it.
constexpr DWORD c_WaitMs = 300000;

// The seed's kind of VM: UEFI firmware, no disk (it boots to the firmware's shell and stays there).
constexpr auto c_EmptyVm = LR"({
    "SchemaVersion": { "Major": 2, "Minor": 1 },
    "Owner": "operation_patterns",
    "VirtualMachine": {
        "Chipset": { "Uefi": {} },
        "ComputeTopology": { "Memory": { "Backing": "Physical", "SizeInMB": 256 }, "Processor": { "Count": 1 } }
    },
    "ShouldTerminateOnLastHandleClosed": true
})";

// The events this program waits on: manual-reset, as the callbacks may signal before the main thread waits.
struct Event : wil::unique_event {
    Event() : wil::unique_event(wil::EventOptions::ManualReset) {}
};

void Require(bool condition, const std::string& what)
{
    if (!condition) {
        throw std::runtime_error(what);
    }
}

std::string Hex(HRESULT hr)
{
    char text[16];
    std::snprintf(text, sizeof text, "0x%08X", static_cast<unsigned int>(hr));
    return text;
}

void Ok(const char* check)
{
    std::printf("%s: ok\n", check);
    std::fflush(stdout);
}

// ---- b. the completion callback pattern ----

struct StartContext {
    Event done;
    std::atomic<HRESULT> result{E_FAIL};
    std::atomic<bool> hadDocument{false};
};

// Runs on a library thread. Reads the result, frees it, closes the operation (allowed inside its own callback: the
// close does not wait for the callback that makes it) and wakes the main thread. Throws nothing.
void CALLBACK OnStarted(HCS_OPERATION operation, void* context)
{
    auto* start = static_cast<StartContext*>(context);
    PWSTR document = nullptr;
    start->result = HcsGetOperationResult(operation, &document);
    start->hadDocument = document != nullptr;
    LocalFree(document);
    HcsCloseOperation(operation);
    start->done.SetEvent();
}

// ---- close waits for a callback in flight ----

// A callback that blocks until released: `entered` is set when it starts, it waits for `release`, and sets
// `returned` just before it returns. `closeReturned` is set by the thread that closes the handle, right after the close.
struct Blocker {
    Event entered;
    Event release;
    std::atomic<bool> returned{false};
    std::atomic<bool> closeReturned{false};
    std::atomic<bool> closeReturnedEarly{false}; // seen by the callback: the close came back while it still ran
    std::atomic<int> calls{0};

    void Block()
    {
        if (calls++ != 0) {
            return; // only the first callback blocks
        }
        entered.SetEvent();
        release.wait(c_WaitMs);
        closeReturnedEarly = closeReturned.load();
        returned = true;
    }
};

void CALLBACK BlockingCompletion(HCS_OPERATION, void* context)
{
    static_cast<Blocker*>(context)->Block();
}

void CALLBACK BlockingEvent(HCS_EVENT* event, void* context)
{
    if (event->Type == HcsEventOperationCallback) {
        static_cast<Blocker*>(context)->Block();
    }
}

// Closes on another thread while the callback is blocked, then releases the callback; checks the close came back
// only after the callback returned. (Whether the closer thread reached the close before the release is a matter of
// scheduling; the pause below makes that the usual case, and the check is sound either way.)
template <typename Close>
void CloseWhileBlocked(Blocker& blocker, Close close, const char* what)
{
    Require(blocker.entered.wait(c_WaitMs), std::string(what) + ": the callback did not start");
    std::thread closer([&] {
        close();
        blocker.closeReturned = true;
    });
    Require(!blocker.closeReturned.load(), std::string(what) + ": close returned at once");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const bool returnedWhileBlocked = blocker.closeReturned.load();
    blocker.release.SetEvent();
    closer.join();
    Require(!returnedWhileBlocked && !blocker.closeReturnedEarly.load(),
        std::string(what) + ": the close returned while the callback was still running");
    Require(blocker.returned.load(), std::string(what) + ": the close returned before the callback did");
}

// ---- c. the system callback delivers operation completions ----

struct SystemWatch {
    HCS_SYSTEM self = nullptr;           // the handle this callback is set on; it closes it itself
    std::atomic<HCS_OPERATION> expected{nullptr};
    std::atomic<bool> sawOperation{false};
    std::atomic<bool> sawExit{false};
    std::atomic<bool> closed{false};
    std::atomic<bool> badEvent{false};
    Event done;
};

// Sees the terminate operation's completion and the exit; whichever arrives second closes this very handle from
// inside its callback (no deadlock: the close does not wait for the callback that makes it) and signals.
void CALLBACK OnSystemEvent(HCS_EVENT* event, void* context)
{
    auto* watch = static_cast<SystemWatch*>(context);
    switch (event->Type) {
    case HcsEventOperationCallback:
        if (event->Operation != watch->expected.load()) {
            watch->badEvent = true;
        }
        watch->sawOperation = true;
        break;
    case HcsEventSystemExited:
        watch->sawExit = true;
        break;
    default:
        return;
    }
    if (watch->sawOperation && watch->sawExit && !watch->closed.exchange(true)) {
        HcsCloseComputeSystem(watch->self);
        watch->done.SetEvent();
    }
}

unique_hcs_operation NewOperation(const void* context = nullptr, HCS_OPERATION_COMPLETION callback = nullptr)
{
    unique_hcs_operation operation{HcsCreateOperation(context, callback)};
    THROW_IF_NULL_ALLOC(operation.get());
    return operation;
}

unique_hcs_system Open(PCWSTR id)
{
    unique_hcs_system system;
    THROW_IF_FAILED(HcsOpenComputeSystem(id, GENERIC_ALL, &system));
    return system;
}

int Patterns()
{
    wchar_t id[64];
    std::swprintf(id, sizeof id / sizeof id[0], L"operation-patterns-%d", static_cast<int>(getpid()));

    // a. Wait synchronously.
    unique_hcs_system system;
    {
        auto operation = NewOperation();
        THROW_IF_FAILED(HcsCreateComputeSystem(id, c_EmptyVm, operation.get(), nullptr, &system));
        wil::unique_hlocal_string result;
        THROW_IF_FAILED_MSG(HcsWaitForOperationResult(operation.get(), c_WaitMs, &result), "create: %ws", result.get());
    }
    Ok("a. wait synchronously");

    // b. A completion callback, which closes its own operation: so the operation is released, not owned here.
    {
        StartContext start;
        HCS_OPERATION operation = HcsCreateOperation(&start, OnStarted);
        THROW_IF_NULL_ALLOC(operation);
        const HRESULT hr = HcsStartComputeSystem(system.get(), operation, nullptr);
        if (FAILED(hr)) {
            HcsCloseOperation(operation); // rejected at once: the callback may still run, and closing waits for it
            THROW_HR(hr);
        }
        Require(start.done.wait(c_WaitMs), "b: the completion callback did not run");
        Require(start.result == S_OK, "b: start completed with " + Hex(start.result));
    }
    Ok("b. completion callback");

    // Close waits: an operation whose completion callback blocks, closed from another thread.
    {
        Blocker blocker;
        HCS_OPERATION operation = HcsCreateOperation(&blocker, BlockingCompletion);
        THROW_IF_NULL_ALLOC(operation);
        THROW_IF_FAILED(HcsEnumerateComputeSystems(nullptr, operation));
        CloseWhileBlocked(blocker, [operation] { HcsCloseOperation(operation); }, "close waits (operation)");
    }
    Ok("close waits (operation)");

    // Close waits: a system handle whose event callback blocks, closed from another thread.
    {
        Blocker blocker;
        auto watched = Open(id);
        THROW_IF_FAILED(HcsSetComputeSystemCallback(watched.get(), HcsEventOptionEnableOperationCallbacks, &blocker, BlockingEvent));
        auto operation = NewOperation();
        THROW_IF_FAILED(HcsGetComputeSystemProperties(watched.get(), operation.get(), nullptr));
        HCS_SYSTEM handle = watched.release();
        CloseWhileBlocked(blocker, [handle] { HcsCloseComputeSystem(handle); }, "close waits (system)");
    }
    Ok("close waits (system)");

    // c. The system callback with HcsEventOptionEnableOperationCallbacks, on a second handle to the same VM.
    {
        SystemWatch watch;
        watch.self = Open(id).release(); // closed by its own callback
        THROW_IF_FAILED(HcsSetComputeSystemCallback(watch.self, HcsEventOptionEnableOperationCallbacks, &watch, OnSystemEvent));

        StartContext unused;
        auto withCallback = NewOperation(&unused, OnStarted);
        const HRESULT refused = HcsGetComputeSystemProperties(watch.self, withCallback.get(), nullptr);
        Require(refused == HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET,
            "c: an operation with its own callback on that handle got " + Hex(refused));
        std::printf("c. refused: %s\n", Hex(refused).c_str());

        auto operation = NewOperation();
        watch.expected = operation.get();
        THROW_IF_FAILED(HcsTerminateComputeSystem(watch.self, operation.get(), nullptr));
        Require(watch.done.wait(c_WaitMs), "c: the system callback did not see both the operation and the exit");
        Require(!watch.badEvent, "c: HcsEventOperationCallback named another operation");
        wil::unique_hlocal_string result;
        THROW_IF_FAILED_MSG(HcsGetOperationResult(operation.get(), &result), "terminate: %ws", result.get());
    }
    Ok("c. system callback");
    Ok("close inside callback");
    return 0;
}

// A callback that throws: the exception cannot cross the library (no C++ frames between it and its catch), so the
// C++ runtime ends the process (std::terminate → abort). This mode exists to show that; never do it.
int Throw()
{
    Event done;
    // Not `&done`: taking the address of a WIL resource wrapper releases it (operator& is put()); std::addressof does not.
    auto operation = NewOperation(std::addressof(done), [](HCS_OPERATION, void*) { throw std::runtime_error("thrown from a callback"); });
    THROW_IF_FAILED(HcsEnumerateComputeSystems(nullptr, operation.get()));
    done.wait(60000); // never signalled: the process ends first
    std::printf("throw: survived\n");
    return 1;
}

} // namespace

int main(int argc, char** argv)
{
    try {
        if (argc == 2 && std::strcmp(argv[1], "throw") == 0) {
            return Throw();
        }
        Require(argc == 1, "usage: operation_patterns [throw]");
        const int rc = Patterns();
        std::printf("patterns: ok\n");
        return rc;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "operation_patterns: %s\n", e.what());
        return 1;
    }
}
