using Npgsql;
using TaskTempest.PostgreSql.Tests.Support;

namespace TaskTempest.PostgreSql.Tests;

/// <summary>The test server itself: the version the queue is written for, the locking it relies on, and a database
/// per test class.</summary>
public class ServerTests(PostgresDatabase<ServerTests> database) : IClassFixture<PostgresDatabase<ServerTests>>
{
    [Fact]
    public async Task The_class_has_its_own_database_on_PostgreSQL_15()
    {
        await using var command = database.DataSource.CreateCommand("SELECT current_database(), version()");
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());

        Assert.Equal("tt_servertests", reader.GetString(0));
        Assert.Equal(database.Name, reader.GetString(0));
        Assert.StartsWith("PostgreSQL 15", reader.GetString(1), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_row_locked_by_one_transaction_is_skipped_by_another_with_SKIP_LOCKED()
    {
        await using (var setup = database.DataSource.CreateCommand(
            "CREATE TABLE skip_locked_jobs (id int PRIMARY KEY); INSERT INTO skip_locked_jobs VALUES (1), (2);"))
        {
            await setup.ExecuteNonQueryAsync();
        }
        const string Claim = "SELECT id FROM skip_locked_jobs ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED";

        await using var first = await database.DataSource.OpenConnectionAsync();
        await using var firstTransaction = await first.BeginTransactionAsync();
        await using var firstClaim = new NpgsqlCommand(Claim, first, firstTransaction);
        Assert.Equal(1, await firstClaim.ExecuteScalarAsync());

        // Without SKIP LOCKED this would wait on row 1 until the first transaction ends.
        await using var second = await database.DataSource.OpenConnectionAsync();
        await using var secondTransaction = await second.BeginTransactionAsync();
        await using var secondClaim = new NpgsqlCommand(Claim, second, secondTransaction);
        Assert.Equal(2, await secondClaim.ExecuteScalarAsync());

        // Once the first lets go, its row can be claimed again.
        await firstTransaction.RollbackAsync();
        await using var third = await database.DataSource.OpenConnectionAsync();
        await using var thirdTransaction = await third.BeginTransactionAsync();
        await using var thirdClaim = new NpgsqlCommand(Claim, third, thirdTransaction);
        Assert.Equal(1, await thirdClaim.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Two_test_classes_get_different_databases()
    {
        await using (var create = database.DataSource.CreateCommand("CREATE TABLE only_in_server_tests (id int)"))
        {
            await create.ExecuteNonQueryAsync();
        }

        var neighbour = new PostgresDatabase<NeighbourTestClass>();
        await neighbour.InitializeAsync();
        try
        {
            Assert.NotEqual(database.ConnectionString, neighbour.ConnectionString);
            await using var command = neighbour.DataSource.CreateCommand(
                "SELECT current_database(), to_regclass('only_in_server_tests') IS NULL");
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal("tt_neighbourtestclass", reader.GetString(0));
            Assert.True(reader.GetBoolean(1), "the neighbour's database sees this class's table");
        }
        finally
        {
            await neighbour.DisposeAsync();
        }
    }

    /// <summary>Stands for another test class: only its name is used, to name a second database.</summary>
    public sealed class NeighbourTestClass;
}
