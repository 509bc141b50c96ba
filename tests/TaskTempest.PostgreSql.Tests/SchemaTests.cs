using Npgsql;
using TaskTempest.PostgreSql.Tests.Support;

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
}
