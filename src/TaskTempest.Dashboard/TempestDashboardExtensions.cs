using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using TaskTempest.Dashboard;

// Beside MapGet and AddAntiforgery, where a host's code looks for them.
namespace Microsoft.AspNetCore.Builder
{
    /// <summary>Mounts the TaskTempest dashboard in an ASP.NET Core app: <c>app.MapTempestDashboard("/tempest")</c>.</summary>
    public static class TempestDashboardEndpointRouteBuilderExtensions
    {
        /// <summary>
        /// Maps the dashboard's page and JSON endpoints under <paramref name="prefix"/>. The options are those given to
        /// <c>AddTempestDashboard</c>, then <paramref name="configure"/>. The queue shown is <see cref="TempestDashboardOptions.Inspector"/>,
        /// else the queue of the engine registered by <c>AddTempest&lt;TEngine&gt;</c>. Safe by default: loopback requests only,
        /// no actions, payloads hidden (see <see cref="TempestDashboardOptions"/>).
        /// </summary>
        /// <param name="endpoints">The app.</param>
        /// <param name="prefix">Where, e.g. <c>/tempest</c>.</param>
        /// <param name="configure">Options for this mount, on top of <c>AddTempestDashboard</c>'s.</param>
        /// <returns>The endpoints' group, for more conventions (<c>RequireHost</c>, rate limiting, ...).</returns>
        /// <exception cref="InvalidOperationException">No queue with an inspector, or a policy without authorization, or
        /// actions without antiforgery services.</exception>
        public static RouteGroupBuilder MapTempestDashboard(this IEndpointRouteBuilder endpoints, string prefix = "/tempest", Action<TempestDashboardOptions>? configure = null)
        {
            ArgumentNullException.ThrowIfNull(endpoints);
            ArgumentNullException.ThrowIfNull(prefix);
            var options = TempestDashboardRegistration.Options(endpoints.ServiceProvider);
            configure?.Invoke(options);
            return DashboardEndpoints.Map(endpoints, prefix, options);
        }
    }
}

namespace Microsoft.Extensions.DependencyInjection
{
    /// <summary>Registers the TaskTempest dashboard's services: <c>builder.Services.AddTempestDashboard(...)</c>.</summary>
    public static class TempestDashboardServiceCollectionExtensions
    {
        /// <summary>
        /// Registers what the dashboard needs (antiforgery for its actions) and its options, which <c>MapTempestDashboard</c>
        /// starts from. With <see cref="TempestDashboardOptions.Standalone"/> set, the dashboard also runs on its own Kestrel
        /// server (a <see cref="TempestDashboardServer"/>, started and stopped with the host): for a worker without a web app.
        /// </summary>
        /// <param name="services">The host's services.</param>
        /// <param name="configure">Sets the options; a second call adds to the first.</param>
        public static IServiceCollection AddTempestDashboard(this IServiceCollection services, Action<TempestDashboardOptions>? configure = null)
        {
            ArgumentNullException.ThrowIfNull(services);
            TempestDashboardRegistration? registration = null;
            foreach (var descriptor in services)
                if (descriptor.ServiceType == typeof(TempestDashboardRegistration) && descriptor.ImplementationInstance is TempestDashboardRegistration existing)
                    registration = existing;
            if (registration is null)
            {
                registration = new TempestDashboardRegistration();
                services.AddSingleton(registration);
                services.AddAntiforgery();
                // Factories only: nothing is activated by reflection.
                services.TryAddSingleton(provider => new TempestDashboardServer(TempestDashboardRegistration.Options(provider), provider));
                services.AddSingleton<IHostedService>(provider => provider.GetRequiredService<TempestDashboardServer>());
            }
            if (configure is not null) registration.Configure.Add(configure);
            return services;
        }
    }
}

namespace TaskTempest.Dashboard
{
    /// <summary>The <c>AddTempestDashboard</c> calls' options, kept in the service collection as an instance.</summary>
    internal sealed class TempestDashboardRegistration
    {
        public List<Action<TempestDashboardOptions>> Configure { get; } = [];

        public static TempestDashboardOptions Options(IServiceProvider services)
        {
            var options = new TempestDashboardOptions();
            if (services.GetService<TempestDashboardRegistration>() is { } registration)
                foreach (var configure in registration.Configure) configure(options);
            return options;
        }
    }
}
