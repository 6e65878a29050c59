/* Copyright (c) hcs contributors. Licensed under the MIT licence.
 * computedefs.h for Linux (hcs): the types of the Host Compute Service C API, with the names, values and (LP64)
 * layouts of Microsoft's ComputeDefs.h. Every struct's size and field offsets are checked at compile time: the
 * library (libcomputecore.so, .NET) mirrors them byte for byte. */
#ifndef HCS_LINUX_COMPUTEDEFS_H
#define HCS_LINUX_COMPUTEDEFS_H

#include <stddef.h>

#include "windows.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Enumerators above INT_MAX (0x80000002, 0xC0000001, ...) are part of the API. C23 allows them; older C standards
 * make gcc -pedantic warn, although gcc and clang give such an enum the 4-byte type unsigned int. */
#if !defined(__cplusplus) && defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#endif

/* ---- Handles (NULL is never a valid handle) ---- */
DECLARE_HANDLE(HCS_OPERATION);
DECLARE_HANDLE(HCS_SYSTEM);
DECLARE_HANDLE(HCS_PROCESS);
DECLARE_HANDLE(HCS_CALLBACK);

/* ---- Operations ---- */

/* What an operation tracks: set by the first call the operation is passed to (HcsGetOperationType). */
typedef enum HCS_OPERATION_TYPE {
    HcsOperationTypeNone = -1,
    HcsOperationTypeEnumerate = 0,
    HcsOperationTypeCreate = 1,
    HcsOperationTypeStart = 2,
    HcsOperationTypeShutdown = 3,
    HcsOperationTypePause = 4,
    HcsOperationTypeResume = 5,
    HcsOperationTypeSave = 6,
    HcsOperationTypeTerminate = 7,
    HcsOperationTypeModify = 8,
    HcsOperationTypeGetProperties = 9,
    HcsOperationTypeCreateProcess = 10,
    HcsOperationTypeSignalProcess = 11,
    HcsOperationTypeGetProcessInfo = 12,
    HcsOperationTypeGetProcessProperties = 13,
    HcsOperationTypeModifyProcess = 14,
    HcsOperationTypeCrash = 15,
    HcsOperationTypeReserved1 = 16,
    HcsOperationTypeReserved2 = 17,
    HcsOperationTypeReserved3 = 18,
    HcsOperationTypeLiveMigration = 19
} HCS_OPERATION_TYPE;

/* HcsGetOperationId's value for an invalid operation. */
#define HCS_INVALID_OPERATION_ID ((UINT64)-1)

/* Called once when an operation completes, on a library thread. Must not throw and should not block long. */
typedef void(CALLBACK* HCS_OPERATION_COMPLETION)(HCS_OPERATION operation, void* context);

/* ---- Events (the v2 per-handle callback) ---- */
typedef enum HCS_EVENT_TYPE {
    HcsEventInvalid = 0x00000000,

    /* Compute-system events. */
    HcsEventSystemExited = 0x00000001,
    HcsEventSystemCrashInitiated = 0x00000002,
    HcsEventSystemCrashReport = 0x00000003,
    HcsEventSystemRdpEnhancedModeStateChanged = 0x00000004,
    HcsEventSystemSiloJobCreated = 0x00000005,
    HcsEventSystemGuestConnectionClosed = 0x00000006,

    /* Process events. */
    HcsEventProcessExited = 0x00010000,

    /* Events on any handle. */
    HcsEventOperationCallback = 0x01000000,
    HcsEventServiceDisconnect = 0x02000000,

    /* Event groups, delivered only when enabled by HCS_EVENT_OPTIONS / HCS_OPERATION_OPTIONS. */
    HcsEventGroupVmLifecycle = 0x80000002,
    HcsEventGroupLiveMigration = 0x80000003,
    HcsEventGroupOperationInfo = 0xC0000001
} HCS_EVENT_TYPE;

/* What an event callback receives. EventData is an optional JSON document (owned by the library, valid only during
 * the callback); Operation is set only for HcsEventOperationCallback. */
typedef struct HCS_EVENT {
    HCS_EVENT_TYPE Type;
    PCWSTR EventData;
    HCS_OPERATION Operation;
} HCS_EVENT;

/* Which optional events a system or process callback receives (flags). */
typedef enum HCS_EVENT_OPTIONS {
    HcsEventOptionNone = 0x00000000,
    HcsEventOptionEnableOperationCallbacks = 0x00000001,
    HcsEventOptionEnableVmLifecycle = 0x00000002,
    HcsEventOptionEnableLiveMigrationEvents = 0x00000004
} HCS_EVENT_OPTIONS;

/* Which events an operation created with HcsCreateOperationWithNotifications receives (flags). */
typedef enum HCS_OPERATION_OPTIONS {
    HcsOperationOptionNone = 0x00000000,
    HcsOperationOptionProgressUpdate = 0x00000001,
    HcsOperationOptionReserved1 = 0x00000002
} HCS_OPERATION_OPTIONS;

/* Called for each event on a handle, on a library thread, in order per handle. Must not throw. */
typedef void(CALLBACK* HCS_EVENT_CALLBACK)(HCS_EVENT* event, void* context);

/* ---- Resources attached to an operation (HcsAddResourceToOperation) ---- */
typedef enum HCS_RESOURCE_TYPE {
    HcsResourceTypeNone = 0,
    HcsResourceTypeFile = 1,
    HcsResourceTypeJob = 2,
    HcsResourceTypeComObject = 3,
    HcsResourceTypeSocket = 4
} HCS_RESOURCE_TYPE;

/* ---- v1 (vmcompute) notifications: the types exist for source compatibility ---- */
typedef enum HCS_NOTIFICATION_FLAGS {
    HcsNotificationFlagSuccess = 0x00000000,
    HcsNotificationFlagFailure = 0x80000000
} HCS_NOTIFICATION_FLAGS;

typedef enum HCS_NOTIFICATIONS {
    HcsNotificationInvalid = 0x00000000,

    /* Compute-system notifications. */
    HcsNotificationSystemExited = 0x00000001,
    HcsNotificationSystemCreateCompleted = 0x00000002,
    HcsNotificationSystemStartCompleted = 0x00000003,
    HcsNotificationSystemPauseCompleted = 0x00000004,
    HcsNotificationSystemResumeCompleted = 0x00000005,
    HcsNotificationSystemCrashReport = 0x00000006,
    HcsNotificationSystemSiloJobCreated = 0x00000007,
    HcsNotificationSystemSaveCompleted = 0x00000008,
    HcsNotificationSystemRdpEnhancedModeStateChanged = 0x00000009,
    HcsNotificationSystemShutdownFailed = 0x0000000A,
    HcsNotificationSystemShutdownCompleted = 0x0000000A,
    HcsNotificationSystemGetPropertiesCompleted = 0x0000000B,
    HcsNotificationSystemModifyCompleted = 0x0000000C,
    HcsNotificationSystemCrashInitiated = 0x0000000D,
    HcsNotificationSystemGuestConnectionClosed = 0x0000000E,
    HcsNotificationSystemOperationCompletion = 0x0000000F,
    HcsNotificationSystemPassThru = 0x00000010,

    /* Operation notifications. */
    HcsNotificationOperationProgressUpdate = 0x00000100,

    /* Process notifications. */
    HcsNotificationProcessExited = 0x00010000,

    /* Common notifications. */
    HcsNotificationServiceDisconnect = 0x01000000,

    /* The top 4 bits are reserved for HCS_NOTIFICATION_FLAGS. */
    HcsNotificationFlagsReserved = 0xF0000000
} HCS_NOTIFICATIONS;

typedef void(CALLBACK* HCS_NOTIFICATION_CALLBACK)(
    DWORD notificationType, void* context, HRESULT notificationStatus, PCWSTR notificationData);

/* ---- Processes ---- */

/* Filled by HcsGetOperationResultAndProcessInfo for HcsCreateProcess. On Linux each Std* handle carries a file
 * descriptor as (HANDLE)(intptr_t)fd that the caller owns (close it with CloseHandle or close()); a stream that was
 * not requested is NULL or INVALID_HANDLE_VALUE. */
typedef struct {
    DWORD ProcessId;
    DWORD Reserved;
    HANDLE StdInput;
    HANDLE StdOutput;
    HANDLE StdError;
} HCS_PROCESS_INFORMATION;

/* ---- Creation options (HcsCreateComputeSystemInNamespace) ---- */
typedef enum HCS_CREATE_OPTIONS {
    HcsCreateOptions_1 = 0x00010000
} HCS_CREATE_OPTIONS;

/* Version is HcsCreateOptions_1; pass the address (cast to const HCS_CREATE_OPTIONS*). UserToken and
 * SecurityDescriptor must be NULL on Linux. The callback is registered atomically with the creation. */
typedef struct {
    HCS_CREATE_OPTIONS Version;
    HANDLE UserToken;
    SECURITY_DESCRIPTOR* SecurityDescriptor;
    HCS_EVENT_OPTIONS CallbackOptions;
    void* CallbackContext;
    HCS_EVENT_CALLBACK Callback;
} HCS_CREATE_OPTIONS_1;

#if !defined(__cplusplus) && defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/* ---- Layout checks (x86-64 / aarch64 LP64): the .NET side mirrors exactly these numbers. ---- */
HCS_STATIC_ASSERT(sizeof(void*) == 8, "hcs supports LP64 targets only");
HCS_STATIC_ASSERT(sizeof(HCS_OPERATION) == 8 && sizeof(HCS_SYSTEM) == 8, "handles are pointers");
HCS_STATIC_ASSERT(sizeof(HCS_PROCESS) == 8 && sizeof(HCS_CALLBACK) == 8, "handles are pointers");
HCS_STATIC_ASSERT(sizeof(HCS_OPERATION_TYPE) == 4, "HCS_OPERATION_TYPE is 4 bytes");
HCS_STATIC_ASSERT((int)HcsOperationTypeNone == -1, "HCS_OPERATION_TYPE is signed");
HCS_STATIC_ASSERT(sizeof(HCS_EVENT_TYPE) == 4, "HCS_EVENT_TYPE is 4 bytes despite values above INT_MAX");
HCS_STATIC_ASSERT((uint32_t)HcsEventGroupOperationInfo == 0xC0000001u, "HcsEventGroupOperationInfo");
HCS_STATIC_ASSERT(sizeof(HCS_EVENT_OPTIONS) == 4, "HCS_EVENT_OPTIONS is 4 bytes");
HCS_STATIC_ASSERT(sizeof(HCS_OPERATION_OPTIONS) == 4, "HCS_OPERATION_OPTIONS is 4 bytes");
HCS_STATIC_ASSERT(sizeof(HCS_RESOURCE_TYPE) == 4, "HCS_RESOURCE_TYPE is 4 bytes");
HCS_STATIC_ASSERT(sizeof(HCS_NOTIFICATION_FLAGS) == 4, "HCS_NOTIFICATION_FLAGS is 4 bytes");
HCS_STATIC_ASSERT(sizeof(HCS_NOTIFICATIONS) == 4, "HCS_NOTIFICATIONS is 4 bytes");
HCS_STATIC_ASSERT(sizeof(HCS_CREATE_OPTIONS) == 4, "HCS_CREATE_OPTIONS is 4 bytes");

HCS_STATIC_ASSERT(sizeof(HCS_EVENT) == 24, "HCS_EVENT is 24 bytes");
HCS_STATIC_ASSERT(offsetof(HCS_EVENT, Type) == 0, "HCS_EVENT.Type at 0");
HCS_STATIC_ASSERT(offsetof(HCS_EVENT, EventData) == 8, "HCS_EVENT.EventData at 8");
HCS_STATIC_ASSERT(offsetof(HCS_EVENT, Operation) == 16, "HCS_EVENT.Operation at 16");

HCS_STATIC_ASSERT(sizeof(HCS_PROCESS_INFORMATION) == 32, "HCS_PROCESS_INFORMATION is 32 bytes");
HCS_STATIC_ASSERT(offsetof(HCS_PROCESS_INFORMATION, ProcessId) == 0, "HCS_PROCESS_INFORMATION.ProcessId at 0");
HCS_STATIC_ASSERT(offsetof(HCS_PROCESS_INFORMATION, Reserved) == 4, "HCS_PROCESS_INFORMATION.Reserved at 4");
HCS_STATIC_ASSERT(offsetof(HCS_PROCESS_INFORMATION, StdInput) == 8, "HCS_PROCESS_INFORMATION.StdInput at 8");
HCS_STATIC_ASSERT(offsetof(HCS_PROCESS_INFORMATION, StdOutput) == 16, "HCS_PROCESS_INFORMATION.StdOutput at 16");
HCS_STATIC_ASSERT(offsetof(HCS_PROCESS_INFORMATION, StdError) == 24, "HCS_PROCESS_INFORMATION.StdError at 24");

HCS_STATIC_ASSERT(sizeof(HCS_CREATE_OPTIONS_1) == 48, "HCS_CREATE_OPTIONS_1 is 48 bytes");
HCS_STATIC_ASSERT(offsetof(HCS_CREATE_OPTIONS_1, Version) == 0, "HCS_CREATE_OPTIONS_1.Version at 0");
HCS_STATIC_ASSERT(offsetof(HCS_CREATE_OPTIONS_1, UserToken) == 8, "HCS_CREATE_OPTIONS_1.UserToken at 8");
HCS_STATIC_ASSERT(offsetof(HCS_CREATE_OPTIONS_1, SecurityDescriptor) == 16,
    "HCS_CREATE_OPTIONS_1.SecurityDescriptor at 16");
HCS_STATIC_ASSERT(offsetof(HCS_CREATE_OPTIONS_1, CallbackOptions) == 24, "HCS_CREATE_OPTIONS_1.CallbackOptions at 24");
HCS_STATIC_ASSERT(offsetof(HCS_CREATE_OPTIONS_1, CallbackContext) == 32, "HCS_CREATE_OPTIONS_1.CallbackContext at 32");
HCS_STATIC_ASSERT(offsetof(HCS_CREATE_OPTIONS_1, Callback) == 40, "HCS_CREATE_OPTIONS_1.Callback at 40");

#ifdef __cplusplus
} /* extern "C" */
#endif

/* Flag operators for the two flag enums (C++; no-ops in C). */
DEFINE_ENUM_FLAG_OPERATORS(HCS_EVENT_OPTIONS)
DEFINE_ENUM_FLAG_OPERATORS(HCS_OPERATION_OPTIONS)

#endif /* HCS_LINUX_COMPUTEDEFS_H */
