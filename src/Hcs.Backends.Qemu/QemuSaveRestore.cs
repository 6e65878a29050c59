// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hcs.Engine.Backends;
using Hcs.Schema;
using Microsoft.Win32.SafeHandles;

namespace Hcs.Backends.Qemu;

/// <summary>
/// Save and restore of one VM, both as QEMU migrations without a shell (never <c>exec:</c>).
/// <para>
/// <b>Save</b>: we listen on <see cref="SaveSocket"/> in the runtime directory, send <c>migrate uri=unix:…</c>
/// (max-bandwidth raised) and stream what QEMU sends into a temporary file next to the target (created and renamed as
/// the caller, <see cref="HostFiles"/>) behind the <see cref="QemuSavedState"/> header, wait for <c>query-migrate</c>
/// to say completed, fsync and rename. While it runs the temporary file's name is <see cref="TemporaryFile"/> (a runtime
/// fact: a service that dies meanwhile leaves its successor the name to remove).
/// </para>
/// <para>
/// <b>Restore</b> (the first Start of a VM created with <c>RestoreState</c>, QEMU started with <c>-incoming defer</c>):
/// <c>migrate-incoming uri=unix:&lt;rundir&gt;/restore.sock</c>, the checked file (<see cref="SavedStateFile"/>)
/// streamed in, wait for completed, <c>cont</c>. QEMU 7.2 exits when it cannot load a stream: the restore then fails
/// with <c>ERROR_INVALID_DATA</c> and QEMU's stderr (<c>qemu.log</c>).
/// </para>
/// </summary>
internal sealed class QemuSaveRestore
{
    /// <summary>The socket a Save listens on, in the runtime directory.</summary>
    internal const string SaveSocket = "save.sock";

    /// <summary>How the temporary file of a Save ends (<c>.TARGET.GUID.tmp</c> next to the target).</summary>
    internal const string SaveTemporarySuffix = ".tmp";

    /// <summary>The socket QEMU listens on for a restore, in the runtime directory.</summary>
    internal const string RestoreSocket = "restore.sock";

    private const string SaveWhere = "$.SaveStateFilePath";

    /// <summary>Generous bound for QEMU to cancel a migration or to exit after a failed restore.</summary>
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    private readonly QmpClient _qmp;
    private readonly string? _systemId;
    private readonly string _runtimeDirectory;
    private readonly TimeProvider _time;
    private readonly IReadOnlyList<string> _reservedPaths;
    private readonly Func<CancellationToken, Task> _qemuExited;
    private readonly Func<int?> _exitCode;
    private readonly Action _factsChanged;
    private readonly Lock _gate = new();
    private SavedStateFile? _restore; // guarded by _gate; consumed by the first restore
    private string? _temporaryFile; // guarded by _gate: the partial file of a Save in progress
    private Task? _restoring;

    /// <summary>
    /// Save and restore over <paramref name="qmp"/> for the VM whose runtime directory is
    /// <paramref name="runtimeDirectory"/>. <paramref name="restore"/> is the checked saved state still to restore
    /// (null for none); <paramref name="qemuExited"/> completes when QEMU has exited and <paramref name="exitCode"/> is
    /// then its status (null when unknown); <paramref name="factsChanged"/> is called when <see cref="TemporaryFile"/>
    /// changes; <paramref name="reservedPaths"/> are refused as Save targets.
    /// </summary>
    public QemuSaveRestore(QmpClient qmp, string? systemId, string runtimeDirectory, TimeProvider time, IReadOnlyList<string> reservedPaths,
        SavedStateFile? restore, Func<CancellationToken, Task> qemuExited, Func<int?> exitCode, Action factsChanged)
    {
        _qmp = qmp;
        _systemId = systemId;
        _runtimeDirectory = runtimeDirectory;
        _time = time;
        _reservedPaths = reservedPaths;
        _restore = restore;
        _qemuExited = qemuExited;
        _exitCode = exitCode;
        _factsChanged = factsChanged;
    }

    /// <summary>The temporary file of the Save in progress (null when none is).</summary>
    public string? TemporaryFile
    {
        get
        {
            lock (_gate)
            {
                return _temporaryFile;
            }
        }
    }

    /// <summary>The restore in progress or done, if one was started: a failed restore makes QEMU exit.</summary>
    public Task? Restoring => Volatile.Read(ref _restoring);

    /// <summary>Disposes the saved state still to restore, if any (the system is released or handed over).</summary>
    public void Release()
    {
        lock (_gate)
        {
            _restore?.Dispose();
            _restore = null;
        }
    }

    /// <summary>
    /// Saves the paused VM to <c>SaveStateFilePath</c> (see <see cref="QemuSavedState"/> for the format), with
    /// <paramref name="memoryMb"/>, <paramref name="balloonTargetMb"/> and <paramref name="layout"/> in its header. The
    /// VM stays paused. Nothing is left at the target or next to it when the save fails.
    /// </summary>
    public async Task SaveAsync(SaveOptions options, ulong memoryMb, ulong balloonTargetMb, IReadOnlyList<LayoutEntry> layout, CancellationToken cancellationToken)
    {
        const string Label = "QemuBackend.Save";
        var target = SaveTarget(options);
        var status = (await _qmp.ExecuteAsync("query-status", cancellationToken: cancellationToken).ConfigureAwait(false))
            .GetProperty("status").GetString();
        if (status == "postmigrate")
        {
            // QEMU 7.2: "Can't migrate the vm that was paused due to previous migration".
            throw Failure(HResults.HCS_E_INVALID_STATE, Label,
                "the VM was saved and has not run since; QEMU cannot save it again until it is resumed (and paused again)");
        }

        QemuOptions.NotReserved(target, SaveWhere, _reservedPaths);
        var socketPath = Path.Combine(_runtimeDirectory, SaveSocket);
        var name = Path.GetFileName(target);
        var tempName = $".{name}.{Guid.NewGuid():N}{SaveTemporarySuffix}";
        var temp = Path.Combine(Path.GetDirectoryName(target)!, tempName);
        File.Delete(socketPath);
        // Bound through a descriptor of the runtime directory (any length); removed below, whatever happens.
        using var listener = Hcs.Linux.UnixSocketPaths.Listen(socketPath, 1);
        FileStream? file = null;
        SafeFileHandle? directory = null;
        var migrating = false;
        var saved = false;
        try
        {
            // Recorded before the file exists: a service that dies during the save leaves its successor the name to remove.
            lock (_gate)
            {
                _temporaryFile = temp;
            }

            _factsChanged();

            // The directory is opened and the temporary file created with the caller's credentials (HostFiles), then
            // renamed over the target by them: the file belongs to the caller, and nothing it could not replace is.
            (directory, var handle) = await HostFiles.AsCallerAsync(() => CreateSaveFile(target, tempName)).ConfigureAwait(false);
            file = new FileStream(handle, FileAccess.ReadWrite, 1 << 20);

            var headerLength = QemuSavedState.Header(0, memoryMb, balloonTargetMb, layout).Length;
            await file.WriteAsync(new byte[headerLength], cancellationToken).ConfigureAwait(false);

            // The default max-bandwidth (128 MiB/s) makes a save of a 256 MB guest take 0.8 s instead of 0.2 s.
            await _qmp.ExecuteAsync("migrate-set-parameters", new JsonObject { ["max-bandwidth"] = 32L << 30 }, cancellationToken).ConfigureAwait(false);
            try
            {
                await _qmp.ExecuteAsync("migrate", new JsonObject { ["uri"] = $"unix:{QemuCommandLine.RuntimeSocket(_runtimeDirectory, SaveSocket)}" }, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (QmpErrorException e)
            {
                throw Failure(HResults.E_FAIL, Label, $"QEMU refused to save the VM: {e.Description}");
            }

            migrating = true;
            using var stopAccept = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var migration = WaitForMigrationAsync(cancellationToken);
            var accept = listener.AcceptAsync(stopAccept.Token).AsTask();
            if (await Task.WhenAny(accept, migration).ConfigureAwait(false) != accept)
            {
                await stopAccept.CancelAsync().ConfigureAwait(false);
                await ((Task)accept).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                throw MigrationFailure(await migration.ConfigureAwait(false), Label, "saving");
            }

            long received;
            using (var connection = await accept.ConfigureAwait(false))
            {
                var source = new NetworkStream(connection, ownsSocket: false);
                await using var sourceScope = source.ConfigureAwait(false);
                try
                {
                    received = await CopyAsync(source, file, long.MaxValue, cancellationToken).ConfigureAwait(false);
                }
                catch (IOException e) when (!cancellationToken.IsCancellationRequested)
                {
                    // Writing the file failed (or QEMU went away): closing the connection makes QEMU fail the migration.
                    connection.Dispose();
                    await ((Task)migration).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    throw Failure(HResults.E_FAIL, Label, $"writing the saved state to '{temp}' failed: {e.Message}");
                }
            }

            var info = await migration.ConfigureAwait(false);
            migrating = false;
            if (Status(info) != "completed")
            {
                throw MigrationFailure(info, Label, "saving");
            }

            var magic = new byte[QemuSavedState.StreamMagic.Length];
            file.Position = headerLength;
            if (received < magic.Length || await file.ReadAtLeastAsync(magic, magic.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) != magic.Length
                || !magic.AsSpan().SequenceEqual(QemuSavedState.StreamMagic))
            {
                throw Failure(HResults.ERROR_INVALID_DATA, Label, string.Create(CultureInfo.InvariantCulture,
                    $"QEMU reported a completed migration but sent no migration stream ({received} bytes)"));
            }

            file.Position = 0;
            await file.WriteAsync(QemuSavedState.Header((ulong)received, memoryMb, balloonTargetMb, layout), cancellationToken).ConfigureAwait(false);
            file.Flush(flushToDisk: true);
            await file.DisposeAsync().ConfigureAwait(false);
            file = null;
            var renamed = directory;
            await HostFiles.AsCallerAsync(() =>
            {
                HostFiles.RenameWithin(renamed, tempName, name, target, SaveWhere);
                return true;
            }).ConfigureAwait(false);
            saved = true;
        }
        catch (OperationCanceledException) when (migrating)
        {
            await CancelMigrationAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            if (file is not null)
            {
                await file.DisposeAsync().ConfigureAwait(false);
            }

            if (directory is not null)
            {
                if (!saved)
                {
                    var unlinked = directory;
                    _ = await HostFiles.AsCallerAsync(() => HostFiles.UnlinkWithin(unlinked, tempName)).ConfigureAwait(false);
                }

                directory.Dispose();
            }

            TryDelete(socketPath);
            lock (_gate)
            {
                _temporaryFile = null;
            }

            _factsChanged();
        }
    }

    /// <summary>
    /// With the calling thread's credentials: opens the directory of <paramref name="target"/> and creates
    /// <paramref name="tempName"/> in it (mode 0600, <c>O_EXCL|O_NOFOLLOW</c>). A missing directory or a target that
    /// is a directory is <c>HCS_E_INVALID_JSON</c>; a directory the caller may not write, <c>E_ACCESSDENIED</c>.
    /// </summary>
    private static (SafeFileHandle Directory, SafeFileHandle File) CreateSaveFile(string target, string tempName)
    {
        var parent = Path.GetDirectoryName(target);
        SafeFileHandle directory;
        try
        {
            directory = HostFiles.OpenParent(target, SaveWhere);
        }
        catch (HcsException e) when (e.HResult == HResults.ERROR_PATH_NOT_FOUND)
        {
            throw HcsException.InvalidJson(SaveWhere, $"the directory '{parent}' does not exist");
        }

        try
        {
            if (HostFiles.TypeOf(directory, Path.GetFileName(target)) == HostFileType.Directory)
            {
                throw HcsException.InvalidJson(SaveWhere, $"'{target}' is a directory");
            }

            if (!HostFiles.MayReplace(directory, Path.GetFileName(target)))
            {
                throw HostFiles.Failure(1 /* EPERM */, target, "replace", SaveWhere);
            }

            return (directory, HostFiles.CreateExclusive(directory, tempName, UnixFileMode.UserRead | UnixFileMode.UserWrite, target, SaveWhere));
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>Checks SaveOptions: ToFile (or no type) to an absolute path (whether its directory exists is checked as the caller).</summary>
    internal static string SaveTarget(SaveOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.SaveType == SaveType.AsTemplate)
        {
            throw HcsException.InvalidJson("$.SaveType", "saving as a template is not supported by the QEMU backend; use ToFile");
        }

        if (string.IsNullOrEmpty(options.SaveStateFilePath))
        {
            throw HcsException.InvalidJson(SaveWhere, "a saved-state file path is required");
        }

        var target = QemuOptions.CheckedPath(options.SaveStateFilePath, SaveWhere);
        if (target.EndsWith('/'))
        {
            throw HcsException.InvalidJson(SaveWhere, $"'{ErrorText.Truncate(target)}' names a directory, not a file");
        }

        return target;
    }

    private async Task CancelMigrationAsync()
    {
        try
        {
            await _qmp.ExecuteAsync("migrate_cancel").WaitAsync(s_timeout, _time).ConfigureAwait(false);
        }
        catch (Exception e) when (e is QmpErrorException or QmpDisconnectedException or TimeoutException)
        {
            // QEMU is gone or the migration already ended.
        }
    }

    // ---- Restore ----------------------------------------------------------------------------------------------------

    /// <summary>
    /// Restores the saved state given at construction, if it has not been restored yet, and continues the VM (<c>cont</c>).
    /// False, and nothing done, when there is nothing to restore (the caller continues the VM itself).
    /// </summary>
    public async Task<bool> RestoreAsync(CancellationToken cancellationToken)
    {
        SavedStateFile? restore;
        lock (_gate)
        {
            restore = _restore;
            _restore = null;
        }

        if (restore is null)
        {
            return false;
        }

        // Published before any of the work runs: the stream can be written synchronously and QEMU can exit on a bad
        // one before RestoreAndContinueAsync would have returned its task, and the exit path must find it to wait for it.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var restoring = AfterAsync(gate.Task);
        Volatile.Write(ref _restoring, restoring);
        gate.SetResult();
        await restoring.ConfigureAwait(false);
        return true;

        async Task AfterAsync(Task opened)
        {
            await opened.ConfigureAwait(false);
            await RestoreAndContinueAsync(restore, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RestoreAndContinueAsync(SavedStateFile restore, CancellationToken cancellationToken)
    {
        const string Label = "QemuBackend.Start";
        using (restore)
        {
            var socketPath = Path.Combine(_runtimeDirectory, RestoreSocket);
            try
            {
                await _qmp.ExecuteAsync("migrate-incoming", new JsonObject { ["uri"] = $"unix:{QemuCommandLine.RuntimeSocket(_runtimeDirectory, RestoreSocket)}" },
                    cancellationToken).ConfigureAwait(false);
                using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
                {
                    await Hcs.Linux.UnixSocketPaths.ConnectAsync(socket, socketPath, cancellationToken).ConfigureAwait(false);
                    var target = new NetworkStream(socket, ownsSocket: false);
                    await using (target.ConfigureAwait(false))
                    {
                        await CopyAsync(restore.Stream, target, (long)restore.StreamLength, cancellationToken).ConfigureAwait(false);
                    }

                    socket.Shutdown(SocketShutdown.Send);
                }

                var info = await WaitForMigrationAsync(cancellationToken).ConfigureAwait(false);
                if (Status(info) != "completed")
                {
                    throw MigrationFailure(info, Label, $"restoring '{restore.Path}'");
                }
            }
            catch (Exception e) when (e is IOException or SocketException or QmpDisconnectedException && !cancellationToken.IsCancellationRequested)
            {
                // QEMU 7.2 exits (status 1) when it cannot load an incoming stream; its reason is on stderr.
                throw await RestoreFailureAsync(restore.Path, e).ConfigureAwait(false);
            }
            catch (QmpErrorException e)
            {
                throw Failure(HResults.E_FAIL, Label, $"QEMU refused to restore '{restore.Path}': {e.Description}");
            }
        }

        await _qmp.ExecuteAsync("cont", cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private async Task<Exception> RestoreFailureAsync(string path, Exception cause)
    {
        try
        {
            await _qemuExited(CancellationToken.None).WaitAsync(s_timeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return cause;
        }

        if (_exitCode() != 1)
        {
            return cause; // killed (Terminate, kill -9): the engine reports the stop
        }

        var text = (await QemuBackend.ReadQemuLogAsync(_runtimeDirectory).ConfigureAwait(false)).Trim();
        return Failure(HResults.ERROR_INVALID_DATA, "QemuBackend.Start",
            $"restoring '{path}' failed: QEMU could not load the saved state (does the document describe the saved VM's devices?): {text}");
    }

    // ---- Migration helpers ------------------------------------------------------------------------------------------

    /// <summary>Polls <c>query-migrate</c> until the migration completed, failed or was cancelled.</summary>
    private async Task<JsonElement> WaitForMigrationAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var info = await _qmp.ExecuteAsync("query-migrate", cancellationToken: cancellationToken).ConfigureAwait(false);
            if (Status(info) is "completed" or "failed" or "cancelled")
            {
                return info;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string? Status(JsonElement info) =>
        info.ValueKind == JsonValueKind.Object && info.TryGetProperty("status", out var s) ? s.GetString() : null;

    private HcsException MigrationFailure(JsonElement info, string label, string what)
    {
        var reason = info.ValueKind == JsonValueKind.Object && info.TryGetProperty("error-desc", out var d) ? d.GetString() : null;
        return Failure(HResults.E_FAIL, label, $"{what} failed: QEMU's migration ended '{Status(info)}'{(reason is null ? "" : $": {reason}")}");
    }

    private static async Task<long> CopyAsync(Stream source, Stream target, long count, CancellationToken cancellationToken)
    {
        var buffer = new byte[1 << 20];
        long copied = 0;
        while (copied < count)
        {
            var read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count - copied)), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                if (count == long.MaxValue)
                {
                    break;
                }

                throw new EndOfStreamException("the saved-state file ended early");
            }

            await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            copied += read;
        }

        return copied;
    }

    private HcsException Failure(int hr, string label, string message) =>
        new(hr, label, _systemId, result: ResultError.From(hr, message, "qemu"));

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort.
        }
    }
}
