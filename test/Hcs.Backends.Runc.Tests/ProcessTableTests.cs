// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Xunit;

namespace Hcs.Backends.Runc.Tests;

public sealed class ProcessTableTests : IDisposable
{
    private readonly DirectoryInfo _proc = Directory.CreateTempSubdirectory("hcs-runc-proc-");

    public void Dispose() => _proc.Delete(recursive: true);

    private void Process(int pid, string comm, string? nsPid, string memory = "VmSize:\t    2048 kB\nRssAnon:\t     100 kB\nRssFile:\t      40 kB\nRssShmem:\t       2 kB\n")
    {
        var dir = Path.Combine(_proc.FullName, pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "comm"), comm + "\n");
        File.WriteAllText(Path.Combine(dir, "status"), $"Name:\t{comm}\nState:\tS (sleeping)\n{(nsPid is null ? "" : $"NSpid:\t{nsPid}\n")}{memory}Threads:\t1\n");
        // fields: 1 pid, 2 (comm), 3 state, 4..13, 14 utime, 15 stime, 16..21, 22 starttime
        File.WriteAllText(Path.Combine(dir, "stat"),
            $"{pid} ({comm}) S 1 {pid} {pid} 0 -1 4194560 100 0 0 0 250 30 0 0 20 0 1 0 12345 4096 100 18446744073709551615\n");
    }

    private void Boot() => File.WriteAllText(Path.Combine(_proc.FullName, "stat"), "cpu  1 2 3 4\nintr 1\nctxt 5\nbtime 1700000000\nprocesses 9\n");

    [Fact]
    public void Read_MapsProcfsToProcessDetails()
    {
        Boot();
        Process(4321, "sh", "4321\t7");

        var details = Assert.Single(ProcessTable.Read([4321], _proc.FullName));

        Assert.Equal(7u, details.ProcessId);
        Assert.Equal("sh", details.ImageName);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000).AddSeconds(123.45), details.CreateTimestamp);
        Assert.Equal(25_000_000UL, details.UserTime100ns);
        Assert.Equal(3_000_000UL, details.KernelTime100ns);
        Assert.Equal(2048UL * 1024, details.MemoryCommitBytes);
        Assert.Equal(100UL * 1024, details.MemoryWorkingSetPrivateBytes);
        Assert.Equal(42UL * 1024, details.MemoryWorkingSetSharedBytes);
    }

    [Fact]
    public void ACommandNameWithSpacesAndParentheses_DoesNotShiftTheFields()
    {
        Boot();
        Process(50, "a) b (c", "50 3 1");

        var details = Assert.Single(ProcessTable.Read([50], _proc.FullName));

        Assert.Equal("a) b (c", details.ImageName);
        Assert.Equal(1u, details.ProcessId);
        Assert.Equal(25_000_000UL, details.UserTime100ns);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000).AddSeconds(123.45), details.CreateTimestamp);
    }

    [Fact]
    public void VanishedProcesses_AreSkippedAndNoNSpidFallsBackToTheHostPid()
    {
        Boot();
        Process(10, "init", null);
        Process(12, "worker", "12 2");

        var list = ProcessTable.Read([10, 11, 12], _proc.FullName);

        Assert.Equal([10u, 2u], list.Select(p => p.ProcessId!.Value).ToArray());
    }

    [Fact]
    public void AKernelThreadWithoutMemory_HasNullMemoryMembers()
    {
        Boot();
        Process(2, "kthreadd", "2", memory: "");

        var details = Assert.Single(ProcessTable.Read([2], _proc.FullName));

        Assert.Null(details.MemoryCommitBytes);
        Assert.Null(details.MemoryWorkingSetPrivateBytes);
        Assert.Null(details.MemoryWorkingSetSharedBytes);
    }

    [Fact]
    public void NamespacePid_IsTheLastNSpidNumber()
    {
        Process(900, "sh", "900\t12\t3");

        Assert.Equal(3u, ProcessTable.NamespacePid(900, _proc.FullName));
        Assert.Null(ProcessTable.NamespacePid(901, _proc.FullName));
    }

    [Fact]
    public void RealProcfs_DescribesThisTestProcess()
    {
        var pid = Environment.ProcessId;

        var details = Assert.Single(ProcessTable.Read([pid]));

        Assert.Equal(ProcessTable.NamespacePid(pid), details.ProcessId);
        Assert.False(string.IsNullOrEmpty(details.ImageName));
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        Assert.InRange(details.CreateTimestamp!.Value, new DateTimeOffset(self.StartTime.ToUniversalTime()).AddSeconds(-2), new DateTimeOffset(self.StartTime.ToUniversalTime()).AddSeconds(2));
        Assert.True(details.MemoryCommitBytes > 0);
        Assert.True(details.MemoryWorkingSetPrivateBytes > 0);
        Assert.True(details.UserTime100ns + details.KernelTime100ns > 0);
    }
}
