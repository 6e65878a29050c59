// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Text.Json;
using Hcs.Engine.State;
using Hcs.Schema;
using Microsoft.Data.Sqlite;

namespace Hcs.State;

/// <summary>
/// The state store of hcsd: one SQLite database, <c>state.db</c>, in the state directory (mode 0700, the file 0600),
/// in WAL mode with <c>synchronous=NORMAL</c> (a committed write survives the service being killed; only a power
/// loss can take the last ones back). The schema carries its version in <c>schema_version</c> and is migrated
/// forward on open (<see cref="StateSchema"/>); a database newer than this code is refused rather than guessed at.
/// The database is opened on first use, so constructing a store does no I/O. When it cannot be opened for writing
/// (no space left, a read-only file system) it is opened read-only instead (<see cref="ReadOnlyReason"/>): records
/// can be loaded, every write fails with <c>ERROR_DISK_FULL</c> or <c>ERROR_WRITE_PROTECT</c> naming the state
/// directory, and each write first tries to reopen it for writing, so the store heals once space is freed.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SqliteStateStore : IStateStore
{
    /// <summary>The database's file name inside the state directory.</summary>
    public const string FileName = "state.db";

    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly IReadOnlyList<IReadOnlyList<string>> _migrations;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private SqliteConnection? _connection; // guarded by _gate
    private HcsException? _readOnly; // guarded by _gate: why _connection is read-only, or null when it is writable
    private bool _disposed; // guarded by _gate

    /// <summary>A store in <paramref name="directory"/> (an absolute path; created 0700 on first use).</summary>
    public SqliteStateStore(string directory)
        : this(directory, StateSchema.Migrations)
    {
    }

    /// <summary>A store with its own migration list (tests of the migration path).</summary>
    internal SqliteStateStore(string directory, IReadOnlyList<IReadOnlyList<string>> migrations)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Path.IsPathFullyQualified(directory))
        {
            throw new ArgumentException($"the state directory must be an absolute path: '{directory}'", nameof(directory));
        }

        Directory = directory;
        _migrations = migrations;
    }

    /// <summary>The state directory.</summary>
    public string Directory { get; }

    /// <summary>The database file.</summary>
    public string DatabasePath => Path.Combine(Directory, FileName);

    /// <summary>
    /// Why the store is open read-only (its writes fail with this error), or null when it is writable or not yet open.
    /// </summary>
    public HcsException? ReadOnlyReason
    {
        get
        {
            return Volatile.Read(ref _readOnly);
        }
    }

    /// <summary>The schema version this code writes.</summary>
    public static int SchemaVersion => StateSchema.CurrentVersion;

    /// <summary>Opens (creating or migrating as needed) the database now rather than on first use; returns its schema version.</summary>
    public async Task<int> OpenAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = await ConnectionAsync(cancellationToken).ConfigureAwait(false);
            return connection is null ? 0 : await ReadVersionAsync(connection, null, cancellationToken).ConfigureAwait(false) ?? 0;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Tries a real write the size of a large record (a row with a 64 KiB document, inserted and deleted in one
    /// committed transaction, so the database's content does not change): null if the state can be written now, else
    /// why not (<c>ERROR_DISK_FULL</c>, <c>ERROR_WRITE_PROTECT</c> or <c>E_FAIL</c>, naming the state directory). hcsd
    /// logs it when it starts. A smaller record may still fit where this did not (SQLite reuses its WAL's space).
    /// </summary>
    public async Task<HcsException?> CheckWritableAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = await WritableConnectionAsync(cancellationToken).ConfigureAwait(false);
            using var command = connection.CreateCommand();

            // The empty id is never a system's (ids are validated), and the row is gone when the transaction commits.
            command.CommandText = """
                BEGIN IMMEDIATE;
                INSERT OR REPLACE INTO systems (id, owner_uid, client_name, grants, document, backend, runtime_facts,
                    runtime_id, state, exit_status, created_at, started_at, stopped_at, updated_at)
                VALUES ('', 0, '', '[]', $document, '', NULL, '', '', NULL, '', NULL, NULL, '');
                DELETE FROM systems WHERE id = '';
                COMMIT;
                """;
            command.Parameters.AddWithValue("$document", new string('x', 64 * 1024));
            try
            {
                await WriteAsync(command, "a test write", cancellationToken).ConfigureAwait(false);
            }
            catch (HcsException)
            {
                // SQLite may have rolled the transaction back already (a full disk does); if not, do it here.
                try
                {
                    using var rollback = connection.CreateCommand();
                    rollback.CommandText = "ROLLBACK";
                    await rollback.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (SqliteException)
                {
                    // No transaction was active.
                }

                throw;
            }

            return null;
        }
        catch (HcsException e)
        {
            return e;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SystemRecord>> LoadAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (await ConnectionAsync(cancellationToken).ConfigureAwait(false) is not { } connection)
            {
                // Read-only and there is no database: nothing was ever recorded here.
                return [];
            }

            using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT id, owner_uid, client_name, grants, document, backend, runtime_facts, runtime_id, state,
                       exit_status, created_at, started_at, stopped_at, updated_at
                FROM systems ORDER BY created_at, id
                """;
            var records = new List<SystemRecord>();
            using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                records.Add(Read(reader));
            }

            return records;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task SaveAsync(SystemRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = await WritableConnectionAsync(cancellationToken).ConfigureAwait(false);
            using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT OR REPLACE INTO systems (id, owner_uid, client_name, grants, document, backend, runtime_facts,
                    runtime_id, state, exit_status, created_at, started_at, stopped_at, updated_at)
                VALUES ($id, $owner, $client, $grants, $document, $backend, $facts, $runtime, $state, $exit, $created,
                    $started, $stopped, $updated)
                """;
            var p = command.Parameters;
            p.AddWithValue("$id", record.Id);
            p.AddWithValue("$owner", (long)record.OwnerUid);
            p.AddWithValue("$client", record.ClientName);
            p.AddWithValue("$grants", "[" + string.Join(',', record.Grants.Select(g => g.ToString(CultureInfo.InvariantCulture))) + "]");
            p.AddWithValue("$document", record.Document);
            p.AddWithValue("$backend", record.Backend);
            p.AddWithValue("$facts", (object?)record.RuntimeFacts ?? DBNull.Value);
            p.AddWithValue("$runtime", record.RuntimeId.ToString("D"));
            p.AddWithValue("$state", record.State.ToString());
            p.AddWithValue("$exit", (object?)record.ExitStatus ?? DBNull.Value);
            p.AddWithValue("$created", Time(record.CreatedAt));
            p.AddWithValue("$started", (object?)Time(record.StartedAt) ?? DBNull.Value);
            p.AddWithValue("$stopped", (object?)Time(record.StoppedAt) ?? DBNull.Value);
            p.AddWithValue("$updated", Time(record.UpdatedAt));
            await WriteAsync(command, $"the record of '{record.Id}'", cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = await WritableConnectionAsync(cancellationToken).ConfigureAwait(false);
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM systems WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            await WriteAsync(command, $"the removal of the record of '{id}'", cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Closes the database (the WAL is checkpointed into <c>state.db</c>). Later calls fail with <see cref="ObjectDisposedException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            if (_connection is not null)
            {
                await _connection.DisposeAsync().ConfigureAwait(false);
                _connection = null;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The open connection, opening and migrating the database on first use; read-only (with
    /// <see cref="ReadOnlyReason"/> set) when it cannot be opened for writing, or null when it cannot be opened for
    /// writing and does not exist. Caller holds <c>_gate</c>.
    /// </summary>
    private async Task<SqliteConnection?> ConnectionAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_connection is not null)
        {
            return _connection;
        }

        try
        {
            _connection = await OpenWritableAsync(cancellationToken).ConfigureAwait(false);
            _readOnly = null;
            return _connection;
        }
        catch (Exception e) when (Classify(e, "the database cannot be opened for writing") is { } reason)
        {
            _readOnly = reason;
            _connection = await OpenReadOnlyAsync(cancellationToken).ConfigureAwait(false);
            return _connection;
        }
    }

    /// <summary>
    /// A connection that can write: the open one if it can, else (read-only) a fresh attempt to open the database for
    /// writing, which fails with <see cref="ReadOnlyReason"/>'s kind of error while the state directory stays full or
    /// read-only. Caller holds <c>_gate</c>.
    /// </summary>
    private async Task<SqliteConnection> WritableConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = await ConnectionAsync(cancellationToken).ConfigureAwait(false);
        if (_readOnly is null && connection is not null)
        {
            return connection;
        }

        SqliteConnection writable;
        try
        {
            writable = await OpenWritableAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (Classify(e, "the database cannot be opened for writing") is { } reason)
        {
            _readOnly = reason;
            throw reason;
        }

        if (connection is not null)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        _connection = writable;
        _readOnly = null;
        return writable;
    }

    private async Task<SqliteConnection> OpenWritableAsync(CancellationToken cancellationToken)
    {
        PrepareFiles();
        SqliteLibrary.EnsureInitialized();
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString());
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, null, "PRAGMA busy_timeout = 5000", cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, null, "PRAGMA journal_mode = WAL", cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, null, "PRAGMA synchronous = NORMAL", cancellationToken).ConfigureAwait(false);
            await MigrateAsync(connection, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return connection;
    }

    /// <summary>
    /// Opens the database read-only (null when there is none). A WAL database left by a clean close has no
    /// <c>-wal</c>/<c>-shm</c> files, and SQLite cannot create them on a full or read-only file system, so it is
    /// then opened <c>immutable</c> (nothing else writes it: this service is its only writer).
    /// </summary>
    private async Task<SqliteConnection?> OpenReadOnlyAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(DatabasePath))
        {
            return null;
        }

        try
        {
            return await OpenAsync($"Data Source={DatabasePath};Mode=ReadOnly;Pooling=False", cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException) when (!File.Exists(DatabasePath + "-wal") || new FileInfo(DatabasePath + "-wal").Length == 0)
        {
            var uri = new UriBuilder { Scheme = "file", Host = "", Path = DatabasePath, Query = "immutable=1" }.Uri.AbsoluteUri;
            return await OpenAsync($"Data Source={uri};Mode=ReadOnly;Pooling=False", cancellationToken).ConfigureAwait(false);
        }

        static async Task<SqliteConnection> OpenAsync(string connectionString, CancellationToken cancellationToken)
        {
            SqliteLibrary.EnsureInitialized();
            var connection = new SqliteConnection(connectionString);
            try
            {
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);

                // Opening is lazy: read something so a database that cannot be read fails here.
                await ExecuteAsync(connection, null, "SELECT count(*) FROM systems", cancellationToken).ConfigureAwait(false);
                return connection;
            }
            catch
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>Runs a write; a failure becomes the <see cref="HcsException"/> of <see cref="Classify"/> (or <c>E_FAIL</c>) naming the state directory.</summary>
    private async Task WriteAsync(SqliteCommand command, string what, CancellationToken cancellationToken)
    {
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException e)
        {
            var reason = Classify(e, $"{what} cannot be written");
            throw reason ?? new HcsException(HResults.E_FAIL, OperationLabels.WriteState,
                result: ResultError.From(HResults.E_FAIL, $"the state directory {Directory}: {what} cannot be written: {e.Message}"), inner: e);
        }
    }

    /// <summary>
    /// <c>ERROR_DISK_FULL</c> (SQLite's <c>SQLITE_FULL</c>, <c>ENOSPC</c>, or an I/O error on a file system with no
    /// space left) or <c>ERROR_WRITE_PROTECT</c> (<c>SQLITE_READONLY</c>, <c>EROFS</c>, a read-only file system)
    /// naming the state directory; null for any other failure.
    /// </summary>
    private HcsException? Classify(Exception e, string what)
    {
        const int SqliteReadOnly = 8, SqliteIoError = 10, SqliteFull = 13, SqliteCantOpen = 14, ENOSPC = 28, EROFS = 30;
        var hr = e switch
        {
            SqliteException { SqliteErrorCode: SqliteFull } => HResults.ERROR_DISK_FULL,
            SqliteException { SqliteErrorCode: SqliteReadOnly } => HResults.ERROR_WRITE_PROTECT,
            IOException { HResult: ENOSPC } => HResults.ERROR_DISK_FULL,
            IOException { HResult: EROFS } => HResults.ERROR_WRITE_PROTECT,
            SqliteException { SqliteErrorCode: SqliteIoError or SqliteCantOpen } or IOException or UnauthorizedAccessException => FileSystemState(),
            _ => 0,
        };
        if (hr == 0)
        {
            return null;
        }

        var why = hr == HResults.ERROR_DISK_FULL ? "no space is left on its file system" : "its file system is read-only";
        return new HcsException(hr, OperationLabels.WriteState, result: ResultError.From(hr,
            $"the state directory {Directory} cannot be written ({why}): {what}: {e.Message}"), inner: e);
    }

    /// <summary>What the state directory's file system says when an I/O error does not: full, read-only, or neither (0).</summary>
    private int FileSystemState()
    {
        try
        {
            var existing = System.IO.Directory.Exists(Directory) ? Directory : Path.GetDirectoryName(Directory) ?? "/";
            var drive = new DriveInfo(existing);
            if (drive.AvailableFreeSpace < 64 * 1024)
            {
                return HResults.ERROR_DISK_FULL;
            }

            var probe = Path.Combine(existing, $".hcs-write-probe-{Environment.ProcessId}");
            using (new FileStream(probe, System.IO.FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }

            return 0;
        }
        catch (IOException e) when (e.HResult == 30)
        {
            return HResults.ERROR_WRITE_PROTECT;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>The directory 0700 and the database file 0600, before SQLite opens it (it would create it with the umask).</summary>
    private void PrepareFiles()
    {
        if (System.IO.Directory.Exists(Directory))
        {
            File.SetUnixFileMode(Directory, DirectoryMode);
        }
        else
        {
            System.IO.Directory.CreateDirectory(Directory, DirectoryMode);
        }

        // Opened or created (never truncated) with 0600; another opener may be creating it at the same moment.
        using var _ = new FileStream(DatabasePath, new FileStreamOptions
        {
            Mode = System.IO.FileMode.OpenOrCreate,
            Access = FileAccess.Write,
            UnixCreateMode = FileMode,
        });
    }

    /// <summary>
    /// Brings the schema to the newest version this code knows, one immediate (write-locked) transaction per step
    /// that re-reads the version, so two processes opening the database at once (hcsd and a reader) never run a step
    /// twice.
    /// </summary>
    private async Task MigrateAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        while (true)
        {
            var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using var _ = transaction.ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", cancellationToken).ConfigureAwait(false);
            var version = await ReadVersionAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
            if (version is null)
            {
                await ExecuteAsync(connection, transaction, "INSERT INTO schema_version (version) VALUES (0)", cancellationToken).ConfigureAwait(false);
                version = 0;
            }

            if (version > _migrations.Count)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{DatabasePath} has schema version {version}, newer than this service knows ({_migrations.Count}); refusing to use it"));
            }

            if (version == _migrations.Count)
            {
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return;
            }

            foreach (var statement in _migrations[version.Value])
            {
                await ExecuteAsync(connection, transaction, statement, cancellationToken).ConfigureAwait(false);
            }

            await ExecuteAsync(connection, transaction, string.Create(CultureInfo.InvariantCulture, $"UPDATE schema_version SET version = {version + 1}"), cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<int?> ReadVersionAsync(SqliteConnection connection, SqliteTransaction? transaction, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT version FROM schema_version";
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is null or DBNull ? null : Convert.ToInt32(value, CultureInfo.InvariantCulture);
    }

    private static async Task ExecuteAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static SystemRecord Read(SqliteDataReader reader)
    {
        var id = reader.GetString(0);
        try
        {
            using var grants = JsonDocument.Parse(reader.GetString(3));
            return new SystemRecord
            {
                Id = id,
                OwnerUid = checked((uint)reader.GetInt64(1)),
                ClientName = reader.GetString(2),
                Grants = [.. grants.RootElement.EnumerateArray().Select(g => g.GetUInt32())],
                Document = reader.GetString(4),
                Backend = reader.GetString(5),
                RuntimeFacts = reader.IsDBNull(6) ? null : reader.GetString(6),
                RuntimeId = Guid.ParseExact(reader.GetString(7), "D"),
                State = Enum.Parse<SystemRecordState>(reader.GetString(8), ignoreCase: false),
                ExitStatus = reader.IsDBNull(9) ? null : reader.GetString(9),
                CreatedAt = ParseTime(reader.GetString(10)),
                StartedAt = reader.IsDBNull(11) ? null : ParseTime(reader.GetString(11)),
                StoppedAt = reader.IsDBNull(12) ? null : ParseTime(reader.GetString(12)),
                UpdatedAt = ParseTime(reader.GetString(13)),
            };
        }
        catch (Exception e) when (e is FormatException or ArgumentException or JsonException or OverflowException or InvalidOperationException)
        {
            throw new InvalidDataException($"the state record of '{id}' is unreadable: {e.Message}", e);
        }
    }

    private static string Time(DateTimeOffset time) => time.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    private static string? Time(DateTimeOffset? time) => time is { } t ? Time(t) : null;

    private static DateTimeOffset ParseTime(string text) => DateTimeOffset.ParseExact(text, "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}
