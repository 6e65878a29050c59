/* Copyright (c) hcs contributors. Licensed under the MIT licence.
 * The HCS C API from C (HeaderTests compiles it as C99, C11, C17 and C2x with -pedantic): every header, callbacks
 * as plain functions, the layouts, and an enum switch that includes the values above INT_MAX. */
#include <computecore.h>
#include <computenetwork.h>
#include <computestorage.h>
#include <windows.h>
#include <winerror.h>

#include <stdio.h>

static void CALLBACK OnEvent(HCS_EVENT* event, void* context)
{
    switch (event->Type) {
    case HcsEventSystemExited:
    case HcsEventProcessExited:
    case HcsEventGroupVmLifecycle:
    case HcsEventGroupOperationInfo:
        *(int*)context += 1;
        break;
    default:
        break;
    }
}

static void CALLBACK OnComplete(HCS_OPERATION operation, void* context)
{
    (void)operation;
    (void)context;
}

HCS_STATIC_ASSERT(sizeof(HCS_EVENT) == 24, "HCS_EVENT");
HCS_STATIC_ASSERT(HCS_E_INVALID_JSON == (HRESULT)0x8037010Du, "HCS_E_INVALID_JSON");
HCS_STATIC_ASSERT(HRESULT_FROM_WIN32(ERROR_NOT_FOUND) == (HRESULT)0x80070490u, "HRESULT_FROM_WIN32");

int Run(void)
{
    HCS_OPERATION operation = HcsCreateOperation(NULL, OnComplete);
    HCS_SYSTEM system = NULL;
    PWSTR result = NULL;
    int events = 0;
    HRESULT hr;
    HCS_EVENT_OPTIONS options = (HCS_EVENT_OPTIONS)(HcsEventOptionEnableOperationCallbacks | HcsEventOptionEnableVmLifecycle);
    if (operation == NULL) {
        return 1;
    }
    hr = HcsCreateComputeSystem(L"Test", L"{}", operation, NULL, &system);
    if (SUCCEEDED(hr)) {
        hr = HcsWaitForOperationResult(operation, INFINITE, &result);
    }
    if (FAILED(hr)) {
        fprintf(stderr, "0x%08X %ls\n", (unsigned int)hr, result != NULL ? result : L"");
    }
    LocalFree(result);
    if (system != NULL) {
        hr = HcsSetComputeSystemCallback(system, options, &events, OnEvent);
        HcsCloseComputeSystem(system);
    }
    HcsCloseOperation(operation);
    return FAILED(hr) && IsHcsCreateComputeSystemPresent();
}
