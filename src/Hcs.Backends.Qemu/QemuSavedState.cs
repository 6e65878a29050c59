// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hcs.Engine.Backends;
using Hcs.Schema;
using Microsoft.Win32.SafeHandles;

namespace Hcs.Backends.Qemu;

/// <summary>
/// The saved-state file written by Save and read by a restoring Start: a header followed, unchanged, by the QEMU
/// migration stream (which starts with QEMU's own <c>QEVM</c> magic and stream version 3). Header, little-endian:
/// <list type="table">
/// <item><term>0</term><description>magic <c>HCSQSAVE</c></description></item>
/// <item><term>8</term><description>u32 format version (1)</description></item>
/// <item><term>12</term><description>u32 header length H (64 + L): the stream starts at H</description></item>
/// <item><term>16</term><description>u64 length of the migration stream (written last, so an interrupted save is detected)</description></item>
/// <item><term>24</term><description>u64 memory size of the saved VM in MB (its boot size)</description></item>
/// <item><term>32</term><description>u64 balloon target in MB when it was saved</description></item>
/// <item><term>40</term><description>u32 length L of the device layout; then zeros up to 64</description></item>
/// <item><term>64</term><description>the device layout (<see cref="QemuCommandLine.Layout"/>) as a UTF-8 JSON object</description></item>
/// </list>
/// A restore checks all of it before QEMU starts, so a foreign, garbage or truncated file, or a document with another
/// memory size or other devices, fails at Create with the reason instead of making QEMU exit half-way through a
/// restore (or, for a document with an extra device, restoring a guest that never saw that device).
/// </summary>
internal static class QemuSavedState
{
    /// <summary>Length of the fixed part of the header.</summary>
    public const int FixedLength = 64;

    /// <summary>Upper bound on a header (a layout is a few hundred bytes).</summary>
    private const int MaxHeaderLength = 1 << 20;

    /// <summary>The format version this service writes and reads.</summary>
    public const uint FormatVersion = 1;

    /// <summary>The JSON path of the restored file in a create document.</summary>
    public const string RestorePath = "$.VirtualMachine.RestoreState.SaveStateFilePath";

    private static ReadOnlySpan<byte> Magic => "HCSQSAVE"u8;

    /// <summary>QEMU's migration stream header: <c>QEMU_VM_FILE_MAGIC</c> ("QEVM") and <c>QEMU_VM_FILE_VERSION</c> (3), big-endian.</summary>
    public static ReadOnlySpan<byte> StreamMagic => [0x51, 0x45, 0x56, 0x4D, 0, 0, 0, 3];

    /// <summary>The header for a stream of <paramref name="streamLength"/> bytes (its length does not depend on it).</summary>
    public static byte[] Header(ulong streamLength, ulong memoryMb, ulong balloonTargetMb, IReadOnlyList<LayoutEntry> layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var json = new JsonObject();
        foreach (var entry in layout)
        {
            json[entry.Key] = entry.Value;
        }

        var text = Encoding.UTF8.GetBytes(json.ToJsonString());
        var header = new byte[FixedLength + text.Length];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), FormatVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), (uint)header.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(16), streamLength);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(24), memoryMb);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(32), balloonTargetMb);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(40), (uint)text.Length);
        text.CopyTo(header.AsSpan(FixedLength));
        return header;
    }

    /// <summary>
    /// Opens <paramref name="path"/> (as the caller, <see cref="HostFiles"/>) for a restore and checks it against the VM of document <paramref name="vm"/>.
    /// Missing → <c>ERROR_FILE_NOT_FOUND</c>, unreadable → <c>E_ACCESSDENIED</c>, not a saved state of this format
    /// (foreign, garbage, truncated) → <c>ERROR_INVALID_DATA</c>, another memory size or device layout →
    /// <c>HCS_E_INVALID_JSON</c> naming the member that differs. The returned file is positioned at the migration stream.
    /// </summary>
    public static async Task<SavedStateFile> OpenAsync(string path, VirtualMachine vm, string? systemId)
    {
        ArgumentNullException.ThrowIfNull(vm);
        const string Label = "QemuBackend.Create";
        HcsException Fail(int hr, string why) =>
            new(hr, Label, systemId, result: ResultError.From(hr, $"{RestorePath}: '{ErrorText.Truncate(path)}' {why}", "qemu"));

        // Opened with the caller's credentials (HostFiles): a caller that is not root restores only what it may read.
        SafeFileHandle handle;
        try
        {
            handle = await HostFiles.OpenAsync(QemuOptions.CheckedPath(path, RestorePath), HostOpen.ReadFile, RestorePath).ConfigureAwait(false);
        }
        catch (HcsException e) when (e.HResult == HResults.ERROR_PATH_NOT_FOUND)
        {
            throw Fail(HResults.ERROR_FILE_NOT_FOUND, "does not exist");
        }

        var type = HostFiles.TypeOf(handle);
        if (type != HostFileType.Regular)
        {
            handle.Dispose();
            throw type == HostFileType.Directory
                ? HcsException.InvalidJson(RestorePath, $"'{path}' is a directory, not a saved-state file")
                : Fail(HResults.ERROR_INVALID_DATA, "is not a regular file");
        }

        var file = new FileStream(handle, FileAccess.Read, 1 << 16);

        try
        {
            var fixedPart = new byte[FixedLength];
            var length = file.Length;
            if (length < FixedLength + StreamMagic.Length)
            {
                throw Fail(HResults.ERROR_INVALID_DATA, string.Create(CultureInfo.InvariantCulture, $"is not a saved state written by the QEMU backend ({length} bytes)"));
            }

            await file.ReadExactlyAsync(fixedPart).ConfigureAwait(false);
            if (!fixedPart.AsSpan(0, 8).SequenceEqual(Magic))
            {
                throw Fail(HResults.ERROR_INVALID_DATA, "is not a saved state written by the QEMU backend (no HCSQSAVE header)");
            }

            var version = BinaryPrimitives.ReadUInt32LittleEndian(fixedPart.AsSpan(8));
            if (version != FormatVersion)
            {
                throw Fail(HResults.ERROR_INVALID_DATA, string.Create(CultureInfo.InvariantCulture,
                    $"has saved-state format version {version}; this service reads version {FormatVersion}"));
            }

            var headerLength = BinaryPrimitives.ReadUInt32LittleEndian(fixedPart.AsSpan(12));
            var layoutLength = BinaryPrimitives.ReadUInt32LittleEndian(fixedPart.AsSpan(40));
            var streamLength = BinaryPrimitives.ReadUInt64LittleEndian(fixedPart.AsSpan(16));
            if (headerLength > MaxHeaderLength || layoutLength > MaxHeaderLength || headerLength != FixedLength + layoutLength || headerLength + (long)StreamMagic.Length > length)
            {
                throw Fail(HResults.ERROR_INVALID_DATA, string.Create(CultureInfo.InvariantCulture, $"has a damaged header (length {headerLength}, layout {layoutLength})"));
            }

            if (streamLength != (ulong)(length - headerLength))
            {
                throw Fail(HResults.ERROR_INVALID_DATA, string.Create(CultureInfo.InvariantCulture,
                    $"is truncated or was not completely written: its header announces {streamLength} bytes of state, the file holds {length - headerLength}"));
            }

            var rest = new byte[layoutLength + StreamMagic.Length];
            await file.ReadExactlyAsync(rest).ConfigureAwait(false);
            if (!rest.AsSpan((int)layoutLength).SequenceEqual(StreamMagic))
            {
                throw Fail(HResults.ERROR_INVALID_DATA, "does not hold a QEMU migration stream (no QEVM v3 magic after the header)");
            }

            var memoryMb = QemuCommandLine.MemoryMb(vm);
            var savedMemory = BinaryPrimitives.ReadUInt64LittleEndian(fixedPart.AsSpan(24));
            if (savedMemory != memoryMb)
            {
                throw HcsException.InvalidJson("$.VirtualMachine.ComputeTopology.Memory.SizeInMB", string.Create(CultureInfo.InvariantCulture,
                    $"the saved state in '{path}' is of a VM with {savedMemory} MB, this document has {memoryMb} MB; a restore needs the document of the saved VM"));
            }

            CheckLayout(rest.AsSpan(0, (int)layoutLength), QemuCommandLine.Layout(vm, QemuCommandLine.ScsiSlots(vm)), path, Fail);
            file.Position = headerLength;
            return new SavedStateFile(path, file, streamLength, BinaryPrimitives.ReadUInt64LittleEndian(fixedPart.AsSpan(32)));
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static void CheckLayout(ReadOnlySpan<byte> saved, IReadOnlyList<LayoutEntry> document, string path, Func<int, string, HcsException> fail)
    {
        Dictionary<string, string?> entries;
        try
        {
            using var json = JsonDocument.Parse(saved.ToArray());
            entries = json.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString(), StringComparer.Ordinal);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            throw fail(HResults.ERROR_INVALID_DATA, "has a damaged header (its device layout is not a JSON object of strings)");
        }

        foreach (var entry in document)
        {
            if (!entries.TryGetValue(entry.Key, out var value) || value != entry.Value)
            {
                throw HcsException.InvalidJson(entry.JsonPath,
                    $"the saved VM in '{path}' has {entry.Key} [{value}], this document describes [{entry.Value}]; a restore needs the document of the saved VM (including hot-added disks)");
            }
        }
    }
}

/// <summary>A checked saved-state file, open and positioned at its migration stream.</summary>
/// <param name="Path">The file.</param>
/// <param name="Stream">The open file.</param>
/// <param name="StreamLength">Length of the migration stream.</param>
/// <param name="BalloonTargetMb">The balloon target of the saved VM.</param>
internal sealed record SavedStateFile(string Path, FileStream Stream, ulong StreamLength, ulong BalloonTargetMb) : IDisposable
{
    public void Dispose() => Stream.Dispose();
}
