using Npgsql;

namespace TaskTempest.Samples.PostgreSql;

/// <summary>Fifty jobs in flight on one event loop: each awaits its wait and its INSERT, so the loop is free meanwhile.</summary>
[Tempest(Fibers = 50, ShutdownTimeoutSeconds = 10)]
public partial class PostgreSqlTempest;

/// <summary>
/// Waits a few milliseconds, then records that it ran: a row in the same database as the queue, committed before the
/// engine acknowledges the job. A worker killed between the two runs the job again elsewhere, so a job can have two
/// rows (the queue delivers at least once); one with none would be a lost job.
/// </summary>
[TempestTask]
public sealed class RecordCompletion(Completions completions) : TempestTask
{
    public async Task Process(int number, int waitMilliseconds, CancellationToken cancellationToken)
    {
        await Task.Delay(waitMilliseconds, cancellationToken);
        await completions.RecordAsync(TaskId, number, cancellationToken);
    }
}

/// <summary>
/// The <c>completions</c> table beside the queue's tables: one row per completed run (job id, the job's number, the
/// worker's process id, the server's time). No unique constraint, so that a job run twice shows as two rows.
/// </summary>
public sealed class Completions
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _insert;

    /// <summary>The table <c>{schema}.completions</c> on <paramref name="dataSource"/>.</summary>
    public Completions(NpgsqlDataSource dataSource, string schema)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        if (!IsIdentifier(schema)) throw new ArgumentException($"The schema name '{schema}' is not a lower-case identifier.", nameof(schema));
        _dataSource = dataSource;
        Schema = schema;
        _insert = $"INSERT INTO {schema}.completions (job_id, number, pid, completed_at) VALUES ($1, $2, $3, now())";
    }

    /// <summary>The schema that holds the table (and the queue's tables).</summary>
    public string Schema { get; }

    /// <summary>Creates the table and its index on the job id if they are missing.</summary>
    public async Task CreateTableAsync(CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand($"""
            CREATE TABLE IF NOT EXISTS {Schema}.completions (
                job_id       text NOT NULL,
                number       integer NOT NULL,
                pid          integer NOT NULL,
                completed_at timestamptz NOT NULL);
            CREATE INDEX IF NOT EXISTS completions_job_id ON {Schema}.completions (job_id);
            """);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>One row: job <paramref name="jobId"/> (number <paramref name="number"/>) completed in this process.</summary>
    public async Task RecordAsync(string jobId, int number, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(_insert);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = jobId });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = number });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = Environment.ProcessId });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static bool IsIdentifier(string? name) =>
        name is { Length: > 0 and <= 63 } && name[0] is (>= 'a' and <= 'z') or '_'
        && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_');
}
