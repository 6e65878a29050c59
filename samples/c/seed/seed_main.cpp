// Copyright (c) hcs contributors. Licensed under the MIT licence.
// The seed sample (Microsoft's "event callback" HCS sample) compiled unchanged against hcs's headers, then run.
//
// The sample's code is not in this tree (it is Microsoft's text): the build extracts it, from the line
// `constexpr auto c_EmptyVM = LR"(` to the end of the seed file, into event-callback-sample.inc and compiles this
// file with that directory on the include path (test/Hcs.ComputeCore.Tests SeedProgramTests and `./build.sh demo` do
// it; the seed file is $HCS_SEED, else ../shared/seed/event-callback-sample.txt from the repository root).
//
// The sample creates the VM "Test" and sets its event callback; this program then starts the VM, terminates it, and
// waits (bounded) for the callback to see the exit. To observe what the sample's own callback saw without editing it,
// WI_ASSERT is redefined after <wil/result.h>: the macro expands inside the sample's lambda, where `event` is in
// scope, and records (event->Type, condition) instead of asserting. Output, one line per record, then a verdict:
//   callback: type=0x00000001 assert=true
//   seed: ok
// Exit code 0 when the callback saw HcsEventSystemExited and every recorded condition held; 1 otherwise (a failure is
// explained on stderr).
#include <computecore.h>
#include <wil/resource.h>
#include <wil/result.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <vector>

namespace seed_watch {

// What the sample's callback asserted: the event it was handling and whether the condition held.
struct Record {
    unsigned int type;
    bool condition;
};

std::mutex g_lock;
std::condition_variable g_changed;
std::vector<Record> g_records;

// Called from the sample's callback (a service thread): must not throw.
void Note(HCS_EVENT_TYPE type, bool condition) noexcept
{
    try {
        std::lock_guard<std::mutex> hold(g_lock);
        g_records.push_back({static_cast<unsigned int>(type), condition});
    } catch (...) {
        std::abort(); // out of memory: nothing sensible left to do inside a callback
    }
    g_changed.notify_all();
}

bool SawExit(const std::vector<Record>& records)
{
    for (const auto& r : records) {
        if (r.type == static_cast<unsigned int>(HcsEventSystemExited)) {
            return true;
        }
    }
    return false;
}

} // namespace seed_watch

// Only valid where `event` (an HCS_EVENT*) is in scope: inside the sample's callback, which is the only user.
#undef WI_ASSERT
#define WI_ASSERT(condition) ::seed_watch::Note(event->Type, static_cast<bool>(condition))

namespace {
// Bounds each of this program's waits, so that a broken service fails the run instead of hanging it (the sample's
// own wait for the creation is INFINITE: the test that runs this program bounds the whole run).
constexpr DWORD c_WaitMs = 300000;
} // namespace

int main()
{
    try {
#include "event-callback-sample.inc"

        // The additions: start the VM, then terminate it, reusing the sample's operation (an operation can be reused
        // once it completed).
        THROW_IF_FAILED(HcsStartComputeSystem(system.get(), operation.get(), nullptr));
        THROW_IF_FAILED_MSG(HcsWaitForOperationResult(operation.get(), c_WaitMs, &resultDoc), "start: %ws", resultDoc.get());
        THROW_IF_FAILED(HcsTerminateComputeSystem(system.get(), operation.get(), nullptr));
        THROW_IF_FAILED_MSG(HcsWaitForOperationResult(operation.get(), c_WaitMs, &resultDoc), "terminate: %ws", resultDoc.get());

        // The exit event may come before or after the terminate operation completes: wait for it (bounded).
        std::vector<seed_watch::Record> records;
        {
            std::unique_lock<std::mutex> hold(seed_watch::g_lock);
            seed_watch::g_changed.wait_for(hold, std::chrono::milliseconds(c_WaitMs),
                [] { return seed_watch::SawExit(seed_watch::g_records); });
            records = seed_watch::g_records;
        }

        bool ok = seed_watch::SawExit(records);
        for (const auto& r : records) {
            std::printf("callback: type=0x%08X assert=%s\n", r.type, r.condition ? "true" : "false");
            ok = ok && r.condition;
        }
        if (!seed_watch::SawExit(records)) {
            std::fprintf(stderr, "seed: the callback did not see HcsEventSystemExited within %u ms\n", static_cast<unsigned int>(c_WaitMs));
        }
        if (!ok) {
            std::printf("seed: failed\n");
            return 1;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "seed: %s\n", e.what());
        return 1;
    }
    std::printf("seed: ok\n");
    return 0;
}
