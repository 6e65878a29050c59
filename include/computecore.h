/* Copyright (c) hcs contributors. Licensed under the MIT licence.
 * computecore.h for Linux (hcs): the Host Compute Service C API, with the function names, parameter orders and
 * types of Microsoft's ComputeCore.h, implemented by libcomputecore.so (link with -lcomputecore, or
 * `pkg-config --cflags --libs computecore`). docs/c-api.md describes the behaviour and the Linux differences.
 *
 * Conventions: strings are PCWSTR in (UTF-32, native wchar_t) and PWSTR* out; free every returned string with
 * LocalFree. Asynchronous calls take an HCS_OPERATION and report their result through it. Callbacks run on library
 * threads and must not throw. */
#ifndef HCS_LINUX_COMPUTECORE_H
#define HCS_LINUX_COMPUTECORE_H

#include "computedefs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Operations ---- */

/* Returns NULL if the operation could not be allocated. Close with HcsCloseOperation. */
HCS_OPERATION WINAPI HcsCreateOperation(_In_opt_ const void* context, _In_opt_ HCS_OPERATION_COMPLETION callback);

HCS_OPERATION WINAPI HcsCreateOperationWithNotifications(
    _In_ HCS_OPERATION_OPTIONS eventTypes, _In_opt_ const void* context, _In_ HCS_EVENT_CALLBACK callback);

void WINAPI HcsCloseOperation(_In_ HCS_OPERATION operation);

void* WINAPI HcsGetOperationContext(_In_ HCS_OPERATION operation);

HRESULT WINAPI HcsSetOperationContext(_In_ HCS_OPERATION operation, _In_opt_ const void* context);

HCS_SYSTEM WINAPI HcsGetComputeSystemFromOperation(_In_ HCS_OPERATION operation);

HCS_PROCESS WINAPI HcsGetProcessFromOperation(_In_ HCS_OPERATION operation);

HCS_OPERATION_TYPE WINAPI HcsGetOperationType(_In_ HCS_OPERATION operation);

/* HCS_INVALID_OPERATION_ID for an invalid operation. */
UINT64 WINAPI HcsGetOperationId(_In_ HCS_OPERATION operation);

HRESULT WINAPI HcsGetOperationResult(_In_ HCS_OPERATION operation, _Outptr_opt_ PWSTR* resultDocument);

HRESULT WINAPI HcsGetOperationResultAndProcessInfo(_In_ HCS_OPERATION operation,
    _Out_opt_ HCS_PROCESS_INFORMATION* processInformation, _Outptr_opt_ PWSTR* resultDocument);

HRESULT WINAPI HcsAddResourceToOperation(
    _In_ HCS_OPERATION operation, _In_ HCS_RESOURCE_TYPE type, _In_ PCWSTR uri, _In_ HANDLE handle);

/* Synchronous. The returned string is freed with LocalFree, like every other string the library returns. */
HRESULT WINAPI HcsGetProcessorCompatibilityFromSavedState(
    _In_ PCWSTR RuntimeFileName, _Outptr_opt_ PCWSTR* ProcessorFeaturesString);

HRESULT WINAPI HcsWaitForOperationResult(
    _In_ HCS_OPERATION operation, _In_ DWORD timeoutMs, _Outptr_opt_ PWSTR* resultDocument);

HRESULT WINAPI HcsWaitForOperationResultAndProcessInfo(_In_ HCS_OPERATION operation, _In_ DWORD timeoutMs,
    _Out_opt_ HCS_PROCESS_INFORMATION* processInformation, _Outptr_opt_ PWSTR* resultDocument);

HRESULT WINAPI HcsSetOperationCallback(
    _In_ HCS_OPERATION operation, _In_opt_ const void* context, _In_ HCS_OPERATION_COMPLETION callback);

HRESULT WINAPI HcsCancelOperation(_In_ HCS_OPERATION operation);

HRESULT WINAPI HcsGetOperationProperties(
    _In_ HCS_OPERATION operation, _In_ PCWSTR options, _Outptr_ PWSTR* resultDocument);

HRESULT WINAPI HcsEnumerateComputeSystems(_In_opt_ PCWSTR query, _In_ HCS_OPERATION operation);

HRESULT WINAPI HcsEnumerateComputeSystemsInNamespace(
    _In_ PCWSTR idNamespace, _In_opt_ PCWSTR query, _In_ HCS_OPERATION operation);

/* ---- Compute systems ---- */

/* securityDescriptor must be NULL on Linux. */
HRESULT WINAPI HcsCreateComputeSystem(_In_ PCWSTR id, _In_ PCWSTR configuration, _In_ HCS_OPERATION operation,
    _In_opt_ const SECURITY_DESCRIPTOR* securityDescriptor, _Out_ HCS_SYSTEM* computeSystem);

HRESULT WINAPI HcsCreateComputeSystemInNamespace(_In_ PCWSTR idNamespace, _In_ PCWSTR id,
    _In_ PCWSTR configuration, _In_ HCS_OPERATION operation, _In_opt_ const HCS_CREATE_OPTIONS* options,
    _Out_ HCS_SYSTEM* computeSystem);

HRESULT WINAPI HcsOpenComputeSystem(_In_ PCWSTR id, _In_ DWORD requestedAccess, _Out_ HCS_SYSTEM* computeSystem);

HRESULT WINAPI HcsOpenComputeSystemInNamespace(
    _In_ PCWSTR idNamespace, _In_ PCWSTR id, _In_ DWORD requestedAccess, _Out_ HCS_SYSTEM* computeSystem);

void WINAPI HcsCloseComputeSystem(_In_ HCS_SYSTEM computeSystem);

HRESULT WINAPI HcsStartComputeSystem(
    _In_ HCS_SYSTEM computeSystem, _In_ HCS_OPERATION operation, _In_opt_ PCWSTR options);

HRESULT WINAPI HcsShutDownComputeSystem(
    _In_ HCS_SYSTEM computeSystem, _In_ HCS_OPERATION operation, _In_opt_ PCWSTR options);

HRESULT WINAPI HcsTerminateComputeSystem(
    _In_ HCS_SYSTEM computeSystem, _In_ HCS_OPERATION operation, _In_opt_ PCWSTR options);

HRESULT WINAPI HcsCrashComputeSystem(
    _In_ HCS_SYSTEM computeSystem, _In_ HCS_OPERATION operation, _In_opt_ PCWSTR options);

HRESULT WINAPI HcsPauseComputeSystem(
    _In_ HCS_SYSTEM computeSystem, _In_ HCS_OPERATION operation, _In_opt_ PCWSTR options);

HRESULT WINAPI HcsResumeComputeSystem(
    _In_ HCS_SYSTEM computeSystem, _In_ HCS_OPERATION operation, _In_opt_ PCWSTR options);

HRESULT WINAPI HcsSaveComputeSystem(
    _In_ HCS_SYSTEM computeSystem, _In_ HCS_OPERATION operation, _In_opt_ PCWSTR options);

HRESULT WINAPI HcsGetComputeSystemProperties(
    _In_ HCS_SYSTEM computeSystem, _In_ HCS_OPERATION operation, _In_opt_ PCWSTR propertyQuery);

HRESULT WINAPI HcsModifyComputeSystem(_In_ HCS_SYSTEM computeSystem, _In_ HCS_OPERATION operation,
    _In_ PCWSTR configuration, _In_opt_ HANDLE identity);

HRESULT WINAPI HcsWaitForComputeSystemExit(
    _In_ HCS_SYSTEM computeSystem, _In_ DWORD timeoutMs, _Outptr_opt_ PWSTR* result);

HRESULT WINAPI HcsSetComputeSystemCallback(_In_ HCS_SYSTEM computeSystem, _In_ HCS_EVENT_OPTIONS callbackOptions,
    _In_opt_ const void* context, _In_ HCS_EVENT_CALLBACK callback);

/* ---- Live migration ---- */

HRESULT WINAPI HcsInitializeLiveMigrationOnSource(
    _In_ HCS_SYSTEM computeSystem, _In_ HCS_OPERATION operation, _In_opt_ PCWSTR options);

HRESULT WINAPI HcsStartLiveMigrationOnSource(
    _In_ HCS_SYSTEM computeSystem, _In_ HCS_OPERATION operation, _In_opt_ PCWSTR options);

HRESULT WINAPI HcsStartLiveMigrationTransfer(
    _In_ HCS_SYSTEM computeSystem, _In_ HCS_OPERATION operation, _In_opt_ PCWSTR options);

HRESULT WINAPI HcsFinalizeLiveMigration(
    _In_ HCS_SYSTEM computeSystem, _In_ HCS_OPERATION operation, _In_opt_ PCWSTR options);

/* Not in the published SDK header; hcsshim binds it (2026-08). */
HRESULT WINAPI HcsCancelLiveMigration(
    _In_ HCS_SYSTEM computeSystem, _In_ HCS_OPERATION operation, _In_opt_ PCWSTR options);

/* ---- Processes ---- */

/* securityDescriptor must be NULL on Linux. */
HRESULT WINAPI HcsCreateProcess(_In_ HCS_SYSTEM computeSystem, _In_ PCWSTR processParameters,
    _In_ HCS_OPERATION operation, _In_opt_ const SECURITY_DESCRIPTOR* securityDescriptor,
    _Out_ HCS_PROCESS* process);

HRESULT WINAPI HcsOpenProcess(
    _In_ HCS_SYSTEM computeSystem, _In_ DWORD processId, _In_ DWORD requestedAccess, _Out_ HCS_PROCESS* process);

void WINAPI HcsCloseProcess(_In_ HCS_PROCESS process);

HRESULT WINAPI HcsTerminateProcess(_In_ HCS_PROCESS process, _In_ HCS_OPERATION operation, _In_opt_ PCWSTR options);

HRESULT WINAPI HcsSignalProcess(_In_ HCS_PROCESS process, _In_ HCS_OPERATION operation, _In_opt_ PCWSTR options);

HRESULT WINAPI HcsGetProcessInfo(_In_ HCS_PROCESS process, _In_ HCS_OPERATION operation);

HRESULT WINAPI HcsGetProcessProperties(
    _In_ HCS_PROCESS process, _In_ HCS_OPERATION operation, _In_opt_ PCWSTR propertyQuery);

HRESULT WINAPI HcsModifyProcess(_In_ HCS_PROCESS process, _In_ HCS_OPERATION operation, _In_ PCWSTR settings);

/* context is `void*` here (not const), as in the SDK. */
HRESULT WINAPI HcsSetProcessCallback(_In_ HCS_PROCESS process, _In_ HCS_EVENT_OPTIONS callbackOptions,
    _In_opt_ void* context, _In_ HCS_EVENT_CALLBACK callback);

HRESULT WINAPI HcsWaitForProcessExit(_In_ HCS_PROCESS computeSystem, _In_ DWORD timeoutMs,
    _Outptr_opt_ PWSTR* result);

/* ---- Service ---- */

HRESULT WINAPI HcsGetServiceProperties(_In_opt_ PCWSTR propertyQuery, _Outptr_ PWSTR* result);

HRESULT WINAPI HcsModifyServiceSettings(_In_ PCWSTR settings, _Outptr_opt_ PWSTR* result);

HRESULT WINAPI HcsSubmitWerReport(_In_ PCWSTR settings);

/* ---- VM utilities (synchronous) ---- */

HRESULT WINAPI HcsCreateEmptyGuestStateFile(_In_ PCWSTR guestStateFilePath);

HRESULT WINAPI HcsCreateEmptyRuntimeStateFile(_In_ PCWSTR runtimeStateFilePath);

HRESULT WINAPI HcsGrantVmAccess(_In_ PCWSTR vmId, _In_ PCWSTR filePath);

HRESULT WINAPI HcsRevokeVmAccess(_In_ PCWSTR vmId, _In_ PCWSTR filePath);

HRESULT WINAPI HcsGrantVmGroupAccess(_In_ PCWSTR filePath);

HRESULT WINAPI HcsRevokeVmGroupAccess(_In_ PCWSTR filePath);

/* ---- Feature detection: TRUE when this library implements the function (the SDK's ApiSet query routines). ---- */

BOOLEAN WINAPI IsHcsCreateOperationPresent(void);
BOOLEAN WINAPI IsHcsCreateOperationWithNotificationsPresent(void);
BOOLEAN WINAPI IsHcsCloseOperationPresent(void);
BOOLEAN WINAPI IsHcsGetOperationContextPresent(void);
BOOLEAN WINAPI IsHcsSetOperationContextPresent(void);
BOOLEAN WINAPI IsHcsGetComputeSystemFromOperationPresent(void);
BOOLEAN WINAPI IsHcsGetProcessFromOperationPresent(void);
BOOLEAN WINAPI IsHcsGetOperationTypePresent(void);
BOOLEAN WINAPI IsHcsGetOperationIdPresent(void);
BOOLEAN WINAPI IsHcsGetOperationResultPresent(void);
BOOLEAN WINAPI IsHcsGetOperationResultAndProcessInfoPresent(void);
BOOLEAN WINAPI IsHcsAddResourceToOperationPresent(void);
BOOLEAN WINAPI IsHcsGetProcessorCompatibilityFromSavedStatePresent(void);
BOOLEAN WINAPI IsHcsWaitForOperationResultPresent(void);
BOOLEAN WINAPI IsHcsWaitForOperationResultAndProcessInfoPresent(void);
BOOLEAN WINAPI IsHcsSetOperationCallbackPresent(void);
BOOLEAN WINAPI IsHcsCancelOperationPresent(void);
BOOLEAN WINAPI IsHcsGetOperationPropertiesPresent(void);
BOOLEAN WINAPI IsHcsEnumerateComputeSystemsPresent(void);
BOOLEAN WINAPI IsHcsEnumerateComputeSystemsInNamespacePresent(void);
BOOLEAN WINAPI IsHcsCreateComputeSystemPresent(void);
BOOLEAN WINAPI IsHcsCreateComputeSystemInNamespacePresent(void);
BOOLEAN WINAPI IsHcsOpenComputeSystemPresent(void);
BOOLEAN WINAPI IsHcsOpenComputeSystemInNamespacePresent(void);
BOOLEAN WINAPI IsHcsCloseComputeSystemPresent(void);
BOOLEAN WINAPI IsHcsStartComputeSystemPresent(void);
BOOLEAN WINAPI IsHcsShutDownComputeSystemPresent(void);
BOOLEAN WINAPI IsHcsTerminateComputeSystemPresent(void);
BOOLEAN WINAPI IsHcsCrashComputeSystemPresent(void);
BOOLEAN WINAPI IsHcsPauseComputeSystemPresent(void);
BOOLEAN WINAPI IsHcsResumeComputeSystemPresent(void);
BOOLEAN WINAPI IsHcsSaveComputeSystemPresent(void);
BOOLEAN WINAPI IsHcsGetComputeSystemPropertiesPresent(void);
BOOLEAN WINAPI IsHcsModifyComputeSystemPresent(void);
BOOLEAN WINAPI IsHcsWaitForComputeSystemExitPresent(void);
BOOLEAN WINAPI IsHcsSetComputeSystemCallbackPresent(void);
BOOLEAN WINAPI IsHcsInitializeLiveMigrationOnSourcePresent(void);
BOOLEAN WINAPI IsHcsStartLiveMigrationOnSourcePresent(void);
BOOLEAN WINAPI IsHcsStartLiveMigrationTransferPresent(void);
BOOLEAN WINAPI IsHcsFinalizeLiveMigrationPresent(void);
BOOLEAN WINAPI IsHcsCancelLiveMigrationPresent(void);
BOOLEAN WINAPI IsHcsCreateProcessPresent(void);
BOOLEAN WINAPI IsHcsOpenProcessPresent(void);
BOOLEAN WINAPI IsHcsCloseProcessPresent(void);
BOOLEAN WINAPI IsHcsTerminateProcessPresent(void);
BOOLEAN WINAPI IsHcsSignalProcessPresent(void);
BOOLEAN WINAPI IsHcsGetProcessInfoPresent(void);
BOOLEAN WINAPI IsHcsGetProcessPropertiesPresent(void);
BOOLEAN WINAPI IsHcsModifyProcessPresent(void);
BOOLEAN WINAPI IsHcsSetProcessCallbackPresent(void);
BOOLEAN WINAPI IsHcsWaitForProcessExitPresent(void);
BOOLEAN WINAPI IsHcsGetServicePropertiesPresent(void);
BOOLEAN WINAPI IsHcsModifyServiceSettingsPresent(void);
BOOLEAN WINAPI IsHcsSubmitWerReportPresent(void);
BOOLEAN WINAPI IsHcsCreateEmptyGuestStateFilePresent(void);
BOOLEAN WINAPI IsHcsCreateEmptyRuntimeStateFilePresent(void);
BOOLEAN WINAPI IsHcsGrantVmAccessPresent(void);
BOOLEAN WINAPI IsHcsRevokeVmAccessPresent(void);
BOOLEAN WINAPI IsHcsGrantVmGroupAccessPresent(void);
BOOLEAN WINAPI IsHcsRevokeVmGroupAccessPresent(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

/* C++: the RAII aliases unique_hcs_operation/_system/_process when <wil/resource.h> is (or later gets) included. */
#ifdef __cplusplus
#include "wil/hcs_unique.h"
#endif

#endif /* HCS_LINUX_COMPUTECORE_H */
