using Npgsql;

namespace TaskTempest.PostgreSql.Tests.Support;

/// <summary>A fresh database for one test class, named after <typeparamref name="TTestClass"/>: use it as
/// <c>IClassFixture&lt;PostgresDatabase&lt;MyTests&gt;&gt;</c>. Classes run in parallel, each in its own database.</summary>
/// <remarks>The database is left in place at the end so that a failed test's rows can be looked at; the next run drops
/// it, and scripts/test.sh throws the whole server away.</remarks>
public sealed class PostgresDatabase<TTestClass> : IAsyncLifetime
{
    private NpgsqlDataSource? _dataSource;
    private string? _connectionString;

    public string Name { get; } = PostgresServer.DatabaseNameFor(typeof(TTestClass).Name);

    public string ConnectionString => _connectionString ?? throw NotInitialized();

    public NpgsqlDataSource DataSource => _dataSource ?? throw NotInitialized();

    public async Task InitializeAsync()
    {
        _connectionString = await PostgresServer.CreateDatabaseAsync(typeof(TTestClass).Name);
        _dataSource = NpgsqlDataSource.Create(_connectionString);
    }

    public async Task DisposeAsync()
    {
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync();
        }
    }

    private static InvalidOperationException NotInitialized() =>
        new($"{nameof(PostgresDatabase<TTestClass>)} is used before xunit initialized it.");
}
