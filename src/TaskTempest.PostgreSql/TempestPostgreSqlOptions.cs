namespace TaskTempest.PostgreSql;

/// <summary>Settings of a <c>TempestPostgreSqlQueue</c>.</summary>
public sealed class TempestPostgreSqlOptions
{
    /// <summary>The schema that holds the queue's tables (created if missing). Default: <c>tempest</c>.</summary>
    public string Schema { get; set; } = "tempest";
}
