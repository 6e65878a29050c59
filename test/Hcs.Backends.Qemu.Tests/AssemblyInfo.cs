// Copyright (c) hcs contributors. Licensed under the MIT licence.

// Under TCG a boot costs ~2.5 CPU-seconds on a 2-core machine: xunit.runner.json turns off parallel test collections
// here, so this assembly boots one VM at a time (the demo test in Hcs.Client.Tests may boot one more).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
