// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Backends.Runc.Tests;

/// <summary>
/// The test application's entry point: what xunit would generate (the Microsoft.Testing.Platform server for
/// <c>dotnet test</c>, else xunit's console runner), plus <see cref="AdoptionHelper.Verb"/>, which makes this
/// executable the separate process that starts a container and is then killed (<see cref="RuncAdoptionTests"/>).
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args is [AdoptionHelper.Verb, var runtimeRoot, var id])
        {
            return await AdoptionHelper.RunAsync(runtimeRoot, id);
        }

        if (args.Any(arg => arg is "--server" or "--internal-msbuild-node"))
        {
            return await Xunit.MicrosoftTestingPlatform.TestPlatformTestFramework.RunAsync(args, SelfRegisteredExtensions.AddSelfRegisteredExtensions);
        }

        return await Xunit.Runner.InProc.SystemConsole.ConsoleRunner.Run(args);
    }
}
