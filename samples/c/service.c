/* Copyright (c) hcs contributors. Licensed under the MIT licence.
 *
 * service: the service-wide calls of the HCS C API.
 *
 *   service ID VM.json
 *
 *   1. HcsGetServiceProperties: Basic (the default and asked for by name) lists the schema versions it supports, each
 *      once; a property type Linux does not have is answered in PropertyResponses; a name that is no property type at
 *      all is refused.
 *   2. HcsModifyServiceSettings: refused (hcs has no service settings a client may change): E_NOTIMPL for a valid
 *      request, HCS_E_INVALID_JSON for one that does not parse.
 *   3. HcsSubmitWerReport: creates and starts ID from VM.json, crashes it with HcsCrashComputeSystem, takes the
 *      CrashReport document of its SystemCrashReport event and files it with the service.
 * Prints one line per fact it checked and exits 0, or reports the failing call on stderr and exits 1.
 * Service: HCS_SOCKET (hcsd's socket).
 */
#define _POSIX_C_SOURCE 200809L /* pthread_cond_timedwait, clock_gettime */
#include <computecore.h>
#include <windows.h>
#include <winerror.h>

#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#define TIMEOUT_MS 60000u

static void Fail(const char* what, HRESULT hr, PCWSTR document)
{
    fprintf(stderr, "%s failed: 0x%08X %ls\n", what, (unsigned int)hr, document != NULL ? document : L"");
    exit(1);
}

static void Require(int condition, const char* what, PCWSTR document)
{
    if (!condition) {
        fprintf(stderr, "expected %s; got %ls\n", what, document != NULL ? document : L"(nothing)");
        exit(1);
    }
}

static int Count(PCWSTR text, PCWSTR needle)
{
    int count = 0;
    for (PCWSTR at = text; (at = wcsstr(at, needle)) != NULL; at += wcslen(needle)) {
        count++;
    }
    return count;
}

/* Reads a UTF-8 file into a malloc'd wide string. */
static PWSTR ReadDocument(const char* path)
{
    FILE* file = fopen(path, "rb");
    if (file == NULL) {
        perror(path);
        exit(1);
    }
    static char bytes[65536];
    size_t length = fread(bytes, 1, sizeof bytes - 1, file);
    fclose(file);
    bytes[length] = '\0';
    PWSTR text = calloc(length + 1, sizeof(WCHAR));
    if (text == NULL || mbstowcs(text, bytes, length + 1) == (size_t)-1) {
        fprintf(stderr, "%s is not UTF-8\n", path);
        exit(1);
    }
    return text;
}

/* 1. Service properties. */
static void ServiceProperties(void)
{
    PWSTR result = NULL;
    HRESULT hr = HcsGetServiceProperties(NULL, &result);
    if (FAILED(hr)) {
        Fail("HcsGetServiceProperties(NULL)", hr, result);
    }
    /* Basic: SupportedSchemaVersions, each version its own entry. */
    printf("schema versions");
    for (int minor = 0; minor <= 5; minor++) {
        wchar_t version[64];
        swprintf(version, sizeof version / sizeof version[0], L"{\"Major\":2,\"Minor\":%d}", minor);
        Require(Count(result, version) == 1, "each schema version 2.0-2.5 once", result);
        printf(" 2.%d", minor);
    }
    Require(Count(result, L"\"Major\"") == 6, "six schema versions", result);
    printf("\n");
    LocalFree(result);

    /* The same asked for by name, with a property type Linux does not have: answered apart, not a failure. */
    result = NULL;
    hr = HcsGetServiceProperties(L"{\"PropertyTypes\":[\"Basic\",\"ProcessorTopology\"]}", &result);
    if (FAILED(hr)) {
        Fail("HcsGetServiceProperties(Basic, ProcessorTopology)", hr, result);
    }
    Require(Count(result, L"\"Major\"") == 6, "Basic with six schema versions", result);
    Require(wcsstr(result, L"\"PropertyResponses\":{\"ProcessorTopology\":{\"Error\"") != NULL, "a ProcessorTopology error response", result);
    printf("ProcessorTopology answered with an error\n");
    LocalFree(result);

    /* Not a property type at all. */
    result = NULL;
    hr = HcsGetServiceProperties(L"{\"PropertyTypes\":[\"Memory\"]}", &result);
    Require(FAILED(hr), "a failure for property type Memory", result);
    printf("Memory refused 0x%08X\n", (unsigned int)hr);
    LocalFree(result);
}

/* 2. Service settings: hcs has none a client may change (no host CPU groups, no Credential Guard on Linux). A valid
 *    request is E_NOTIMPL with a result document saying what is unsupported; one that does not parse is
 *    HCS_E_INVALID_JSON. */
static void ServiceSettings(void)
{
    PWSTR result = NULL;
    HRESULT hr = HcsModifyServiceSettings(L"{\"PropertyType\":\"CpuGroup\"}", &result);
    Require(hr == E_NOTIMPL, "E_NOTIMPL for a CpuGroup request", result);
    Require(result != NULL && wcsstr(result, L"CpuGroup") != NULL, "a result document naming CpuGroup", result);
    printf("ModifyServiceSettings refused 0x%08X\n", (unsigned int)hr);
    LocalFree(result);

    result = NULL;
    hr = HcsModifyServiceSettings(L"{\"PropertyType\":", &result);
    Require(hr == HCS_E_INVALID_JSON, "HCS_E_INVALID_JSON for a request that does not parse", result);
    printf("ModifyServiceSettings malformed 0x%08X\n", (unsigned int)hr);
    LocalFree(result);
}

/* 3. A crash report, as the SystemCrashReport event delivers it. EventData lives only during the callback: copy it. */
struct CrashReport {
    pthread_mutex_t lock;
    pthread_cond_t arrived;
    PWSTR report;
};

static void CALLBACK OnSystemEvent(HCS_EVENT* event, void* context)
{
    struct CrashReport* crash = context;
    if (event->Type != HcsEventSystemCrashReport || event->EventData == NULL) {
        return;
    }
    size_t length = wcslen(event->EventData) + 1;
    PWSTR copy = malloc(length * sizeof(WCHAR));
    if (copy == NULL) {
        return;
    }
    wmemcpy(copy, event->EventData, length);
    pthread_mutex_lock(&crash->lock);
    if (crash->report == NULL) {
        crash->report = copy;
        copy = NULL;
    }
    pthread_cond_signal(&crash->arrived);
    pthread_mutex_unlock(&crash->lock);
    free(copy);
}

static void WerReport(PCWSTR id, PCWSTR document)
{
    struct CrashReport crash = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL };
    HCS_OPERATION operation = HcsCreateOperation(NULL, NULL);
    HCS_SYSTEM system = NULL;
    PWSTR result = NULL;
    HRESULT hr;
    if (operation == NULL) {
        Fail("HcsCreateOperation", E_OUTOFMEMORY, NULL);
    }
    if (FAILED(hr = HcsCreateComputeSystem(id, document, operation, NULL, &system)) ||
        FAILED(hr = HcsWaitForOperationResult(operation, TIMEOUT_MS, &result))) {
        Fail("HcsCreateComputeSystem", hr, result);
    }
    LocalFree(result);
    result = NULL;
    if (FAILED(hr = HcsSetComputeSystemCallback(system, HcsEventOptionNone, &crash, OnSystemEvent))) {
        Fail("HcsSetComputeSystemCallback", hr, NULL);
    }
    if (FAILED(hr = HcsStartComputeSystem(system, operation, NULL)) ||
        FAILED(hr = HcsWaitForOperationResult(operation, TIMEOUT_MS, &result))) {
        Fail("HcsStartComputeSystem", hr, result);
    }
    LocalFree(result);
    result = NULL;
    if (FAILED(hr = HcsCrashComputeSystem(system, operation, NULL)) ||
        FAILED(hr = HcsWaitForOperationResult(operation, TIMEOUT_MS, &result))) {
        Fail("HcsCrashComputeSystem", hr, result);
    }
    LocalFree(result);
    result = NULL;

    /* The report arrives as an event; wait for it (bounded). */
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += TIMEOUT_MS / 1000;
    pthread_mutex_lock(&crash.lock);
    while (crash.report == NULL) {
        if (pthread_cond_timedwait(&crash.arrived, &crash.lock, &deadline) != 0) {
            break;
        }
    }
    PWSTR report = crash.report;
    pthread_mutex_unlock(&crash.lock);
    Require(report != NULL, "a SystemCrashReport event", NULL);
    Require(wcsstr(report, id) != NULL, "the report to name the system", report);
    printf("crash report received\n");

    if (FAILED(hr = HcsSubmitWerReport(report))) {
        Fail("HcsSubmitWerReport", hr, report);
    }
    printf("crash report filed\n");
    /* A report without a SystemId is not one. */
    hr = HcsSubmitWerReport(L"{\"CrashLog\":\"no system\"}");
    Require(hr == HCS_E_INVALID_JSON, "HCS_E_INVALID_JSON for a report without SystemId", NULL);
    printf("report without SystemId refused\n");

    /* The crash ended the system. */
    if (FAILED(hr = HcsWaitForComputeSystemExit(system, TIMEOUT_MS, &result))) {
        Fail("HcsWaitForComputeSystemExit", hr, result);
    }
    LocalFree(result);
    /* Closing the handle waits for a callback in flight: after it, nothing touches `crash` any more. */
    HcsCloseComputeSystem(system);
    HcsCloseOperation(operation);
    free(report);
    pthread_mutex_destroy(&crash.lock);
    pthread_cond_destroy(&crash.arrived);
}

int main(int argc, char** argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: service ID VM.json\n");
        return 2;
    }
    setlocale(LC_ALL, "C.UTF-8");
    size_t idLength = strlen(argv[1]) + 1;
    PWSTR id = calloc(idLength, sizeof(WCHAR));
    if (id == NULL || mbstowcs(id, argv[1], idLength) == (size_t)-1) {
        return 2;
    }
    PWSTR document = ReadDocument(argv[2]);

    ServiceProperties();
    ServiceSettings();
    WerReport(id, document);

    free(id);
    free(document);
    printf("done\n");
    return 0;
}
