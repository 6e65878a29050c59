/* Copyright (c) hcs contributors. Licensed under the MIT licence.
 *
 * What using libcomputecore does to the process around it, in the default (hcsd) mode: a system is created, started,
 * terminated and closed through hcsd; then SIGCHLD must still have its default disposition and the process must have
 * no child. The library itself must print nothing: the test checks that stdout is exactly "ok\n" and stderr is empty.
 * Declarations are written out here so that this program does not depend on the headers it is not testing.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

typedef int32_t HRESULT;
void *HcsCreateOperation(const void *context, void *callback);
void HcsCloseOperation(void *operation);
HRESULT HcsWaitForOperationResult(void *operation, uint32_t timeoutMs, wchar_t **result);
HRESULT HcsCreateComputeSystem(const wchar_t *id, const wchar_t *configuration, void *operation, const void *sd, void **system);
HRESULT HcsStartComputeSystem(void *system, void *operation, const wchar_t *options);
HRESULT HcsTerminateComputeSystem(void *system, void *operation, const wchar_t *options);
void HcsCloseComputeSystem(void *system);
void *LocalFree(void *memory);

static wchar_t *widen(const char *s)
{
    size_t n = strlen(s);
    wchar_t *w = calloc(n + 1, sizeof(wchar_t));
    for (size_t i = 0; i < n; i++)
        w[i] = (unsigned char)s[i]; /* the document is ASCII */
    return w;
}

static int call(const char *what, HRESULT hr, void *operation)
{
    wchar_t *result = NULL;
    if (hr >= 0)
        hr = HcsWaitForOperationResult(operation, 60000, &result);
    LocalFree(result);
    if (hr < 0) {
        fprintf(stdout, "%s failed: 0x%08x\n", what, (unsigned)hr);
        return 0;
    }
    return 1;
}

/* Children of every thread of this process (Linux 3.5+ with CONFIG_PROC_CHILDREN). */
static int count_children(void)
{
    int count = 0;
    DIR *tasks = opendir("/proc/self/task");
    struct dirent *task;
    while (tasks && (task = readdir(tasks)) != NULL) {
        if (task->d_name[0] == '.')
            continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/self/task/%s/children", task->d_name);
        FILE *f = fopen(path, "r");
        int pid;
        while (f && fscanf(f, "%d", &pid) == 1)
            count++;
        if (f)
            fclose(f);
    }
    if (tasks)
        closedir(tasks);
    return count;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    wchar_t *id = widen(argv[1]), *document = widen(argv[2]);
    void *operation = HcsCreateOperation(NULL, NULL), *system = NULL;
    int ok = operation != NULL
        && call("create", HcsCreateComputeSystem(id, document, operation, NULL, &system), operation)
        && call("start", HcsStartComputeSystem(system, operation, NULL), operation)
        && call("terminate", HcsTerminateComputeSystem(system, operation, NULL), operation);
    HcsCloseComputeSystem(system);
    HcsCloseOperation(operation);
    free(id);
    free(document);
    if (!ok)
        return 1;

    struct sigaction chld;
    sigaction(SIGCHLD, NULL, &chld);
    if (chld.sa_handler != SIG_DFL || (chld.sa_flags & SA_SIGINFO)) {
        fprintf(stdout, "SIGCHLD disposition changed\n");
        return 1;
    }
    int children = count_children();
    if (children != 0) {
        fprintf(stdout, "%d child process(es)\n", children);
        return 1;
    }
    fputs("ok\n", stdout);
    return 0;
}
