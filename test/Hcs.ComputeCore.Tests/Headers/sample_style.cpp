// Copyright (c) hcs contributors. Licensed under the MIT licence.
// Compiles (HeaderTests) the way Microsoft's HCS samples are written: Windows-style include paths with a
// backslash, <windows.h> and the other SDK headers, the WIL headers before <computecore.h>, and the program's own
// unique_hcs_* aliases, identical to the ones hcs declares.
#include <windows.h>
#include <winerror.h>
#include <wil\resource.h>
#include <wil\result.h>
#include <computecore.h>
#include <computenetwork.h>
#include <computestorage.h>

#include <type_traits>

using unique_hcs_operation = wil::unique_any<HCS_OPERATION, decltype(&HcsCloseOperation), HcsCloseOperation>;
using unique_hcs_system = wil::unique_any<HCS_SYSTEM, decltype(&HcsCloseComputeSystem), HcsCloseComputeSystem>;
using unique_hcs_process = wil::unique_any<HCS_PROCESS, decltype(&HcsCloseProcess), HcsCloseProcess>;

static_assert(std::is_same<decltype(THROW_IF_FAILED(S_OK)), HRESULT>::value, "THROW_IF_FAILED is an HRESULT");
static_assert(std::is_same<decltype(HcsGetOperationId(nullptr)), UINT64>::value, "UINT64");
static_assert(sizeof(HCS_EVENT) == 24 && sizeof(HCS_PROCESS_INFORMATION) == 32 && sizeof(HCS_CREATE_OPTIONS_1) == 48,
    "layouts");

HRESULT Properties(HCS_SYSTEM system, PWSTR* document)
{
    unique_hcs_operation operation{HcsCreateOperation(nullptr, nullptr)};
    RETURN_IF_NULL_ALLOC(operation.get());
    RETURN_IF_FAILED(HcsGetComputeSystemProperties(system, operation.get(), LR"({"PropertyTypes":["Memory"]})"));
    return HcsWaitForOperationResult(operation.get(), INFINITE, document);
}

int main()
{
    unique_hcs_system system;
    THROW_IF_FAILED(HcsOpenComputeSystem(L"Sample", GENERIC_ALL, &system));
    wil::unique_hlocal_string document;
    THROW_IF_FAILED_MSG(Properties(system.get(), &document), "%ws", document.get());
    HCS_CREATE_OPTIONS_1 options{};
    options.Version = HcsCreateOptions_1;
    options.CallbackOptions = HcsEventOptionEnableOperationCallbacks | HcsEventOptionEnableVmLifecycle;
    options.Callback = [](HCS_EVENT*, void*) {};
    unique_hcs_operation create{HcsCreateOperation(nullptr, nullptr)};
    unique_hcs_system created;
    THROW_IF_FAILED(HcsCreateComputeSystemInNamespace(L"ns", L"Test", L"{}", create.get(),
        reinterpret_cast<const HCS_CREATE_OPTIONS*>(&options), &created));
    wil::unique_event done;
    done.create(wil::EventOptions::ManualReset);
    unique_hcs_operation callbackOperation{HcsCreateOperation(done.get(), [](HCS_OPERATION, void* context) {
        SetEvent(static_cast<HANDLE>(context));
    })};
    // A capture-less completion callback that uses the *_MSG macros (whose own lambda captures only its locals).
    HCS_OPERATION_COMPLETION completion = [](HCS_OPERATION op, void* context) {
        wil::unique_hlocal_string result;
        THROW_IF_FAILED_MSG(HcsGetOperationResult(op, &result), "%ws", result.get());
        SetEvent(static_cast<HANDLE>(context));
    };
    THROW_IF_FAILED(HcsSetOperationCallback(create.get(), done.get(), completion));
    HCS_PROCESS_INFORMATION info{};
    unique_hcs_process process;
    THROW_IF_FAILED(HcsCreateProcess(system.get(), L"{}", callbackOperation.get(), nullptr, &process));
    THROW_HR_IF(E_FAIL, !done.wait(1000));
    THROW_IF_FAILED(HcsGetOperationResultAndProcessInfo(callbackOperation.get(), &info, nullptr));
    if (info.StdOutput != nullptr && info.StdOutput != INVALID_HANDLE_VALUE) {
        CloseHandle(info.StdOutput);
    }
    return IsHcsCancelLiveMigrationPresent() ? 0 : 1;
}
