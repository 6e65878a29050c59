// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Net.Sockets;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Backends.Qemu;

/// <summary>
/// Virtual machines as QEMU processes driven over QMP: one <c>qemu-system-x86_64</c> per VM, started without a shell,
/// paused (<c>-S</c>), with a runtime directory of its own (QMP socket, console socket and log, OVMF variables).
/// </summary>
public sealed class QemuBackend : IComputeBackend
{
    private readonly QemuSettings _settings;
    private readonly string _runtimeRoot;

    /// <summary>Creates the backend; each VM's runtime directory is <c>runtimeRoot/id</c>.</summary>
    public QemuBackend(QemuSettings settings, string runtimeRoot)
    {
        _settings = settings ?? throw new ArgumentNullException(nameof(settings));
        _runtimeRoot = runtimeRoot ?? throw new ArgumentNullException(nameof(runtimeRoot));
    }

    /// <inheritdoc />
    public string Name => "qemu";

    /// <inheritdoc />
    public bool CanHost(ComputeSystem document) => document?.VirtualMachine is not null;

    /// <inheritdoc />
    public void Validate(ComputeSystem document)
    {
        ArgumentNullException.ThrowIfNull(document);
        _ = QemuCommandLine.Build("validate", document.VirtualMachine!, _settings, "/validate");
    }

    /// <inheritdoc />
    public async Task<IBackendSystem> CreateAsync(BackendSystemContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var vm = context.Document.VirtualMachine!;
        var run = Path.Combine(_runtimeRoot, context.Id);
        if (Directory.Exists(run))
        {
            Directory.Delete(run, recursive: true);
        }

        Directory.CreateDirectory(run);
        try
        {
            if (vm.Chipset?.Uefi is not null)
            {
                File.Copy(_settings.OvmfVars, Path.Combine(run, QemuCommandLine.OvmfVars));
            }

            var start = new ProcessStartInfo(_settings.Binary)
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                RedirectStandardInput = true,
            };
            foreach (var arg in QemuCommandLine.Build(context.Id, vm, _settings, run))
            {
                start.ArgumentList.Add(arg);
            }

            var process = Process.Start(start) ?? throw new HcsException(HResults.E_FAIL, "QemuBackend.Create", context.Id);
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            try
            {
                var qmp = await ConnectAsync(process, Path.Combine(run, QemuCommandLine.QmpSocket), stderr, context.Id, cancellationToken)
                    .ConfigureAwait(false);
                return new QemuSystem(context, process, qmp, run);
            }
            catch
            {
                if (!process.HasExited)
                {
                    process.Kill();
                }

                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                process.Dispose();
                throw;
            }
        }
        catch
        {
            Directory.Delete(run, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// Waits for QEMU's QMP socket and connects. QEMU binds the socket some 50–100 ms after exec and listens a moment
    /// later, so until then the path is missing (ENOENT) or refuses (ECONNREFUSED); both are retried every millisecond,
    /// which costs well under a millisecond of latency.
    /// </summary>
    private static async Task<QmpClient> ConnectAsync(Process process, string socket, Task<string> stderr, string id, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (File.Exists(socket))
            {
                try
                {
                    return await QmpClient.ConnectAsync(socket, cancellationToken).ConfigureAwait(false);
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
                {
                    // Bound, not yet listening.
                }
            }

            if (process.HasExited)
            {
                var text = (await stderr.ConfigureAwait(false)).Trim();
                throw new HcsException(HResults.HCS_E_TERMINATED_DURING_START, "QemuBackend.Create", id,
                    result: ResultError.From(HResults.HCS_E_TERMINATED_DURING_START, $"qemu exited with {process.ExitCode}: {text}", "qemu"));
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new HcsException(HResults.HCS_E_CONNECTION_TIMEOUT, "QemuBackend.Create", id);
            }

            await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        }
    }
}
