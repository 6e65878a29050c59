/* Copyright (c) hcs contributors. Licensed under the MIT licence.
 *
 * lifecycle: a virtual machine's life through the HCS C API, every call checked.
 *
 *   lifecycle ID VM.json RESTORE.json STATE-FILE
 *
 * VM.json is a create document; RESTORE.json is the same VM with VirtualMachine.RestoreState.SaveStateFilePath set to
 * STATE-FILE. The program
 *   1. creates and starts ID, opens a second handle to it, finds it with HcsEnumerateComputeSystems (no query, a query
 *      naming it, a query naming something else);
 *   2. pauses it through the second handle and resumes it, reading the state through the first;
 *   3. pauses it again, saves it to STATE-FILE (a VM is saved while paused), terminates it and waits for its exit;
 *   4. creates ID-restored from RESTORE.json, starts it (it carries on from the saved state), shrinks its memory with
 *      HcsModifyComputeSystem and watches the Memory property follow;
 *   5. terminates it and waits for its exit.
 * It prints one line per step and exits 0, or prints the failing call, its HRESULT and result document on stderr and
 * exits 1. Service: HCS_SOCKET (hcsd's socket), as every program using libcomputecore.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <computecore.h>
#include <windows.h>
#include <winerror.h>

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

/* How long any one operation may take (a TCG boot or a save is a few seconds on a loaded machine). */
#define OPERATION_TIMEOUT_MS 120000u

/* Fails the program with the call's name, its HRESULT and the result document (if any). */
#define CHECK(call, result)                                                                                            \
    do {                                                                                                               \
        HRESULT hr_ = (call);                                                                                          \
        if (FAILED(hr_)) {                                                                                             \
            Fail(#call, hr_, (result));                                                                                \
        }                                                                                                              \
    } while (0)

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

/* Reads a UTF-8 file into a malloc'd wide string. */
static PWSTR ReadDocument(const char* path)
{
    FILE* file = fopen(path, "rb");
    if (file == NULL) {
        perror(path);
        exit(1);
    }
    char* bytes = NULL;
    size_t length = 0;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, file)) > 0) {
        char* grown = realloc(bytes, length + n + 1);
        if (grown == NULL) {
            exit(1);
        }
        bytes = grown;
        memcpy(bytes + length, chunk, n);
        length += n;
    }
    fclose(file);
    if (bytes == NULL) {
        fprintf(stderr, "%s is empty\n", path);
        exit(1);
    }
    bytes[length] = '\0';
    PWSTR text = calloc(length + 1, sizeof(WCHAR));
    if (text == NULL || mbstowcs(text, bytes, length + 1) == (size_t)-1) {
        fprintf(stderr, "%s is not UTF-8\n", path);
        exit(1);
    }
    free(bytes);
    return text;
}

/* Widens an ASCII/UTF-8 command-line argument into a malloc'd wide string. */
static PWSTR Widen(const char* text)
{
    size_t length = strlen(text);
    PWSTR wide = calloc(length + 1, sizeof(WCHAR));
    if (wide == NULL || mbstowcs(wide, text, length + 1) == (size_t)-1) {
        fprintf(stderr, "bad argument %s\n", text);
        exit(1);
    }
    return wide;
}

/* Waits for the operation started on `operation`; fails the program on an error. Returns the result document (the
 * caller frees it with LocalFree) or NULL. */
static PWSTR Complete(HCS_OPERATION operation, const char* what)
{
    PWSTR result = NULL;
    HRESULT hr = HcsWaitForOperationResult(operation, OPERATION_TIMEOUT_MS, &result);
    if (FAILED(hr)) {
        Fail(what, hr, result);
    }
    return result;
}

/* Returns the system's properties for `query` (NULL: the basic ones); the caller frees them with LocalFree. */
static PWSTR Properties(HCS_SYSTEM system, HCS_OPERATION operation, PCWSTR query)
{
    CHECK(HcsGetComputeSystemProperties(system, operation, query), NULL);
    return Complete(operation, "HcsGetComputeSystemProperties");
}

/* Checks that the system's State is `state` (e.g. L"\"State\":\"Paused\""). */
static void ExpectState(HCS_SYSTEM system, HCS_OPERATION operation, PCWSTR state, const char* name)
{
    PWSTR properties = Properties(system, operation, NULL);
    Require(properties != NULL && wcsstr(properties, state) != NULL, name, properties);
    LocalFree(properties);
    printf("state %s\n", name);
}

/* The number of entries in an enumeration result naming `id`. */
static int CountId(PCWSTR list, PCWSTR id)
{
    wchar_t needle[256];
    swprintf(needle, sizeof needle / sizeof needle[0], L"\"Id\":\"%ls\"", id);
    int count = 0;
    for (PCWSTR at = list; (at = wcsstr(at, needle)) != NULL; at += wcslen(needle)) {
        count++;
    }
    return count;
}

static int Enumerate(HCS_OPERATION operation, PCWSTR query, PCWSTR id)
{
    CHECK(HcsEnumerateComputeSystems(query, operation), NULL);
    PWSTR list = Complete(operation, "HcsEnumerateComputeSystems");
    Require(list != NULL && list[0] == L'[', "a JSON array", list);
    int count = CountId(list, id);
    LocalFree(list);
    return count;
}

/* Terminates the system and waits for its exit; returns nothing, fails the program on any error. */
static void TerminateAndWait(HCS_SYSTEM system, HCS_OPERATION operation)
{
    PWSTR exitDocument = NULL;
    CHECK(HcsTerminateComputeSystem(system, operation, NULL), NULL);
    LocalFree(Complete(operation, "HcsTerminateComputeSystem"));
    CHECK(HcsWaitForComputeSystemExit(system, OPERATION_TIMEOUT_MS, &exitDocument), exitDocument);
    Require(exitDocument != NULL && wcsstr(exitDocument, L"ForcedExit") != NULL, "a forced exit", exitDocument);
    LocalFree(exitDocument);
    printf("exited\n");
}

int main(int argc, char** argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: lifecycle ID VM.json RESTORE.json STATE-FILE\n");
        return 2;
    }
    setlocale(LC_ALL, "C.UTF-8");
    PWSTR id = Widen(argv[1]);
    PWSTR document = ReadDocument(argv[2]);
    PWSTR restoreDocument = ReadDocument(argv[3]);
    PWSTR stateFile = Widen(argv[4]);
    size_t restoredLength = wcslen(id) + 10;
    PWSTR restoredId = calloc(restoredLength, sizeof(WCHAR));
    if (restoredId == NULL) {
        return 1;
    }
    swprintf(restoredId, restoredLength, L"%ls-restored", id);

    /* One operation serves every call: it can be reused once the previous call on it has completed. */
    HCS_OPERATION operation = HcsCreateOperation(NULL, NULL);
    if (operation == NULL) {
        fprintf(stderr, "HcsCreateOperation failed\n");
        return 1;
    }

    /* 1. Create, start, a second handle, enumeration. */
    HCS_SYSTEM system = NULL;
    CHECK(HcsCreateComputeSystem(id, document, operation, NULL, &system), NULL);
    LocalFree(Complete(operation, "HcsCreateComputeSystem"));
    CHECK(HcsStartComputeSystem(system, operation, NULL), NULL);
    LocalFree(Complete(operation, "HcsStartComputeSystem"));
    ExpectState(system, operation, L"\"State\":\"Running\"", "Running");

    HCS_SYSTEM second = NULL;
    CHECK(HcsOpenComputeSystem(id, GENERIC_ALL, &second), NULL);
    Require(second != NULL && second != system, "a second, distinct handle", NULL);

    wchar_t query[320];
    swprintf(query, sizeof query / sizeof query[0], L"{\"Ids\":[\"%ls\"]}", id);
    printf("enumerate all %d\n", Enumerate(operation, NULL, id));
    printf("enumerate by id %d\n", Enumerate(operation, query, id));
    printf("enumerate other %d\n", Enumerate(operation, L"{\"Ids\":[\"no-such-system\"]}", id));

    /* 2. Pause through the second handle, observe through the first, resume. */
    CHECK(HcsPauseComputeSystem(second, operation, NULL), NULL);
    LocalFree(Complete(operation, "HcsPauseComputeSystem"));
    ExpectState(system, operation, L"\"State\":\"Paused\"", "Paused");
    CHECK(HcsResumeComputeSystem(second, operation, NULL), NULL);
    LocalFree(Complete(operation, "HcsResumeComputeSystem"));
    ExpectState(system, operation, L"\"State\":\"Running\"", "Running");

    /* 3. Save (only a paused VM can be saved), then end this system. */
    CHECK(HcsPauseComputeSystem(system, operation, NULL), NULL);
    LocalFree(Complete(operation, "HcsPauseComputeSystem"));
    size_t saveLength = wcslen(stateFile) + 64;
    PWSTR saveOptions = calloc(saveLength, sizeof(WCHAR));
    if (saveOptions == NULL) {
        return 1;
    }
    swprintf(saveOptions, saveLength, L"{\"SaveType\":\"ToFile\",\"SaveStateFilePath\":\"%ls\"}", stateFile);
    CHECK(HcsSaveComputeSystem(system, operation, saveOptions), NULL);
    LocalFree(Complete(operation, "HcsSaveComputeSystem"));
    free(saveOptions);
    ExpectState(system, operation, L"\"State\":\"Paused\"", "Paused");
    printf("saved\n");
    HcsCloseComputeSystem(second);
    TerminateAndWait(system, operation);
    HcsCloseComputeSystem(system);

    /* 4. Restore: a new system whose document names the saved state; Start resumes it where it was saved. */
    HCS_SYSTEM restored = NULL;
    CHECK(HcsCreateComputeSystem(restoredId, restoreDocument, operation, NULL, &restored), NULL);
    LocalFree(Complete(operation, "HcsCreateComputeSystem (restore)"));
    CHECK(HcsStartComputeSystem(restored, operation, NULL), NULL);
    LocalFree(Complete(operation, "HcsStartComputeSystem (restore)"));
    ExpectState(restored, operation, L"\"State\":\"Running\"", "Running");
    printf("restored\n");

    /* Memory: the QEMU backend shrinks a running VM through its balloon (at most to the boot size). */
    CHECK(HcsModifyComputeSystem(restored, operation,
              L"{\"ResourcePath\":\"VirtualMachine/ComputeTopology/Memory/SizeInMB\",\"RequestType\":\"Update\",\"Settings\":160}",
              NULL),
        NULL);
    LocalFree(Complete(operation, "HcsModifyComputeSystem"));
    /* The guest's balloon driver gives the memory back in its own time: watch the Memory property, bounded. */
    time_t deadline = time(NULL) + OPERATION_TIMEOUT_MS / 1000;
    for (;;) {
        PWSTR memory = Properties(restored, operation, L"{\"PropertyTypes\":[\"Memory\"]}");
        int done = memory != NULL && wcsstr(memory, L"\"AssignedMemory\":160") != NULL;
        if (done || time(NULL) > deadline) {
            Require(done, "AssignedMemory 160", memory);
            LocalFree(memory);
            break;
        }
        LocalFree(memory);
        struct timespec pause = { 0, 200 * 1000 * 1000 };
        nanosleep(&pause, NULL);
    }
    printf("memory 160\n");

    /* 5. The end. */
    TerminateAndWait(restored, operation);
    HcsCloseComputeSystem(restored);
    HcsCloseOperation(operation);
    free(id);
    free(document);
    free(restoreDocument);
    free(stateFile);
    free(restoredId);
    printf("done\n");
    return 0;
}
