// Copyright (c) hcs contributors. Licensed under the MIT licence.
// The seed sample (Microsoft's "event callback" HCS sample) compiled unchanged against hcs's headers.
//
// The sample's code is not in this tree (it is Microsoft's text): the build extracts it, from the line
// `constexpr auto c_EmptyVM = LR"(` to the end of the seed file, into event-callback-sample.inc and compiles this
// file with that directory on the include path (test/Hcs.ComputeCore.Tests HeaderTests does it; the seed file is
// $HCS_SEED or ../shared/seed/event-callback-sample.txt from the repository root).
//
// After the sample (which creates the VM "Test" and sets its event callback) this program starts the VM, then
// terminates it, waiting for each. It writes nothing to stdout but a last line "seed: ok"; a failure goes to stderr
// with exit code 1.
#include <computecore.h>
#include <wil/resource.h>
#include <wil/result.h>

#include <cstdio>

namespace {
// Bounds each wait so that a broken service fails the run instead of hanging it.
constexpr DWORD c_WaitMs = 300000;

void RunAndWait(HRESULT (*verb)(HCS_SYSTEM, HCS_OPERATION, PCWSTR), HCS_SYSTEM system, const char* name)
{
    unique_hcs_operation operation{HcsCreateOperation(nullptr, nullptr)};
    THROW_IF_NULL_ALLOC(operation.get());
    THROW_IF_FAILED_MSG(verb(system, operation.get(), nullptr), "%s", name);
    wil::unique_hlocal_string result;
    THROW_IF_FAILED_MSG(HcsWaitForOperationResult(operation.get(), c_WaitMs, &result), "%s: %ws", name, result.get());
}
} // namespace

int main()
{
    try {
#include "event-callback-sample.inc"

        RunAndWait(HcsStartComputeSystem, system.get(), "start");
        RunAndWait(HcsTerminateComputeSystem, system.get(), "terminate");
    } catch (const wil::ResultException& e) {
        std::fprintf(stderr, "seed: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "seed: %s\n", e.what());
        return 1;
    }
    std::printf("seed: ok\n");
    return 0;
}
