// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Contracts;
using Hcs.Schema;

namespace Hcs.Client;

/// <summary>
/// What <c>HCS_CREATE_OPTIONS_1</c> carries on Linux: the event callback to register with the create, so that no event
/// of the new system is missed. (Windows' user token and security descriptor have no equivalent: hcsd acts with the
/// credentials of the connected caller.)
/// </summary>
public sealed record HcsCreateOptions
{
    /// <summary>The callback's options (<see cref="HcsEventOptions.EnableOperationCallbacks"/> or none).</summary>
    public HcsEventOptions CallbackOptions { get; init; }

    /// <summary>The context the callback gets.</summary>
    public object? CallbackContext { get; init; }

    /// <summary>The event callback, or null to register none.</summary>
    public HcsEventCallback? Callback { get; init; }
}

/// <summary>The <c>…InNamespace</c> functions: hcs has one namespace, named by null or the empty string.</summary>
public static partial class ComputeCore
{
    /// <summary>
    /// <see cref="HcsEnumerateComputeSystems"/> in <paramref name="idNamespace"/>; any namespace but null or empty →
    /// <c>E_INVALIDARG</c> (the operation stays not started).
    /// </summary>
    public static int HcsEnumerateComputeSystemsInNamespace(string? idNamespace, string? query, HcsOperation? operation) =>
        operation is null || !IsTheNamespace(idNamespace) ? HResults.E_INVALIDARG : HcsEnumerateComputeSystems(query, operation);

    /// <summary><see cref="HcsOpenComputeSystem"/> in <paramref name="idNamespace"/>; any namespace but null or empty → <c>E_INVALIDARG</c>.</summary>
    public static int HcsOpenComputeSystemInNamespace(string? idNamespace, string id, uint requestedAccess, out HcsSystem? computeSystem)
    {
        computeSystem = null;
        return IsTheNamespace(idNamespace) ? HcsOpenComputeSystem(id, requestedAccess, out computeSystem) : HResults.E_INVALIDARG;
    }

    /// <summary>
    /// <see cref="HcsCreateComputeSystem"/> in <paramref name="idNamespace"/> (null or empty; anything else →
    /// <c>E_INVALIDARG</c>), registering <paramref name="options"/>' event callback on the new handle before this call
    /// returns and before the create operation can complete: with <see cref="HcsEventOptions.EnableOperationCallbacks"/>
    /// the create's own completion arrives as <see cref="HcsEventType.OperationCallback"/> (an operation with its own
    /// completion callback is then refused with <c>HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET</c>), and a system that
    /// exits during construction delivers <see cref="HcsEventType.SystemExited"/>. Callback options other than that flag
    /// → <c>ERROR_NOT_SUPPORTED</c>; options without a callback → <c>E_INVALIDARG</c>. If the registration itself fails
    /// (the service went away after creating the system), the new handle is closed, the call and the operation fail with
    /// that HRESULT, and the system, if it still exists, can be opened by its id.
    /// </summary>
    public static int HcsCreateComputeSystemInNamespace(string? idNamespace, string id, string configuration, HcsOperation? operation,
        HcsCreateOptions? options, out HcsSystem? computeSystem)
    {
        computeSystem = null;
        if (operation is null || id is null || configuration is null || !IsTheNamespace(idNamespace))
        {
            return HResults.E_INVALIDARG;
        }

        if (options?.Callback is not { } callback)
        {
            return options is not null && options.CallbackOptions != HcsEventOptions.None
                ? HResults.E_INVALIDARG
                : HcsCreateComputeSystem(id, configuration, operation, null, out computeSystem);
        }

        if ((options.CallbackOptions & ~HcsEventOptions.EnableOperationCallbacks) != 0)
        {
            return HResults.ERROR_NOT_SUPPORTED;
        }

        var viaEvents = (options.CallbackOptions & HcsEventOptions.EnableOperationCallbacks) != 0;
        if (viaEvents && operation.HasCompletionCallback)
        {
            return HResults.HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET;
        }

        return CreateAndRun(id, configuration, operation, system =>
        {
            var hr = system.SetCallback(options.CallbackOptions, options.CallbackContext, callback);
            if (hr >= 0 && viaEvents)
            {
                operation.AttachSystem(system);
            }

            return hr;
        }, out computeSystem);
    }

    private static bool IsTheNamespace(string? idNamespace) => string.IsNullOrEmpty(idNamespace);
}
