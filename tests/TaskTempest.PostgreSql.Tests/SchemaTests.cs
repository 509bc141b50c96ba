using Npgsql;
using TaskTempest.PostgreSql.Tests.Support;
using TaskTempest.Queues;

namespace TaskTempest.PostgreSql.Tests;

/// <summary>Migrating a schema that is current takes no table lock: a worker restarted while others run never queues
/// behind (or deadlocks with) their statements. It once did: a restarted worker of the crash test died of 40P01.</summary>
public sealed class SchemaTests(PostgresDatabase<SchemaTests> database) : IClassFixture<PostgresDatabase<SchemaTests>>
{
    [Fact]
    public async Task Migrating_a_current_schema_waits_for_no_lock_on_its_tables()
    {
        await TempestPostgreSqlSchema.MigrateAsync(database.DataSource, "current");

        // Another session holds the strongest lock on the jobs table, as no worker ever does: any DDL on it would wait.
        await using var other = await database.DataSource.OpenConnectionAsync();
        await using var holding = await other.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand("LOCK TABLE current.jobs IN ACCESS EXCLUSIVE MODE", other, holding))
            await lockTable.ExecuteNonQueryAsync();

        await TempestPostgreSqlSchema.MigrateAsync(database.DataSource, "current").WaitAsync(TimeSpan.FromSeconds(30));
        await holding.RollbackAsync();
    }

    /// <summary>A schema of version 2 with jobs in it (one in a named queue, one with a key that version only carried) is
    /// brought to version 3 in place: the migrations table records 3, the claim index is replaced, the old jobs are
    /// claimed from their named queues, and keys are enforced from then on.</summary>
    [Fact]
    public async Task A_version_2_schema_with_jobs_is_upgraded_in_place()
    {
        await ExecuteAsync(SchemaVersion2.Script("old"));
        await ExecuteAsync("""
            INSERT INTO old.jobs (id, body, envelope_queue, unique_key) VALUES
                ('plain', '["plain","Counted",1]', NULL, NULL),
                ('mail', '{"v":1,"queue":"mail","m":["mail","Counted",2]}', 'mail', NULL),
                ('keyed', '{"v":1,"unique":"Counted:k","m":["keyed","Counted",3]}', NULL, 'Counted:k');
            """);
        Assert.Equal(2, await ScalarAsync<int>("SELECT max(version) FROM old.migrations"));

        var queue = new TempestPostgreSqlQueue(database.DataSource, new TempestPostgreSqlOptions { Schema = "old" });
        await queue.MigrateAsync();
        Assert.Equal(3, await ScalarAsync<int>("SELECT max(version) FROM old.migrations"));
        Assert.False(await ScalarAsync<bool>("SELECT to_regclass('old.jobs_claimable') IS NOT NULL"));
        Assert.True(await ScalarAsync<bool>("SELECT to_regclass('old.jobs_claimable_named') IS NOT NULL"));
        Assert.True(await ScalarAsync<bool>("SELECT to_regclass('old.schedules') IS NOT NULL AND to_regclass('old.unique_locks') IS NOT NULL"));
        await TempestPostgreSqlSchema.MigrateAsync(database.DataSource, "old"); // again: nothing to do

        var worker = new TempestWorkerInfo("w", "tests", "host", 1, 4, DateTimeOffset.UnixEpoch);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.Equal(["plain", "keyed"], (await queue.ClaimAsync(worker, 10, timeout.Token)).Select(m => m.Id));
        Assert.Equal("mail", Assert.Single(await queue.ClaimAsync(worker, [new("mail", 10)], 10, timeout.Token)).Id);

        // The old keyed row held nothing (version 2 did not enforce keys): a new job takes the key and holds it.
        var keyed = new RawTempestMessage("""{"v":1,"unique":"Counted:k","m":["new","Counted",4]}""", "new");
        Assert.Null(await queue.EnqueueUniqueAsync(keyed));
        Assert.Equal("new", await queue.EnqueueUniqueAsync(new RawTempestMessage("""{"v":1,"unique":"Counted:k","m":["newer","Counted",5]}""", "newer")));
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = database.DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = database.DataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
