using Microsoft.AspNetCore.Http;

namespace TaskTempest.Dashboard;

/// <summary>The page, its script and its style, compiled into this assembly (Assets/*.cs: no CDN, nothing fetched from
/// elsewhere) and encoded once.</summary>
internal static partial class DashboardAssets
{
    private static readonly Dictionary<string, (byte[] Bytes, string ContentType)> Assets = new(StringComparer.Ordinal)
    {
        ["index.html"] = (System.Text.Encoding.UTF8.GetBytes(IndexHtml), "text/html; charset=utf-8"),
        ["app.js"] = (System.Text.Encoding.UTF8.GetBytes(AppJs), "text/javascript; charset=utf-8"),
        ["app.css"] = (System.Text.Encoding.UTF8.GetBytes(AppCss), "text/css; charset=utf-8"),
    };

    // A strict policy: the page runs its own script only, so even a value that reached the DOM as markup could not run.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static IResult Result(string name)
    {
        var (bytes, contentType) = Assets[name];
        return new AssetResult(bytes, contentType);
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
