// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Reflection;
using System.Text.Json;

namespace Hcs.Schema.Tests;

/// <summary>New schema types cannot be added without samples, round-trip coverage and strict enum handling.</summary>
public sealed class CoverageTests
{
    private static readonly Assembly s_schema = typeof(HcsJson).Assembly;

    private static IEnumerable<Type> PublicRecords() =>
        s_schema.GetExportedTypes().Where(t => t.IsClass && t.GetMethod("<Clone>$") is not null);

    private static IEnumerable<Type> PublicEnums() => s_schema.GetExportedTypes().Where(t => t.IsEnum);

    [Fact]
    public void EveryPublicRecordTypeHasARoundTripSample()
    {
        var covered = Samples.All.Select(s => s.Type).ToHashSet();

        var missing = PublicRecords().Where(t => !covered.Contains(t)).Select(t => t.Name).Order().ToList();

        Assert.Empty(missing);
        Assert.True(PublicRecords().Count() >= 100, "the reflection scan should find the schema records");
    }

    [Fact]
    public void SamplesOfEachTypeTogetherSetEveryMember()
    {
        var unset = new List<string>();
        foreach (var group in Samples.All.GroupBy(s => s.Type))
        {
            foreach (var property in group.Key.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var set = group.Any(s =>
                {
                    var value = property.GetValue(s.Value);
                    return value is not null && !(property.PropertyType.IsValueType && value.Equals(Activator.CreateInstance(property.PropertyType)));
                });
                if (!set)
                {
                    unset.Add($"{group.Key.Name}.{property.Name}");
                }
            }
        }

        Assert.Empty(unset);
    }

    [Fact]
    public void EveryPublicRecordIsSealed()
    {
        Assert.Empty(PublicRecords().Where(t => !t.IsSealed).Select(t => t.Name));
    }

    [Fact]
    public void EveryPublicEnumUsesTheStrictConverter()
    {
        var missing = PublicEnums()
            .Where(e => e.Namespace == "Hcs.Schema" && e.GetCustomAttribute<FlagsAttribute>() is null)
            .Where(e => !e.Name.StartsWith("Hcs", StringComparison.Ordinal))
            .Where(e => HcsJsonContext.Default.GetTypeInfo(e)?.Converter is not IHcsEnumNames)
            .Select(e => e.Name)
            .ToList();

        Assert.Empty(missing);
    }

    [Fact]
    public void EveryEnumValueRoundTripsAsItsExactName()
    {
        foreach (var enumType in PublicEnums().Where(e => HcsJsonContext.Default.GetTypeInfo(e) is not null))
        {
            var info = HcsJsonContext.Default.GetTypeInfo(enumType)!;
            foreach (var name in Enum.GetNames(enumType))
            {
                var json = $"\"{name}\"";
                var value = JsonSerializer.Deserialize(json, info);
                Assert.Equal(json, JsonSerializer.Serialize(value, info));
            }
        }
    }

    [Fact]
    public void EveryDocumentPropertyHasSourceGeneratedMetadata()
    {
        foreach (var type in PublicRecords())
        {
            var info = HcsJsonContext.Default.GetTypeInfo(type);
            Assert.NotNull(info);
            var names = info.Properties.Select(p => p.Name).ToHashSet();
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                Assert.Contains(property.Name, names);
            }
        }
    }

    [Fact]
    public void SchemaSinceAttributesAreVisibleThroughGeneratedMetadata()
    {
        var info = HcsJsonContext.Default.GetTypeInfo(typeof(Chipset))!;
        var property = info.Properties.Single(p => p.Name == nameof(Chipset.LinuxKernelDirect));

        var since = property.AttributeProvider?.GetCustomAttributes(typeof(SchemaSinceAttribute), false).OfType<SchemaSinceAttribute>().Single();

        Assert.NotNull(since);
        Assert.Equal((2U, 2U), (since.Major, since.Minor));
    }
}
