using Microsoft.AspNetCore.Http;

namespace TaskTempest.Dashboard;

/// <summary>The page, its script and its style, embedded in this assembly (no CDN, nothing fetched from elsewhere) and read once.</summary>
internal static class DashboardAssets
{
    private static readonly Dictionary<string, (byte[] Bytes, string ContentType)> Assets = new(StringComparer.Ordinal)
    {
        ["index.html"] = (Read("index.html"), "text/html; charset=utf-8"),
        ["app.js"] = (Read("app.js"), "text/javascript; charset=utf-8"),
        ["app.css"] = (Read("app.css"), "text/css; charset=utf-8"),
    };

    // A strict policy: the page runs its own script only, so even a value that reached the DOM as markup could not run.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static IResult Result(string name)
    {
        var (bytes, contentType) = Assets[name];
        return new AssetResult(bytes, contentType);
    }

    private static byte[] Read(string name)
    {
        // A manifest resource of this assembly, by its fixed name: no type is looked up.
        using var stream = typeof(DashboardAssets).Assembly.GetManifestResourceStream("TaskTempest.Dashboard.Assets." + name)
            ?? throw new InvalidOperationException("The dashboard's asset " + name + " is not embedded.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private sealed class AssetResult(byte[] bytes, string contentType) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            var headers = httpContext.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            httpContext.Response.ContentType = contentType;
            httpContext.Response.ContentLength = bytes.Length;
            return httpContext.Response.Body.WriteAsync(bytes).AsTask();
        }
    }
}
