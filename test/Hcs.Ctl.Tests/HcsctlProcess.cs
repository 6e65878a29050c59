// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Text;
using Hcs.Contracts;

namespace Hcs.Ctl.Tests;

/// <summary>The shipped hcsctl (<see cref="NativeBinaries.Hcsctl"/>) run as a process: arguments, stdin piped and closed, stdout, stderr, exit code.</summary>
public static class HcsctlProcess
{
    /// <summary>Runs hcsctl with <paramref name="args"/>, writing <paramref name="stdin"/> to it; <paramref name="started"/> gets its pid.</summary>
    public static async Task<CtlResult> RunAsync(IReadOnlyList<string> args, string stdin = "", Action<int>? started = null, CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo(NativeBinaries.Hcsctl)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        started?.Invoke(process.Id);
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.StandardInput.WriteAsync(stdin.AsMemory(), cancellationToken);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // hcsctl exited (or closed its stdin) without reading all of it.
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"hcsctl {string.Join(' ', args)} did not exit within 60 s");
        }

        return new CtlResult(process.ExitCode, await output, await error);
    }
}

/// <summary>
/// The service as hcsd serves it in a <see cref="CtlTransport.NativeProcess"/> harness, telling the harness which
/// client process (by its pid, from <c>SO_PEERCRED</c>) opened which system: how a test learns that an
/// <c>hcsctl events</c> process watches a system (hcsd subscribes a handle's events when it is opened, and the client
/// keeps a system's exit for a subscription made after it).
/// </summary>
internal sealed class OpenObservingService(IComputeService inner, Action<int, string> opened) : IComputeService
{
    public IComputeSession OpenSession(ClientIdentity client) => new Session(inner.OpenSession(client), opened);

    /// <summary>The harness disposes the engine itself.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed class Session(IComputeSession inner, Action<int, string> opened) : IComputeSession
    {
        public ClientIdentity Client => inner.Client;

        public CancellationToken Disconnected => inner.Disconnected;

        public Task<ISystemHandle> CreateSystemAsync(string id, string configuration, CancellationToken cancellationToken = default) =>
            inner.CreateSystemAsync(id, configuration, cancellationToken);

        public async Task<ISystemHandle> OpenSystemAsync(string id, CancellationToken cancellationToken = default)
        {
            var handle = await inner.OpenSystemAsync(id, cancellationToken);
            opened(Client.Pid, id);
            return handle;
        }

        public Task<string> EnumerateSystemsAsync(string? query, CancellationToken cancellationToken = default) =>
            inner.EnumerateSystemsAsync(query, cancellationToken);

        public Task<string> GetServicePropertiesAsync(string? query, CancellationToken cancellationToken = default) =>
            inner.GetServicePropertiesAsync(query, cancellationToken);

        public Task<string> SubmitWerReportAsync(string settings, CancellationToken cancellationToken = default) =>
            inner.SubmitWerReportAsync(settings, cancellationToken);

        public Task GrantAccessAsync(string id, uint uid, CancellationToken cancellationToken = default) =>
            inner.GrantAccessAsync(id, uid, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
