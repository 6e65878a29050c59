// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Hcs.Client;
using Hcs.Schema;
using static Hcs.Client.ComputeCore;

namespace Hcs.ComputeCore;

/// <summary>
/// The rest of <c>computecore.h</c>: operations with event notifications, operation properties, the namespace
/// variants, and the functions hcs refuses with a documented HRESULT after checking their arguments (docs/c-api.md,
/// "Functions").
/// </summary>
internal static unsafe partial class Exports
{
    private const uint HcsCreateOptions1 = 0x00010000;
    private const int HcsResourceTypeSocket = 4;

    /// <summary>
    /// <c>HcsCreateOperationWithNotifications</c>: an operation whose completion reaches <paramref name="callback"/> as
    /// <c>HcsEventOperationCallback</c>. NULL (and <c>GetLastError</c> = <c>ERROR_INVALID_PARAMETER</c>) for a NULL
    /// callback or an option other than <c>HcsOperationOptionProgressUpdate</c>, which is accepted but produces no
    /// events (no hcs operation reports progress).
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsCreateOperationWithNotifications")]
    public static nint CreateOperationWithNotifications(uint eventTypes, nint context, nint callback)
    {
        try
        {
            if (callback == 0 || (eventTypes & ~OperationEvents.ProgressUpdate) != 0)
            {
                Win32Objects.LastError = Win32Objects.ErrorInvalidParameter;
                return 0;
            }

            return NativeOperation.Create(context, callback, events: true).Handle;
        }
        catch (Exception)
        {
            Win32Objects.LastError = Win32Objects.ErrorNotEnoughMemory;
            return 0;
        }
    }

    /// <summary>
    /// <c>HcsGetOperationProperties</c>: <c>{"Id":N,"Type":"Create","State":"NotStarted|Pending|Completed"}</c>, plus
    /// <c>"Result"</c> (the HRESULT) once completed. <paramref name="options"/> is NULL, empty or <c>{}</c>; anything
    /// else is <c>HCS_E_INVALID_JSON</c> with a <c>ResultError</c> naming the JSON path.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsGetOperationProperties")]
    public static int GetOperationProperties(nint operation, nint options, nint* resultDocument)
    {
        try
        {
            if (resultDocument == null)
            {
                return HResults.E_POINTER;
            }

            *resultDocument = 0;
            if (NativeOperation.From(operation) is not { } op)
            {
                return NativeHandles.Invalid(operation);
            }

            try
            {
                CheckNoMembers(NativeStrings.Read(options));
            }
            catch (HcsException e)
            {
                *resultDocument = NativeStrings.Allocate(HcsJson.Serialize(e.Result));
                return e.HResult;
            }

            var hr = HcsGetOperationResult(op.Managed, out _);
            var state = hr == HResults.HCS_E_OPERATION_NOT_STARTED ? "NotStarted" : hr == HResults.HCS_E_OPERATION_PENDING ? "Pending" : "Completed";
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteNumber("Id", HcsGetOperationId(op.Managed));
                json.WriteString("Type", HcsGetOperationType(op.Managed).ToString());
                json.WriteString("State", state);
                if (state == "Completed")
                {
                    json.WriteNumber("Result", hr);
                }

                json.WriteEndObject();
            }

            *resultDocument = NativeStrings.Allocate(Encoding.UTF8.GetString(buffer.ToArray()));
            return HResults.S_OK;
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    /// <summary>
    /// <c>HcsAddResourceToOperation</c>: <c>E_NOTIMPL</c> once the arguments check out (a live operation, a type from
    /// <c>HcsResourceTypeFile</c> to <c>HcsResourceTypeSocket</c>, a URI); its only use is live migration, which hcs
    /// does not do. The handle stays the caller's.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsAddResourceToOperation")]
    public static int AddResourceToOperation(nint operation, int type, nint uri, nint handle)
    {
        try
        {
            if (NativeOperation.From(operation) is null)
            {
                return NativeHandles.Invalid(operation);
            }

            return type is < 1 or > HcsResourceTypeSocket || string.IsNullOrEmpty(NativeStrings.Read(uri))
                ? HResults.E_INVALIDARG
                : HResults.E_NOTIMPL;
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    /// <summary>
    /// <c>HcsGetProcessorCompatibilityFromSavedState</c>: <c>E_NOTIMPL</c> (hcs's saved states are QEMU migration
    /// streams, which record no Hyper-V processor feature set); <c>E_INVALIDARG</c> for a NULL or empty file name. The
    /// out-pointer, when given, is set to NULL.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsGetProcessorCompatibilityFromSavedState")]
    public static int GetProcessorCompatibilityFromSavedState(nint runtimeFileName, nint* processorFeaturesString)
    {
        try
        {
            NativeStrings.Store(processorFeaturesString, null);
            return string.IsNullOrEmpty(NativeStrings.Read(runtimeFileName)) ? HResults.E_INVALIDARG : HResults.E_NOTIMPL;
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    /// <summary><c>HcsEnumerateComputeSystemsInNamespace</c>: the one namespace is NULL or empty; any other → <c>E_INVALIDARG</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsEnumerateComputeSystemsInNamespace")]
    public static int EnumerateComputeSystemsInNamespace(nint idNamespace, nint query, nint operation)
    {
        try
        {
            if (NativeOperation.From(operation) is not { } op)
            {
                return NativeHandles.Invalid(operation);
            }

            var ns = NativeStrings.Read(idNamespace);
            if (!string.IsNullOrEmpty(ns))
            {
                return HResults.E_INVALIDARG;
            }

            NativeService.Ensure();
            return HcsEnumerateComputeSystemsInNamespace(ns, NativeStrings.Read(query), op.Managed);
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    /// <summary><c>HcsOpenComputeSystemInNamespace</c>: as <c>HcsOpenComputeSystem</c> in the one namespace (NULL or empty).</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsOpenComputeSystemInNamespace")]
    public static int OpenComputeSystemInNamespace(nint idNamespace, nint id, uint requestedAccess, nint* computeSystem)
    {
        try
        {
            if (computeSystem == null)
            {
                return HResults.E_POINTER;
            }

            *computeSystem = 0;
            var ns = NativeStrings.Read(idNamespace);
            if (!string.IsNullOrEmpty(ns))
            {
                return HResults.E_INVALIDARG;
            }

            NativeService.Ensure();
            var hr = HcsOpenComputeSystemInNamespace(ns, NativeStrings.Read(id)!, requestedAccess, out var system);
            if (system is not null)
            {
                *computeSystem = NativeHandles.Add(system);
            }

            return hr;
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    /// <summary>
    /// <c>HcsCreateComputeSystemInNamespace</c>: as <c>HcsCreateComputeSystem</c> in the one namespace (NULL or empty),
    /// with an optional <c>HCS_CREATE_OPTIONS_1</c> (Version <c>HcsCreateOptions_1</c>, UserToken and SecurityDescriptor
    /// NULL; else <c>E_INVALIDARG</c>) whose event callback is registered on the new handle before this call returns and
    /// before the create can complete.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsCreateComputeSystemInNamespace")]
    public static int CreateComputeSystemInNamespace(nint idNamespace, nint id, nint configuration, nint operation, nint options, nint* computeSystem)
    {
        try
        {
            if (computeSystem == null)
            {
                return HResults.E_POINTER;
            }

            *computeSystem = 0;
            if (NativeOperation.From(operation) is not { } op)
            {
                return NativeHandles.Invalid(operation);
            }

            var ns = NativeStrings.Read(idNamespace);
            if (!string.IsNullOrEmpty(ns))
            {
                return HResults.E_INVALIDARG;
            }

            HcsCreateOptions? managed = null;
            if (options != 0)
            {
                var o = (CreateOptions1*)options;
                if (o->Version != HcsCreateOptions1 || o->UserToken != 0 || o->SecurityDescriptor != 0)
                {
                    return HResults.E_INVALIDARG;
                }

                managed = new HcsCreateOptions
                {
                    CallbackOptions = (HcsEventOptions)o->CallbackOptions,
                    CallbackContext = o->Callback == 0 ? null : NativeEvents.Bind(o->CallbackContext, o->Callback),
                    Callback = o->Callback == 0 ? null : NativeEvents.Forward,
                };
            }

            var systemId = NativeStrings.Read(id);
            var document = NativeStrings.Read(configuration);
            if (systemId is null || document is null)
            {
                return HResults.E_INVALIDARG;
            }

            NativeService.Ensure();
            var hr = HcsCreateComputeSystemInNamespace(ns, systemId, document, op.Managed, managed, out var system);
            if (system is not null)
            {
                *computeSystem = NativeHandles.Add(system);
            }

            return hr;
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    /// <summary><c>HcsInitializeLiveMigrationOnSource</c>: <c>E_NOTIMPL</c> after the handles check out.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsInitializeLiveMigrationOnSource")]
    public static int InitializeLiveMigrationOnSource(nint computeSystem, nint operation, nint options) =>
        NoLiveMigration(computeSystem, operation, options);

    /// <summary><c>HcsStartLiveMigrationOnSource</c>: <c>E_NOTIMPL</c> after the handles check out.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsStartLiveMigrationOnSource")]
    public static int StartLiveMigrationOnSource(nint computeSystem, nint operation, nint options) =>
        NoLiveMigration(computeSystem, operation, options);

    /// <summary><c>HcsStartLiveMigrationTransfer</c>: <c>E_NOTIMPL</c> after the handles check out.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsStartLiveMigrationTransfer")]
    public static int StartLiveMigrationTransfer(nint computeSystem, nint operation, nint options) =>
        NoLiveMigration(computeSystem, operation, options);

    /// <summary><c>HcsFinalizeLiveMigration</c>: <c>E_NOTIMPL</c> after the handles check out.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsFinalizeLiveMigration")]
    public static int FinalizeLiveMigration(nint computeSystem, nint operation, nint options) =>
        NoLiveMigration(computeSystem, operation, options);

    /// <summary><c>HcsCancelLiveMigration</c>: <c>E_NOTIMPL</c> after the handles check out.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsCancelLiveMigration")]
    public static int CancelLiveMigration(nint computeSystem, nint operation, nint options) =>
        NoLiveMigration(computeSystem, operation, options);

    /// <summary>
    /// <c>HcsModifyServiceSettings</c>: a <c>ModificationRequest</c> that does not parse is <c>HCS_E_INVALID_JSON</c>; a
    /// valid one is <c>E_NOTIMPL</c> (hcs has no CPU groups and no Credential Guard). Either way the optional result is
    /// a <c>ResultError</c> naming the JSON path and what is unsupported.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsModifyServiceSettings")]
    public static int ModifyServiceSettings(nint settings, nint* result)
    {
        try
        {
            NativeStrings.Store(result, null);
            var text = NativeStrings.Read(settings);
            if (text is null)
            {
                return HResults.E_INVALIDARG;
            }

            var error = ServiceSettings.Refusal(text);
            NativeStrings.Store(result, HcsJson.Serialize(error.Result));
            return error.HResult;
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    /// <summary>
    /// <c>HcsCreateEmptyGuestStateFile</c>: creates an empty file with the caller's own rights (<c>O_CREAT|O_EXCL</c>,
    /// mode 0600 less the umask). An existing path is <c>ERROR_ALREADY_EXISTS</c> and is left alone.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsCreateEmptyGuestStateFile")]
    public static int CreateEmptyGuestStateFile(nint guestStateFilePath) => CallerFiles.CreateEmpty(guestStateFilePath);

    /// <summary><c>HcsCreateEmptyRuntimeStateFile</c>: as <c>HcsCreateEmptyGuestStateFile</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsCreateEmptyRuntimeStateFile")]
    public static int CreateEmptyRuntimeStateFile(nint runtimeStateFilePath) => CallerFiles.CreateEmpty(runtimeStateFilePath);

    /// <summary>
    /// <c>HcsGrantVmAccess</c>: a VM reaches a host file with the credentials of the caller that named it (hcsd opens it
    /// as that caller and hands QEMU the descriptor), so there is nothing to widen: <c>S_OK</c> when the caller can read
    /// the file, <c>E_ACCESSDENIED</c> when it cannot, <c>ERROR_FILE_NOT_FOUND</c>/<c>ERROR_PATH_NOT_FOUND</c> when it is
    /// missing. Nothing on the file changes.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsGrantVmAccess")]
    public static int GrantVmAccess(nint vmId, nint filePath) => CallerFiles.CheckAccess(vmId, filePath, grant: true, takesId: true);

    /// <summary><c>HcsRevokeVmAccess</c>: there is no per-VM grant to remove; <c>S_OK</c> when the file exists (see <see cref="GrantVmAccess"/>).</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsRevokeVmAccess")]
    public static int RevokeVmAccess(nint vmId, nint filePath) => CallerFiles.CheckAccess(vmId, filePath, grant: false, takesId: true);

    /// <summary><c>HcsGrantVmGroupAccess</c>: as <see cref="GrantVmAccess"/> for every VM.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsGrantVmGroupAccess")]
    public static int GrantVmGroupAccess(nint filePath) => CallerFiles.CheckAccess(0, filePath, grant: true, takesId: false);

    /// <summary><c>HcsRevokeVmGroupAccess</c>: as <see cref="RevokeVmAccess"/> for every VM.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsRevokeVmGroupAccess")]
    public static int RevokeVmGroupAccess(nint filePath) => CallerFiles.CheckAccess(0, filePath, grant: false, takesId: false);

    private static int NoLiveMigration(nint computeSystem, nint operation, nint options)
    {
        try
        {
            if (NativeHandles.Get<HcsSystem>(computeSystem) is null)
            {
                return NativeHandles.Invalid(computeSystem);
            }

            if (NativeOperation.From(operation) is null)
            {
                return NativeHandles.Invalid(operation);
            }

            _ = NativeStrings.Read(options); // a malformed string is E_INVALIDARG, as everywhere
            return HResults.E_NOTIMPL;
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    /// <summary>Throws <c>HCS_E_INVALID_JSON</c> unless <paramref name="text"/> is null, blank or an object with no members.</summary>
    private static void CheckNoMembers(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw HcsException.InvalidJson("$", $"not JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw HcsException.InvalidJson("$", $"expected an object, found {document.RootElement.ValueKind}");
            }

            using var members = document.RootElement.EnumerateObject();
            if (members.MoveNext())
            {
                throw HcsException.InvalidJson($"$.{members.Current.Name}", "unknown member: the operation properties query takes none");
            }
        }
    }

    /// <summary><c>HCS_CREATE_OPTIONS_1</c> (48 bytes on LP64).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct CreateOptions1
    {
        public uint Version;
        public nint UserToken;
        public nint SecurityDescriptor;
        public uint CallbackOptions;
        public nint CallbackContext;
        public nint Callback;
    }
}
