// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Hcs.Contracts;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Backends.Runc.Tests;

/// <summary>What a scripted container does beyond what the engine asks of it.</summary>
public sealed record RuncScript
{
    /// <summary>
    /// The guest powers itself off this long after Start: the host sends SIGTERM to the container's init, which the
    /// engine did not ask for, so the init's clean exit is the guest powering off.
    /// </summary>
    public TimeSpan? PowerOffAfter { get; init; }

    /// <summary>
    /// The guest ignores a shutdown request: Start also runs a process that ignores SIGTERM, so the init, which waits
    /// for every process to end after forwarding SIGTERM, never exits on its own.
    /// </summary>
    public bool IgnoreShutdown { get; init; }
}

/// <summary>
/// A test decorator over a real <see cref="RuncBackend"/> (the runc counterpart of the fake backend's <c>FakeScript</c>):
/// systems are real containers; a script only adds real actions on them (a host SIGTERM to the init, a process that
/// ignores SIGTERM). Scripts are registered per id before the system is created, or carried by the container's host
/// name <c>hcstest-poweroff-MS</c> (the counterpart of <c>hcstest=poweroff:MS</c> on a test VM's kernel command line).
/// </summary>
public sealed class ScriptedRuncBackend(RuncBackend inner) : IComputeBackend
{
    /// <summary>The host name prefix of a container that powers itself off: <c>hcstest-poweroff-MS</c>.</summary>
    public const string PowerOffHostNamePrefix = "hcstest-poweroff-";

    private readonly ConcurrentDictionary<string, RuncScript> _scripts = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public string Name => inner.Name;

    /// <summary>Scripts system <paramref name="id"/>; call it before the system is created.</summary>
    public void Script(string id, RuncScript script) => _scripts[id] = script;

    /// <inheritdoc />
    public bool CanHost(ComputeSystem document) => inner.CanHost(document);

    /// <inheritdoc />
    public void Validate(ComputeSystem document) => inner.Validate(document);

    /// <inheritdoc />
    public async Task<BackendAdoption> AdoptAsync(BackendAdoptContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var system = new ScriptedRuncSystem(context.Events, new RuncScript());
        var adoption = await inner.AdoptAsync(context with { Events = system }, cancellationToken).ConfigureAwait(false);
        if (adoption.System is null)
        {
            return adoption;
        }

        system.Inner = adoption.System;
        return adoption with { System = system };
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> CleanOrphansAsync(IReadOnlySet<string> knownIds, CancellationToken cancellationToken) =>
        inner.CleanOrphansAsync(knownIds, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> CleanOrphansAsync(IReadOnlySet<string> knownIds, IReadOnlySet<string> endedIds, CancellationToken cancellationToken) =>
        inner.CleanOrphansAsync(knownIds, endedIds, cancellationToken);

    /// <inheritdoc />
    public async Task<IBackendSystem> CreateAsync(BackendSystemContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var script = _scripts.TryRemove(context.Id, out var scripted) ? scripted : new RuncScript();
        if (context.Document.Container?.GuestOs?.HostName is { } hostName && hostName.StartsWith(PowerOffHostNamePrefix, StringComparison.Ordinal))
        {
            script = script with { PowerOffAfter = TimeSpan.FromMilliseconds(int.Parse(hostName[PowerOffHostNamePrefix.Length..], CultureInfo.InvariantCulture)) };
        }

        var system = new ScriptedRuncSystem(context.Events, script);
        system.Inner = await inner.CreateAsync(context with { Events = system }, cancellationToken).ConfigureAwait(false);
        return system;
    }
}

/// <summary>
/// One scripted container: delegates everything to the real system, observes its events (the init pid and cgroup of
/// <c>SiloJobCreated</c>, the stop) and performs the script's actions.
/// </summary>
internal sealed class ScriptedRuncSystem(IBackendEventSink events, RuncScript script) : IBackendSystem, IBackendProcessHost, IBackendEventSink
{
    private readonly CancellationTokenSource _ended = new();
    private readonly Lock _gate = new();
    private int _initPid; // guarded by _gate
    private string? _cgroupPath; // guarded by _gate
    private IBackendProcess? _ignoringProcess;

    public IBackendSystem Inner { get; set; } = null!;

    private IBackendProcessHost Host => (IBackendProcessHost)Inner;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await Inner.StartAsync(cancellationToken).ConfigureAwait(false);
        if (script.IgnoreShutdown)
        {
            // Before Start returns, and only once the trap is set (the process says so), so a ShutDown issued right
            // after Start already finds a process that ignores it.
            _ignoringProcess = await Host.CreateProcessAsync(
                new ProcessParameters
                {
                    CommandArgs = ["/bin/sh", "-c", "trap '' TERM; echo trapped; while true; do sleep 1; done"],
                    CreateStdOutPipe = true,
                },
                IgnoredExit.Instance, cancellationToken).ConfigureAwait(false);
            var ready = await new StreamReader(_ignoringProcess.Stdio.StdOut!).ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (ready != "trapped")
            {
                throw new InvalidOperationException($"the SIGTERM-ignoring process did not start: '{ready}'");
            }
        }

        if (script.PowerOffAfter is { } delay)
        {
            // On its own, after Start has returned: the guest powers off once it runs (even poweroff:0), never during Start.
            _ = Task.Run(() => PowerOffAsync(delay), CancellationToken.None);
        }
    }

    /// <summary>After <paramref name="delay"/>, SIGTERM from the host to the container's init, unless the container ended.</summary>
    private async Task PowerOffAsync(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _ended.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        int pid;
        string? cgroup;
        lock (_gate)
        {
            pid = _initPid;
            cgroup = _cgroupPath;
        }

        if (pid <= 0 || cgroup is null || _ended.IsCancellationRequested || !IsInCgroup(pid, cgroup))
        {
            return; // never a signal to a pid that may have been reused
        }

        var kill = new ProcessStartInfo("/bin/kill") { ArgumentList = { "-TERM", pid.ToString(CultureInfo.InvariantCulture) } };
        using var process = Process.Start(kill);
        if (process is not null)
        {
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static bool IsInCgroup(int pid, string cgroupPath)
    {
        try
        {
            return File.ReadAllLines($"/proc/{pid}/cgroup").Any(line => line.EndsWith(":" + cgroupPath, StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return false;
        }
    }

    public Task RequestShutdownAsync(ShutdownOptions? options, CancellationToken cancellationToken) => Inner.RequestShutdownAsync(options, cancellationToken);

    public async Task TerminateAsync(CancellationToken cancellationToken)
    {
        await _ended.CancelAsync().ConfigureAwait(false);
        await Inner.TerminateAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task PauseAsync(PauseOptions? options, CancellationToken cancellationToken) => Inner.PauseAsync(options, cancellationToken);

    public Task ResumeAsync(CancellationToken cancellationToken) => Inner.ResumeAsync(cancellationToken);

    public Task SaveAsync(SaveOptions options, CancellationToken cancellationToken) => Inner.SaveAsync(options, cancellationToken);

    public Task CrashAsync(CrashOptions? options, CancellationToken cancellationToken) => Inner.CrashAsync(options, cancellationToken);

    public Task ModifyAsync(ModifySettingRequest request, CancellationToken cancellationToken) => Inner.ModifyAsync(request, cancellationToken);

    public Task<BackendProperties> GetPropertiesAsync(IReadOnlySet<SystemPropertyType> types, CancellationToken cancellationToken) =>
        Inner.GetPropertiesAsync(types, cancellationToken);

    public Task<IBackendProcess> CreateProcessAsync(ProcessParameters parameters, IBackendProcessSink events, CancellationToken cancellationToken) =>
        Host.CreateProcessAsync(parameters, events, cancellationToken);

    public async ValueTask DetachAsync()
    {
        await _ended.CancelAsync().ConfigureAwait(false);
        await Inner.DetachAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _ended.CancelAsync().ConfigureAwait(false);
        await Inner.DisposeAsync().ConfigureAwait(false);
        if (_ignoringProcess is { } process)
        {
            await process.DisposeAsync().ConfigureAwait(false);
        }

        _ended.Dispose();
    }

    // ---- IBackendEventSink: passes every event on, learning the init pid and the end --------------------------

    public void SiloJobCreated(string eventData)
    {
        var data = JsonNode.Parse(eventData)!.AsObject();
        lock (_gate)
        {
            _initPid = (int)data["InitProcessId"]!;
            _cgroupPath = (string?)data["CgroupPath"];
        }

        events.SiloJobCreated(eventData);
    }

    public void Stopped(BackendExit exit)
    {
        lock (_gate)
        {
            _initPid = 0;
        }

        events.Stopped(exit);
    }

    public void RuntimeFactsChanged(string json) => events.RuntimeFactsChanged(json);

    public void CrashInitiated(CrashReport report) => events.CrashInitiated(report);

    public void CrashReported(CrashReport report) => events.CrashReported(report);

    public void GuestReset() => events.GuestReset();

    public void GuestConnectionClosed(string? eventData = null) => events.GuestConnectionClosed(eventData);

    public void RemoteConsoleStateChanged(string eventData) => events.RemoteConsoleStateChanged(eventData);

    public void StateChanged(SystemState state) => events.StateChanged(state);

    /// <summary>The exit of the scripted process is nobody's business: the engine does not know that process.</summary>
    private sealed class IgnoredExit : IBackendProcessSink
    {
        public static readonly IgnoredExit Instance = new();

        public void Exited(int exitCode)
        {
        }
    }
}
