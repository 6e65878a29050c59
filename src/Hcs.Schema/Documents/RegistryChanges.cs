// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>RegistryChanges</c>: registry edits applied to a Windows guest or container.</summary>
public sealed record RegistryChanges
{
    /// <summary>Values to add or overwrite.</summary>
    public IReadOnlyList<RegistryValue>? AddValues { get; init; }

    /// <summary>Keys to delete.</summary>
    public IReadOnlyList<RegistryKey>? DeleteKeys { get; init; }
}

/// <summary>Schema <c>RegistryKey</c>.</summary>
public sealed record RegistryKey
{
    /// <summary>Hive holding the key.</summary>
    public RegistryHive? Hive { get; init; }

    /// <summary>Key path within the hive.</summary>
    public string? Name { get; init; }

    /// <summary>The key is not persisted.</summary>
    public bool? Volatile { get; init; }
}

/// <summary>Schema <c>RegistryValue</c>.</summary>
public sealed record RegistryValue
{
    /// <summary>Key holding the value.</summary>
    public RegistryKey? Key { get; init; }

    /// <summary>Value name.</summary>
    public string? Name { get; init; }

    /// <summary>Value type.</summary>
    public RegistryValueType? Type { get; init; }

    /// <summary>String data.</summary>
    public string? StringValue { get; init; }

    /// <summary>Binary data (base64).</summary>
    public string? BinaryValue { get; init; }

    /// <summary>DWORD data.</summary>
    public int? DWordValue { get; init; }

    /// <summary>QWORD data.</summary>
    public long? QWordValue { get; init; }

    /// <summary>Custom type code, with <see cref="RegistryValueType.CustomType"/>.</summary>
    public uint? CustomType { get; init; }
}

/// <summary>Schema <c>RegistryHive</c>.</summary>
public enum RegistryHive
{
    /// <summary>HKLM\SYSTEM.</summary>
    System,
    /// <summary>HKLM\SOFTWARE.</summary>
    Software,
    /// <summary>HKLM\SECURITY.</summary>
    Security,
    /// <summary>HKLM\SAM.</summary>
    Sam,
}

/// <summary>Schema <c>RegistryValueType</c>.</summary>
public enum RegistryValueType
{
    /// <summary>No type.</summary>
    None,
    /// <summary>REG_SZ.</summary>
    String,
    /// <summary>REG_EXPAND_SZ.</summary>
    ExpandedString,
    /// <summary>REG_MULTI_SZ.</summary>
    MultiString,
    /// <summary>REG_BINARY.</summary>
    Binary,
    /// <summary>REG_DWORD.</summary>
    DWord,
    /// <summary>REG_QWORD.</summary>
    QWord,
    /// <summary>A custom type code.</summary>
    CustomType,
}
