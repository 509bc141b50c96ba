using System.Text;
using Npgsql;

namespace TaskTempest.PostgreSql.Tests.Support;

/// <summary>The test run's PostgreSQL server, named by <c>TASKTEMPEST_POSTGRES</c> (scripts/test.sh starts one and
/// sets it). Tests never skip when it is missing: they fail with the way to start it.</summary>
public static class PostgresServer
{
    public const string VariableName = "TASKTEMPEST_POSTGRES";

    /// <summary>The connection string scripts/ci-services.sh prints.</summary>
    public const string ScriptsConnectionString = "Host=127.0.0.1;Port=5440;Username=postgres;Database=postgres";

    // PostgreSQL truncates identifiers longer than this (NAMEDATALEN - 1).
    private const int MaxIdentifierLength = 63;

    // One pool for CREATE/DROP DATABASE, shared by all test classes; it lives as long as the test process.
    private static readonly Lazy<NpgsqlDataSource> Admin = new(CreateAdminDataSource);

    /// <summary>The server's connection string as the environment gives it.</summary>
    public static string? ConfiguredConnectionString => Environment.GetEnvironmentVariable(VariableName);

    /// <summary>Creates an empty database called <see cref="DatabaseNameFor"/>(<paramref name="name"/>), dropping one
    /// left by an earlier run first, and returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(string name)
    {
        var database = DatabaseNameFor(name);
        try
        {
            await using var connection = await Admin.Value.OpenConnectionAsync();
            // FORCE: an earlier run that crashed may still hold connections to it.
            await using (var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection))
            {
                await drop.ExecuteNonQueryAsync();
            }
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", connection);
            await create.ExecuteNonQueryAsync();
        }
        catch (NpgsqlException e)
        {
            throw Unavailable($"could not create database {database}: {e.Message}", e);
        }
        return new NpgsqlConnectionStringBuilder(ConfiguredConnectionString) { Database = database }.ConnectionString;
    }

    /// <summary>A test class's database name: <c>tt_</c> and the name in lower case, with every character outside
    /// <c>[a-z0-9_]</c> replaced by <c>_</c>, at most 63 characters (so it needs no quoting and is not truncated).</summary>
    public static string DatabaseNameFor(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var builder = new StringBuilder("tt_", MaxIdentifierLength);
        foreach (var c in name.ToLowerInvariant())
        {
            if (builder.Length == MaxIdentifierLength)
            {
                break;
            }
            builder.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' ? c : '_');
        }
        return builder.ToString();
    }

    private static NpgsqlDataSource CreateAdminDataSource()
    {
        var connectionString = ConfiguredConnectionString;
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw Unavailable($"{VariableName} is not set", inner: null);
        }
        return NpgsqlDataSource.Create(connectionString);
    }

    private static InvalidOperationException Unavailable(string reason, Exception? inner)
    {
        var configured = ConfiguredConnectionString is { Length: > 0 } value ? $"'{value}'" : "(unset)";
        var message = Environment.GetEnvironmentVariable("CI") == "true"
            ? $"PostgreSQL is required under CI: scripts/test.sh starts it; {VariableName}={configured}. ({reason})"
            : $"PostgreSQL is not available ({reason}); {VariableName}={configured}. Run the whole suite with " +
              $"'bash scripts/test.sh', or start the server with 'bash scripts/ci-services.sh start' and " +
              $"export {VariableName}='{ScriptsConnectionString}'.";
        return new InvalidOperationException(message, inner);
    }
}
