using System.Diagnostics;
using Hangfire;
using Hangfire.InMemory;

namespace TaskTempest.Throughput.Contenders;

/// <summary>
/// Hangfire (Hangfire.Core with Hangfire.InMemory storage): a BackgroundJobServer with 2 workers runs a
/// no-op job enqueued with <c>BackgroundJobClient.Enqueue(() =&gt; HangfireJobs.NoOp(a, b))</c>. Each run has
/// its own storage and server, both disposed before the next. Pre-filled: all enqueued, then the server
/// starts (the clock starts with it); live: the server starts, then the jobs are enqueued.
/// </summary>
internal sealed class HangfireServer(int jobs) : Contender("Hangfire + InMemory, 2 workers", jobs)
{
    static HangfireServer() => GlobalConfiguration.Configuration.UseNoOpLogProvider(); // quiet: no console lines

    public override async Task<TimeSpan> RunAsync(int jobs, bool prefilled)
    {
        using var storage = new InMemoryStorage();
        var client = new BackgroundJobClient(storage);
        var done = Finish.Expect(jobs);
        if (prefilled) Enqueue(client, jobs);
        var clock = Stopwatch.StartNew();
        var server = new BackgroundJobServer(new BackgroundJobServerOptions { WorkerCount = 2 }, storage);
        try
        {
            if (!prefilled) Enqueue(client, jobs);
            await done;
            return clock.Elapsed;
        }
        finally
        {
            server.SendStop();
            server.Dispose(); // waits for its workers and background processes to end
        }
    }

    private static void Enqueue(BackgroundJobClient client, int jobs)
    {
        for (int i = 0; i < jobs; i++)
        {
            int a = i, b = i;
            client.Enqueue(() => HangfireJobs.NoOp(a, b));
        }
    }
}

/// <summary>Hangfire's job: found by reflection, so public.</summary>
public static class HangfireJobs
{
    /// <summary>The no-op Adder-shaped job.</summary>
    public static void NoOp(int a, int b)
    {
        if (a + b >= 0) Finish.One();
    }
}
