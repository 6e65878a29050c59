/* Copyright (c) hcs contributors. Licensed under the MIT licence.
 * windows.h for Linux (hcs): the small part of the Windows base types, macros and functions that HCS programs use,
 * so that code written against Microsoft's computecore.h compiles unchanged with gcc/g++ on Linux.
 *
 * Decisions (docs/c-api.md, "Headers"):
 *  - every integer type has its exact Windows width (DWORD = uint32_t, HRESULT = int32_t, never `long`);
 *  - WCHAR is the native 4-byte wchar_t: strings are UTF-32 and L"..." literals work with wcslen/std::wcout;
 *  - calling conventions (WINAPI, CALLBACK, __stdcall) and SAL annotations expand to nothing, so a capture-less
 *    lambda converts to a callback type;
 *  - the few Win32 functions HCS programs call (LocalFree, CloseHandle, events, Sleep, GetLastError) are exported by
 *    libcomputecore.so itself. */
#ifndef HCS_LINUX_WINDOWS_H
#define HCS_LINUX_WINDOWS_H

#include <stddef.h>
#include <stdint.h>

#include "winerror.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Calling conventions: x86-64 has one, so these are empty. ---- */
#define WINAPI
#define CALLBACK
#define APIENTRY
#define WINAPIV
#define STDMETHODCALLTYPE
#ifndef __stdcall
#define __stdcall
#endif
#ifndef __cdecl
#define __cdecl
#endif
#define WINBASEAPI
#define DECLSPEC_IMPORT
#define EXTERN_C_START
#define EXTERN_C_END
#ifdef __cplusplus
#define EXTERN_C extern "C"
#else
#define EXTERN_C extern
#endif
#define STDAPI EXTERN_C HRESULT WINAPI
#define STDAPI_(type) EXTERN_C type WINAPI

/* ---- SAL annotations: documentation only. ---- */
#define _In_
#define _In_opt_
#define _In_z_
#define _In_opt_z_
#define _In_reads_(n)
#define _In_reads_opt_(n)
#define _In_reads_bytes_(n)
#define _Inout_
#define _Inout_opt_
#define _Out_
#define _Out_opt_
#define _Out_writes_(n)
#define _Out_writes_bytes_(n)
#define _Outptr_
#define _Outptr_opt_
#define _Outptr_result_maybenull_
#define _Outptr_opt_result_maybenull_
#define _Outptr_result_z_
#define _Outptr_opt_result_z_
#define _Out_range_(lo, hi)
#define _Ret_maybenull_
#define _Ret_notnull_
#define _Ret_z_
#define _Post_invalid_
#define _Post_z_
#define _Pre_valid_
#define _Frees_ptr_opt_
#define _Printf_format_string_
#define _Check_return_
#define _Must_inspect_result_
#define _Success_(expr)
#define _Field_size_(n)
#define _Field_z_
#define _Reserved_
#define _Null_terminated_
#define _Analysis_assume_(expr)
#define _When_(cond, annotation)
#define _Use_decl_annotations_

/* ---- Base types, with the Windows widths. ---- */
#define VOID void
typedef void* PVOID;
typedef void* LPVOID;
typedef const void* LPCVOID;
typedef char CHAR;
typedef short SHORT;
typedef int32_t INT;
typedef int32_t LONG;
typedef uint8_t BYTE;
typedef uint8_t UCHAR;
typedef uint16_t WORD;
typedef uint16_t USHORT;
typedef uint32_t DWORD;
typedef uint32_t ULONG;
typedef uint32_t UINT;
typedef int8_t INT8;
typedef uint8_t UINT8;
typedef int16_t INT16;
typedef uint16_t UINT16;
typedef int32_t INT32;
typedef uint32_t UINT32;
typedef int64_t INT64;
typedef uint64_t UINT64;
typedef int64_t LONG64;
typedef uint64_t ULONG64;
typedef int64_t LONGLONG;
typedef uint64_t ULONGLONG;
typedef uint64_t DWORD64;
typedef uint64_t DWORDLONG;
typedef intptr_t INT_PTR;
typedef uintptr_t UINT_PTR;
typedef intptr_t LONG_PTR;
typedef uintptr_t ULONG_PTR;
typedef uintptr_t DWORD_PTR;
typedef size_t SIZE_T;
typedef intptr_t SSIZE_T;
typedef float FLOAT;
typedef int32_t BOOL;
typedef uint8_t BOOLEAN;
typedef DWORD* PDWORD;
typedef DWORD* LPDWORD;
typedef ULONG* PULONG;
typedef BOOL* PBOOL;
typedef BOOLEAN* PBOOLEAN;
typedef BYTE* PBYTE;
typedef BYTE* LPBYTE;

/* Wide strings are the native wchar_t: 4 bytes, UTF-32 (see docs/c-api.md for why not UTF-16). */
typedef wchar_t WCHAR;
typedef WCHAR* PWCHAR;
typedef WCHAR* PWSTR;
typedef WCHAR* LPWSTR;
typedef WCHAR* PZZWSTR;
typedef const WCHAR* PCWSTR;
typedef const WCHAR* LPCWSTR;
typedef const WCHAR* PCZZWSTR;
typedef CHAR* PSTR;
typedef CHAR* LPSTR;
typedef const CHAR* PCSTR;
typedef const CHAR* LPCSTR;
#ifndef TEXT
#define TEXT(s) L##s
#endif

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif
#ifndef NULL
#define NULL ((void*)0)
#endif

/* ---- Handles ---- */
typedef void* HANDLE;
typedef HANDLE* PHANDLE;
typedef HANDLE* LPHANDLE;
typedef void* HLOCAL;
typedef void* HMODULE;
/* A distinct opaque pointer type per handle kind, like Windows' STRICT mode. */
#define DECLARE_HANDLE(name) \
    struct name##__ {        \
        int unused;          \
    };                       \
    typedef struct name##__* name
#define INVALID_HANDLE_VALUE ((HANDLE)(intptr_t)-1)

/* Security objects are opaque here: HCS on Linux accepts only NULL where Windows takes one. */
typedef struct _SECURITY_DESCRIPTOR SECURITY_DESCRIPTOR;
typedef struct _SECURITY_DESCRIPTOR* PSECURITY_DESCRIPTOR;
typedef struct _SECURITY_ATTRIBUTES SECURITY_ATTRIBUTES;
typedef struct _SECURITY_ATTRIBUTES* PSECURITY_ATTRIBUTES;
typedef struct _SECURITY_ATTRIBUTES* LPSECURITY_ATTRIBUTES;

typedef struct _GUID {
    uint32_t Data1;
    uint16_t Data2;
    uint16_t Data3;
    uint8_t Data4[8];
} GUID;
typedef GUID IID;
typedef GUID* LPGUID;
typedef const GUID* LPCGUID;
#ifdef __cplusplus
#define REFGUID const GUID&
#else
#define REFGUID const GUID*
#endif

/* ---- Constants ---- */
#define INFINITE 0xFFFFFFFFu
#define WAIT_OBJECT_0 0u
#define WAIT_ABANDONED 0x80u
#define WAIT_FAILED 0xFFFFFFFFu
/* WAIT_TIMEOUT (258) is in winerror.h, as on Windows. */

#define GENERIC_READ 0x80000000u
#define GENERIC_WRITE 0x40000000u
#define GENERIC_EXECUTE 0x20000000u
#define GENERIC_ALL 0x10000000u
#define SYNCHRONIZE 0x00100000u
#define MAXIMUM_ALLOWED 0x02000000u

#define CREATE_EVENT_MANUAL_RESET 0x1u
#define CREATE_EVENT_INITIAL_SET 0x2u

#define MAX_PATH 260

#define UNREFERENCED_PARAMETER(p) ((void)(p))
#define ARRAYSIZE(a) (sizeof(a) / sizeof((a)[0]))
#define _countof(a) ARRAYSIZE(a)

/* ---- Compile-time checks that also work in C11 headers. ---- */
#ifdef __cplusplus
#define HCS_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define HCS_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#else
#define HCS_STATIC_ASSERT_GLUE2(a, b) a##b
#define HCS_STATIC_ASSERT_GLUE(a, b) HCS_STATIC_ASSERT_GLUE2(a, b)
#define HCS_STATIC_ASSERT(cond, msg) \
    typedef char HCS_STATIC_ASSERT_GLUE(hcs_static_assert_, __LINE__)[(cond) ? 1 : -1]
#endif

HCS_STATIC_ASSERT(sizeof(HRESULT) == 4, "HRESULT is 32 bits");
HCS_STATIC_ASSERT((HRESULT)-1 < 0, "HRESULT is signed");
HCS_STATIC_ASSERT(sizeof(LONG) == 4, "LONG is 32 bits (never long)");
HCS_STATIC_ASSERT(sizeof(DWORD) == 4 && (DWORD)-1 > 0, "DWORD is unsigned 32 bits");
HCS_STATIC_ASSERT(sizeof(ULONG) == 4 && sizeof(UINT) == 4 && sizeof(INT) == 4, "ULONG, UINT, INT are 32 bits");
HCS_STATIC_ASSERT(sizeof(UINT64) == 8 && (UINT64)-1 > 0, "UINT64 is unsigned 64 bits");
HCS_STATIC_ASSERT(sizeof(BOOLEAN) == 1 && sizeof(BOOL) == 4, "BOOLEAN is 1 byte, BOOL 4");
HCS_STATIC_ASSERT(sizeof(WORD) == 2 && sizeof(BYTE) == 1, "WORD is 16 bits, BYTE 8");
HCS_STATIC_ASSERT(sizeof(WCHAR) == 4, "WCHAR is the native 4-byte wchar_t (build without -fshort-wchar)");
HCS_STATIC_ASSERT(sizeof(HANDLE) == sizeof(void*) && sizeof(ULONG_PTR) == sizeof(void*), "handles are pointers");
HCS_STATIC_ASSERT(sizeof(GUID) == 16, "GUID is 16 bytes");

/* ---- Enum flag operators (C++ only; C uses the plain integer operators). ---- */
#ifdef __cplusplus
} /* extern "C" */
/* The enum's value as its underlying integer type (gcc and clang builtin; no <type_traits> needed). */
#define HCS_ENUM_BITS(ENUMTYPE, v) static_cast<__underlying_type(ENUMTYPE)>(v)
#define DEFINE_ENUM_FLAG_OPERATORS(ENUMTYPE)                                                   \
    extern "C++" {                                                                             \
    inline constexpr ENUMTYPE operator|(ENUMTYPE a, ENUMTYPE b) noexcept                       \
    {                                                                                          \
        return static_cast<ENUMTYPE>(HCS_ENUM_BITS(ENUMTYPE, a) | HCS_ENUM_BITS(ENUMTYPE, b)); \
    }                                                                                          \
    inline constexpr ENUMTYPE operator&(ENUMTYPE a, ENUMTYPE b) noexcept                       \
    {                                                                                          \
        return static_cast<ENUMTYPE>(HCS_ENUM_BITS(ENUMTYPE, a) & HCS_ENUM_BITS(ENUMTYPE, b)); \
    }                                                                                          \
    inline constexpr ENUMTYPE operator^(ENUMTYPE a, ENUMTYPE b) noexcept                       \
    {                                                                                          \
        return static_cast<ENUMTYPE>(HCS_ENUM_BITS(ENUMTYPE, a) ^ HCS_ENUM_BITS(ENUMTYPE, b)); \
    }                                                                                          \
    inline constexpr ENUMTYPE operator~(ENUMTYPE a) noexcept                                   \
    {                                                                                          \
        return static_cast<ENUMTYPE>(~HCS_ENUM_BITS(ENUMTYPE, a));                             \
    }                                                                                          \
    inline ENUMTYPE& operator|=(ENUMTYPE& a, ENUMTYPE b) noexcept { return a = a | b; }        \
    inline ENUMTYPE& operator&=(ENUMTYPE& a, ENUMTYPE b) noexcept { return a = a & b; }        \
    inline ENUMTYPE& operator^=(ENUMTYPE& a, ENUMTYPE b) noexcept { return a = a ^ b; }        \
    }
extern "C" {
#else
#define DEFINE_ENUM_FLAG_OPERATORS(ENUMTYPE)
#endif

/* ---- Win32 compatibility functions, exported by libcomputecore.so. ----
 * Handles: a HANDLE from CreateEventW is an event object; a HANDLE in HCS_PROCESS_INFORMATION carries a Linux file
 * descriptor as (HANDLE)(intptr_t)fd. CloseHandle closes either. Failures set the value GetLastError returns (a
 * Win32 error code, per thread). */

/* Frees memory the library returned (result documents, PWSTR out-parameters). Returns NULL on success. */
HLOCAL WINAPI LocalFree(HLOCAL hMem);
/* Closes an event or a file-descriptor handle. Returns TRUE on success. */
BOOL WINAPI CloseHandle(HANDLE hObject);
/* Creates an event (lpEventAttributes and lpName must be NULL on Linux). Returns NULL on failure. */
HANDLE WINAPI CreateEventW(LPSECURITY_ATTRIBUTES lpEventAttributes, BOOL bManualReset, BOOL bInitialState,
    LPCWSTR lpName);
BOOL WINAPI SetEvent(HANDLE hEvent);
BOOL WINAPI ResetEvent(HANDLE hEvent);
/* Waits for an event: WAIT_OBJECT_0, WAIT_TIMEOUT or WAIT_FAILED. */
DWORD WINAPI WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds);
VOID WINAPI Sleep(DWORD dwMilliseconds);
DWORD WINAPI GetLastError(void);
#define CreateEvent CreateEventW

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* HCS_LINUX_WINDOWS_H */
