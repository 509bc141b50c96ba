using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace TaskTempest.Redis.Tests.Support;

/// <summary>A throwaway redis-server of one test's own (for a server-wide setting such as the eviction policy, which
/// the run's shared server must not change under the other classes): loopback, a free port, no persistence; killed at
/// disposal. It uses the redis-server that scripts/ci-services.sh installs.</summary>
public sealed class PrivateRedisServer : IAsyncDisposable
{
    private readonly Process _process;

    private PrivateRedisServer(Process process, string endpoint)
    {
        _process = process;
        Endpoint = endpoint;
    }

    public string Endpoint { get; }

    public static async Task<PrivateRedisServer> StartAsync(params string[] settings)
    {
        int port = FreePort();
        var start = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])["--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", .. settings])
            start.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("redis-server is not installed: run 'bash scripts/ci-services.sh start' (it installs Debian's redis-server).", e);
        }
        var server = new PrivateRedisServer(process, $"127.0.0.1:{port}");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            // A readiness poll of a starting process: there is no completion signal to wait for.
            try
            {
                await using var probe = await ConnectionMultiplexer.ConnectAsync(server.Endpoint + ",abortConnect=true,connectTimeout=500");
                return server;
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
