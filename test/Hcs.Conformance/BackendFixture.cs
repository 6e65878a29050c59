// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Text.Json;
using Hcs.Client;
using Hcs.Contracts;
using Hcs.Schema;

namespace Hcs.Conformance;

/// <summary>
/// The plumbing every <see cref="IBackendFixture"/> shares: the lazily created service, client tracking, unique ids
/// and the temporary directory. A backend overrides <see cref="CreateService"/>, the documents and the fault hooks.
/// </summary>
public abstract class BackendFixture : IBackendFixture
{
    private readonly Lock _gate = new();
    private readonly List<HcsClient> _clients = []; // guarded by _gate
    private readonly Lazy<IComputeService> _service;
    private readonly Lazy<string> _tempDirectory = new(() => Directory.CreateTempSubdirectory("hcs-conformance-").FullName);
    private int _nextId;

    /// <summary>Creates the fixture; the service is made on first use.</summary>
    protected BackendFixture()
    {
        _service = new Lazy<IComputeService>(CreateService);
    }

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public IComputeService Service => _service.Value;

    /// <inheritdoc />
    public virtual SystemType SystemType => SystemType.VirtualMachine;

    /// <inheritdoc />
    public abstract TimeSpan ShutdownTimeout { get; }

    /// <inheritdoc />
    public virtual bool HasGuestKernel => true;

    /// <inheritdoc />
    public virtual bool CanSave => true;

    /// <inheritdoc />
    public virtual TimeSpan Timeout => TimeSpan.FromSeconds(10);

    /// <inheritdoc />
    public virtual TimeSpan Settle => TimeSpan.FromMilliseconds(200);

    /// <inheritdoc />
    public string TempDirectory => _tempDirectory.Value;

    /// <summary>Makes the service under test.</summary>
    protected abstract IComputeService CreateService();

    /// <inheritdoc />
    public HcsClient Connect(string? name = null)
    {
        var client = HcsClient.Connect(Service, name ?? $"{Name}-conformance");
        lock (_gate)
        {
            _clients.Add(client);
        }

        return client;
    }

    /// <inheritdoc />
    public string NewId(string prefix = "conf") =>
        $"{prefix}-{Interlocked.Increment(ref _nextId)}-{Guid.NewGuid().ToString("N")[..12]}";

    /// <inheritdoc />
    public abstract string VmDocument(string guestVerb, bool stopOnReset = false, bool terminateOnLastHandleClosed = false);

    /// <inheritdoc />
    public virtual string ContainerDocument() => throw new NotSupportedException($"the {Name} backend runs no processes");

    /// <inheritdoc />
    public abstract string IgnoresShutdownDocument(string id);

    /// <inheritdoc />
    public virtual string? HangsOnStartDocument(string id) => null;

    public virtual Task StartArrivedAsync(string id) => Task.CompletedTask;

    /// <inheritdoc />
    public abstract void KillWorker(string id);

    /// <inheritdoc />
    public virtual ModifySettingRequest MemoryUpdate(ulong sizeInMb) => SizeUpdate("VirtualMachine/ComputeTopology/Memory/SizeInMB", sizeInMb);

    /// <summary>An <c>Update</c> request setting <paramref name="resourcePath"/> to the number <paramref name="value"/>.</summary>
    protected static ModifySettingRequest SizeUpdate(string resourcePath, ulong value) => new()
    {
        ResourcePath = resourcePath,
        RequestType = ModifyRequestType.Update,
        Settings = JsonDocument.Parse(value.ToString(CultureInfo.InvariantCulture)).RootElement.Clone(),
    };

    /// <summary>Disposes the clients, then the service, then deletes the temporary directory.</summary>
    public virtual async ValueTask DisposeAsync()
    {
        HcsClient[] clients;
        lock (_gate)
        {
            clients = [.. _clients];
            _clients.Clear();
        }

        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }

        if (_service.IsValueCreated)
        {
            await _service.Value.DisposeAsync();
        }

        if (_tempDirectory.IsValueCreated)
        {
            try
            {
                Directory.Delete(_tempDirectory.Value, recursive: true);
            }
            catch (IOException)
            {
                // Best effort.
            }
        }

        GC.SuppressFinalize(this);
    }
}
