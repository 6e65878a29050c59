/* Copyright (c) hcs contributors. Licensed under the MIT licence.
 *
 * every_export.c: calls every function libcomputecore.so exports at least once (the 60 HCS functions, their 60
 * IsHcs*Present queries and the Win32 compatibility functions), including the error path each bad argument reaches,
 * against a running hcsd with the fake backend.
 *
 *   usage: every_export DIRECTORY DOCUMENT
 *     DIRECTORY  an empty directory the program may create files in
 *     DOCUMENT   a ComputeSystem document (JSON, ASCII) the service accepts
 *   environment: HCS_SOCKET = the hcsd socket
 *
 * Prints "every export: N checks passed" and exits 0, or prints each failed check to stderr and exits 1. */
#define _POSIX_C_SOURCE 200809L

#include <computecore.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

static int g_checks;
static int g_failures;

/* Records one check; on failure prints what was expected. */
static void check(int ok, const char* what, long long got, long long want, int line)
{
    ++g_checks;
    if (!ok) {
        ++g_failures;
        fprintf(stderr, "line %d: %s: got 0x%llx, want 0x%llx\n", line, what, (unsigned long long)got,
            (unsigned long long)want);
    }
}

#define EXPECT(expr, want)                                                    \
    do {                                                                      \
        long long got_ = (long long)(expr);                                   \
        long long want_ = (long long)(want);                                  \
        check(got_ == want_, #expr, got_, want_, __LINE__);                   \
    } while (0)

#define EXPECT_TRUE(expr) check((expr) ? 1 : 0, #expr, 0, 1, __LINE__)

/* Checks that doc holds text, then frees doc. */
static void expect_doc(PWSTR doc, const wchar_t* text, int line)
{
    int ok = doc != NULL && wcsstr(doc, text) != NULL;
    check(ok, "result document holds the expected text", 0, 1, line);
    if (!ok) {
        fprintf(stderr, "  wanted \"%ls\" in: %ls\n", text, doc ? doc : L"(NULL)");
    }
    LocalFree(doc);
}
#define EXPECT_DOC(doc, text) expect_doc((doc), (text), __LINE__)

/* The final HRESULT of an asynchronous call: its own failure, or the operation's result (document in *doc). */
static HRESULT settle(HRESULT call, HCS_OPERATION op, PWSTR* doc)
{
    *doc = NULL;
    if (FAILED(call)) {
        HRESULT hr = HcsGetOperationResult(op, doc); /* a rejected call may still leave a result document */
        return hr == HCS_E_OPERATION_NOT_STARTED ? call : hr;
    }
    return HcsWaitForOperationResult(op, INFINITE, doc);
}

/* ---- callbacks ---- */

typedef struct Observed {
    HANDLE signal;     /* set when the awaited event arrives */
    DWORD awaitedType; /* HCS_EVENT_TYPE to signal on */
    HCS_OPERATION operation;
    int count;
} Observed;

static void CALLBACK on_event(HCS_EVENT* event, void* context)
{
    Observed* o = (Observed*)context;
    if ((DWORD)event->Type == o->awaitedType) {
        o->operation = event->Operation;
        ++o->count;
        SetEvent(o->signal);
    }
}

static void CALLBACK on_completion(HCS_OPERATION operation, void* context)
{
    (void)operation;
    SetEvent((HANDLE)context);
}

/* ---- the checks, by area ---- */

static void presence(void)
{
    /* TRUE for the implemented functions; FALSE for the eight hcs refuses (docs/c-api.md, "Functions"). */
    EXPECT(IsHcsCreateOperationPresent(), TRUE);
    EXPECT(IsHcsCreateOperationWithNotificationsPresent(), TRUE);
    EXPECT(IsHcsCloseOperationPresent(), TRUE);
    EXPECT(IsHcsGetOperationContextPresent(), TRUE);
    EXPECT(IsHcsSetOperationContextPresent(), TRUE);
    EXPECT(IsHcsGetComputeSystemFromOperationPresent(), TRUE);
    EXPECT(IsHcsGetProcessFromOperationPresent(), TRUE);
    EXPECT(IsHcsGetOperationTypePresent(), TRUE);
    EXPECT(IsHcsGetOperationIdPresent(), TRUE);
    EXPECT(IsHcsGetOperationResultPresent(), TRUE);
    EXPECT(IsHcsGetOperationResultAndProcessInfoPresent(), TRUE);
    EXPECT(IsHcsAddResourceToOperationPresent(), FALSE);
    EXPECT(IsHcsGetProcessorCompatibilityFromSavedStatePresent(), FALSE);
    EXPECT(IsHcsWaitForOperationResultPresent(), TRUE);
    EXPECT(IsHcsWaitForOperationResultAndProcessInfoPresent(), TRUE);
    EXPECT(IsHcsSetOperationCallbackPresent(), TRUE);
    EXPECT(IsHcsCancelOperationPresent(), TRUE);
    EXPECT(IsHcsGetOperationPropertiesPresent(), TRUE);
    EXPECT(IsHcsEnumerateComputeSystemsPresent(), TRUE);
    EXPECT(IsHcsEnumerateComputeSystemsInNamespacePresent(), TRUE);
    EXPECT(IsHcsCreateComputeSystemPresent(), TRUE);
    EXPECT(IsHcsCreateComputeSystemInNamespacePresent(), TRUE);
    EXPECT(IsHcsOpenComputeSystemPresent(), TRUE);
    EXPECT(IsHcsOpenComputeSystemInNamespacePresent(), TRUE);
    EXPECT(IsHcsCloseComputeSystemPresent(), TRUE);
    EXPECT(IsHcsStartComputeSystemPresent(), TRUE);
    EXPECT(IsHcsShutDownComputeSystemPresent(), TRUE);
    EXPECT(IsHcsTerminateComputeSystemPresent(), TRUE);
    EXPECT(IsHcsCrashComputeSystemPresent(), TRUE);
    EXPECT(IsHcsPauseComputeSystemPresent(), TRUE);
    EXPECT(IsHcsResumeComputeSystemPresent(), TRUE);
    EXPECT(IsHcsSaveComputeSystemPresent(), TRUE);
    EXPECT(IsHcsGetComputeSystemPropertiesPresent(), TRUE);
    EXPECT(IsHcsModifyComputeSystemPresent(), TRUE);
    EXPECT(IsHcsWaitForComputeSystemExitPresent(), TRUE);
    EXPECT(IsHcsSetComputeSystemCallbackPresent(), TRUE);
    EXPECT(IsHcsInitializeLiveMigrationOnSourcePresent(), FALSE);
    EXPECT(IsHcsStartLiveMigrationOnSourcePresent(), FALSE);
    EXPECT(IsHcsStartLiveMigrationTransferPresent(), FALSE);
    EXPECT(IsHcsFinalizeLiveMigrationPresent(), FALSE);
    EXPECT(IsHcsCancelLiveMigrationPresent(), FALSE);
    EXPECT(IsHcsCreateProcessPresent(), TRUE);
    EXPECT(IsHcsOpenProcessPresent(), TRUE);
    EXPECT(IsHcsCloseProcessPresent(), TRUE);
    EXPECT(IsHcsTerminateProcessPresent(), TRUE);
    EXPECT(IsHcsSignalProcessPresent(), TRUE);
    EXPECT(IsHcsGetProcessInfoPresent(), TRUE);
    EXPECT(IsHcsGetProcessPropertiesPresent(), TRUE);
    EXPECT(IsHcsModifyProcessPresent(), TRUE);
    EXPECT(IsHcsSetProcessCallbackPresent(), TRUE);
    EXPECT(IsHcsWaitForProcessExitPresent(), TRUE);
    EXPECT(IsHcsGetServicePropertiesPresent(), TRUE);
    EXPECT(IsHcsModifyServiceSettingsPresent(), FALSE);
    EXPECT(IsHcsSubmitWerReportPresent(), TRUE);
    EXPECT(IsHcsCreateEmptyGuestStateFilePresent(), TRUE);
    EXPECT(IsHcsCreateEmptyRuntimeStateFilePresent(), TRUE);
    EXPECT(IsHcsGrantVmAccessPresent(), TRUE);
    EXPECT(IsHcsRevokeVmAccessPresent(), TRUE);
    EXPECT(IsHcsGrantVmGroupAccessPresent(), TRUE);
    EXPECT(IsHcsRevokeVmGroupAccessPresent(), TRUE);
}

static void win32(void)
{
    /* Auto-reset: a successful wait consumes the signal. */
    HANDLE autoReset = CreateEventW(NULL, FALSE, FALSE, NULL);
    EXPECT_TRUE(autoReset != NULL);
    EXPECT(WaitForSingleObject(autoReset, 0), WAIT_TIMEOUT);
    EXPECT(SetEvent(autoReset), TRUE);
    EXPECT(WaitForSingleObject(autoReset, INFINITE), WAIT_OBJECT_0);
    EXPECT(WaitForSingleObject(autoReset, 10), WAIT_TIMEOUT);
    EXPECT(SetEvent(autoReset), TRUE);
    EXPECT(ResetEvent(autoReset), TRUE);
    EXPECT(WaitForSingleObject(autoReset, 0), WAIT_TIMEOUT);

    /* Manual-reset, initially set: stays set until reset. */
    HANDLE manual = CreateEventW(NULL, TRUE, TRUE, NULL);
    EXPECT(WaitForSingleObject(manual, 0), WAIT_OBJECT_0);
    EXPECT(WaitForSingleObject(manual, 0), WAIT_OBJECT_0);
    EXPECT(ResetEvent(manual), TRUE);
    EXPECT(WaitForSingleObject(manual, 0), WAIT_TIMEOUT);
    EXPECT(CloseHandle(manual), TRUE);

    /* A closed event is no handle at all. */
    EXPECT(CloseHandle(autoReset), TRUE);
    EXPECT(CloseHandle(autoReset), FALSE);
    EXPECT(GetLastError(), ERROR_INVALID_HANDLE);
    EXPECT(SetEvent(autoReset), FALSE);
    EXPECT(ResetEvent(autoReset), FALSE);
    EXPECT(WaitForSingleObject(autoReset, 0), WAIT_FAILED);
    EXPECT(GetLastError(), ERROR_INVALID_HANDLE);

    /* Named events and security attributes do not exist on Linux. */
    EXPECT_TRUE(CreateEventW(NULL, FALSE, FALSE, L"Global\\name") == NULL);
    EXPECT(GetLastError(), ERROR_NOT_SUPPORTED);

    /* NULL and INVALID_HANDLE_VALUE are not handles. */
    EXPECT(CloseHandle(NULL), FALSE);
    EXPECT(GetLastError(), ERROR_INVALID_HANDLE);
    EXPECT(CloseHandle(INVALID_HANDLE_VALUE), FALSE);
    EXPECT(GetLastError(), ERROR_INVALID_HANDLE);

    /* A descriptor-valued HANDLE (as in HCS_PROCESS_INFORMATION) is closed. */
    int fds[2];
    EXPECT(pipe(fds), 0);
    EXPECT(CloseHandle((HANDLE)(intptr_t)fds[0]), TRUE);
    EXPECT(fcntl(fds[0], F_GETFD), -1);
    EXPECT(CloseHandle((HANDLE)(intptr_t)fds[0]), FALSE);
    EXPECT(GetLastError(), ERROR_INVALID_HANDLE);
    close(fds[1]);

    Sleep(1);
    EXPECT_TRUE(LocalFree(NULL) == NULL);
}

static void operations_without_a_service(void)
{
    PWSTR doc = (PWSTR)L"not touched";
    int context = 0;
    HCS_OPERATION op = HcsCreateOperation(&context, NULL);
    EXPECT_TRUE(op != NULL);

    /* A new operation: not started, no system, no process. */
    EXPECT(HcsGetOperationType(op), HcsOperationTypeNone);
    EXPECT_TRUE(HcsGetOperationId(op) != HCS_INVALID_OPERATION_ID);
    EXPECT_TRUE(HcsGetOperationContext(op) == &context);
    EXPECT(HcsSetOperationContext(op, NULL), S_OK);
    EXPECT_TRUE(HcsGetOperationContext(op) == NULL);
    EXPECT_TRUE(HcsGetComputeSystemFromOperation(op) == NULL);
    EXPECT_TRUE(HcsGetProcessFromOperation(op) == NULL);
    EXPECT(HcsGetOperationResult(op, &doc), HCS_E_OPERATION_NOT_STARTED);
    EXPECT_TRUE(doc == NULL);
    EXPECT(HcsWaitForOperationResult(op, 0, NULL), HCS_E_OPERATION_NOT_STARTED);
    EXPECT(HcsCancelOperation(op), HCS_E_OPERATION_NOT_STARTED);
    EXPECT(HcsSetOperationCallback(op, NULL, on_completion), S_OK);
    EXPECT(HcsSetOperationCallback(op, NULL, NULL), S_OK);

    /* Operation properties: a JSON document; the query takes no members. */
    EXPECT(HcsGetOperationProperties(op, NULL, &doc), S_OK);
    EXPECT_DOC(doc, L"\"State\":\"NotStarted\"");
    EXPECT(HcsGetOperationProperties(op, L"{}", &doc), S_OK);
    EXPECT_DOC(doc, L"\"Type\":\"None\"");
    EXPECT(HcsGetOperationProperties(op, L"{\"Progress\":true}", &doc), HCS_E_INVALID_JSON);
    EXPECT_DOC(doc, L"$.Progress");
    EXPECT(HcsGetOperationProperties(op, L"{oops", &doc), HCS_E_INVALID_JSON);
    EXPECT_DOC(doc, L"\"Error\":-2143878899");
    EXPECT(HcsGetOperationProperties(op, NULL, NULL), E_POINTER);

    /* Live migration's resource hand-over: refused after the arguments are checked. */
    EXPECT(HcsAddResourceToOperation(op, HcsResourceTypeSocket, L"hcs:/VirtualMachine/LiveMigrationSocket", (HANDLE)(intptr_t)3),
        E_NOTIMPL);
    EXPECT(HcsAddResourceToOperation(op, (HCS_RESOURCE_TYPE)9, L"hcs:/x", NULL), E_INVALIDARG);
    EXPECT(HcsAddResourceToOperation(op, HcsResourceTypeFile, NULL, NULL), E_INVALIDARG);
    EXPECT(HcsGetOperationResultAndProcessInfo(op, NULL, NULL), E_INVALIDARG);          /* not a process operation */
    EXPECT(HcsWaitForOperationResultAndProcessInfo(op, 0, NULL, NULL), E_INVALIDARG); /* not a process operation */

    /* NULL handles: E_INVALIDARG, or the function's "invalid" value; out-pointers cleared. */
    doc = (PWSTR)L"not touched";
    EXPECT_TRUE(HcsGetOperationContext(NULL) == NULL);
    EXPECT(HcsSetOperationContext(NULL, &context), E_INVALIDARG);
    EXPECT_TRUE(HcsGetComputeSystemFromOperation(NULL) == NULL);
    EXPECT_TRUE(HcsGetProcessFromOperation(NULL) == NULL);
    EXPECT(HcsGetOperationType(NULL), HcsOperationTypeNone);
    EXPECT(HcsGetOperationId(NULL), HCS_INVALID_OPERATION_ID);
    EXPECT(HcsGetOperationResult(NULL, &doc), E_INVALIDARG);
    EXPECT_TRUE(doc == NULL);
    EXPECT(HcsWaitForOperationResult(NULL, 0, &doc), E_INVALIDARG);
    EXPECT(HcsSetOperationCallback(NULL, NULL, on_completion), E_INVALIDARG);
    EXPECT(HcsCancelOperation(NULL), E_INVALIDARG);
    EXPECT(HcsGetOperationProperties(NULL, NULL, &doc), E_INVALIDARG);
    EXPECT(HcsAddResourceToOperation(NULL, HcsResourceTypeSocket, L"hcs:/x", NULL), E_INVALIDARG);
    EXPECT(HcsGetOperationResultAndProcessInfo(NULL, NULL, &doc), E_INVALIDARG);
    EXPECT(HcsWaitForOperationResultAndProcessInfo(NULL, 0, NULL, &doc), E_INVALIDARG);
    EXPECT(HcsEnumerateComputeSystems(NULL, NULL), E_INVALIDARG);
    EXPECT(HcsEnumerateComputeSystemsInNamespace(NULL, NULL, NULL), E_INVALIDARG);
    HcsCloseOperation(NULL);

    /* Operations with notifications: a callback and only known options. */
    EXPECT_TRUE(HcsCreateOperationWithNotifications(HcsOperationOptionNone, NULL, NULL) == NULL);
    EXPECT(GetLastError(), ERROR_INVALID_PARAMETER);
    EXPECT_TRUE(HcsCreateOperationWithNotifications(HcsOperationOptionReserved1, NULL, on_event) == NULL);
    EXPECT_TRUE(HcsCreateOperationWithNotifications((HCS_OPERATION_OPTIONS)0x100, NULL, on_event) == NULL);

    /* A closed operation is stale: E_HANDLE. */
    HcsCloseOperation(op);
    EXPECT_TRUE(HcsGetOperationContext(op) == NULL);
    EXPECT(HcsSetOperationContext(op, NULL), E_HANDLE);
    EXPECT(HcsGetOperationType(op), HcsOperationTypeNone);
    EXPECT(HcsGetOperationId(op), HCS_INVALID_OPERATION_ID);
    EXPECT(HcsGetOperationResult(op, &doc), E_HANDLE);
    EXPECT(HcsWaitForOperationResult(op, 0, &doc), E_HANDLE);
    EXPECT(HcsSetOperationCallback(op, NULL, NULL), E_HANDLE);
    EXPECT(HcsCancelOperation(op), E_HANDLE);
    EXPECT(HcsGetOperationProperties(op, NULL, &doc), E_HANDLE);
    EXPECT(HcsAddResourceToOperation(op, HcsResourceTypeSocket, L"hcs:/x", NULL), E_HANDLE);
    EXPECT(HcsGetOperationResultAndProcessInfo(op, NULL, &doc), E_HANDLE);
    EXPECT(HcsWaitForOperationResultAndProcessInfo(op, 0, NULL, &doc), E_HANDLE);
    EXPECT(HcsEnumerateComputeSystems(NULL, op), E_HANDLE);
    HcsCloseOperation(op); /* twice: no effect */

    /* Saved-state processor compatibility: refused. */
    PCWSTR features = L"not touched";
    EXPECT(HcsGetProcessorCompatibilityFromSavedState(L"saved.vmrs", &features), E_NOTIMPL);
    EXPECT_TRUE(features == NULL);
    EXPECT(HcsGetProcessorCompatibilityFromSavedState(NULL, NULL), E_INVALIDARG);
}

static void service(void)
{
    PWSTR doc = NULL;
    EXPECT(HcsGetServiceProperties(NULL, &doc), S_OK);
    EXPECT_DOC(doc, L"SupportedSchemaVersions");
    EXPECT(HcsGetServiceProperties(NULL, NULL), E_POINTER);
    EXPECT(HcsGetServiceProperties(L"{\"PropertyTypes\":[\"Nope\"]}", &doc), HCS_E_INVALID_JSON);
    EXPECT_DOC(doc, L"$.PropertyTypes");

    EXPECT(HcsModifyServiceSettings(L"{\"PropertyType\":\"CpuGroup\",\"Settings\":{\"Operation\":\"CreateGroup\"}}", &doc),
        E_NOTIMPL);
    EXPECT_DOC(doc, L"$.PropertyType: CpuGroup is not supported");
    EXPECT(HcsModifyServiceSettings(L"{\"PropertyType\":\"ContainerCredentialGuard\"}", NULL), E_NOTIMPL);
    EXPECT(HcsModifyServiceSettings(L"{\"PropertyType\":\"CpuGroup\",\"Settings\":{\"Operation\":7}}", &doc),
        HCS_E_INVALID_JSON);
    EXPECT_DOC(doc, L"$.Settings.Operation");
    EXPECT(HcsModifyServiceSettings(L"{\"PropertyType\":\"Nope\"}", &doc), HCS_E_INVALID_JSON);
    EXPECT_DOC(doc, L"$.PropertyType");
    EXPECT(HcsModifyServiceSettings(L"{}", &doc), HCS_E_INVALID_JSON);
    EXPECT_DOC(doc, L"$.PropertyType");
    EXPECT(HcsModifyServiceSettings(NULL, &doc), E_INVALIDARG);
    EXPECT_TRUE(doc == NULL);

    EXPECT(HcsSubmitWerReport(L"{not json"), HCS_E_INVALID_JSON);
}

static void files(const char* directory)
{
    wchar_t path[4096], missing[4096];
    swprintf(path, 4096, L"%s/empty.vmgs", directory);
    swprintf(missing, 4096, L"%s/no-such-directory/empty.vmrs", directory);

    EXPECT(HcsCreateEmptyGuestStateFile(path), S_OK);
    EXPECT(HcsCreateEmptyGuestStateFile(path), HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS)); /* never replaced */
    EXPECT(HcsCreateEmptyGuestStateFile(missing), HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND));
    EXPECT(HcsCreateEmptyGuestStateFile(NULL), E_INVALIDARG);
    EXPECT(HcsCreateEmptyGuestStateFile(L""), E_INVALIDARG);

    char narrow[4096];
    snprintf(narrow, sizeof narrow, "%s/empty.vmgs", directory);
    struct stat st;
    EXPECT(stat(narrow, &st), 0);
    EXPECT(st.st_size, 0);
    EXPECT(st.st_uid, geteuid());
    EXPECT(st.st_mode & 0077, 0); /* the caller's own file, private to it */

    swprintf(path, 4096, L"%s/empty.vmrs", directory);
    EXPECT(HcsCreateEmptyRuntimeStateFile(path), S_OK);
    EXPECT(HcsCreateEmptyRuntimeStateFile(path), HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS));
    EXPECT(HcsCreateEmptyRuntimeStateFile(missing), HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND));
    EXPECT(HcsCreateEmptyRuntimeStateFile(NULL), E_INVALIDARG);

    /* A VM reaches files with its creator's credentials: a grant checks the caller can read the file, changes nothing. */
    snprintf(narrow, sizeof narrow, "%s/empty.vmrs", directory);
    EXPECT(stat(narrow, &st), 0);
    mode_t before = st.st_mode;
    EXPECT(HcsGrantVmAccess(L"every-export", path), S_OK);
    EXPECT(HcsRevokeVmAccess(L"every-export", path), S_OK);
    EXPECT(HcsGrantVmGroupAccess(path), S_OK);
    EXPECT(HcsRevokeVmGroupAccess(path), S_OK);
    swprintf(missing, 4096, L"%s/missing.vhdx", directory);
    EXPECT(HcsGrantVmAccess(L"every-export", missing), HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND));
    EXPECT(HcsRevokeVmAccess(L"every-export", missing), HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND));
    EXPECT(HcsGrantVmGroupAccess(missing), HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND));
    EXPECT(HcsRevokeVmGroupAccess(missing), HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND));
    EXPECT(HcsGrantVmAccess(NULL, path), E_INVALIDARG);
    EXPECT(HcsGrantVmAccess(L"", path), E_INVALIDARG);
    EXPECT(HcsRevokeVmAccess(L"every-export", NULL), E_INVALIDARG);
    EXPECT(HcsGrantVmGroupAccess(NULL), E_INVALIDARG);
    EXPECT(HcsRevokeVmGroupAccess(L""), E_INVALIDARG);

    EXPECT(stat(narrow, &st), 0);
    EXPECT(st.st_mode, before); /* unchanged by grant and revoke */
    if (geteuid() != 0) { /* root reads everything */
        EXPECT(chmod(narrow, 0), 0);
        EXPECT(HcsGrantVmAccess(L"every-export", path), E_ACCESSDENIED);
        EXPECT(HcsGrantVmGroupAccess(path), E_ACCESSDENIED);
    }
}

static void processes_with_null_handles(void)
{
    PWSTR doc = NULL;
    HCS_PROCESS process = (HCS_PROCESS)(intptr_t)1;
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);

    EXPECT(HcsCreateProcess(NULL, L"{}", op, NULL, &process), E_INVALIDARG);
    EXPECT_TRUE(process == NULL);
    process = (HCS_PROCESS)(intptr_t)1;
    EXPECT(HcsOpenProcess(NULL, 1, GENERIC_ALL, &process), E_INVALIDARG);
    EXPECT_TRUE(process == NULL);
    EXPECT(HcsTerminateProcess(NULL, op, NULL), E_INVALIDARG);
    EXPECT(HcsSignalProcess(NULL, op, L"{\"Signal\":15}"), E_INVALIDARG);
    EXPECT(HcsGetProcessInfo(NULL, op), E_INVALIDARG);
    EXPECT(HcsGetProcessProperties(NULL, op, NULL), E_INVALIDARG);
    EXPECT(HcsModifyProcess(NULL, op, L"{}"), E_INVALIDARG);
    EXPECT(HcsSetProcessCallback(NULL, HcsEventOptionNone, NULL, on_event), E_INVALIDARG);
    EXPECT(HcsWaitForProcessExit(NULL, 0, &doc), E_INVALIDARG);
    EXPECT_TRUE(doc == NULL);
    HcsCloseProcess(NULL);
    EXPECT(HcsGetOperationType(op), HcsOperationTypeNone); /* rejected calls leave the operation unused */
    HcsCloseOperation(op);
}

static void systems(const char* directory, const wchar_t* document)
{
    PWSTR doc = NULL;
    HCS_SYSTEM system = NULL, other = NULL;
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HCS_OPERATION op2 = HcsCreateOperation(NULL, NULL);

    /* Enumerate, in the one namespace (NULL or empty) only. */
    EXPECT(settle(HcsEnumerateComputeSystems(NULL, op), op, &doc), S_OK);
    EXPECT_DOC(doc, L"[");
    EXPECT(HcsGetOperationType(op), HcsOperationTypeEnumerate);
    EXPECT(settle(HcsEnumerateComputeSystemsInNamespace(L"", NULL, op), op, &doc), S_OK);
    LocalFree(doc);
    EXPECT(HcsEnumerateComputeSystemsInNamespace(L"elsewhere", NULL, op), E_INVALIDARG);
    EXPECT(settle(HcsEnumerateComputeSystems(L"{\"Ids\":7}", op), op, &doc), HCS_E_INVALID_JSON);
    EXPECT_DOC(doc, L"$.Ids");

    /* Create: argument errors first. */
    EXPECT(HcsCreateComputeSystem(L"every-export", document, op, NULL, NULL), E_POINTER);
    EXPECT(HcsCreateComputeSystem(L"every-export", document, NULL, NULL, &system), E_INVALIDARG);
    EXPECT(HcsCreateComputeSystem(L"every-export", document, op, (const SECURITY_DESCRIPTOR*)document, &system), E_INVALIDARG);
    EXPECT_TRUE(system == NULL);

    /* Invalid JSON: HCS_E_INVALID_JSON with a ResultError naming the JSON path. */
    EXPECT(settle(HcsCreateComputeSystem(L"every-export-bad", L"{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},"
                                                                 L"\"VirtualMachine\":{\"Chipset\":7}}",
                      op, NULL, &other),
               op, &doc),
        HCS_E_INVALID_JSON);
    EXPECT_DOC(doc, L"$.VirtualMachine.Chipset");

    /* Create with an event callback registered with it: the create's completion arrives as an event. */
    Observed created = {CreateEventW(NULL, FALSE, FALSE, NULL), HcsEventOperationCallback, NULL, 0};
    HCS_CREATE_OPTIONS_1 options = {HcsCreateOptions_1, NULL, NULL, HcsEventOptionEnableOperationCallbacks, &created, on_event};
    HCS_OPERATION withCallback = HcsCreateOperation(created.signal, on_completion);
    EXPECT(HcsCreateComputeSystemInNamespace(NULL, L"every-export", document, withCallback,
               (const HCS_CREATE_OPTIONS*)&options, &system),
        HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET);
    HcsCloseOperation(withCallback);
    options.Version = (HCS_CREATE_OPTIONS)1;
    EXPECT(HcsCreateComputeSystemInNamespace(NULL, L"every-export", document, op, (const HCS_CREATE_OPTIONS*)&options, &system),
        E_INVALIDARG);
    options.Version = HcsCreateOptions_1;
    options.UserToken = (HANDLE)&options;
    EXPECT(HcsCreateComputeSystemInNamespace(NULL, L"every-export", document, op, (const HCS_CREATE_OPTIONS*)&options, &system),
        E_INVALIDARG);
    options.UserToken = NULL;
    EXPECT(HcsCreateComputeSystemInNamespace(L"elsewhere", L"every-export", document, op, (const HCS_CREATE_OPTIONS*)&options,
               &system),
        E_INVALIDARG);
    EXPECT(HcsCreateComputeSystemInNamespace(L"", L"every-export", document, op, (const HCS_CREATE_OPTIONS*)&options, NULL),
        E_POINTER);
    EXPECT(HcsCreateComputeSystemInNamespace(L"", L"every-export", document, op, (const HCS_CREATE_OPTIONS*)&options, &system),
        S_OK);
    EXPECT_TRUE(system != NULL);
    EXPECT(WaitForSingleObject(created.signal, 60000), WAIT_OBJECT_0);
    EXPECT_TRUE(created.operation == op);
    EXPECT(HcsGetOperationResult(op, NULL), S_OK);
    EXPECT(HcsGetOperationType(op), HcsOperationTypeCreate);
    EXPECT(HcsGetOperationProperties(op, NULL, &doc), S_OK);
    EXPECT_DOC(doc, L"\"Type\":\"Create\",\"State\":\"Completed\",\"Result\":0");
    EXPECT(HcsSetComputeSystemCallback(system, HcsEventOptionNone, NULL, on_event), HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET);

    /* The same id again: HCS_E_SYSTEM_ALREADY_EXISTS. */
    EXPECT(settle(HcsCreateComputeSystem(L"every-export", document, op2, NULL, &other), op2, &doc), HCS_E_SYSTEM_ALREADY_EXISTS);
    LocalFree(doc);
    if (other != NULL) {
        HcsCloseComputeSystem(other);
    }

    /* Open: by id, in the one namespace. */
    EXPECT(HcsOpenComputeSystem(L"every-export", GENERIC_ALL, &other), S_OK);
    HcsCloseComputeSystem(other);
    EXPECT(HcsOpenComputeSystemInNamespace(L"", L"every-export", GENERIC_ALL, &other), S_OK);
    HcsCloseComputeSystem(other);
    EXPECT(HcsOpenComputeSystem(L"no-such-system", GENERIC_ALL, &other), HCS_E_SYSTEM_NOT_FOUND);
    EXPECT(HcsOpenComputeSystemInNamespace(L"elsewhere", L"every-export", GENERIC_ALL, &other), E_INVALIDARG);
    EXPECT(HcsOpenComputeSystem(L"every-export", GENERIC_ALL, NULL), E_POINTER);
    EXPECT(HcsOpenComputeSystemInNamespace(NULL, L"every-export", GENERIC_ALL, NULL), E_POINTER);

    /* A second handle with its own callback sees the exit. */
    EXPECT(HcsOpenComputeSystemInNamespace(NULL, L"every-export", GENERIC_ALL, &other), S_OK);
    Observed exited = {CreateEventW(NULL, TRUE, FALSE, NULL), HcsEventSystemExited, NULL, 0};
    EXPECT(HcsSetComputeSystemCallback(other, HcsEventOptionNone, &exited, on_event), S_OK);
    EXPECT(HcsSetComputeSystemCallback(other, HcsEventOptionNone, &exited, on_event), HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET);
    EXPECT(HcsSetComputeSystemCallback(other, HcsEventOptionNone, NULL, NULL), E_INVALIDARG);
    EXPECT(HcsSetComputeSystemCallback(NULL, HcsEventOptionNone, NULL, on_event), E_INVALIDARG);

    /* Lifecycle; operations on the first handle complete through its event callback (created.signal). */
    EXPECT(settle(HcsStartComputeSystem(system, op, NULL), op, &doc), S_OK);
    LocalFree(doc);
    EXPECT(HcsGetOperationType(op), HcsOperationTypeStart);
    EXPECT(settle(HcsGetComputeSystemProperties(system, op, NULL), op, &doc), S_OK);
    EXPECT_DOC(doc, L"\"Id\":\"every-export\"");
    EXPECT(settle(HcsGetComputeSystemProperties(system, op, L"{\"PropertyTypes\":7}"), op, &doc), HCS_E_INVALID_JSON);
    EXPECT_DOC(doc, L"$.PropertyTypes");
    EXPECT(settle(HcsModifyComputeSystem(system, op, L"{\"ResourcePath\":7}", NULL), op, &doc), HCS_E_INVALID_JSON);
    EXPECT_DOC(doc, L"$.ResourcePath");
    EXPECT(HcsModifyComputeSystem(system, op, L"{}", (HANDLE)&options), E_INVALIDARG);
    EXPECT(settle(HcsPauseComputeSystem(system, op, NULL), op, &doc), S_OK);
    LocalFree(doc);
    EXPECT(settle(HcsPauseComputeSystem(system, op, NULL), op, &doc), HCS_E_INVALID_STATE);
    LocalFree(doc);
    EXPECT(settle(HcsResumeComputeSystem(system, op, NULL), op, &doc), S_OK);
    LocalFree(doc);
    EXPECT(settle(HcsSaveComputeSystem(system, op, NULL), op, &doc), HCS_E_INVALID_JSON); /* Save needs SaveOptions */
    EXPECT_DOC(doc, L"\"Error\":-2143878899");
    wchar_t saveOptions[4200];
    swprintf(saveOptions, 4200, L"{\"SaveType\":\"ToFile\",\"SaveStateFilePath\":\"%s/saved.vmrs\"}", directory);
    EXPECT(settle(HcsSaveComputeSystem(system, op, saveOptions), op, &doc), HCS_E_INVALID_STATE); /* running, not paused */
    LocalFree(doc);
    EXPECT(settle(HcsCrashComputeSystem(system, op, L"{\"Type\":7}"), op, &doc), HCS_E_INVALID_JSON);
    EXPECT_DOC(doc, L"$.Type");
    EXPECT(HcsWaitForComputeSystemExit(system, 0, &doc), HCS_E_OPERATION_TIMEOUT);
    EXPECT_TRUE(doc == NULL);

    /* Live migration: refused once the handles check out; the operation stays unused. */
    HCS_OPERATION unused = HcsCreateOperation(NULL, NULL);
    EXPECT(HcsInitializeLiveMigrationOnSource(system, unused, NULL), E_NOTIMPL);
    EXPECT(HcsStartLiveMigrationOnSource(system, unused, NULL), E_NOTIMPL);
    EXPECT(HcsStartLiveMigrationTransfer(system, unused, NULL), E_NOTIMPL);
    EXPECT(HcsFinalizeLiveMigration(system, unused, NULL), E_NOTIMPL);
    EXPECT(HcsCancelLiveMigration(system, unused, NULL), E_NOTIMPL);
    EXPECT(HcsInitializeLiveMigrationOnSource(NULL, unused, NULL), E_INVALIDARG);
    EXPECT(HcsStartLiveMigrationOnSource(system, NULL, NULL), E_INVALIDARG);
    EXPECT(HcsGetOperationType(unused), HcsOperationTypeNone);

    /* Operation with notifications: its completion is an HcsEventOperationCallback event. */
    Observed notified = {CreateEventW(NULL, FALSE, FALSE, NULL), HcsEventOperationCallback, NULL, 0};
    HCS_OPERATION withEvents = HcsCreateOperationWithNotifications(HcsOperationOptionProgressUpdate, &notified, on_event);
    EXPECT_TRUE(withEvents != NULL);
    EXPECT(HcsGetComputeSystemProperties(other, withEvents, NULL), S_OK);
    EXPECT(WaitForSingleObject(notified.signal, 60000), WAIT_OBJECT_0);
    EXPECT_TRUE(notified.operation == withEvents);
    EXPECT(HcsGetOperationResult(withEvents, &doc), S_OK);
    EXPECT_DOC(doc, L"every-export");
    HcsCloseOperation(withEvents);

    /* Stop: Terminate, then the exit; a second stop is refused. */
    EXPECT(settle(HcsTerminateComputeSystem(system, op, NULL), op, &doc), S_OK);
    LocalFree(doc);
    EXPECT(HcsWaitForComputeSystemExit(system, INFINITE, &doc), S_OK);
    EXPECT_DOC(doc, L"ExitType");
    EXPECT(WaitForSingleObject(exited.signal, 60000), WAIT_OBJECT_0);
    EXPECT(settle(HcsShutDownComputeSystem(system, op, NULL), op, &doc), HCS_E_SYSTEM_ALREADY_STOPPED);
    LocalFree(doc);
    EXPECT(settle(HcsCrashComputeSystem(system, op, NULL), op, &doc), HCS_E_INVALID_STATE);
    LocalFree(doc);

    /* Stale handles: E_HANDLE. */
    HcsCloseComputeSystem(system);
    HcsCloseComputeSystem(system); /* twice: no effect */
    EXPECT(HcsStartComputeSystem(system, op, NULL), E_HANDLE);
    EXPECT(HcsShutDownComputeSystem(system, op, NULL), E_HANDLE);
    EXPECT(HcsTerminateComputeSystem(system, op, NULL), E_HANDLE);
    EXPECT(HcsCrashComputeSystem(system, op, NULL), E_HANDLE);
    EXPECT(HcsPauseComputeSystem(system, op, NULL), E_HANDLE);
    EXPECT(HcsResumeComputeSystem(system, op, NULL), E_HANDLE);
    EXPECT(HcsSaveComputeSystem(system, op, NULL), E_HANDLE);
    EXPECT(HcsGetComputeSystemProperties(system, op, NULL), E_HANDLE);
    EXPECT(HcsModifyComputeSystem(system, op, L"{}", NULL), E_HANDLE);
    EXPECT(HcsWaitForComputeSystemExit(system, 0, &doc), E_HANDLE);
    EXPECT(HcsSetComputeSystemCallback(system, HcsEventOptionNone, NULL, on_event), E_HANDLE);
    EXPECT(HcsFinalizeLiveMigration(system, op, NULL), E_HANDLE);
    EXPECT(HcsCreateProcess(system, L"{}", op, NULL, (HCS_PROCESS[]){NULL}), E_HANDLE);
    EXPECT(HcsOpenProcess(system, 1, GENERIC_ALL, (HCS_PROCESS[]){NULL}), E_HANDLE);

    /* NULL system handles: E_INVALIDARG. */
    EXPECT(HcsStartComputeSystem(NULL, op, NULL), E_INVALIDARG);
    EXPECT(HcsShutDownComputeSystem(NULL, op, NULL), E_INVALIDARG);
    EXPECT(HcsTerminateComputeSystem(NULL, op, NULL), E_INVALIDARG);
    EXPECT(HcsCrashComputeSystem(NULL, op, NULL), E_INVALIDARG);
    EXPECT(HcsPauseComputeSystem(NULL, op, NULL), E_INVALIDARG);
    EXPECT(HcsResumeComputeSystem(NULL, op, NULL), E_INVALIDARG);
    EXPECT(HcsSaveComputeSystem(NULL, op, NULL), E_INVALIDARG);
    EXPECT(HcsGetComputeSystemProperties(NULL, op, NULL), E_INVALIDARG);
    EXPECT(HcsModifyComputeSystem(NULL, op, L"{}", NULL), E_INVALIDARG);
    EXPECT(HcsWaitForComputeSystemExit(NULL, 0, NULL), E_INVALIDARG);
    EXPECT(HcsStartLiveMigrationTransfer(NULL, op, NULL), E_INVALIDARG);
    EXPECT(HcsCancelLiveMigration(NULL, op, NULL), E_INVALIDARG);
    HcsCloseComputeSystem(NULL);

    HcsCloseComputeSystem(other);
    CloseHandle(created.signal);
    CloseHandle(exited.signal);
    CloseHandle(notified.signal);
    HcsCloseOperation(unused);
    HcsCloseOperation(op2);
    HcsCloseOperation(op);
}

int main(int argc, char** argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: every_export DIRECTORY DOCUMENT\n");
        return 2;
    }
    size_t length = strlen(argv[2]);
    wchar_t* document = calloc(length + 1, sizeof(wchar_t));
    if (document == NULL || mbstowcs(document, argv[2], length + 1) == (size_t)-1) {
        fprintf(stderr, "the document is not ASCII\n");
        return 2;
    }

    presence();
    win32();
    operations_without_a_service();
    processes_with_null_handles();
    service();
    files(argv[1]);
    systems(argv[1], document);
    free(document);

    if (g_failures != 0) {
        fprintf(stderr, "%d of %d checks failed\n", g_failures, g_checks);
        return 1;
    }
    printf("every export: %d checks passed\n", g_checks);
    return 0;
}
