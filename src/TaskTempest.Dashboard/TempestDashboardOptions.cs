using System.Net;
using Microsoft.AspNetCore.Http;
using TaskTempest.Queues;

namespace TaskTempest.Dashboard;

/// <summary>
/// What the dashboard shows and who may see and act. Safe by default: only loopback requests are answered, no action is
/// allowed, and payloads (messages, arguments, exception messages) are hidden.
/// </summary>
public sealed class TempestDashboardOptions
{
    /// <summary>The queue to show. Null: the queue of the engine registered by <c>AddTempest&lt;TEngine&gt;</c> (the first
    /// whose queue is an inspector, when there are several).</summary>
    public ITempestQueueInspector? Inspector { get; set; }

    /// <summary>The name shown in the page's title; null: the engine's name, or "TaskTempest".</summary>
    public string? Title { get; set; }

    /// <summary>
    /// An authorization policy (<c>AddAuthorization</c>) a request must satisfy to see the dashboard. Null, with
    /// <see cref="ViewFilter"/> null too: only requests from a loopback address are answered. Behind a reverse proxy on the
    /// same machine every request comes from loopback: set a policy there (or use the forwarded-headers middleware).
    /// </summary>
    public string? ViewPolicy { get; set; }

    /// <summary>A predicate a request must satisfy to see the dashboard (checked with <see cref="ViewPolicy"/> when both are set).</summary>
    public Func<HttpContext, bool>? ViewFilter { get; set; }

    /// <summary>An authorization policy a request must satisfy to requeue or delete (on top of the view rule). With both this
    /// and <see cref="ActionFilter"/> null, every action is refused (403): actions are never allowed by default.</summary>
    public string? ActionPolicy { get; set; }

    /// <summary>A predicate a request must satisfy to requeue or delete (checked with <see cref="ActionPolicy"/> when both are set).</summary>
    public Func<HttpContext, bool>? ActionFilter { get; set; }

    /// <summary>Show messages, arguments and exception messages. Off by default, since they may hold personal data: the page
    /// then shows their type and length only.</summary>
    public bool ShowPayloads { get; set; }

    /// <summary>For a worker without a web app: the dashboard listens on this endpoint on its own Kestrel server, started with
    /// the host (<c>AddTempestDashboard</c>), at the root path. Use a loopback address; port 0 picks a free port
    /// (<see cref="TempestDashboardServer.Addresses"/> says which). Null: no server of its own (map it with <c>MapTempestDashboard</c>).</summary>
    public IPEndPoint? Standalone { get; set; }

    /// <summary>How many seconds of jobs-per-second samples the overview chart keeps (one sample a second).</summary>
    public int HistorySeconds { get; set; } = 300;

    internal bool ActionsConfigured => ActionPolicy is not null || ActionFilter is not null;

    internal bool ViewConfigured => ViewPolicy is not null || ViewFilter is not null;

    internal TempestDashboardOptions Clone() => new()
    {
        Inspector = Inspector, Title = Title, ViewPolicy = ViewPolicy, ViewFilter = ViewFilter, ActionPolicy = ActionPolicy,
        ActionFilter = ActionFilter, ShowPayloads = ShowPayloads, Standalone = Standalone, HistorySeconds = HistorySeconds,
    };
}
