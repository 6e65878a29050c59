// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.State;

/// <summary>
/// The schema of <c>state.db</c> as an ordered list of migrations: entry <c>i</c> takes a database from version
/// <c>i</c> to <c>i + 1</c>, in one transaction with the version bump. Never edit a shipped entry; append one.
/// </summary>
internal static class StateSchema
{
    /// <summary>The migrations, oldest first. The current version is their count.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> Migrations { get; } =
    [
        // 1: one row per system (SystemRecord). Timestamps are ISO 8601 text, grants a JSON array of uids, state the
        // SystemRecordState name, so `sqlite3 state.db` reads well.
        [
            """
            CREATE TABLE systems (
                id            TEXT    NOT NULL PRIMARY KEY,
                owner_uid     INTEGER NOT NULL,
                client_name   TEXT    NOT NULL,
                grants        TEXT    NOT NULL DEFAULT '[]',
                document      TEXT    NOT NULL,
                backend       TEXT    NOT NULL,
                runtime_facts TEXT,
                runtime_id    TEXT    NOT NULL,
                state         TEXT    NOT NULL,
                exit_status   TEXT,
                created_at    TEXT    NOT NULL,
                started_at    TEXT,
                stopped_at    TEXT,
                updated_at    TEXT    NOT NULL
            ) STRICT
            """,
        ],
    ];

    /// <summary>The version this code writes.</summary>
    public static int CurrentVersion => Migrations.Count;
}
