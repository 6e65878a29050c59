// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Backends.Qemu.Tests;

/// <summary>The QEMU backend's runtime facts as recorded by the test kit's <see cref="RecordingSink"/>.</summary>
internal static class QemuFactsOfSink
{
    extension(RecordingSink sink)
    {
        /// <summary>The latest runtime facts, parsed as the QEMU backend's.</summary>
        public QemuRuntimeFacts ParsedFacts => QemuRuntimeFacts.TryParse(sink.Facts) ?? throw new InvalidOperationException($"unreadable facts: {sink.Facts}");
    }
}
