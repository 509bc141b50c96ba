using System.Globalization;
using System.Text.Json;
using TaskTempest.Queues;
using TaskTempest.Tests.Shared;
using Xunit.Abstractions;

namespace TaskTempest.Dashboard.Tests;

/// <summary>The dashboard in headless Chromium: live numbers, a requeue by click, hostile data rendered as text, screenshots.</summary>
[Collection(ChromiumCollection.Name)]
public sealed class BrowserTests(ChromiumFixture chromium, ITestOutputHelper output)
{
    private static string Text(string id) => $"document.getElementById('{id}').textContent";

    [Fact]
    public async Task The_overview_numbers_change_as_jobs_run_without_a_reload()
    {
        await using var app = await DashboardApp.StartAsync();
        await using var page = await chromium.NewPageAsync();
        await page.NavigateAsync(app.Dashboard);
        // Counted from the engines' meter, which every app of this test run shares (and the engines share a name): so
        // the counts are compared with the first poll's, not with zero.
        await page.WaitForAsync($"/^[0-9]+$/.test({Text("stat-processed")}) && {Text("stat-ready")} === '0'", "the first poll");
        long processed = long.Parse((await page.EvaluateAsync(Text("stat-processed"))).GetString()!, CultureInfo.InvariantCulture);
        long failedBefore = long.Parse((await page.EvaluateAsync(Text("stat-failed"))).GetString()!, CultureInfo.InvariantCulture);
        await page.WaitForAsync("document.querySelectorAll('#workers tr td').length >= 7", "the engine's worker row");
        Assert.Contains("DashTempest", (await page.EvaluateAsync(Text("workers"))).GetString(), StringComparison.Ordinal);

        // A marker in the page: a reload would lose it, so its presence at the end proves the numbers came by polling.
        await page.EvaluateAsync("window.__noReload = true");
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < 40; i++) app.Engine.SubmitQuick(i);
            await page.WaitForAsync($"Number({Text("stat-processed")}) >= {processed + (round + 1) * 40}", $"{(round + 1) * 40} processed");
        }
        // A failure shows in its own count.
        string failed = app.Engine.SubmitFail("for the chart").Id;
        await app.WaitForDeadAsync(failed);
        await page.WaitForAsync($"{Text("stat-dead")} === '1' && Number({Text("stat-failed")}) >= {failedBefore + 2}", "the dead letter and the failure counted");
        Assert.True((await page.EvaluateAsync("window.__noReload === true")).GetBoolean());
        // The chart drew bars from the server's per-second samples.
        await page.WaitForAsync("document.querySelectorAll('#chart rect').length >= 1", "bars in the chart");

        string shot = await page.ScreenshotAsync("overview");
        File.Copy(shot, Path.Combine(RepositoryPaths.Root, "docs", "dashboard.png"), overwrite: true);
        output.WriteLine("screenshot: " + shot);

        await page.ClickAsync("nav button[data-tab=failures]");
        await page.WaitForAsync($"document.querySelector('#failures').textContent.includes('{failed}')", "the failure in the list");
        // Payloads are hidden by default: the exception's type and length, not its message.
        string failures = (await page.EvaluateAsync(Text("failures"))).GetString()!;
        Assert.Contains("System.InvalidOperationException (message hidden, ", failures, StringComparison.Ordinal);
        Assert.DoesNotContain("for the chart", failures, StringComparison.Ordinal);
        await page.ScreenshotAsync("failures");
    }

    [Fact]
    public async Task A_dead_letter_is_requeued_from_the_page_and_succeeds()
    {
        await using var app = await DashboardApp.StartAsync(o => o.ActionFilter = _ => true);
        string id = app.Engine.SubmitFlaky("repair").Id;
        await app.WaitForDeadAsync(id);
        app.Probe.FailFlaky = false;

        await using var page = await chromium.NewPageAsync();
        await page.NavigateAsync(app.Dashboard);
        await page.ClickAsync("nav button[data-tab=dead]");
        string requeue = $"#dead tr[data-id='{id}'] button";
        await page.WaitForAsync($"document.querySelector(\"{requeue}\") && !document.querySelector(\"{requeue}\").disabled", "the dead letter's enabled Requeue button");
        await page.ScreenshotAsync("dead-letters");
        await page.ClickAsync(requeue);

        Assert.Equal(id, await app.Probe.Succeeded("repair").Task.WaitAsync(DashboardApp.Bound)); // same id, it ran and succeeded
        await page.WaitForAsync($"!document.querySelector(\"#dead tr[data-id='{id}']\") && {Text("stat-dead")} === '0'", "the dead letter gone from the page");
        Assert.Equal("done: 1", (await page.EvaluateAsync(Text("action-result"))).GetString());
    }

    [Fact]
    public async Task A_hostile_argument_renders_as_text_with_payloads_shown()
    {
        const string hostile = "<img src=x onerror=alert(1)>";
        await using var app = await DashboardApp.StartAsync(o => o.ShowPayloads = true);
        string id = app.Engine.SubmitFail(hostile).Id;
        await app.WaitForDeadAsync(id);

        await using var page = await chromium.NewPageAsync();
        await page.NavigateAsync(app.Dashboard);
        await page.ClickAsync("nav button[data-tab=dead]");
        await page.WaitForAsync($"document.querySelector(\"#dead tr[data-id='{id}']\")", "the dead letter's row");
        Assert.Contains(hostile, (await page.EvaluateAsync($"document.querySelector(\"#dead tr[data-id='{id}']\").textContent")).GetString(), StringComparison.Ordinal);
        // The failures list quotes the exception's message, which quotes the argument: text there too.
        await page.ClickAsync("nav button[data-tab=failures]");
        await page.WaitForAsync($"document.querySelector('#failures').textContent.includes({JsonSerializer.Serialize(hostile)})", "the failure's message as text");
        // Find by id shows the raw message.
        await page.ClickAsync("nav button[data-tab=find]");
        await page.EvaluateAsync($"document.getElementById('find-id').value = {JsonSerializer.Serialize(id)}; document.querySelector('#find-form button').click(); true");
        await page.WaitForAsync($"document.getElementById('find-result').textContent.includes({JsonSerializer.Serialize(hostile)})", "the job found by id");
        Assert.Equal(0, (await page.EvaluateAsync("document.querySelectorAll('img').length")).GetInt32());
        Assert.Equal(JsonValueKind.False, (await page.EvaluateAsync("typeof window.alert !== 'function'")).ValueKind);
        await page.ScreenshotAsync("find-hostile");
        Assert.Equal(TempestJobState.Dead, (await app.Queue.GetAsync(id))!.State);
    }
}
