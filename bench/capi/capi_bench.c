/* Copyright (c) hcs contributors. Licensed under the MIT licence.
 *
 * The C half of the `capi` benchmark (bench/Hcs.Bench/CApiBench.cs builds it with gcc -O2 and runs it against the same
 * hcsd as the C# half, HCS_SOCKET):
 *
 *   capi_bench properties ID WARMUP_S SECONDS
 *       HcsGetComputeSystemProperties (basic, no query) on the running system ID, one call at a time: create the call
 *       on a reused operation, wait for its result, LocalFree the document. Prints
 *       "calls N seconds S p50 P p99 Q cpu C" (latencies and CPU per call in µs).
 *   capi_bench events PREFIX WARMUPS N DOCUMENT.json
 *       For WARMUPS + N systems PREFIX-i created from DOCUMENT (a guest that powers off at once): register an event
 *       callback, note the time, HcsStartComputeSystem, and note when the callback sees SystemExited. Prints
 *       "n N p50 P p90 Q p99 R" (µs, the WARMUPS first ones left out).
 */
#define _POSIX_C_SOURCE 200809L
#include <computecore.h>
#include <windows.h>
#include <winerror.h>

#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <wchar.h>

static double Now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec * 1e6 + (double)now.tv_nsec / 1e3;
}

static double CpuMicroseconds(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e6 + (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

static int Compare(const void* a, const void* b)
{
    double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

static double Percentile(double* sorted, size_t n, double p)
{
    size_t index = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return sorted[index < n ? index : n - 1];
}

static void Check(HRESULT hr, const char* what, PCWSTR document)
{
    if (FAILED(hr)) {
        fprintf(stderr, "%s failed: 0x%08X %ls\n", what, (unsigned int)hr, document != NULL ? document : L"");
        exit(1);
    }
}

static PWSTR Widen(const char* text)
{
    size_t length = strlen(text) + 1;
    PWSTR wide = calloc(length, sizeof(WCHAR));
    if (wide == NULL || mbstowcs(wide, text, length) == (size_t)-1) {
        exit(2);
    }
    return wide;
}

/* One GetProperties round trip. */
static void GetProperties(HCS_SYSTEM system, HCS_OPERATION operation)
{
    PWSTR result = NULL;
    Check(HcsGetComputeSystemProperties(system, operation, NULL), "HcsGetComputeSystemProperties", NULL);
    HRESULT hr = HcsWaitForOperationResult(operation, INFINITE, &result);
    Check(hr, "HcsWaitForOperationResult", result);
    LocalFree(result);
}

static int Properties(const char* idText, double warmUp, double seconds)
{
    PWSTR id = Widen(idText);
    HCS_SYSTEM system = NULL;
    Check(HcsOpenComputeSystem(id, GENERIC_ALL, &system), "HcsOpenComputeSystem", NULL);
    HCS_OPERATION operation = HcsCreateOperation(NULL, NULL);
    if (operation == NULL) {
        return 1;
    }
    for (double end = Now() + warmUp * 1e6; Now() < end;) {
        GetProperties(system, operation);
    }

    size_t capacity = 1 << 16, calls = 0;
    double* latencies = malloc(capacity * sizeof(double));
    double cpu = CpuMicroseconds(), start = Now(), end = start + seconds * 1e6, now = start;
    while (now < end) {
        GetProperties(system, operation);
        double after = Now();
        if (calls == capacity) {
            capacity *= 2;
            latencies = realloc(latencies, capacity * sizeof(double));
        }
        if (latencies == NULL) {
            return 1;
        }
        latencies[calls++] = after - now;
        now = after;
    }
    double elapsed = (now - start) / 1e6;
    cpu = CpuMicroseconds() - cpu;
    qsort(latencies, calls, sizeof(double), Compare);
    printf("calls %zu seconds %.3f p50 %.1f p99 %.1f cpu %.1f\n", calls, elapsed, Percentile(latencies, calls, 50),
        Percentile(latencies, calls, 99), cpu / (double)calls);
    free(latencies);
    HcsCloseOperation(operation);
    HcsCloseComputeSystem(system);
    free(id);
    return 0;
}

/* Start → SystemExited: the callback stamps the exit and wakes the main thread. */
struct Exit {
    pthread_mutex_t lock;
    pthread_cond_t done;
    double at;
};

static void CALLBACK OnEvent(HCS_EVENT* event, void* context)
{
    if (event->Type != HcsEventSystemExited) {
        return;
    }
    double now = Now();
    struct Exit* exit = context;
    pthread_mutex_lock(&exit->lock);
    exit->at = now;
    pthread_cond_signal(&exit->done);
    pthread_mutex_unlock(&exit->lock);
}

static int Events(const char* prefix, int warmUps, int n, const char* documentPath)
{
    FILE* file = fopen(documentPath, "rb");
    static char bytes[65536];
    if (file == NULL) {
        return 1;
    }
    bytes[fread(bytes, 1, sizeof bytes - 1, file)] = '\0';
    fclose(file);
    PWSTR document = Widen(bytes);
    HCS_OPERATION operation = HcsCreateOperation(NULL, NULL);
    double* latencies = malloc((size_t)n * sizeof(double));
    if (operation == NULL || latencies == NULL) {
        return 1;
    }
    for (int i = 0; i < warmUps + n; i++) {
        wchar_t id[128];
        swprintf(id, sizeof id / sizeof id[0], L"%s-%d", prefix, i);
        struct Exit exit = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
        HCS_SYSTEM system = NULL;
        PWSTR result = NULL;
        Check(HcsCreateComputeSystem(id, document, operation, NULL, &system), "HcsCreateComputeSystem", NULL);
        Check(HcsWaitForOperationResult(operation, INFINITE, &result), "HcsCreateComputeSystem", result);
        LocalFree(result);
        Check(HcsSetComputeSystemCallback(system, HcsEventOptionNone, &exit, OnEvent), "HcsSetComputeSystemCallback", NULL);
        double started = Now();
        Check(HcsStartComputeSystem(system, operation, NULL), "HcsStartComputeSystem", NULL);
        result = NULL;
        Check(HcsWaitForOperationResult(operation, INFINITE, &result), "HcsStartComputeSystem", result);
        LocalFree(result);
        pthread_mutex_lock(&exit.lock);
        while (exit.at == 0) {
            pthread_cond_wait(&exit.done, &exit.lock);
        }
        pthread_mutex_unlock(&exit.lock);
        if (i >= warmUps) {
            latencies[i - warmUps] = exit.at - started;
        }
        HcsCloseComputeSystem(system);
    }
    qsort(latencies, (size_t)n, sizeof(double), Compare);
    printf("n %d p50 %.1f p90 %.1f p99 %.1f\n", n, Percentile(latencies, (size_t)n, 50), Percentile(latencies, (size_t)n, 90),
        Percentile(latencies, (size_t)n, 99));
    free(latencies);
    free(document);
    HcsCloseOperation(operation);
    return 0;
}

int main(int argc, char** argv)
{
    setlocale(LC_ALL, "C.UTF-8");
    if (argc == 5 && strcmp(argv[1], "properties") == 0) {
        return Properties(argv[2], atof(argv[3]), atof(argv[4]));
    }
    if (argc == 6 && strcmp(argv[1], "events") == 0) {
        return Events(argv[2], atoi(argv[3]), atoi(argv[4]), argv[5]);
    }
    fprintf(stderr, "usage: capi_bench properties ID WARMUP_S SECONDS | events PREFIX WARMUPS N DOCUMENT.json\n");
    return 2;
}
