// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Reflection;

namespace Hcs.Schema;

/// <summary>
/// The version of hcs, the one number set in the repository's <c>VERSION</c> file (semantic: MAJOR.MINOR.PATCH) and
/// compiled into every assembly; <c>hcsd --version</c>, <c>hcsctl --version</c> and <c>GetServiceProperties</c>
/// (<see cref="BasicInformation.ServiceVersion"/>) report it, and the NuGet, Debian and pkg-config packages carry it.
/// </summary>
public static class HcsVersion
{
    private static readonly string s_informational =
        typeof(HcsVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>The semantic version, e.g. <c>0.14.0</c> (the informational version without its <c>+commit</c>).</summary>
    public static string Number { get; } = s_informational.Split('+', 2)[0];

    /// <summary>The git commit the build was made from (the informational version's <c>+commit</c>), or null when unknown.</summary>
    public static string? Commit { get; } = s_informational.Split('+', 2) is [_, { Length: > 0 } commit] ? commit : null;

    /// <summary>
    /// What <c>PROGRAM --version</c> prints: <c>PROGRAM VERSION</c>, then <c> (commit SHA)</c> when the build knows its
    /// commit, e.g. <c>hcsd 0.14.0 (commit 2bb6bbe646e6d4c22da0e7a19d71c167d94ec1a2)</c>.
    /// </summary>
    public static string Describe(string program) => Commit is { } commit ? $"{program} {Number} (commit {commit})" : $"{program} {Number}";
}
