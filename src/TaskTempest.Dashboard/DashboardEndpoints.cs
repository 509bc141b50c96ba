using System.Net;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TaskTempest.Queues;

namespace TaskTempest.Dashboard;

/// <summary>One mounted dashboard: its options, its queue, its sampler, and the endpoints under its prefix.</summary>
internal sealed class DashboardEndpoints
{
    private const int MaxPage = 500;
    private readonly TempestDashboardOptions _options;
    private readonly ITempestQueueInspector _inspector;
    private readonly DashboardSampler _sampler;
    private readonly string _title;
    private readonly IReadOnlyList<string> _engines;
    private readonly TimeProvider _time;

    private DashboardEndpoints(TempestDashboardOptions options, ITempestQueueInspector inspector, IReadOnlyList<string> engines, TimeProvider time)
    {
        _options = options;
        _inspector = inspector;
        _engines = engines;
        _time = time;
        _title = options.Title ?? (engines.Count > 0 ? string.Join(", ", engines) : "TaskTempest");
        _sampler = new DashboardSampler(inspector, time, options.HistorySeconds, engines);
    }

    /// <summary>Maps the page, its assets and its JSON endpoints under <paramref name="prefix"/>.</summary>
    public static RouteGroupBuilder Map(IEndpointRouteBuilder endpoints, string prefix, TempestDashboardOptions options)
    {
        var services = endpoints.ServiceProvider;
        var (inspector, engines) = ResolveInspector(options, services);
        if ((options.ViewPolicy ?? options.ActionPolicy) is not null && services.GetService<IAuthorizationService>() is null)
            throw new InvalidOperationException("The dashboard's ViewPolicy or ActionPolicy needs authorization: call builder.Services.AddAuthorization(...) with that policy.");
        if (options.ActionsConfigured && services.GetService<IAntiforgery>() is null)
            throw new InvalidOperationException("The dashboard's actions need antiforgery: call builder.Services.AddTempestDashboard() (or AddAntiforgery()).");

        var dashboard = new DashboardEndpoints(options, inspector, engines, services.GetService<TimeProvider>() ?? TimeProvider.System);
        // The sampler's timer and meter listener end with the app.
        services.GetService<IHostApplicationLifetime>()?.ApplicationStopping.Register(dashboard._sampler.Dispose);

        var group = endpoints.MapGroup(prefix.TrimEnd('/'));
        group.AddEndpointFilter(async (context, next) =>
            await dashboard.CanViewAsync(context.HttpContext).ConfigureAwait(false) is { } refused ? refused : await next(context).ConfigureAwait(false));

        group.MapGet("/", (HttpContext context) => dashboard.Page(context));
        group.MapGet("/app.js", () => DashboardAssets.Result("app.js"));
        group.MapGet("/app.css", () => DashboardAssets.Result("app.css"));
        // A CancellationToken beside the HttpContext: a lambda of HttpContext alone returning Task<IResult> would bind as a RequestDelegate.
        group.MapGet("/api/overview", (HttpContext context, CancellationToken _) => dashboard.OverviewAsync(context));
        group.MapGet("/api/jobs", (string? state, int? offset, int? limit, HttpContext context) => dashboard.ListAsync(state, offset, limit, context));
        group.MapGet("/api/jobs/{id}", (string id, HttpContext context) => dashboard.GetAsync(id, context));
        group.MapGet("/api/failures", (int? limit, HttpContext context) => dashboard.FailuresAsync(limit, context));
        group.MapGet("/api/schedules", (HttpContext context, CancellationToken _) => dashboard.SchedulesAsync(context));
        group.MapGet("/api/antiforgery", (HttpContext context) => dashboard.Antiforgery(context));

        var actions = group.MapGroup("/api/actions");
        actions.AddEndpointFilter(async (context, next) =>
            await dashboard.CanActAsync(context.HttpContext).ConfigureAwait(false) is { } refused ? refused : await next(context).ConfigureAwait(false));
        actions.MapPost("/requeue/{id}", async (string id, HttpContext context) =>
            Action(await dashboard._inspector.RequeueDeadAsync(id, context.RequestAborted).ConfigureAwait(false), "no dead letter with that id"));
        actions.MapPost("/requeue-all", async (CancellationToken cancellationToken) =>
            Action(true, null, await dashboard._inspector.RequeueAllDeadAsync(cancellationToken).ConfigureAwait(false)));
        actions.MapPost("/delete/{id}", async (string id, HttpContext context) =>
            Action(await dashboard._inspector.DeleteAsync(id, context.RequestAborted).ConfigureAwait(false), "no such job, or it is running"));
        actions.MapPost("/delete-all-dead", async (CancellationToken cancellationToken) =>
            Action(true, null, await dashboard._inspector.DeleteAllDeadAsync(cancellationToken).ConfigureAwait(false)));
        return group;
    }

    internal static (ITempestQueueInspector Inspector, IReadOnlyList<string> Engines) ResolveInspector(TempestDashboardOptions options, IServiceProvider services)
    {
        // Engines registered by AddTempest<TEngine> (TaskTempest.Hosting registers each as TempestEngine too).
        var engines = services.GetServices<TempestEngine>().ToList();
        if (options.Inspector is { } inspector)
            return (inspector, [.. engines.Where(e => ReferenceEquals(e.Queue, inspector)).Select(e => e.Name)]);
        foreach (var engine in engines)
            if (engine.Queue is ITempestQueueInspector fromEngine)
                return (fromEngine, [.. engines.Where(e => ReferenceEquals(e.Queue, fromEngine)).Select(e => e.Name)]);
        throw new InvalidOperationException(engines.Count == 0
            ? "The dashboard has no queue to show: register an engine with AddTempest<TEngine>() or set TempestDashboardOptions.Inspector."
            : $"The dashboard needs a queue that implements ITempestQueueInspector (PostgreSQL, Redis, TempestLeasingMemoryQueue); the engines' queues ({string.Join(", ", engines.Select(e => e.Name + ": " + e.Queue.GetType().Name))}) do not. Set TempestDashboardOptions.Inspector.");
    }

    private async ValueTask<IResult?> CanViewAsync(HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        if (!_options.ViewConfigured)
        {
            // Safe by default: the machine's own users only.
            return IsLoopback(context.Connection.RemoteIpAddress) ? null
                : Refuse(StatusCodes.Status403Forbidden, "The dashboard answers loopback requests only: set TempestDashboardOptions.ViewPolicy or ViewFilter to open it to others.");
        }
        if (_options.ViewFilter is { } filter && !filter(context))
            return Refuse(StatusCodes.Status403Forbidden, "The dashboard's view filter refused this request.");
        if (_options.ViewPolicy is { } policy && !await AuthorizeAsync(context, policy).ConfigureAwait(false))
            return Refuse(StatusCodes.Status403Forbidden, $"The dashboard's view policy '{policy}' refused this request.");
        return null;
    }

    private async ValueTask<IResult?> CanActAsync(HttpContext context)
    {
        if (!_options.ActionsConfigured)
            return Refuse(StatusCodes.Status403Forbidden, "Dashboard actions are off: set TempestDashboardOptions.ActionPolicy or ActionFilter to allow requeue and delete.");
        if (_options.ActionFilter is { } filter && !filter(context))
            return Refuse(StatusCodes.Status403Forbidden, "The dashboard's action filter refused this request.");
        if (_options.ActionPolicy is { } policy && !await AuthorizeAsync(context, policy).ConfigureAwait(false))
            return Refuse(StatusCodes.Status403Forbidden, $"The dashboard's action policy '{policy}' refused this request.");
        try
        {
            // The token the page fetched from /api/antiforgery, in the header, against the cookie set with it.
            await context.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(context).ConfigureAwait(false);
        }
        catch (AntiforgeryValidationException)
        {
            return Refuse(StatusCodes.Status400BadRequest, "The antiforgery token is missing or invalid: reload the dashboard.");
        }
        return null;
    }

    private static async ValueTask<bool> AuthorizeAsync(HttpContext context, string policy) =>
        (await context.RequestServices.GetRequiredService<IAuthorizationService>().AuthorizeAsync(context.User, context, policy).ConfigureAwait(false)).Succeeded;

    internal static bool IsLoopback(IPAddress? address) =>
        address is not null && IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);

    private static IResult Refuse(int status, string error) =>
        Results.Json(new ProblemDto(status, error), DashboardJsonContext.Default.ProblemDto, statusCode: status);

    private static IResult Action(bool ok, string? failure, int count = 1) =>
        Results.Json(new ActionDto(ok, ok ? count : 0, ok ? null : failure), DashboardJsonContext.Default.ActionDto, statusCode: ok ? 200 : 404);

    private IResult Page(HttpContext context)
    {
        // Relative asset and API addresses need the prefix to end with a slash.
        if (!context.Request.Path.Value!.EndsWith('/'))
            return Results.Redirect(context.Request.PathBase + context.Request.Path + "/" + context.Request.QueryString);
        return DashboardAssets.Result("index.html");
    }

    private IResult Antiforgery(HttpContext context)
    {
        if (!_options.ActionsConfigured || context.RequestServices.GetService<IAntiforgery>() is not { } antiforgery)
            return Results.Json(new AntiforgeryDto("", null), DashboardJsonContext.Default.AntiforgeryDto);
        var tokens = antiforgery.GetAndStoreTokens(context);
        return Results.Json(new AntiforgeryDto(tokens.HeaderName ?? "RequestVerificationToken", tokens.RequestToken), DashboardJsonContext.Default.AntiforgeryDto);
    }

    private async Task<IResult> OverviewAsync(HttpContext context)
    {
        var now = _time.GetUtcNow();
        CountsDto counts = new(null, null, null, null, null, null);
        string? error = null;
        IReadOnlyList<TempestWorkerStatus> workers = [];
        try
        {
            var c = await _inspector.GetCountsAsync(context.RequestAborted).ConfigureAwait(false);
            counts = new CountsDto(c.Ready, c.Scheduled, c.Retrying, c.Running, c.Dead, c.Completed);
            workers = await _inspector.GetWorkersAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (!context.RequestAborted.IsCancellationRequested)
        {
            // The page says the queue failed (its type only: an exception's message may quote data) and keeps polling.
            error = e.GetType().Name;
        }
        bool actions = _options.ActionsConfigured && (_options.ActionFilter?.Invoke(context) ?? true)
            && (_options.ActionPolicy is not { } policy || await AuthorizeAsync(context, policy).ConfigureAwait(false));
        return Results.Json(new OverviewDto(_title, _engines, _options.ShowPayloads, actions, now, counts, _sampler.Succeeded + _sampler.Failed,
            _sampler.Failed, [.. workers.Select(w => DashboardProjection.Worker(w, now))], _sampler.Series(), error), DashboardJsonContext.Default.OverviewDto);
    }

    private async Task<IResult> ListAsync(string? state, int? offset, int? limit, HttpContext context)
    {
        if (!Enum.TryParse<TempestJobState>(state, ignoreCase: true, out var jobState) || !Enum.IsDefined(jobState))
            return Refuse(StatusCodes.Status400BadRequest, "state must be one of Ready, Scheduled, Retrying, Running, Dead, Completed.");
        int from = Math.Max(0, offset ?? 0), count = Math.Clamp(limit ?? 50, 1, MaxPage);
        var jobs = await _inspector.ListAsync(jobState, from, count, context.RequestAborted).ConfigureAwait(false);
        var workers = jobState == TempestJobState.Running ? await WorkersByIdAsync(context).ConfigureAwait(false) : null;
        var now = _time.GetUtcNow();
        return Results.Json(new JobsPageDto(jobState.ToString(), from, count,
            [.. jobs.Select(j => DashboardProjection.Job(j, _options.ShowPayloads, _sampler, workers, now))]), DashboardJsonContext.Default.JobsPageDto);
    }

    private async Task<IResult> GetAsync(string id, HttpContext context)
    {
        var job = await _inspector.GetAsync(id, context.RequestAborted).ConfigureAwait(false);
        if (job is null) return Refuse(StatusCodes.Status404NotFound, "The queue holds no job with that id.");
        var workers = job.State == TempestJobState.Running ? await WorkersByIdAsync(context).ConfigureAwait(false) : null;
        return Results.Json(DashboardProjection.Job(job, _options.ShowPayloads, _sampler, workers, _time.GetUtcNow()), DashboardJsonContext.Default.JobDto);
    }

    private async Task<IReadOnlyDictionary<string, TempestWorkerStatus>> WorkersByIdAsync(HttpContext context)
    {
        var workers = await _inspector.GetWorkersAsync(context.RequestAborted).ConfigureAwait(false);
        var byId = new Dictionary<string, TempestWorkerStatus>(StringComparer.Ordinal);
        foreach (var worker in workers) byId[worker.Worker.Id] = worker;
        return byId;
    }

    private async Task<IResult> FailuresAsync(int? limit, HttpContext context)
    {
        var failures = await _inspector.GetRecentFailuresAsync(Math.Clamp(limit ?? 50, 1, MaxPage), context.RequestAborted).ConfigureAwait(false);
        return Results.Json<IReadOnlyList<FailureDto>>([.. failures.Select(f => DashboardProjection.Failure(f, _options.ShowPayloads))],
            DashboardJsonContext.Default.IReadOnlyListFailureDto);
    }

    private async Task<IResult> SchedulesAsync(HttpContext context)
    {
        var schedules = await _inspector.GetSchedulesAsync(context.RequestAborted).ConfigureAwait(false);
        return Results.Json<IReadOnlyList<ScheduleDto>>([.. schedules.Select(DashboardProjection.Schedule)], DashboardJsonContext.Default.IReadOnlyListScheduleDto);
    }
}
