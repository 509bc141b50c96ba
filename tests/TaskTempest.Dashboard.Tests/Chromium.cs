using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TaskTempest.Dashboard.Tests;

[CollectionDefinition(Name)]
public sealed class ChromiumCollection : ICollectionFixture<ChromiumFixture>
{
    public const string Name = "Chromium";
}

/// <summary>
/// One headless Chromium (Debian's package; TASKTEMPEST_CHROMIUM, else /usr/bin/chromium) for every browser test of the
/// run, driven over the DevTools protocol: the browser's WebSocket address is read from its stderr. No browser download.
/// A missing Chromium fails the tests that need it (never a skip): scripts/test.sh installs it.
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    private Process? _process;
    private string? _profile;
    private CdpConnection? _browser;

    public static string ExecutablePath => Environment.GetEnvironmentVariable("TASKTEMPEST_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public Uri DevToolsUrl { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
            throw new InvalidOperationException($"Chromium not found at {ExecutablePath}: install it (as root: apt-get install -y --no-install-recommends chromium; scripts/test.sh does) or set TASKTEMPEST_CHROMIUM.");
        _profile = Directory.CreateTempSubdirectory("tasktempest-chromium-").FullName;
        var start = new ProcessStartInfo(ExecutablePath)
        {
            RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
        };
        foreach (var arg in new[] { "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", "--disable-dev-shm-usage", "--remote-debugging-port=0", "--user-data-dir=" + _profile, "--window-size=1280,900", "about:blank" })
            start.ArgumentList.Add(arg);
        _process = Process.Start(start)!;
        _ = _process.StandardOutput.BaseStream.CopyToAsync(Stream.Null); // drained, so it never blocks on a full pipe
        var found = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stderr = new StringBuilder();
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not { } line) { found.TrySetException(new InvalidOperationException("Chromium exited before it listened:\n" + stderr)); return; }
            lock (stderr) stderr.AppendLine(line);
            const string marker = "DevTools listening on ";
            int at = line.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0) found.TrySetResult(new Uri(line[(at + marker.Length)..].Trim()));
        };
        _process.BeginErrorReadLine();
        DevToolsUrl = await found.Task.WaitAsync(TimeSpan.FromSeconds(30));
        _browser = await CdpConnection.ConnectAsync(DevToolsUrl);
    }

    /// <summary>A new tab, driven over its own DevTools connection; dispose it to close the tab.</summary>
    public async Task<BrowserPage> NewPageAsync()
    {
        var created = await _browser!.SendAsync("Target.createTarget", new JsonObject { ["url"] = "about:blank" });
        string targetId = created.GetProperty("targetId").GetString()!;
        var pageUrl = new Uri(DevToolsUrl, "/devtools/page/" + targetId);
        var connection = await CdpConnection.ConnectAsync(pageUrl);
        await connection.SendAsync("Page.enable");
        await connection.SendAsync("Runtime.enable");
        return new BrowserPage(connection, async () => await _browser.SendAsync("Target.closeTarget", new JsonObject { ["targetId"] = targetId }));
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        if (_process is { HasExited: false }) { _process.Kill(entireProcessTree: true); await _process.WaitForExitAsync(); }
        _process?.Dispose();
        if (_profile is not null) try { Directory.Delete(_profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>One DevTools WebSocket: commands by id, answers matched by a receive loop (events are ignored).</summary>
public sealed class CdpConnection : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly SemaphoreSlim _send = new(1, 1);
    private Task _receive = Task.CompletedTask;
    private int _nextId;

    public static async Task<CdpConnection> ConnectAsync(Uri url)
    {
        var connection = new CdpConnection();
        connection._socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await connection._socket.ConnectAsync(url, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        connection._receive = connection.ReceiveAsync();
        return connection;
    }

    public async Task<JsonElement> SendAsync(string method, JsonObject? parameters = null)
    {
        int id = Interlocked.Increment(ref _nextId);
        var answer = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        byte[] bytes = Encoding.UTF8.GetBytes(message.ToJsonString());
        await _send.WaitAsync();
        try { await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None); }
        finally { _send.Release(); }
        return await answer.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close) break;
                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage) continue;
                using var document = JsonDocument.Parse(message.ToArray());
                message.SetLength(0);
                var root = document.RootElement;
                if (!root.TryGetProperty("id", out var idElement) || !_pending.TryRemove(idElement.GetInt32(), out var answer)) continue;
                if (root.TryGetProperty("error", out var error)) answer.TrySetException(new InvalidOperationException("DevTools: " + error.GetRawText()));
                else answer.TrySetResult(root.GetProperty("result").Clone());
            }
        }
        catch (WebSocketException) { }
        foreach (var pending in _pending.Values) pending.TrySetException(new InvalidOperationException("the DevTools connection closed"));
    }

    public async ValueTask DisposeAsync()
    {
        try { await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5)); }
        catch (Exception e) when (e is WebSocketException or TimeoutException or InvalidOperationException) { }
        await _receive.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
        _socket.Dispose();
    }
}

/// <summary>A tab: navigate, evaluate, wait for a condition in the DOM (polled with a bound, never slept for), screenshot.</summary>
public sealed class BrowserPage(CdpConnection connection, Func<Task> close) : IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    public async Task NavigateAsync(string url)
    {
        await connection.SendAsync("Page.navigate", new JsonObject { ["url"] = url });
        await WaitForAsync("document.readyState === 'complete' && !!document.getElementById('title')", "the dashboard page to load");
    }

    /// <summary>The value of a JavaScript expression (awaited when it is a promise).</summary>
    public async Task<JsonElement> EvaluateAsync(string expression)
    {
        var result = await connection.SendAsync("Runtime.evaluate", new JsonObject
        {
            ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true,
        });
        if (result.TryGetProperty("exceptionDetails", out var exception)) throw new InvalidOperationException($"{expression} threw: {exception.GetRawText()}");
        return result.GetProperty("result").TryGetProperty("value", out var value) ? value : default;
    }

    /// <summary>Polls <paramref name="condition"/> (a JavaScript boolean expression) every 50 ms until it holds, within <see cref="Bound"/>.</summary>
    public async Task WaitForAsync(string condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await EvaluateAsync($"(() => {{ try {{ return !!({condition}); }} catch (e) {{ return false; }} }})()");
            if (value.ValueKind == JsonValueKind.True) return;
            if (clock.Elapsed > Bound)
                throw new TimeoutException($"waited {Bound.TotalSeconds} s for {what} ({condition}); the page says: {(await EvaluateAsync("document.body ? document.body.innerText : ''")).GetString()}");
            await Task.Delay(50);
        }
    }

    public Task<JsonElement> ClickAsync(string selector) =>
        EvaluateAsync($"(() => {{ const e = document.querySelector({JsonSerializer.Serialize(selector)}); if (!e) throw new Error('no ' + {JsonSerializer.Serialize(selector)}); e.click(); return true; }})()");

    /// <summary>A PNG of the page, saved under the test's bin folder (TestResults/dashboard-<paramref name="name"/>.png); returns its path.</summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        var shot = await connection.SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png", ["captureBeyondViewport"] = false });
        string folder = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "TestResults")).FullName;
        string path = Path.Combine(folder, $"dashboard-{name}.png");
        await File.WriteAllBytesAsync(path, Convert.FromBase64String(shot.GetProperty("data").GetString()!));
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        await connection.DisposeAsync();
        await close();
    }
}
