// Copyright (c) hcs contributors. Licensed under the MIT licence.
// HRESULT values used by the Host Compute Service, with the names and numbers of ComputeCore.h / winerror.h.

namespace Hcs.Schema;

/// <summary>
/// HRESULT values returned by HCS calls and carried by <see cref="HcsException"/>.
/// Names and numbers are exactly those of Windows (<c>winerror.h</c>), so a documented name greps to this file.
/// </summary>
public static class HResults
{
    /// <summary>Success.</summary>
    public const int S_OK = 0;
    /// <summary>Success, with nothing to do (e.g. a cancel of an operation that already completed).</summary>
    public const int S_FALSE = 1;

    /// <summary>The virtual machine or container exited unexpectedly while starting.</summary>
    public const int HCS_E_TERMINATED_DURING_START = unchecked((int)0x80370100);
    /// <summary>The container operating system does not match the host operating system.</summary>
    public const int HCS_E_IMAGE_MISMATCH = unchecked((int)0x80370101);
    /// <summary>The virtual machine could not be started because a required feature is not installed.</summary>
    public const int HCS_E_HYPERV_NOT_INSTALLED = unchecked((int)0x80370102);
    /// <summary>The call is not valid in the current state of the compute system.</summary>
    public const int HCS_E_INVALID_STATE = unchecked((int)0x80370105);
    /// <summary>The virtual machine or container exited unexpectedly.</summary>
    public const int HCS_E_UNEXPECTED_EXIT = unchecked((int)0x80370106);
    /// <summary>The virtual machine or container was forcefully exited.</summary>
    public const int HCS_E_TERMINATED = unchecked((int)0x80370107);
    /// <summary>A connection could not be established with the guest.</summary>
    public const int HCS_E_CONNECT_FAILED = unchecked((int)0x80370108);
    /// <summary>The guest did not respond in time.</summary>
    public const int HCS_E_CONNECTION_TIMEOUT = unchecked((int)0x80370109);
    /// <summary>The connection with the guest was closed.</summary>
    public const int HCS_E_CONNECTION_CLOSED = unchecked((int)0x8037010A);
    /// <summary>The guest received an unknown message.</summary>
    public const int HCS_E_UNKNOWN_MESSAGE = unchecked((int)0x8037010B);
    /// <summary>The host and guest share no protocol version.</summary>
    public const int HCS_E_UNSUPPORTED_PROTOCOL_VERSION = unchecked((int)0x8037010C);
    /// <summary>The virtual machine or container JSON document is invalid.</summary>
    public const int HCS_E_INVALID_JSON = unchecked((int)0x8037010D);
    /// <summary>A compute system with the given id was not found.</summary>
    public const int HCS_E_SYSTEM_NOT_FOUND = unchecked((int)0x8037010E);
    /// <summary>A compute system with the given id already exists.</summary>
    public const int HCS_E_SYSTEM_ALREADY_EXISTS = unchecked((int)0x8037010F);
    /// <summary>The compute system is not running (it has already stopped, or is stopping).</summary>
    public const int HCS_E_SYSTEM_ALREADY_STOPPED = unchecked((int)0x80370110);
    /// <summary>The host and guest protocol is in error.</summary>
    public const int HCS_E_PROTOCOL_ERROR = unchecked((int)0x80370111);
    /// <summary>The layer format is not recognised.</summary>
    public const int HCS_E_INVALID_LAYER = unchecked((int)0x80370112);
    /// <summary>The image requires an Insider build (Windows only; never returned on Linux).</summary>
    public const int HCS_E_WINDOWS_INSIDER_REQUIRED = unchecked((int)0x80370113);
    /// <summary>A required service or feature is not available.</summary>
    public const int HCS_E_SERVICE_NOT_AVAILABLE = unchecked((int)0x80370114);
    /// <summary>The operation has not been bound to a call.</summary>
    public const int HCS_E_OPERATION_NOT_STARTED = unchecked((int)0x80370115);
    /// <summary>The operation is already bound to a call that is still running.</summary>
    public const int HCS_E_OPERATION_ALREADY_STARTED = unchecked((int)0x80370116);
    /// <summary>The operation is still running.</summary>
    public const int HCS_E_OPERATION_PENDING = unchecked((int)0x80370117);
    /// <summary>Waiting for the operation timed out; the operation keeps running.</summary>
    public const int HCS_E_OPERATION_TIMEOUT = unchecked((int)0x80370118);
    /// <summary>An event callback is already registered on the handle, or an operation callback conflicts with it.</summary>
    public const int HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET = unchecked((int)0x80370119);
    /// <summary>The result of the operation could not be allocated.</summary>
    public const int HCS_E_OPERATION_RESULT_ALLOCATION_FAILED = unchecked((int)0x8037011A);
    /// <summary>The caller may not use the compute system or the service.</summary>
    public const int HCS_E_ACCESS_DENIED = unchecked((int)0x8037011B);
    /// <summary>The guest reported a critical error.</summary>
    public const int HCS_E_GUEST_CRITICAL_ERROR = unchecked((int)0x8037011C);
    /// <summary>The process information is not available.</summary>
    public const int HCS_E_PROCESS_INFO_NOT_AVAILABLE = unchecked((int)0x8037011D);
    /// <summary>The connection to the compute service was lost.</summary>
    public const int HCS_E_SERVICE_DISCONNECT = unchecked((int)0x8037011E);
    /// <summary>The process has already exited.</summary>
    public const int HCS_E_PROCESS_ALREADY_STOPPED = unchecked((int)0x8037011F);
    /// <summary>The compute system is not configured for the requested operation.</summary>
    public const int HCS_E_SYSTEM_NOT_CONFIGURED_FOR_OPERATION = unchecked((int)0x80370120);
    /// <summary>The operation has already been cancelled.</summary>
    public const int HCS_E_OPERATION_ALREADY_CANCELLED = unchecked((int)0x80370121);

    /// <summary>v1 "operation pending" (NT-style spelling, only seen in legacy logs).</summary>
    public const int ERROR_VMCOMPUTE_OPERATION_PENDING = unchecked((int)0xC0370103);

    /// <summary>Unspecified failure.</summary>
    public const int E_FAIL = unchecked((int)0x80004005);
    /// <summary>Not implemented.</summary>
    public const int E_NOTIMPL = unchecked((int)0x80004001);
    /// <summary>The operation was aborted.</summary>
    public const int E_ABORT = unchecked((int)0x80004004);
    /// <summary>An argument is invalid.</summary>
    public const int E_INVALIDARG = unchecked((int)0x80070057);
    /// <summary>Out of memory.</summary>
    public const int E_OUTOFMEMORY = unchecked((int)0x8007000E);
    /// <summary>A pointer argument is null.</summary>
    public const int E_POINTER = unchecked((int)0x80004003);
    /// <summary>Access is denied (file permissions).</summary>
    public const int E_ACCESSDENIED = unchecked((int)0x80070005);
    /// <summary>The handle is invalid (closed, or the system is being torn down).</summary>
    public const int E_HANDLE = unchecked((int)0x80070006);
    /// <summary>HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND).</summary>
    public const int ERROR_FILE_NOT_FOUND = unchecked((int)0x80070002);
    /// <summary>HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND).</summary>
    public const int ERROR_PATH_NOT_FOUND = unchecked((int)0x80070003);
    /// <summary>HRESULT_FROM_WIN32(ERROR_INVALID_DATA).</summary>
    public const int ERROR_INVALID_DATA = unchecked((int)0x8007000D);
    /// <summary>HRESULT_FROM_WIN32(ERROR_WRITE_PROTECT): the service's state cannot be written (a read-only file system).</summary>
    public const int ERROR_WRITE_PROTECT = unchecked((int)0x80070013);
    /// <summary>HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED).</summary>
    public const int ERROR_NOT_SUPPORTED = unchecked((int)0x80070032);
    /// <summary>HRESULT_FROM_WIN32(ERROR_BUSY): the resource is in use.</summary>
    public const int ERROR_BUSY = unchecked((int)0x800700AA);
    /// <summary>HRESULT_FROM_WIN32(ERROR_DISK_FULL): the service's state cannot be written (no space left on its disk).</summary>
    public const int ERROR_DISK_FULL = unchecked((int)0x80070070);
    /// <summary>HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS).</summary>
    public const int ERROR_ALREADY_EXISTS = unchecked((int)0x800700B7);
    /// <summary>HRESULT_FROM_WIN32(ERROR_NOT_FOUND): e.g. a process id that is not known.</summary>
    public const int ERROR_NOT_FOUND = unchecked((int)0x80070490);
    /// <summary>HRESULT_FROM_WIN32(ERROR_CANCELLED): the operation was cancelled.</summary>
    public const int ERROR_CANCELLED = unchecked((int)0x800704C7);
    /// <summary>HRESULT_FROM_WIN32(ERROR_NO_SYSTEM_RESOURCES).</summary>
    public const int ERROR_NO_SYSTEM_RESOURCES = unchecked((int)0x800705AA);
    /// <summary>HRESULT_FROM_WIN32(ERROR_TIMEOUT): a bounded wait inside the service expired (e.g. guest shutdown).</summary>
    public const int ERROR_TIMEOUT = unchecked((int)0x800705B4);

    /// <summary>True for success codes (S_OK, S_FALSE, any non-negative value).</summary>
    public static bool Succeeded(int hr) => hr >= 0;

    /// <summary>True for failure codes (negative values).</summary>
    public static bool Failed(int hr) => hr < 0;

    /// <summary>The documented name of a known HRESULT (e.g. <c>HCS_E_INVALID_JSON</c>), or its hex spelling.</summary>
    public static string NameOf(int hr) => s_names.TryGetValue(hr, out var name) ? name : $"0x{hr:X8}";

    /// <summary>The documented message text of a known HRESULT, or a generic text.</summary>
    public static string MessageOf(int hr) => s_messages.TryGetValue(hr, out var text) ? text : $"HRESULT 0x{hr:X8}";

    /// <summary>Maps the NT-style twin (0xC037xxxx, as in v1 and guest paths) to the HRESULT spelling (0x8037xxxx).</summary>
    public static int Normalize(int hr) =>
        (hr & unchecked((int)0xFFFF0000)) == unchecked((int)0xC0370000) ? (hr & 0x0000FFFF) | unchecked((int)0x80370000) : hr;

    private static readonly Dictionary<int, string> s_names = typeof(HResults)
        .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(int))
        .GroupBy(f => (int)f.GetRawConstantValue()!)
        .ToDictionary(g => g.Key, g => g.First().Name);

    private static readonly Dictionary<int, string> s_messages = new()
    {
        [S_OK] = "The operation completed successfully.",
        [HCS_E_TERMINATED_DURING_START] = "The virtual machine or container exited unexpectedly while starting.",
        [HCS_E_IMAGE_MISMATCH] = "The container operating system does not match the host operating system.",
        [HCS_E_HYPERV_NOT_INSTALLED] = "A required virtualization feature is not available.",
        [HCS_E_INVALID_STATE] = "The requested virtual machine or container operation is not valid in the current state.",
        [HCS_E_UNEXPECTED_EXIT] = "The virtual machine or container exited unexpectedly.",
        [HCS_E_TERMINATED] = "The virtual machine or container was forcefully exited.",
        [HCS_E_CONNECT_FAILED] = "A connection could not be established with the container or virtual machine.",
        [HCS_E_CONNECTION_TIMEOUT] = "The operation timed out because a response was not received from the virtual machine or container.",
        [HCS_E_CONNECTION_CLOSED] = "The connection with the virtual machine or container was closed.",
        [HCS_E_UNKNOWN_MESSAGE] = "An unknown internal message was received by the virtual machine or container.",
        [HCS_E_UNSUPPORTED_PROTOCOL_VERSION] = "The virtual machine or container does not support an available version of the communication protocol with the host.",
        [HCS_E_INVALID_JSON] = "The virtual machine or container JSON document is invalid.",
        [HCS_E_SYSTEM_NOT_FOUND] = "A virtual machine or container with the specified identifier does not exist.",
        [HCS_E_SYSTEM_ALREADY_EXISTS] = "A virtual machine or container with the specified identifier already exists.",
        [HCS_E_SYSTEM_ALREADY_STOPPED] = "The virtual machine or container with the specified identifier is not running.",
        [HCS_E_PROTOCOL_ERROR] = "A communication protocol error has occurred between the virtual machine or container and the host.",
        [HCS_E_INVALID_LAYER] = "The container image contains a layer with an unrecognized format.",
        [HCS_E_WINDOWS_INSIDER_REQUIRED] = "The container image requires a newer build.",
        [HCS_E_SERVICE_NOT_AVAILABLE] = "The requested service is not available.",
        [HCS_E_OPERATION_NOT_STARTED] = "The operation has not started.",
        [HCS_E_OPERATION_ALREADY_STARTED] = "The operation has already started.",
        [HCS_E_OPERATION_PENDING] = "The operation is pending.",
        [HCS_E_OPERATION_TIMEOUT] = "The operation did not complete in time.",
        [HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET] = "An event callback has already been registered on this handle.",
        [HCS_E_OPERATION_RESULT_ALLOCATION_FAILED] = "Not enough memory available to return the result of the operation.",
        [HCS_E_ACCESS_DENIED] = "Insufficient privileges to use the compute system or the service.",
        [HCS_E_GUEST_CRITICAL_ERROR] = "The virtual machine or container reported a critical error and was stopped or restarted.",
        [HCS_E_PROCESS_INFO_NOT_AVAILABLE] = "The process information is not available.",
        [HCS_E_SERVICE_DISCONNECT] = "The host compute system service has disconnected unexpectedly.",
        [HCS_E_PROCESS_ALREADY_STOPPED] = "The process has already exited.",
        [HCS_E_SYSTEM_NOT_CONFIGURED_FOR_OPERATION] = "The virtual machine or container is not configured to perform the operation.",
        [HCS_E_OPERATION_ALREADY_CANCELLED] = "The operation has already been cancelled.",
        [E_FAIL] = "Unspecified error.",
        [E_NOTIMPL] = "Not implemented.",
        [E_ABORT] = "Operation aborted.",
        [E_INVALIDARG] = "The parameter is incorrect.",
        [E_POINTER] = "Invalid pointer.",
        [E_ACCESSDENIED] = "Access is denied.",
        [E_HANDLE] = "The handle is invalid.",
        [ERROR_FILE_NOT_FOUND] = "The system cannot find the file specified.",
        [ERROR_PATH_NOT_FOUND] = "The system cannot find the path specified.",
        [ERROR_INVALID_DATA] = "The data is invalid.",
        [ERROR_WRITE_PROTECT] = "The media is write protected.",
        [ERROR_NOT_SUPPORTED] = "The request is not supported.",
        [ERROR_BUSY] = "The requested resource is in use.",
        [ERROR_DISK_FULL] = "There is not enough space on the disk.",
        [ERROR_ALREADY_EXISTS] = "Cannot create a file when that file already exists.",
        [ERROR_NOT_FOUND] = "Element not found.",
        [ERROR_CANCELLED] = "The operation was canceled by the user.",
        [ERROR_NO_SYSTEM_RESOURCES] = "Insufficient system resources exist to complete the requested service.",
        [ERROR_TIMEOUT] = "This operation returned because the timeout period expired.",
    };
}
