// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using Hcs.Schema;

namespace Hcs.Backends.Runc;

/// <summary>
/// Checks that a <c>Container</c> document is one the runc backend can honour, before anything is created. Every
/// member is either honoured or refused by its exact JSON path with <c>HCS_E_INVALID_JSON</c>; nothing is silently
/// ignored.
/// <list type="bullet">
/// <item>Honoured: <c>GuestOs.HostName</c> (1–64 characters of an RFC 1123 host name), <c>Storage.Layers[i].Path</c>
/// (at least one layer, parent first; <c>PathType</c> absent or <c>AbsolutePath</c>; <c>Id</c> is only an identifier),
/// <c>Storage.Path</c> (the scratch directory, optional), <c>MappedDirectories[i]</c> (<c>HostPath</c>,
/// <c>ContainerPath</c>, <c>ReadOnly</c>; <c>HostPathType</c> absent or <c>AbsolutePath</c>), <c>Memory.SizeInMB</c>,
/// <c>Processor.Count|Maximum|Weight</c> (their mutual exclusion and ranges are already enforced by the schema rules
/// when the document is parsed), <c>Networking.Namespace</c> (a file name under
/// <see cref="RuncSettings.NetnsDirectory"/> or an absolute path of a netns file).</item>
/// <item>Refused when set: <c>MappedPipes</c>, <c>HvSocket</c>, <c>ContainerCredentialGuard</c>, <c>RegistryChanges</c>,
/// <c>AssignedDevices</c>, <c>AdditionalDeviceNamespace</c>, <c>Storage.QoS</c>, <c>Storage.PrivilegedContainerRootPath</c>,
/// <c>Layers[i].Cache</c>, <c>MappedDirectories[i].SupportCloudFiles</c> (true), and every <c>Networking</c> member but
/// <c>Namespace</c>; also <c>VirtualMachine</c>, <c>HostedSystem</c> and <c>HostingSystemId</c> (the backend hosts
/// process-isolated containers only).</item>
/// <item>Paths: absolute, no <c>..</c> segment, no control characters; layer and scratch paths (they go into the overlay
/// option string) without <c>,</c> <c>:</c> <c>\</c> <c>=</c> (<see cref="RuncPaths"/>).</item>
/// </list>
/// </summary>
internal static class ContainerValidation
{
    private const string C = "$.Container";

    /// <summary>Longest host name the kernel accepts (<c>HOST_NAME_MAX</c>).</summary>
    public const int MaxHostNameLength = 64;

    /// <summary>Largest <c>Memory.SizeInMB</c> whose byte count fits runc's signed 64-bit limit.</summary>
    public const ulong MaxMemoryMb = long.MaxValue / (1024 * 1024);

    /// <summary>Throws <c>HCS_E_INVALID_JSON</c> naming the first member of <paramref name="document"/> the runc backend cannot honour.</summary>
    /// <param name="document">The create document.</param>
    /// <param name="netnsDirectory">Where named network namespaces live (<see cref="RuncSettings.NetnsDirectory"/>).</param>
    public static void Validate(ComputeSystem document, string netnsDirectory = "/var/run/netns")
    {
        ArgumentNullException.ThrowIfNull(document);
        Refuse(document.VirtualMachine is not null, "$.VirtualMachine", "the runc backend hosts containers only");
        Refuse(document.HostedSystem is not null, "$.HostedSystem", "the runc backend hosts containers only; hosted systems are not supported");
        Refuse(document.HostingSystemId is not null, "$.HostingSystemId", "the runc backend hosts process-isolated containers only");
        var container = document.Container ?? throw HcsException.InvalidJson(C, "a Container document is required by the runc backend");

        Refuse(container.MappedPipes is not null, $"{C}.MappedPipes", "mapped pipes are not supported by the runc backend");
        Refuse(container.HvSocket is not null, $"{C}.HvSocket", "Hyper-V sockets do not exist for a Linux container");
        Refuse(container.ContainerCredentialGuard is not null, $"{C}.ContainerCredentialGuard", "Credential Guard is Windows-only");
        Refuse(container.RegistryChanges is not null, $"{C}.RegistryChanges", "registry changes apply to Windows containers only");
        Refuse(container.AssignedDevices is not null, $"{C}.AssignedDevices", "assigning host devices is not supported by the runc backend");
        Refuse(container.AdditionalDeviceNamespace is not null, $"{C}.AdditionalDeviceNamespace", "device namespaces are not supported by the runc backend");
        OnlyMembers(container, C, "GuestOs", "Storage", "MappedDirectories", "Memory", "Processor", "Networking");

        if (container.GuestOs is { } guestOs)
        {
            OnlyMembers(guestOs, $"{C}.GuestOs", "HostName");
            if (guestOs.HostName is { } hostName)
            {
                HostName(hostName, $"{C}.GuestOs.HostName");
            }
        }

        Storage(container.Storage);
        MappedDirectories(container.MappedDirectories);

        if (container.Memory is { } memory)
        {
            OnlyMembers(memory, $"{C}.Memory", "SizeInMB");
            Refuse(memory.SizeInMB > MaxMemoryMb, $"{C}.Memory.SizeInMB",
                string.Create(CultureInfo.InvariantCulture, $"{memory.SizeInMB} MB is more than the largest limit, {MaxMemoryMb} MB"));
        }

        if (container.Processor is { } processor)
        {
            OnlyMembers(processor, $"{C}.Processor", "Count", "Maximum", "Weight");
        }

        if (container.Networking is { } networking)
        {
            const string N = $"{C}.Networking";
            Refuse(networking.AllowUnqualifiedDnsQuery is not null, $"{N}.AllowUnqualifiedDnsQuery", "DNS settings are not supported; configure the network namespace's resolv.conf instead");
            Refuse(networking.DnsSearchList is not null, $"{N}.DnsSearchList", "DNS settings are not supported; configure the network namespace's resolv.conf instead");
            Refuse(networking.NetworkSharedContainerName is not null, $"{N}.NetworkSharedContainerName", "sharing another container's network is not supported; name its network namespace in Namespace");
            Refuse(networking.NetworkAdapters is not null, $"{N}.NetworkAdapters", "network endpoints are not supported; name a prepared network namespace in Namespace");
            OnlyMembers(networking, N, "Namespace");
            if (networking.Namespace is { } ns)
            {
                _ = NetnsPath(ns, netnsDirectory, $"{N}.Namespace");
            }
        }
    }

    /// <summary>
    /// The network namespace file a <c>Networking.Namespace</c> value names: an absolute path is taken as it is (after
    /// <see cref="RuncPaths.Checked"/>); a name (letters, digits, <c>.</c>, <c>_</c>, <c>-</c>, not <c>.</c>/<c>..</c>)
    /// is a file of <paramref name="netnsDirectory"/>. The file's existence is not checked here.
    /// </summary>
    public static string NetnsPath(string ns, string netnsDirectory, string jsonPath = $"{C}.Networking.Namespace")
    {
        ArgumentNullException.ThrowIfNull(ns);
        if (ns.StartsWith('/'))
        {
            return RuncPaths.Checked(ns, jsonPath);
        }

        if (ns.Length == 0 || ns.Length > 255 || ns is "." or ".." || !ns.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            throw HcsException.InvalidJson(jsonPath,
                $"'{ErrorText.Truncate(ns)}' is neither the name of a network namespace (letters, digits, '.', '_', '-') under {netnsDirectory} nor an absolute path of a netns file");
        }

        return Path.Combine(netnsDirectory, ns);
    }

    /// <summary>True when <paramref name="name"/> is a host name the container may have (1–64 characters, RFC 1123 labels).</summary>
    public static bool IsHostName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length is 0 or > MaxHostNameLength)
        {
            return false;
        }

        foreach (var label in name.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-' || !label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static void HostName(string name, string jsonPath)
    {
        if (!IsHostName(name))
        {
            throw HcsException.InvalidJson(jsonPath,
                $"'{ErrorText.Truncate(name)}' is not a host name: 1 to {MaxHostNameLength} characters, dot-separated labels of letters, digits and '-' that neither start nor end with '-'");
        }
    }

    private static void Storage(Storage? storage)
    {
        const string S = $"{C}.Storage";
        if (storage is null)
        {
            throw HcsException.InvalidJson(S, "Storage with at least one layer is required: the container's root file system");
        }

        Refuse(storage.QoS is not null, $"{S}.QoS", "storage QoS is not supported by the runc backend");
        Refuse(storage.PrivilegedContainerRootPath is not null, $"{S}.PrivilegedContainerRootPath", "privileged (host-process) containers are not supported");
        OnlyMembers(storage, S, "Layers", "Path");

        if (storage.Layers is not { Count: > 0 } layers)
        {
            throw HcsException.InvalidJson($"{S}.Layers", "at least one layer is required");
        }

        for (var i = 0; i < layers.Count; i++)
        {
            var path = string.Create(CultureInfo.InvariantCulture, $"{S}.Layers[{i}]");
            var layer = layers[i] ?? throw HcsException.InvalidJson(path, "a layer is required, not null");
            Refuse(layer.Cache is not null, $"{path}.Cache", "layer cache modes are not supported by the runc backend");
            Refuse(layer.PathType is not null and not PathType.AbsolutePath, $"{path}.PathType", $"path type '{layer.PathType}' is not supported; use AbsolutePath");
            OnlyMembers(layer, path, "Id", "Path", "PathType");
            RuncPaths.Overlay(layer.Path, $"{path}.Path");
        }

        if (storage.Path is not null)
        {
            RuncPaths.Overlay(storage.Path, $"{S}.Path");
        }
    }

    private static void MappedDirectories(IReadOnlyList<MappedDirectory>? directories)
    {
        if (directories is null)
        {
            return;
        }

        var destinations = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < directories.Count; i++)
        {
            var path = string.Create(CultureInfo.InvariantCulture, $"{C}.MappedDirectories[{i}]");
            var directory = directories[i] ?? throw HcsException.InvalidJson(path, "a mapped directory is required, not null");
            Refuse(directory.SupportCloudFiles == true, $"{path}.SupportCloudFiles", "cloud files are Windows-only");
            Refuse(directory.HostPathType is not null and not PathType.AbsolutePath, $"{path}.HostPathType",
                $"path type '{directory.HostPathType}' is not supported; use AbsolutePath");
            OnlyMembers(directory, path, "HostPath", "HostPathType", "ContainerPath", "ReadOnly", "SupportCloudFiles");
            RuncPaths.Checked(directory.HostPath, $"{path}.HostPath");
            var target = RuncPaths.Checked(directory.ContainerPath, $"{path}.ContainerPath");
            var normalised = "/" + string.Join('/', target.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s != "."));
            Refuse(normalised == "/", $"{path}.ContainerPath", "the container's root cannot be a mapped directory");
            Refuse(normalised == "/.hcs" || normalised.StartsWith("/.hcs/", StringComparison.Ordinal), $"{path}.ContainerPath",
                "/.hcs is reserved for the container's init");
            Refuse(!destinations.Add(normalised), $"{path}.ContainerPath", $"'{ErrorText.Truncate(target)}' is already the target of another mapped directory");
        }
    }

    private static void Refuse(bool present, string jsonPath, string why)
    {
        if (present)
        {
            throw HcsException.InvalidJson(jsonPath, why);
        }
    }

    /// <summary>Any member of <paramref name="record"/> outside <paramref name="honoured"/> is refused by name (members added to the schema later).</summary>
    private static void OnlyMembers<T>(T record, string path, params string[] honoured) where T : class
    {
        foreach (var member in HcsJson.SerializeToElement(record).EnumerateObject())
        {
            if (!honoured.Contains(member.Name))
            {
                throw HcsException.InvalidJson($"{path}.{member.Name}", "this member is not supported by the runc backend");
            }
        }
    }
}
