// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Xunit;

namespace Hcs.Linux.Tests;

public sealed class ProcessStatTests
{
    // A real line (from a QEMU), and the same with a command name holding spaces and ") (".
    private const string Qemu = "4321 (qemu-system-x86) S 1 4320 4320 0 -1 4194560 12345 0 0 0 150 40 0 0 20 0 5 0 987654 2147483648 40000 18446744073709551615 1 1 0 0 0 0 0 4096 17000 0 0 0 17 1 0 0 0 0 0";
    private const string Tricky = "77 (a) b (c d) R 1 77 77 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 555 0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0";

    [Fact]
    public void Parse_ReadsStateAndStartTime_CountingFieldsAfterTheLastParenthesis()
    {
        Assert.Equal(new ProcessStat('S', 987654), ProcessStat.Parse(Qemu));
        Assert.Equal(new ProcessStat('R', 555), ProcessStat.Parse(Tricky));
    }

    [Theory]
    [InlineData('Z', true)]
    [InlineData('X', true)]
    [InlineData('x', true)]
    [InlineData('S', false)]
    [InlineData('R', false)]
    [InlineData('D', false)]
    [InlineData('T', false)]
    public void IsZombie_IsOneDefinition(char state, bool zombie) => Assert.Equal(zombie, new ProcessStat(state, 1).IsZombie);

    [Theory]
    [InlineData("")]
    [InlineData("no parenthesis here")]
    [InlineData("1 (short) S 1 2 3")]
    [InlineData("1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 notanumber 0")]
    public void Parse_RefusesWhatIsNotAStatLine(string text) => Assert.Null(ProcessStat.Parse(text));

    [Fact]
    public void Read_OfThisProcess_IsRunning_AndOfNoProcess_IsNull()
    {
        var self = ProcessStat.Read(Environment.ProcessId);
        Assert.NotNull(self);
        Assert.False(self.Value.IsZombie);
        Assert.True(self.Value.StartTime > 0);
        Assert.Null(ProcessStat.Read(int.MaxValue));
        Assert.Null(ProcessStat.Read(0));
    }
}
