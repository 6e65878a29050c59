// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Shim.Protocol;

namespace Hcs.Shim.Tests;

/// <summary>The version check at connect, as each side makes it (the monitor's answer; the client's reading of it).</summary>
public sealed class VersionCheckTests
{
    [Fact]
    public void Monitor_AnswersAHelloOfItsVersion_WithTheInitAndItsReadiness()
    {
        var answer = ShimProtocol.Answer(new HelloRequest(4, ShimProtocol.ProtocolVersion), 1234, initReady: true);
        Assert.Equal(new HelloReply(4, ShimProtocol.ProtocolVersion, 1234, true), answer);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(ShimProtocol.ProtocolVersion + 1)]
    [InlineData(-1)]
    public void Monitor_RefusesAHelloOfAnotherVersion_NamingBoth(int clientVersion)
    {
        var answer = Assert.IsType<ErrorReply>(ShimProtocol.Answer(new HelloRequest(4, clientVersion), 1234, initReady: false));
        Assert.Equal(4, answer.Id);
        Assert.Equal(ShimErrorCodes.VersionMismatch, answer.Code);
        Assert.Equal(ShimProtocol.ProtocolVersion, answer.Version);
        Assert.Contains($"version {ShimProtocol.ProtocolVersion}", answer.Error, StringComparison.Ordinal);
        Assert.Contains($"version {clientVersion}", answer.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Client_AcceptsAHelloReplyOfItsVersion()
    {
        Assert.False(ShimProtocol.IsMismatch(new HelloReply(1, ShimProtocol.ProtocolVersion, 5, false), out _));
    }

    [Fact]
    public void Client_RefusesAHelloReplyOfAnotherVersion()
    {
        // A monitor that accepted a version it should not have: the client checks too.
        Assert.True(ShimProtocol.IsMismatch(new HelloReply(1, ShimProtocol.ProtocolVersion + 1, 5, false), out var theirs));
        Assert.Equal(ShimProtocol.ProtocolVersion + 1, theirs);
    }

    [Fact]
    public void Client_ReadsTheMonitorsVersion_FromAMismatchReply()
    {
        Assert.True(ShimProtocol.IsMismatch(new ErrorReply(1, "no", ShimErrorCodes.VersionMismatch) { Version = 7 }, out var theirs));
        Assert.Equal(7, theirs);
    }

    [Fact]
    public void Client_TakesAnUnknownOpHello_ForAMonitorThatPredatesVersions()
    {
        // What a version-0 monitor answers to {"op":"hello"}.
        var old = new ErrorReply(1, "unknown op 'hello'", ShimErrorCodes.BadRequest);
        Assert.True(ShimProtocol.IsMismatch(old, out var theirs));
        Assert.Equal(ShimProtocol.PreHelloVersion, theirs);
        Assert.Contains("predates", ShimProtocol.MismatchMessage(ShimProtocol.PreHelloVersion, ShimProtocol.ProtocolVersion), StringComparison.Ordinal);
    }

    [Fact]
    public void Client_DoesNotTakeOtherErrors_ForAVersionAnswer()
    {
        Assert.False(ShimProtocol.IsMismatch(new ErrorReply(1, "disk full", ShimErrorCodes.Internal), out _));
        Assert.False(ShimProtocol.IsMismatch(new ErrorReply(1, "unknown op 'exec'", ShimErrorCodes.BadRequest), out _));
    }
}
