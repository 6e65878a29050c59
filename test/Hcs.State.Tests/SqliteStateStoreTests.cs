// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Engine.State;
using Microsoft.Data.Sqlite;
using Xunit;
using static Hcs.State.Tests.Docs;

namespace Hcs.State.Tests;

/// <summary>The SQLite store on its own: round trips, files and modes, schema version and migrations.</summary>
public sealed class SqliteStateStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static SystemRecord Full(string id) => new()
    {
        Id = id,
        OwnerUid = 1000,
        ClientName = "hcsctl",
        Grants = [1001, 4000000000],
        Document = Vm(),
        Backend = "qemu",
        RuntimeFacts = """{"Pid":4242,"StartTime":123456,"Qmp":"/run/hcs/vm/x/qmp.sock"}""",
        RuntimeId = Guid.NewGuid(),
        State = SystemRecordState.Stopped,
        ExitStatus = """{"Status":-2143878901,"ExitType":"UnexpectedExit"}""",
        CreatedAt = new DateTimeOffset(2026, 12, 3, 10, 0, 0, 123, TimeSpan.Zero),
        StartedAt = new DateTimeOffset(2026, 12, 3, 10, 0, 1, TimeSpan.Zero),
        StoppedAt = new DateTimeOffset(2026, 12, 3, 11, 0, 0, TimeSpan.FromHours(2)),
        UpdatedAt = new DateTimeOffset(2026, 12, 3, 11, 0, 0, 999, TimeSpan.Zero),
    };

    [Fact]
    public async Task Save_ThenLoadFromANewStore_ReturnsEveryFieldAsWritten()
    {
        var written = Full("vm-1");
        var minimal = new SystemRecord
        {
            Id = "ct-2",
            OwnerUid = 0,
            ClientName = "root",
            Document = "{}",
            Backend = "runc",
            State = SystemRecordState.Creating,
            CreatedAt = written.CreatedAt.AddSeconds(1),
            UpdatedAt = written.CreatedAt.AddSeconds(1),
        };
        await using (var store = new SqliteStateStore(_dir.StateDirectory))
        {
            await store.SaveAsync(written, Ct);
            await store.SaveAsync(minimal, Ct);
        }

        await using var reopened = new SqliteStateStore(_dir.StateDirectory);
        var records = await reopened.LoadAsync(Ct);

        Assert.Equal(2, records.Count);
        var full = records.Single(r => r.Id == "vm-1");
        Assert.Equal(written with { Grants = [], StoppedAt = null }, full with { Grants = [], StoppedAt = null });
        Assert.Equal(written.Grants, full.Grants);
        Assert.Equal(written.StoppedAt, full.StoppedAt); // same instant, whatever the offset it was written with
        var ct = records.Single(r => r.Id == "ct-2");
        Assert.Null(ct.RuntimeFacts);
        Assert.Null(ct.ExitStatus);
        Assert.Null(ct.StartedAt);
        Assert.Empty(ct.Grants);
        Assert.Equal(SystemRecordState.Creating, ct.State);
    }

    [Fact]
    public async Task Save_OfAnExistingId_ReplacesTheRecord_AndDeleteRemovesIt()
    {
        await using var store = new SqliteStateStore(_dir.StateDirectory);
        await store.SaveAsync(Full("a") with { State = SystemRecordState.Running, ExitStatus = null }, Ct);
        await store.SaveAsync(Full("b"), Ct);

        await store.SaveAsync(Full("a") with { State = SystemRecordState.Paused, ExitStatus = null }, Ct);
        Assert.Equal(SystemRecordState.Paused, Assert.Single(await store.LoadAsync(Ct), r => r.Id == "a").State);
        Assert.Equal(2, (await store.LoadAsync(Ct)).Count);

        await store.DeleteAsync("a", Ct);
        await store.DeleteAsync("never-there", Ct);
        Assert.Equal("b", Assert.Single(await store.LoadAsync(Ct)).Id);
    }

    [Fact]
    public async Task Open_CreatesTheDirectory0700_AndTheDatabase0600_InWalMode_AtTheCurrentSchemaVersion()
    {
        await using var store = new SqliteStateStore(_dir.StateDirectory);

        var version = await store.OpenAsync(Ct);

        Assert.Equal(SqliteStateStore.SchemaVersion, version);
        Assert.Equal(1, SqliteStateStore.SchemaVersion);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_dir.StateDirectory));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.DatabasePath));
        Assert.Equal(Path.Combine(_dir.StateDirectory, "state.db"), store.DatabasePath);
        Assert.Equal("wal", await ScalarAsync(store.DatabasePath, "PRAGMA journal_mode"));
        Assert.Equal(1L, await ScalarAsync(store.DatabasePath, "SELECT version FROM schema_version"));
    }

    [Fact]
    public async Task Open_OfAnExistingDirectoryWithLooseMode_TightensItTo0700()
    {
        Directory.CreateDirectory(_dir.StateDirectory);
        File.SetUnixFileMode(_dir.StateDirectory, (UnixFileMode)0b111_101_101);
        await using var store = new SqliteStateStore(_dir.StateDirectory);

        await store.OpenAsync(Ct);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_dir.StateDirectory));
    }

    [Fact]
    public async Task Open_OfAnOlderSchema_MigratesForward_KeepingTheRecords()
    {
        // Version 1 as shipped, then a (test) version 2 that adds a column with a default.
        await using (var v1 = new SqliteStateStore(_dir.StateDirectory))
        {
            await v1.SaveAsync(Full("kept"), Ct);
        }

        IReadOnlyList<IReadOnlyList<string>> v2 = [.. StateSchema.Migrations, ["ALTER TABLE systems ADD COLUMN note TEXT NOT NULL DEFAULT 'migrated'"]];
        await using var store = new SqliteStateStore(_dir.StateDirectory, v2);

        Assert.Equal(2, await store.OpenAsync(Ct));
        Assert.Equal("kept", Assert.Single(await store.LoadAsync(Ct)).Id);
        Assert.Equal("migrated", await ScalarAsync(store.DatabasePath, "SELECT note FROM systems WHERE id = 'kept'"));
        Assert.Equal(2L, await ScalarAsync(store.DatabasePath, "SELECT version FROM schema_version"));
    }

    [Fact]
    public async Task Open_WhenAMigrationStepFails_LeavesTheDatabaseAtTheLastGoodVersion()
    {
        await using (var v1 = new SqliteStateStore(_dir.StateDirectory))
        {
            await v1.SaveAsync(Full("kept"), Ct);
        }

        IReadOnlyList<IReadOnlyList<string>> broken =
            [.. StateSchema.Migrations, ["ALTER TABLE systems ADD COLUMN half TEXT", "THIS IS NOT SQL"]];
        await using (var store = new SqliteStateStore(_dir.StateDirectory, broken))
        {
            await Assert.ThrowsAsync<SqliteException>(() => store.OpenAsync(Ct));
        }

        Assert.Equal(1L, await ScalarAsync(Path.Combine(_dir.StateDirectory, "state.db"), "SELECT version FROM schema_version"));
        Assert.Equal(0L, await ScalarAsync(Path.Combine(_dir.StateDirectory, "state.db"), "SELECT count(*) FROM pragma_table_info('systems') WHERE name = 'half'"));
        await using var again = new SqliteStateStore(_dir.StateDirectory);
        Assert.Equal("kept", Assert.Single(await again.LoadAsync(Ct)).Id);
    }

    [Fact]
    public async Task Open_OfANewerSchema_IsRefused()
    {
        await using (var store = new SqliteStateStore(_dir.StateDirectory))
        {
            await store.OpenAsync(Ct);
        }

        await ExecuteAsync(Path.Combine(_dir.StateDirectory, "state.db"), "UPDATE schema_version SET version = 99");
        await using var newer = new SqliteStateStore(_dir.StateDirectory);

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => newer.LoadAsync(Ct));
        Assert.Contains("schema version 99", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_OfACorruptRow_FailsNamingTheSystem()
    {
        await using (var store = new SqliteStateStore(_dir.StateDirectory))
        {
            await store.SaveAsync(Full("bad"), Ct);
        }

        await ExecuteAsync(Path.Combine(_dir.StateDirectory, "state.db"), "UPDATE systems SET state = 'Exploded'");
        await using var reopened = new SqliteStateStore(_dir.StateDirectory);

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => reopened.LoadAsync(Ct));
        Assert.Contains("'bad'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_ByManyStoresAtOnce_CreatesTheDatabaseAndSchemaOnce()
    {
        var stores = Enumerable.Range(0, 8).Select(_ => new SqliteStateStore(_dir.StateDirectory)).ToList();

        var versions = await Task.WhenAll(stores.Select(s => Task.Run(() => s.OpenAsync(Ct), Ct)));

        Assert.All(versions, v => Assert.Equal(SqliteStateStore.SchemaVersion, v));
        Assert.Equal(1L, await ScalarAsync(stores[0].DatabasePath, "SELECT count(*) FROM schema_version"));
        foreach (var store in stores)
        {
            await store.DisposeAsync();
        }
    }

    [Fact]
    public void Constructor_RefusesARelativeDirectory() =>
        Assert.Throws<ArgumentException>(() => new SqliteStateStore("var/lib/hcs"));

    [Fact]
    public async Task Calls_AfterDispose_FailWithObjectDisposed()
    {
        var store = new SqliteStateStore(_dir.StateDirectory);
        await store.OpenAsync(Ct);
        await store.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.SaveAsync(Full("late"), Ct));
    }

    private static async Task<object?> ScalarAsync(string path, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(Ct);
    }

    private static async Task ExecuteAsync(string path, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(Ct);
    }
}
