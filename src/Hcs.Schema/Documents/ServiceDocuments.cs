// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;

namespace Hcs.Schema;

/// <summary>Schema <c>Service_PropertyQuery</c>: the query of <c>HcsGetServiceProperties</c>.</summary>
public sealed record ServicePropertyQuery
{
    /// <summary>Property types to return.</summary>
    public IReadOnlyList<ServicePropertyType>? PropertyTypes { get; init; }

    /// <summary>Named queries (2.5), answered in <see cref="ServiceProperties.PropertyResponses"/>.</summary>
    public IReadOnlyDictionary<string, JsonElement>? PropertyQueries { get; init; }
}

/// <summary>Schema <c>GetPropertyType</c>: a service property type.</summary>
public enum ServicePropertyType
{
    /// <summary>Basic information (<see cref="BasicInformation"/>).</summary>
    Basic,
    /// <summary>CPU groups.</summary>
    CpuGroup,
    /// <summary>Host processor topology.</summary>
    ProcessorTopology,
    /// <summary>Credential Guard.</summary>
    ContainerCredentialGuard,
    /// <summary>Quality-of-service capabilities.</summary>
    QoSCapabilities,
}

/// <summary>Schema <c>ServiceProperties</c>: the result of <c>HcsGetServiceProperties</c>.</summary>
public sealed record ServiceProperties
{
    /// <summary>One entry per requested property type, in request order.</summary>
    public IReadOnlyList<JsonElement>? Properties { get; init; }

    /// <summary>Responses to named queries (2.5).</summary>
    public IReadOnlyDictionary<string, PropertyResponse>? PropertyResponses { get; init; }
}

/// <summary>Schema <c>BasicInformation</c>: the <c>Basic</c> service property.</summary>
public sealed record BasicInformation
{
    /// <summary>Supported schema versions (entry A.X means A.0 to A.X).</summary>
    public IReadOnlyList<Version>? SupportedSchemaVersions { get; init; }

    /// <summary>
    /// The version of the service answering (<see cref="HcsVersion.Number"/>, e.g. <c>0.14.0</c>): hcsd's, or the
    /// embedded engine's. An hcs extension (HCS's <c>BasicInformation</c> has only
    /// <see cref="SupportedSchemaVersions"/>); see docs/schema.md.
    /// </summary>
    public string? ServiceVersion { get; init; }
}

/// <summary>Schema <c>ModificationRequest</c>: the document of <c>HcsModifyServiceSettings</c>.</summary>
public sealed record ModificationRequest
{
    /// <summary>Setting to modify.</summary>
    public ModificationPropertyType? PropertyType { get; init; }

    /// <summary>New settings, passed through unchanged.</summary>
    public JsonElement? Settings { get; init; }
}

/// <summary>Service setting modified by a <see cref="ModificationRequest"/>.</summary>
public enum ModificationPropertyType
{
    /// <summary>CPU groups.</summary>
    CpuGroup,
    /// <summary>Credential Guard.</summary>
    ContainerCredentialGuard,
}

/// <summary>Schema <c>HostProcessorModificationRequest</c>: a CPU-group operation.</summary>
public sealed record HostProcessorModificationRequest
{
    /// <summary>Operation.</summary>
    public CpuGroupOperation? Operation { get; init; }

    /// <summary>Operation details, passed through unchanged.</summary>
    public JsonElement? OperationDetails { get; init; }
}

/// <summary>Schema <c>CPUGroupOperation</c>.</summary>
public enum CpuGroupOperation
{
    /// <summary>Create a group.</summary>
    CreateGroup,
    /// <summary>Delete a group.</summary>
    DeleteGroup,
    /// <summary>Set a group property.</summary>
    SetProperty,
}
