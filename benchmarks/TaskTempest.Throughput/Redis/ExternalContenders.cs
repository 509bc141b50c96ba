using System.Diagnostics;
using System.Globalization;
using System.Net;
using TaskTempest.Tests.Shared;

namespace TaskTempest.Throughput.Redis;

/// <summary>
/// Another library's workers in a process of their own (Node, Ruby), started per run: it connects and warms up before
/// it says <c>ready</c>, runs on <c>go</c>, reports when its own completion count reaches the run's jobs (see
/// <see cref="HarnessChild"/>), and writes the paced runs' latencies (µs, one a line) to a file the harness reads.
/// </summary>
internal abstract class ExternalContender(string name, string tag, string folder, string configuration) : RedisContender(name, tag, configuration)
{
    /// <summary>Where its programs are: benchmarks/TaskTempest.Throughput/Redis/&lt;folder&gt;.</summary>
    public string Folder { get; } = Path.Combine(RepositoryPaths.Root, "benchmarks", "TaskTempest.Throughput", "Redis", folder);

    /// <summary>What it is run with here (versions), for the method section.</summary>
    public string Runtime { get; protected set; } = "";

    /// <summary>Checks and installs what it needs before the first run (not measured); sets <see cref="RedisContender.Missing"/> when it cannot run.</summary>
    public abstract Task PrepareMachineAsync();

    protected abstract ProcessStartInfo Workers(RedisServer server, int jobs, string? latencyFile);

    public override async Task<RedisWorkers> PrepareAsync(RedisServer server, int jobs, bool stamped)
    {
        string? latencyFile = stamped ? Path.Combine(Path.GetTempPath(), $"tt-bench-{Tag}-{Environment.ProcessId}.latencies") : null;
        var child = await HarnessChild.StartAsync(Workers(server, jobs, latencyFile), $"{Name}'s workers");
        return new Running(child, jobs, latencyFile);
    }

    protected static ProcessStartInfo Start(string file, string folder, params string[] args)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = folder };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        return start;
    }

    protected static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private sealed class Running(HarnessChild child, int jobs, string? latencyFile) : RedisWorkers
    {
        private Task? _finished;
        private long _commands;

        public override Task Finished => _finished ?? throw new InvalidOperationException("not started");

        public override long Commands => Volatile.Read(ref _commands);

        public override void Start()
        {
            child.Go();
            _finished = FinishAsync();
        }

        private async Task FinishAsync()
        {
            var report = await child.DoneAsync(TimeSpan.FromSeconds(120 + jobs / 1000));
            if (report.Count != jobs) throw new InvalidOperationException($"the workers reported {report.Count} jobs done of {jobs}");
            Volatile.Write(ref _commands, report.RoundTrips);
            if (latencyFile is null) return;
            foreach (var line in await File.ReadAllLinesAsync(latencyFile))
            {
                if (line.Length > 0) Latencies.Current.Record((long)(double.Parse(line, CultureInfo.InvariantCulture) * 10)); // µs to 100 ns ticks
            }
        }

        public override TimeSpan Cpu() => child.Cpu() ?? throw new InvalidOperationException("the workers' process has exited");

        public override async Task StopAsync()
        {
            await child.ExitAsync();
            child.Dispose();
            if (latencyFile is not null) File.Delete(latencyFile);
        }
    }
}

/// <summary>
/// BullMQ (npm, the version package.json pins, on ioredis) in Node: Redis/bullmq/worker.js, one Worker with
/// <see cref="RedisFibers.Slots"/> concurrency and nothing kept on completion or failure; producer.js with Queue.addBulk.
/// Its package-lock.json is committed; <c>npm ci</c> installs it when node_modules is missing.
/// </summary>
internal sealed class BullMq() : ExternalContender("BullMQ", "bullmq", "bullmq",
    $"one Worker, concurrency {RedisFibers.Slots}, removeOnComplete and removeOnFail {{ count: 0 }} (no finished job kept), defaults otherwise " +
    "(lock 30 s renewed, stalled check 30 s, events stream); producer Queue.addBulk")
{
    private const string Prefix = "tt-bench-bullmq", QueueName = "bench";
    private string? _missing;

    public override string? Missing => _missing;

    public override IReadOnlyList<string> KeyPatterns => [Prefix + ":*"];

    public override string KeysDescription => $"{Prefix}:* (BullMQ's prefix option: the queue's keys, and its worker's and producer's warm-up queues')";

    public override async Task PrepareMachineAsync()
    {
        var (code, version) = await TryRunAsync("node", ["--version"], Folder);
        if (code != 0)
        {
            _missing = "node is not installed (Debian: apt-get install -y nodejs npm)";
            return;
        }
        if (!Directory.Exists(Path.Combine(Folder, "node_modules")))
        {
            Console.WriteLine($"BullMQ: node_modules missing: npm ci in {Path.GetRelativePath(RepositoryPaths.Root, Folder)}");
            var (installed, output) = await TryRunAsync("npm", ["ci", "--no-audit", "--no-fund"], Folder);
            if (installed != 0)
            {
                _missing = $"npm ci failed ({installed}): {output.Trim()}";
                return;
            }
        }
        var (_, bullmq) = await TryRunAsync("node", ["-p", "require('bullmq/package.json').version + ' on ioredis ' + require('ioredis/package.json').version"], Folder);
        Runtime = $"BullMQ {bullmq.Trim()}, Node {version.Trim()}";
    }

    public override ProcessStartInfo Producer(RedisServer server, int jobs, int batch, int rate) =>
        Start("node", Folder, "producer.js", server.Host, Invariant(server.Port), Invariant(RedisServer.Database), Prefix, QueueName,
            Invariant(jobs), Invariant(batch), Invariant(rate));

    protected override ProcessStartInfo Workers(RedisServer server, int jobs, string? latencyFile) =>
        Start("node", Folder, "worker.js", server.Host, Invariant(server.Port), Invariant(RedisServer.Database), Prefix, QueueName,
            Invariant(RedisFibers.Slots), Invariant(jobs), latencyFile ?? "-");

    /// <summary>Job hashes left (a BullMQ job id is a number: <c>prefix:queue:&lt;id&gt;</c>).</summary>
    public override Task<long> LeftAsync(RedisServer server) => server.CountAsync($"{Prefix}:{QueueName}:[0-9]*");

    internal static async Task<(int Code, string Output)> TryRunAsync(string file, string[] args, string folder)
    {
        try
        {
            return await ChildProcess.RunAsync(file, args, folder, TimeSpan.FromMinutes(5));
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message); // not installed
        }
    }
}

/// <summary>
/// Sidekiq from Debian's ruby-sidekiq (6.4.1): Redis/sidekiq/jobs.rb run by the <c>sidekiq</c> command with
/// <c>-c <see cref="RedisFibers.Slots"/></c>, and producer.rb with <c>Sidekiq::Client.push_bulk</c>. Open-source Sidekiq
/// fetches with BRPOP and acknowledges nothing: a job popped is gone from Redis, so a crash loses the jobs it was
/// running (no lease, no recovery). It does less work per job than a reliable queue, TaskTempest's and BullMQ's.
/// The harness installs nothing for it: without the package it says how to install it and leaves Sidekiq out.
/// </summary>
internal sealed class Sidekiq() : ExternalContender("Sidekiq", "sidekiq", "sidekiq",
    $"sidekiq -c {RedisFibers.Slots} (threads; a Redis connection each), BasicFetch (BRPOP, no acknowledgement: a crash loses its running jobs), " +
    "defaults otherwise (heartbeat 5 s, stats flushed then); producer Sidekiq::Client.push_bulk")
{
    private const string QueueName = "tt-bench-sidekiq";
    private string? _missing = "not checked";

    public override string? Missing => _missing;

    /// <summary>Sidekiq 6.4 has no key prefix: its fixed key names, in the harness's database only. Its process keys are
    /// named after this machine's hostname (hostname:pid:nonce).</summary>
    public override IReadOnlyList<string> KeyPatterns =>
        [$"queue:{QueueName}*", "queues", "processes", "stat:*", "retry", "schedule", "dead", $"{Dns.GetHostName()}:*"];

    public override string KeysDescription => $"queue:{QueueName}* (the queue, and its producer's warm-up queue), queues, processes, stat:*, " +
                                              $"retry, schedule, dead, {Dns.GetHostName()}:* (its process's heartbeat keys): Sidekiq 6.4's key names, which have no prefix";

    public override async Task PrepareMachineAsync()
    {
        var (code, version) = await BullMq.TryRunAsync("ruby", ["-e", "require 'sidekiq'; print Sidekiq::VERSION, ' on redis-rb ', Redis::VERSION, ', ', RUBY_DESCRIPTION"], Folder);
        if (code != 0)
        {
            _missing = "ruby-sidekiq is not installed: as root, apt-get install -y ruby-sidekiq (Debian's Sidekiq 6.4.1); the harness installs nothing itself";
            return;
        }
        var (found, _) = await BullMq.TryRunAsync("sidekiq", ["--version"], Folder);
        if (found != 0)
        {
            _missing = "the sidekiq command is not on PATH (Debian's ruby-sidekiq installs /usr/bin/sidekiq)";
            return;
        }
        _missing = null;
        Runtime = $"Sidekiq {version.Trim()}";
    }

    public override ProcessStartInfo Producer(RedisServer server, int jobs, int batch, int rate) =>
        Start("ruby", Folder, "producer.rb", Url(server), QueueName, Invariant(jobs), Invariant(batch), Invariant(rate));

    protected override ProcessStartInfo Workers(RedisServer server, int jobs, string? latencyFile)
    {
        var start = Start("sidekiq", Folder, "-r", "./jobs.rb", "-c", Invariant(RedisFibers.Slots), "-q", QueueName, "-e", "production");
        start.Environment["TT_REDIS_URL"] = Url(server);
        start.Environment["TT_JOBS"] = Invariant(jobs);
        start.Environment["TT_LATENCIES"] = latencyFile ?? "-";
        return start;
    }

    /// <summary>Jobs still queued (a job taken is gone from Redis: nothing else can be left).</summary>
    public override Task<long> LeftAsync(RedisServer server) => server.LengthAsync($"queue:{QueueName}");

    private static string Url(RedisServer server) => $"redis://{server.Host}:{server.Port}/{RedisServer.Database}";
}
