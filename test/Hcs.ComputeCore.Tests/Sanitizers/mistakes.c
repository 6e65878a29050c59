/* Copyright (c) hcs contributors. Licensed under the MIT licence.
 * Deliberate mistakes for SanitizerTests: `mistakes clean` does everything right; `mistakes use-after-free` reads a
 * string after handing it back with LocalFree; `mistakes leak` loses a string (overwrites the only pointer to it)
 * without handing it back. */
#include <computecore.h>
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static PWSTR Properties(void)
{
    PWSTR properties = NULL;
    HRESULT hr = HcsGetServiceProperties(NULL, &properties); /* line 15: where the leaked string comes from */
    if (FAILED(hr) || properties == NULL) {
        fprintf(stderr, "HcsGetServiceProperties: 0x%08X\n", (unsigned int)hr);
        exit(1);
    }
    return properties;
}

int main(int argc, char** argv)
{
    const char* mistake = argc > 1 ? argv[1] : "clean";
    PWSTR properties = Properties();
    printf("first character %c\n", (char)properties[0]);
    if (strcmp(mistake, "leak") == 0) {
        properties = Properties(); /* the first string is lost without LocalFree */
    }
    LocalFree(properties);
    if (strcmp(mistake, "use-after-free") == 0) {
        printf("after free %d\n", (int)properties[1]); /* line 33: a read of freed memory */
    }
    return 0;
}
