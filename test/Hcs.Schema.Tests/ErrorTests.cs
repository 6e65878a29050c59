// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;
using Xunit;

namespace Hcs.Schema.Tests;

/// <summary>HRESULT values, <see cref="HcsException"/> and the predicates.</summary>
public sealed class ErrorTests
{
    /// <summary>Every HCS_E_* of hcs-api.md §6.1 with its documented number.</summary>
    public static TheoryData<string, uint> Documented => new()
    {
        { "HCS_E_TERMINATED_DURING_START", 0x80370100 },
        { "HCS_E_IMAGE_MISMATCH", 0x80370101 },
        { "HCS_E_HYPERV_NOT_INSTALLED", 0x80370102 },
        { "HCS_E_INVALID_STATE", 0x80370105 },
        { "HCS_E_UNEXPECTED_EXIT", 0x80370106 },
        { "HCS_E_TERMINATED", 0x80370107 },
        { "HCS_E_CONNECT_FAILED", 0x80370108 },
        { "HCS_E_CONNECTION_TIMEOUT", 0x80370109 },
        { "HCS_E_CONNECTION_CLOSED", 0x8037010A },
        { "HCS_E_UNKNOWN_MESSAGE", 0x8037010B },
        { "HCS_E_UNSUPPORTED_PROTOCOL_VERSION", 0x8037010C },
        { "HCS_E_INVALID_JSON", 0x8037010D },
        { "HCS_E_SYSTEM_NOT_FOUND", 0x8037010E },
        { "HCS_E_SYSTEM_ALREADY_EXISTS", 0x8037010F },
        { "HCS_E_SYSTEM_ALREADY_STOPPED", 0x80370110 },
        { "HCS_E_PROTOCOL_ERROR", 0x80370111 },
        { "HCS_E_INVALID_LAYER", 0x80370112 },
        { "HCS_E_WINDOWS_INSIDER_REQUIRED", 0x80370113 },
        { "HCS_E_SERVICE_NOT_AVAILABLE", 0x80370114 },
        { "HCS_E_OPERATION_NOT_STARTED", 0x80370115 },
        { "HCS_E_OPERATION_ALREADY_STARTED", 0x80370116 },
        { "HCS_E_OPERATION_PENDING", 0x80370117 },
        { "HCS_E_OPERATION_TIMEOUT", 0x80370118 },
        { "HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET", 0x80370119 },
        { "HCS_E_OPERATION_RESULT_ALLOCATION_FAILED", 0x8037011A },
        { "HCS_E_ACCESS_DENIED", 0x8037011B },
        { "HCS_E_GUEST_CRITICAL_ERROR", 0x8037011C },
        { "HCS_E_PROCESS_INFO_NOT_AVAILABLE", 0x8037011D },
        { "HCS_E_SERVICE_DISCONNECT", 0x8037011E },
        { "HCS_E_PROCESS_ALREADY_STOPPED", 0x8037011F },
        { "HCS_E_SYSTEM_NOT_CONFIGURED_FOR_OPERATION", 0x80370120 },
        { "HCS_E_OPERATION_ALREADY_CANCELLED", 0x80370121 },
        { "E_INVALIDARG", 0x80070057 },
        { "E_NOTIMPL", 0x80004001 },
        { "E_ACCESSDENIED", 0x80070005 },
        { "ERROR_NOT_FOUND", 0x80070490 },
        { "E_HANDLE", 0x80070006 },
        { "ERROR_NOT_SUPPORTED", 0x80070032 },
        { "ERROR_INVALID_DATA", 0x8007000D },
        { "ERROR_NO_SYSTEM_RESOURCES", 0x800705AA },
        { "ERROR_ALREADY_EXISTS", 0x800700B7 },
        { "ERROR_BUSY", 0x800700AA },
    };

    [Theory]
    [MemberData(nameof(Documented))]
    public void HResults_HaveTheDocumentedNumbersAndNames(string name, uint value)
    {
        var field = typeof(HResults).GetField(name);
        Assert.NotNull(field);
        Assert.Equal(unchecked((int)value), (int)field.GetRawConstantValue()!);
        Assert.Equal(name, HResults.NameOf(unchecked((int)value)));
        Assert.DoesNotContain("HRESULT 0x", HResults.MessageOf(unchecked((int)value)), StringComparison.Ordinal);
    }

    [Fact]
    public void NameOf_UnknownHResult_IsItsHexSpelling() =>
        Assert.Equal("0x80001234", HResults.NameOf(unchecked((int)0x80001234)));

    [Fact]
    public void Exception_CarriesHResultOperationIdsAndResult()
    {
        var e = new HcsException(HResults.HCS_E_INVALID_STATE, "ComputeSystem.Pause", "vm1");
        Assert.Equal(HResults.HCS_E_INVALID_STATE, e.HResult);
        Assert.Equal("ComputeSystem.Pause", e.Operation);
        Assert.Equal("vm1", e.SystemId);
        Assert.Equal(HResults.HCS_E_INVALID_STATE, e.Result.Error);
        Assert.Equal("HCS_E_INVALID_STATE", e.HResultName);
        Assert.StartsWith("ComputeSystem.Pause vm1: ", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("(HCS_E_INVALID_STATE)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Exception_ForAProcess_NamesSystemAndPid()
    {
        var e = new HcsException(HResults.HCS_E_PROCESS_ALREADY_STOPPED, "ComputeProcess.Signal", "c1", 42);
        Assert.StartsWith("ComputeProcess.Signal c1:42: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidJson_NamesThePathAndTheReasonInMessageAndResult()
    {
        var e = HcsException.InvalidJson("$.VirtualMachine.ComputeTopology.Memory.SizeInMB", "expected a number");
        Assert.Equal(HResults.HCS_E_INVALID_JSON, e.HResult);
        Assert.Contains("$.VirtualMachine.ComputeTopology.Memory.SizeInMB: expected a number", e.Message, StringComparison.Ordinal);
        Assert.Contains("$.VirtualMachine.ComputeTopology.Memory.SizeInMB", e.Result.ErrorMessage, StringComparison.Ordinal);
        Assert.NotNull(e.Result.ErrorEvents);
    }

    [Fact]
    public void Wrap_ReturnsAnHcsExceptionUnchanged_NeverWrapsTwice()
    {
        var inner = new HcsException(HResults.HCS_E_SYSTEM_NOT_FOUND, "ComputeSystem.Open", "x");
        Assert.Same(inner, HcsException.Wrap(inner, "Other.Label", "y"));
    }

    [Fact]
    public void Wrap_MapsCancellationTimeoutAndOtherExceptions()
    {
        Assert.Equal(HResults.ERROR_CANCELLED, HcsException.Wrap(new OperationCanceledException(), "op").HResult);
        Assert.Equal(HResults.ERROR_TIMEOUT, HcsException.Wrap(new TimeoutException(), "op").HResult);
        var other = HcsException.Wrap(new InvalidOperationException("boom"), "op", "vm");
        Assert.Equal(HResults.E_FAIL, other.HResult);
        Assert.Contains("boom", other.Result.ErrorMessage, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(other.InnerException);
    }

    [Fact]
    public void ThrowIfFailed_ThrowsOnlyForFailures()
    {
        HcsException.ThrowIfFailed(HResults.S_OK);
        HcsException.ThrowIfFailed(HResults.S_FALSE);
        var e = Assert.Throws<HcsException>(() => HcsException.ThrowIfFailed(HResults.HCS_E_TERMINATED, "op"));
        Assert.Equal(HResults.HCS_E_TERMINATED, e.HResult);
    }

    [Fact]
    public void Predicates_ClassifyByHResult_InBothSpellings()
    {
        HcsException Of(uint hr) => new(unchecked((int)hr));
        Assert.True(HcsErrors.IsNotFound(Of(0x8037010E)));
        Assert.True(HcsErrors.IsNotFound(Of(0xC037010E)));
        Assert.True(HcsErrors.IsNotFound(Of(0x80070490)));
        Assert.True(HcsErrors.IsAlreadyStopped(Of(0x80370110)));
        Assert.True(HcsErrors.IsAlreadyStopped(Of(0xC0370110)));
        Assert.True(HcsErrors.IsAlreadyStopped(Of(0x8037011F)));
        Assert.True(HcsErrors.IsInvalidState(Of(0x80370105)));
        Assert.True(HcsErrors.IsInvalidState(Of(0xC0370105)));
        Assert.True(HcsErrors.IsTimeout(Of(0x80370118)));
        Assert.True(HcsErrors.IsTimeout(Of(0x800705B4)));
        Assert.True(HcsErrors.IsNotSupported(Of(0x8037010D)));
        Assert.True(HcsErrors.IsNotSupported(Of(0x80070032)));
        Assert.True(HcsErrors.IsServiceDisconnect(Of(0x8037011E)));
        Assert.True(HcsErrors.IsAlreadyExists(Of(0x8037010F)));
        Assert.True(HcsErrors.IsPending(Of(0xC0370103)));
        Assert.True(HcsErrors.IsAccessDenied(Of(0x80070005)));
        Assert.False(HcsErrors.IsNotFound(Of(0x80370105)));
        Assert.False(HcsErrors.IsInvalidState(null));
        Assert.False(HcsErrors.IsTimeout(new InvalidOperationException()));
        Assert.True(HcsErrors.IsAny(Of(0x80370107), HResults.HCS_E_UNEXPECTED_EXIT, HResults.HCS_E_TERMINATED));
    }

    [Fact]
    public void Normalize_MapsTheNtSpellingToTheHResultSpelling()
    {
        Assert.Equal(HResults.HCS_E_INVALID_JSON, HResults.Normalize(unchecked((int)0xC037010D)));
        Assert.Equal(HResults.E_INVALIDARG, HResults.Normalize(HResults.E_INVALIDARG));
    }
}
