/* Copyright (c) hcs contributors. Licensed under the MIT licence.
 *
 * process.c: a process in a container through the HCS C API, its stdio as Linux file descriptors.
 *
 *   process <system-id> <container-json> <mode>
 *
 * Creates and starts the container, runs one scenario, terminates the container. Modes:
 *   echo         sh reads a line from stdin and answers on stdout and stderr, exits 3; also checks that a second
 *                retrieval of the process information (HcsGetProcessInfo) gives the id and no descriptors
 *   echo-64m     64 MiB of a position-dependent pattern through `cat`, stdin and stdout at once, checked byte for byte;
 *                cat exits once we close our stdin descriptor, and stdout ends after that
 *   output-64m   64 MiB of `yes` output on stdout (stdin and stderr not created: INVALID_HANDLE_VALUE), checked;
 *                the descriptors come from HcsGetProcessInfo
 *   early-close  reads 1 MiB of an endless `yes`, closes its stdout descriptor, then terminates the process
 *   modify       `cat` whose stdin HcsModifyProcess closes (cat exits 0); a handle from HcsOpenProcess has no stdio;
 *                argument checks (a security descriptor, a non-process operation)
 * Prints only what the test checks; exits non-zero on any failure. The library's runtime sets SIGPIPE to ignored when
 * it loads (docs/c-api.md); this program puts the default action back after its first call, on purpose: if anything
 * in this process wrote to a socket whose reader is gone without MSG_NOSIGNAL, it would die.
 */
#define _GNU_SOURCE
#include <computecore.h>
#include <windows.h>
#include <winerror.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#define PATTERN_BYTES (64u * 1024u * 1024u)
#define WAIT_MS 120000u

static void Fail(const char* what, HRESULT hr)
{
    fprintf(stderr, "process: %s failed: 0x%08x (errno %d)\n", what, (unsigned)hr, errno);
    exit(1);
}

#define CHECK(call) do { HRESULT hr_ = (call); if (FAILED(hr_)) Fail(#call, hr_); } while (0)
#define REQUIRE(cond) do { if (!(cond)) Fail(#cond, 0); } while (0)

/* argv is ASCII here (ids, JSON with a path): widen it byte by byte; the caller frees the copy. */
static wchar_t* Widen(const char* text)
{
    size_t n = strlen(text);
    wchar_t* wide = calloc(n + 1, sizeof(wchar_t));
    REQUIRE(wide != NULL);
    for (size_t i = 0; i < n; i++) {
        REQUIRE((unsigned char)text[i] < 0x80);
        wide[i] = (wchar_t)text[i];
    }
    return wide;
}

/* ---- the process-exited event, delivered on a library thread ---- */

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int exited;
} ExitSignal;

static void CALLBACK OnProcessEvent(HCS_EVENT* event, void* context)
{
    ExitSignal* signal = context;
    if (event->Type == HcsEventProcessExited) {
        pthread_mutex_lock(&signal->lock);
        signal->exited = 1;
        pthread_cond_broadcast(&signal->changed);
        pthread_mutex_unlock(&signal->lock);
    }
}

static void WaitForExitedEvent(ExitSignal* signal)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&signal->lock);
    while (!signal->exited) {
        REQUIRE(pthread_cond_timedwait(&signal->changed, &signal->lock, &deadline) == 0);
    }
    pthread_mutex_unlock(&signal->lock);
    printf("exited event\n");
}

/* HcsWaitForProcessExit, then the ExitCode of the ProcessStatus document it returns. */
static long ExitCodeOf(HCS_PROCESS process)
{
    PWSTR status = NULL;
    CHECK(HcsWaitForProcessExit(process, WAIT_MS, &status));
    REQUIRE(status != NULL);
    const wchar_t* field = wcsstr(status, L"\"ExitCode\":");
    REQUIRE(field != NULL);
    long code = wcstol(field + wcslen(L"\"ExitCode\":"), NULL, 10);
    LocalFree(status);
    return code;
}

/* ---- stdio: a poll loop over the three descriptors ---- */

static int FdOf(HANDLE handle) { return handle == INVALID_HANDLE_VALUE ? -1 : (int)(intptr_t)handle; }

/* Byte i of the echo pattern: position dependent, so a lost, doubled or reordered chunk is caught. */
static unsigned char PatternByte(uint64_t i)
{
    uint64_t z = (i >> 3) + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (unsigned char)(z >> ((i & 7) * 8));
}

typedef enum { SinkCapture, SinkPattern, SinkYes } SinkKind;

typedef struct {
    int fd;
    SinkKind kind;
    uint64_t received;
    uint64_t mismatches;
    char captured[4096];
} Sink;

static void Take(Sink* sink, const unsigned char* data, size_t n)
{
    static const char yes[] = "hcs-pattern\n";
    for (size_t k = 0; k < n; k++) {
        uint64_t i = sink->received + k;
        unsigned char expected = sink->kind == SinkPattern ? PatternByte(i) : (unsigned char)yes[i % (sizeof yes - 1)];
        if (sink->kind == SinkCapture) {
            if (i < sizeof sink->captured - 1) {
                sink->captured[i] = (char)data[k];
            }
        } else if (data[k] != expected) {
            sink->mismatches++;
        }
    }
    sink->received += n;
}

/* Writes `total` bytes (the pattern, or `text` once) to stdin with MSG_NOSIGNAL|MSG_DONTWAIT and closes it, while
 * reading stdout and stderr to EOF; stops reading stdout after `stopAfter` bytes when that is non-zero. */
static void Exchange(int in, const char* text, uint64_t total, Sink* out, Sink* err, uint64_t stopAfter)
{
    static unsigned char buffer[65536];
    uint64_t sent = 0;
    if (in >= 0 && total == 0) {
        REQUIRE(close(in) == 0);
        in = -1;
    }
    while (in >= 0 || out->fd >= 0 || err->fd >= 0) {
        struct pollfd fds[3] = { { in, POLLOUT, 0 }, { out->fd, POLLIN, 0 }, { err->fd, POLLIN, 0 } };
        int ready = poll(fds, 3, (int)WAIT_MS);
        REQUIRE(ready > 0);
        if (in >= 0 && (fds[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
            size_t n = (size_t)(total - sent < sizeof buffer ? total - sent : sizeof buffer);
            for (size_t k = 0; k < n; k++) {
                buffer[k] = text != NULL ? (unsigned char)text[sent + k] : PatternByte(sent + k);
            }
            ssize_t w = send(in, buffer, n, MSG_NOSIGNAL | MSG_DONTWAIT);
            REQUIRE(w >= 0 || errno == EAGAIN);
            sent += w > 0 ? (uint64_t)w : 0;
            if (sent == total) {
                REQUIRE(close(in) == 0); /* the process reads EOF */
                in = -1;
            }
        }
        Sink* sinks[2] = { out, err };
        for (int s = 0; s < 2; s++) {
            if (sinks[s]->fd >= 0 && (fds[s + 1].revents & (POLLIN | POLLHUP | POLLERR))) {
                ssize_t r = read(sinks[s]->fd, buffer, sizeof buffer);
                REQUIRE(r >= 0);
                Take(sinks[s], buffer, (size_t)r);
                if (r == 0 || (s == 0 && stopAfter != 0 && sinks[s]->received >= stopAfter)) {
                    REQUIRE(close(sinks[s]->fd) == 0);
                    sinks[s]->fd = -1;
                }
            }
        }
    }
}

/* ---- the scenarios ---- */

static HCS_PROCESS Create(HCS_SYSTEM system, const wchar_t* parameters, HCS_PROCESS_INFORMATION* info, ExitSignal* signal)
{
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HCS_PROCESS process = NULL;
    REQUIRE(op != NULL);
    CHECK(HcsCreateProcess(system, parameters, op, NULL, &process));
    REQUIRE(HcsGetProcessFromOperation(op) == process);
    if (info != NULL) {
        CHECK(HcsWaitForOperationResultAndProcessInfo(op, WAIT_MS, info, NULL));
    } else {
        CHECK(HcsWaitForOperationResult(op, WAIT_MS, NULL));
    }
    HcsCloseOperation(op);
    CHECK(HcsSetProcessCallback(process, HcsEventOptionNone, signal, OnProcessEvent));
    return process;
}

static void GetInfo(HCS_PROCESS process, HCS_PROCESS_INFORMATION* info)
{
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    REQUIRE(op != NULL);
    CHECK(HcsGetProcessInfo(process, op));
    CHECK(HcsWaitForOperationResultAndProcessInfo(op, WAIT_MS, info, NULL));
    HcsCloseOperation(op);
}

static void Echo(HCS_SYSTEM system, ExitSignal* signal)
{
    HCS_PROCESS_INFORMATION info;
    HCS_PROCESS process = Create(system,
        L"{\"CommandArgs\":[\"/bin/sh\",\"-c\",\"read line; echo out:$line; echo err:$line >&2; exit 3\"],"
        L"\"CreateStdInPipe\":true,\"CreateStdOutPipe\":true,\"CreateStdErrPipe\":true}", &info, signal);
    REQUIRE(info.ProcessId != 0);
    REQUIRE(FdOf(info.StdInput) > 2 && FdOf(info.StdOutput) > 2 && FdOf(info.StdError) > 2);

    HCS_PROCESS_INFORMATION again;
    GetInfo(process, &again);
    REQUIRE(again.ProcessId == info.ProcessId);
    REQUIRE(again.StdInput == INVALID_HANDLE_VALUE && again.StdOutput == INVALID_HANDLE_VALUE && again.StdError == INVALID_HANDLE_VALUE);
    printf("second retrieval: same id, no descriptors\n");

    Sink out = { .fd = FdOf(info.StdOutput), .kind = SinkCapture }, err = { .fd = FdOf(info.StdError), .kind = SinkCapture };
    Exchange(FdOf(info.StdInput), "hello\n", 6, &out, &err, 0);
    printf("stdout: %s", out.captured);
    printf("stderr: %s", err.captured);
    WaitForExitedEvent(signal);
    printf("exit code %ld\n", ExitCodeOf(process));
    HcsCloseProcess(process);
}

static void Echo64(HCS_SYSTEM system, ExitSignal* signal)
{
    HCS_PROCESS_INFORMATION info;
    HCS_PROCESS process = Create(system,
        L"{\"CommandArgs\":[\"/bin/cat\"],\"CreateStdInPipe\":true,\"CreateStdOutPipe\":true,\"CreateStdErrPipe\":true}", &info, signal);
    Sink out = { .fd = FdOf(info.StdOutput), .kind = SinkPattern }, err = { .fd = FdOf(info.StdError), .kind = SinkCapture };
    Exchange(FdOf(info.StdInput), NULL, PATTERN_BYTES, &out, &err, 0);
    printf("stdout: %llu bytes, %llu wrong\n", (unsigned long long)out.received, (unsigned long long)out.mismatches);
    printf("stderr: %llu bytes\n", (unsigned long long)err.received);
    WaitForExitedEvent(signal);
    printf("exit code %ld\n", ExitCodeOf(process));
    HcsCloseProcess(process);
}

static void Output64(HCS_SYSTEM system, ExitSignal* signal)
{
    HCS_PROCESS_INFORMATION info;
    HCS_PROCESS process = Create(system,
        L"{\"CommandArgs\":[\"/bin/sh\",\"-c\",\"yes hcs-pattern | head -c 67108864\"],\"CreateStdOutPipe\":true}", NULL, signal);
    GetInfo(process, &info);
    printf("stdin %s, stderr %s\n", info.StdInput == INVALID_HANDLE_VALUE ? "absent" : "present",
        info.StdError == INVALID_HANDLE_VALUE ? "absent" : "present");
    Sink out = { .fd = FdOf(info.StdOutput), .kind = SinkYes }, err = { .fd = -1, .kind = SinkCapture };
    Exchange(-1, NULL, 0, &out, &err, 0);
    printf("stdout: %llu bytes, %llu wrong\n", (unsigned long long)out.received, (unsigned long long)out.mismatches);
    WaitForExitedEvent(signal);
    printf("exit code %ld\n", ExitCodeOf(process));
    HcsCloseProcess(process);
}

static void EarlyClose(HCS_SYSTEM system, ExitSignal* signal)
{
    HCS_PROCESS_INFORMATION info;
    HCS_PROCESS process = Create(system,
        L"{\"CommandArgs\":[\"/bin/yes\",\"hcs-pattern\"],\"CreateStdInPipe\":true,\"CreateStdOutPipe\":true}", &info, signal);
    Sink out = { .fd = FdOf(info.StdOutput), .kind = SinkYes }, err = { .fd = -1, .kind = SinkCapture };
    Exchange(-1, NULL, 0, &out, &err, 1024 * 1024); /* closes stdout after 1 MiB, with more on its way */
    printf("stdout closed after %s1 MiB, %llu wrong\n", out.received >= 1024 * 1024 ? ">= " : "< ", (unsigned long long)out.mismatches);

    /* The process keeps writing; the library's pump finds our end closed (EPIPE, no SIGPIPE here) and drops the rest.
     * Properties still answer while it runs, and Terminate ends it. */
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    REQUIRE(op != NULL);
    PWSTR properties = NULL;
    CHECK(HcsGetProcessProperties(process, op, NULL));
    CHECK(HcsWaitForOperationResult(op, WAIT_MS, &properties));
    LocalFree(properties);
    CHECK(HcsTerminateProcess(process, op, NULL));
    CHECK(HcsWaitForOperationResult(op, WAIT_MS, NULL));
    HcsCloseOperation(op);
    WaitForExitedEvent(signal);
    printf("exit code %ld\n", ExitCodeOf(process));
    REQUIRE(close(FdOf(info.StdInput)) == 0);
    HcsCloseProcess(process);
}

static void Modify(HCS_SYSTEM system, ExitSignal* signal)
{
    HCS_PROCESS_INFORMATION info;
    HCS_PROCESS process = NULL;
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    REQUIRE(op != NULL);
    const wchar_t* cat = L"{\"CommandArgs\":[\"/bin/cat\"],\"CreateStdInPipe\":true,\"CreateStdOutPipe\":true}";
    REQUIRE(HcsCreateProcess(system, cat, op, (const SECURITY_DESCRIPTOR*)op, &process) == E_INVALIDARG && process == NULL);
    REQUIRE(HcsGetOperationResultAndProcessInfo(op, &info, NULL) == E_INVALIDARG); /* not a process operation */
    REQUIRE(info.ProcessId == 0 && info.StdInput == INVALID_HANDLE_VALUE && info.StdOutput == INVALID_HANDLE_VALUE);
    HcsCloseOperation(op);
    printf("argument checks\n");

    process = Create(system, cat, &info, signal);
    HCS_PROCESS opened = NULL;
    HCS_PROCESS_INFORMATION other;
    CHECK(HcsOpenProcess(system, info.ProcessId, GENERIC_ALL, &opened));
    GetInfo(opened, &other);
    REQUIRE(other.ProcessId == info.ProcessId && other.StdInput == INVALID_HANDLE_VALUE && other.StdOutput == INVALID_HANDLE_VALUE);
    HcsCloseProcess(opened);
    printf("opened handle: same id, no descriptors\n");

    op = HcsCreateOperation(NULL, NULL);
    REQUIRE(op != NULL);
    CHECK(HcsModifyProcess(process, op, L"{\"Operation\":\"CloseHandle\",\"CloseHandle\":{\"Handle\":\"StdIn\"}}"));
    CHECK(HcsWaitForOperationResult(op, WAIT_MS, NULL));
    HcsCloseOperation(op);
    Sink out = { .fd = FdOf(info.StdOutput), .kind = SinkCapture }, err = { .fd = -1, .kind = SinkCapture };
    Exchange(-1, NULL, 0, &out, &err, 0);
    printf("stdout: %llu bytes\n", (unsigned long long)out.received);
    WaitForExitedEvent(signal);
    printf("exit code %ld\n", ExitCodeOf(process));
    REQUIRE(close(FdOf(info.StdInput)) == 0);
    HcsCloseProcess(process);
}

int main(int argc, char** argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: process <system-id> <container-json> <echo|echo-64m|output-64m|early-close|modify>\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    wchar_t* id = Widen(argv[1]);
    wchar_t* configuration = Widen(argv[2]);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HCS_SYSTEM system = NULL;
    REQUIRE(op != NULL);
    REQUIRE(signal(SIGPIPE, SIG_DFL) != SIG_ERR); /* after the runtime loaded: see the top of this file */
    CHECK(HcsCreateComputeSystem(id, configuration, op, NULL, &system));
    CHECK(HcsWaitForOperationResult(op, WAIT_MS, NULL));
    CHECK(HcsStartComputeSystem(system, op, NULL));
    CHECK(HcsWaitForOperationResult(op, WAIT_MS, NULL));

    ExitSignal signal = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
    if (strcmp(argv[3], "echo") == 0) {
        Echo(system, &signal);
    } else if (strcmp(argv[3], "echo-64m") == 0) {
        Echo64(system, &signal);
    } else if (strcmp(argv[3], "output-64m") == 0) {
        Output64(system, &signal);
    } else if (strcmp(argv[3], "early-close") == 0) {
        EarlyClose(system, &signal);
    } else if (strcmp(argv[3], "modify") == 0) {
        Modify(system, &signal);
    } else {
        Fail("unknown mode", 0);
    }

    CHECK(HcsTerminateComputeSystem(system, op, NULL));
    CHECK(HcsWaitForOperationResult(op, WAIT_MS, NULL));
    HcsCloseOperation(op);
    HcsCloseComputeSystem(system);
    free(id);
    free(configuration);
    return 0;
}
