// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;

namespace Hcs.ComputeCore;

/// <summary>
/// <c>BOOLEAN IsHcs&lt;Name&gt;Present(void)</c> for each of the 60 functions (the SDK's ApiSet query routines): TRUE
/// exactly for the functions hcs implements, FALSE for the ones that only answer their documented refusal
/// (docs/c-api.md, "Functions"), in <c>computecore.h</c> order.
/// </summary>
internal static partial class Exports
{
    /// <summary><c>IsHcsCreateOperationPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsCreateOperationPresent")]
    public static byte IsHcsCreateOperationPresent() => 1;

    /// <summary><c>IsHcsCreateOperationWithNotificationsPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsCreateOperationWithNotificationsPresent")]
    public static byte IsHcsCreateOperationWithNotificationsPresent() => 1;

    /// <summary><c>IsHcsCloseOperationPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsCloseOperationPresent")]
    public static byte IsHcsCloseOperationPresent() => 1;

    /// <summary><c>IsHcsGetOperationContextPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsGetOperationContextPresent")]
    public static byte IsHcsGetOperationContextPresent() => 1;

    /// <summary><c>IsHcsSetOperationContextPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsSetOperationContextPresent")]
    public static byte IsHcsSetOperationContextPresent() => 1;

    /// <summary><c>IsHcsGetComputeSystemFromOperationPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsGetComputeSystemFromOperationPresent")]
    public static byte IsHcsGetComputeSystemFromOperationPresent() => 1;

    /// <summary><c>IsHcsGetProcessFromOperationPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsGetProcessFromOperationPresent")]
    public static byte IsHcsGetProcessFromOperationPresent() => 1;

    /// <summary><c>IsHcsGetOperationTypePresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsGetOperationTypePresent")]
    public static byte IsHcsGetOperationTypePresent() => 1;

    /// <summary><c>IsHcsGetOperationIdPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsGetOperationIdPresent")]
    public static byte IsHcsGetOperationIdPresent() => 1;

    /// <summary><c>IsHcsGetOperationResultPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsGetOperationResultPresent")]
    public static byte IsHcsGetOperationResultPresent() => 1;

    /// <summary><c>IsHcsGetOperationResultAndProcessInfoPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsGetOperationResultAndProcessInfoPresent")]
    public static byte IsHcsGetOperationResultAndProcessInfoPresent() => 1;

    /// <summary><c>IsHcsAddResourceToOperationPresent</c>: FALSE (refused with its documented HRESULT).</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsAddResourceToOperationPresent")]
    public static byte IsHcsAddResourceToOperationPresent() => 0;

    /// <summary><c>IsHcsGetProcessorCompatibilityFromSavedStatePresent</c>: FALSE (refused with its documented HRESULT).</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsGetProcessorCompatibilityFromSavedStatePresent")]
    public static byte IsHcsGetProcessorCompatibilityFromSavedStatePresent() => 0;

    /// <summary><c>IsHcsWaitForOperationResultPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsWaitForOperationResultPresent")]
    public static byte IsHcsWaitForOperationResultPresent() => 1;

    /// <summary><c>IsHcsWaitForOperationResultAndProcessInfoPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsWaitForOperationResultAndProcessInfoPresent")]
    public static byte IsHcsWaitForOperationResultAndProcessInfoPresent() => 1;

    /// <summary><c>IsHcsSetOperationCallbackPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsSetOperationCallbackPresent")]
    public static byte IsHcsSetOperationCallbackPresent() => 1;

    /// <summary><c>IsHcsCancelOperationPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsCancelOperationPresent")]
    public static byte IsHcsCancelOperationPresent() => 1;

    /// <summary><c>IsHcsGetOperationPropertiesPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsGetOperationPropertiesPresent")]
    public static byte IsHcsGetOperationPropertiesPresent() => 1;

    /// <summary><c>IsHcsEnumerateComputeSystemsPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsEnumerateComputeSystemsPresent")]
    public static byte IsHcsEnumerateComputeSystemsPresent() => 1;

    /// <summary><c>IsHcsEnumerateComputeSystemsInNamespacePresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsEnumerateComputeSystemsInNamespacePresent")]
    public static byte IsHcsEnumerateComputeSystemsInNamespacePresent() => 1;

    /// <summary><c>IsHcsCreateComputeSystemPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsCreateComputeSystemPresent")]
    public static byte IsHcsCreateComputeSystemPresent() => 1;

    /// <summary><c>IsHcsCreateComputeSystemInNamespacePresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsCreateComputeSystemInNamespacePresent")]
    public static byte IsHcsCreateComputeSystemInNamespacePresent() => 1;

    /// <summary><c>IsHcsOpenComputeSystemPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsOpenComputeSystemPresent")]
    public static byte IsHcsOpenComputeSystemPresent() => 1;

    /// <summary><c>IsHcsOpenComputeSystemInNamespacePresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsOpenComputeSystemInNamespacePresent")]
    public static byte IsHcsOpenComputeSystemInNamespacePresent() => 1;

    /// <summary><c>IsHcsCloseComputeSystemPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsCloseComputeSystemPresent")]
    public static byte IsHcsCloseComputeSystemPresent() => 1;

    /// <summary><c>IsHcsStartComputeSystemPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsStartComputeSystemPresent")]
    public static byte IsHcsStartComputeSystemPresent() => 1;

    /// <summary><c>IsHcsShutDownComputeSystemPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsShutDownComputeSystemPresent")]
    public static byte IsHcsShutDownComputeSystemPresent() => 1;

    /// <summary><c>IsHcsTerminateComputeSystemPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsTerminateComputeSystemPresent")]
    public static byte IsHcsTerminateComputeSystemPresent() => 1;

    /// <summary><c>IsHcsCrashComputeSystemPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsCrashComputeSystemPresent")]
    public static byte IsHcsCrashComputeSystemPresent() => 1;

    /// <summary><c>IsHcsPauseComputeSystemPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsPauseComputeSystemPresent")]
    public static byte IsHcsPauseComputeSystemPresent() => 1;

    /// <summary><c>IsHcsResumeComputeSystemPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsResumeComputeSystemPresent")]
    public static byte IsHcsResumeComputeSystemPresent() => 1;

    /// <summary><c>IsHcsSaveComputeSystemPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsSaveComputeSystemPresent")]
    public static byte IsHcsSaveComputeSystemPresent() => 1;

    /// <summary><c>IsHcsGetComputeSystemPropertiesPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsGetComputeSystemPropertiesPresent")]
    public static byte IsHcsGetComputeSystemPropertiesPresent() => 1;

    /// <summary><c>IsHcsModifyComputeSystemPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsModifyComputeSystemPresent")]
    public static byte IsHcsModifyComputeSystemPresent() => 1;

    /// <summary><c>IsHcsWaitForComputeSystemExitPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsWaitForComputeSystemExitPresent")]
    public static byte IsHcsWaitForComputeSystemExitPresent() => 1;

    /// <summary><c>IsHcsSetComputeSystemCallbackPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsSetComputeSystemCallbackPresent")]
    public static byte IsHcsSetComputeSystemCallbackPresent() => 1;

    /// <summary><c>IsHcsInitializeLiveMigrationOnSourcePresent</c>: FALSE (refused with its documented HRESULT).</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsInitializeLiveMigrationOnSourcePresent")]
    public static byte IsHcsInitializeLiveMigrationOnSourcePresent() => 0;

    /// <summary><c>IsHcsStartLiveMigrationOnSourcePresent</c>: FALSE (refused with its documented HRESULT).</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsStartLiveMigrationOnSourcePresent")]
    public static byte IsHcsStartLiveMigrationOnSourcePresent() => 0;

    /// <summary><c>IsHcsStartLiveMigrationTransferPresent</c>: FALSE (refused with its documented HRESULT).</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsStartLiveMigrationTransferPresent")]
    public static byte IsHcsStartLiveMigrationTransferPresent() => 0;

    /// <summary><c>IsHcsFinalizeLiveMigrationPresent</c>: FALSE (refused with its documented HRESULT).</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsFinalizeLiveMigrationPresent")]
    public static byte IsHcsFinalizeLiveMigrationPresent() => 0;

    /// <summary><c>IsHcsCancelLiveMigrationPresent</c>: FALSE (refused with its documented HRESULT).</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsCancelLiveMigrationPresent")]
    public static byte IsHcsCancelLiveMigrationPresent() => 0;

    /// <summary><c>IsHcsCreateProcessPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsCreateProcessPresent")]
    public static byte IsHcsCreateProcessPresent() => 1;

    /// <summary><c>IsHcsOpenProcessPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsOpenProcessPresent")]
    public static byte IsHcsOpenProcessPresent() => 1;

    /// <summary><c>IsHcsCloseProcessPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsCloseProcessPresent")]
    public static byte IsHcsCloseProcessPresent() => 1;

    /// <summary><c>IsHcsTerminateProcessPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsTerminateProcessPresent")]
    public static byte IsHcsTerminateProcessPresent() => 1;

    /// <summary><c>IsHcsSignalProcessPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsSignalProcessPresent")]
    public static byte IsHcsSignalProcessPresent() => 1;

    /// <summary><c>IsHcsGetProcessInfoPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsGetProcessInfoPresent")]
    public static byte IsHcsGetProcessInfoPresent() => 1;

    /// <summary><c>IsHcsGetProcessPropertiesPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsGetProcessPropertiesPresent")]
    public static byte IsHcsGetProcessPropertiesPresent() => 1;

    /// <summary><c>IsHcsModifyProcessPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsModifyProcessPresent")]
    public static byte IsHcsModifyProcessPresent() => 1;

    /// <summary><c>IsHcsSetProcessCallbackPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsSetProcessCallbackPresent")]
    public static byte IsHcsSetProcessCallbackPresent() => 1;

    /// <summary><c>IsHcsWaitForProcessExitPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsWaitForProcessExitPresent")]
    public static byte IsHcsWaitForProcessExitPresent() => 1;

    /// <summary><c>IsHcsGetServicePropertiesPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsGetServicePropertiesPresent")]
    public static byte IsHcsGetServicePropertiesPresent() => 1;

    /// <summary><c>IsHcsModifyServiceSettingsPresent</c>: FALSE (refused with its documented HRESULT).</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsModifyServiceSettingsPresent")]
    public static byte IsHcsModifyServiceSettingsPresent() => 0;

    /// <summary><c>IsHcsSubmitWerReportPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsSubmitWerReportPresent")]
    public static byte IsHcsSubmitWerReportPresent() => 1;

    /// <summary><c>IsHcsCreateEmptyGuestStateFilePresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsCreateEmptyGuestStateFilePresent")]
    public static byte IsHcsCreateEmptyGuestStateFilePresent() => 1;

    /// <summary><c>IsHcsCreateEmptyRuntimeStateFilePresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsCreateEmptyRuntimeStateFilePresent")]
    public static byte IsHcsCreateEmptyRuntimeStateFilePresent() => 1;

    /// <summary><c>IsHcsGrantVmAccessPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsGrantVmAccessPresent")]
    public static byte IsHcsGrantVmAccessPresent() => 1;

    /// <summary><c>IsHcsRevokeVmAccessPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsRevokeVmAccessPresent")]
    public static byte IsHcsRevokeVmAccessPresent() => 1;

    /// <summary><c>IsHcsGrantVmGroupAccessPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsGrantVmGroupAccessPresent")]
    public static byte IsHcsGrantVmGroupAccessPresent() => 1;

    /// <summary><c>IsHcsRevokeVmGroupAccessPresent</c>: TRUE.</summary>
    [UnmanagedCallersOnly(EntryPoint = "IsHcsRevokeVmGroupAccessPresent")]
    public static byte IsHcsRevokeVmGroupAccessPresent() => 1;
}
