// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using Hcs.Client;
using Hcs.Engine;
using Hcs.Schema;
using Xunit;
using SchemaComputeSystem = Hcs.Schema.ComputeSystem;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// What a VM leaves on the host while it runs: a 0700 runtime directory whose files are the owner's only, and a
/// console log that is bounded on disk however much the guest prints.
/// </summary>
public sealed class QemuRuntimeFilesTests : IAsyncLifetime
{
    private const long ConsoleCap = 4096;
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PrivateDirectory = Private | UnixFileMode.UserExecute;
    private readonly DirectoryInfo _run = Directory.CreateTempSubdirectory("hcs-qemu-files-");
    private ComputeEngine _engine = null!;
    private HcsClient _client = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _engine = new ComputeEngine([new QemuBackend(new QemuSettings { ConsoleLogMaxBytes = ConsoleCap }, _run.FullName)], new EngineOptions());
        _client = HcsClient.Connect(_engine, "qemu-files-tests");
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await _engine.DisposeAsync();
        _run.Delete(recursive: true);
    }

    [Fact]
    public async Task RunningVm_RuntimeDirectoryIs0700_AndItsFilesAndConsoleLogsAre0600_AndTheConsoleLogIsRotatedAtItsCap()
    {
        // Without "quiet" the kernel prints tens of KiB while booting: far more than the 4 KiB cap.
        var document = TestGuest.Document("idle");
        var chipset = document.VirtualMachine!.Chipset!;
        document = document with
        {
            VirtualMachine = document.VirtualMachine with
            {
                Chipset = chipset with { LinuxKernelDirect = chipset.LinuxKernelDirect! with { KernelCmdLine = "console=ttyS0 panic=-1 hcstest=idle" } },
            },
        };
        await using var vm = await Client.ComputeSystem.CreateAsync(_client, "files", document, Ct);
        await vm.StartAsync(Ct);
        var run = Path.Combine(_run.FullName, "files");
        var clock = Stopwatch.StartNew();
        while (!(await ConsoleLog.ReadTailAsync(run)).Contains("hcs-guest: idle", StringComparison.Ordinal))
        {
            Assert.True(clock.Elapsed < QemuEngineHarness.Boot, "the guest never reached idle; console: " + await ConsoleLog.ReadTailAsync(run));
            await Task.Delay(100, Ct);
        }

        Assert.Equal(PrivateDirectory, File.GetUnixFileMode(run));
        foreach (var file in Directory.EnumerateFiles(run))
        {
            if (Path.GetExtension(file) == ".sock")
            {
                continue; // QEMU binds them with the umask's mode; the 0700 directory is what guards them
            }

            Assert.True((File.GetUnixFileMode(file) & ~PrivateDirectory) == 0, $"{file} is {File.GetUnixFileMode(file)}");
        }

        var log = new FileInfo(Path.Combine(run, QemuCommandLine.ConsoleLog));
        var rotated = new FileInfo(Path.Combine(run, ConsoleLog.Rotated));
        Assert.True(rotated.Exists, "the console log was never rotated");
        Assert.True(log.Length <= ConsoleCap, $"console.log is {log.Length} bytes");
        Assert.True(rotated.Length <= ConsoleCap, $"console.log.1 is {rotated.Length} bytes");
        Assert.Equal(Private, File.GetUnixFileMode(log.FullName));
        Assert.Equal(Private, File.GetUnixFileMode(rotated.FullName));
        Assert.Equal(Private, File.GetUnixFileMode(Path.Combine(run, QemuCommandLine.QemuLog)));
        await vm.TerminateAsync(Ct);
    }
}
