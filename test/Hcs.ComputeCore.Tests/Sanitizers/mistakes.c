/* Copyright (c) hcs contributors. Licensed under the MIT licence.
 * Deliberate mistakes for SanitizerTests: `mistakes clean` does everything right; `mistakes use-after-free` reads a
 * string after handing it back with LocalFree; `mistakes leak` never hands it back. */
#include <computecore.h>
#include <windows.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char** argv)
{
    const char* mistake = argc > 1 ? argv[1] : "clean";
    PWSTR properties = NULL;
    HRESULT hr = HcsGetServiceProperties(NULL, &properties);
    if (FAILED(hr) || properties == NULL) {
        fprintf(stderr, "HcsGetServiceProperties: 0x%08X\n", (unsigned int)hr);
        return 1;
    }
    printf("first character %c\n", (char)properties[0]);
    if (strcmp(mistake, "leak") == 0) {
        return 0; /* properties is never freed */
    }
    LocalFree(properties);
    if (strcmp(mistake, "use-after-free") == 0) {
        printf("after free %d\n", (int)properties[1]); /* read of freed memory */
    }
    return 0;
}
