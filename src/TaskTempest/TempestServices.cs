using System.ComponentModel;

namespace TaskTempest;

/// <summary>What generated task constructors call to resolve optional services.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class TempestServices
{
    /// <summary>The registered <typeparamref name="T"/>, or <paramref name="fallback"/> when none is registered
    /// (works for value types and <see cref="Nullable{T}"/> too, unlike <c>GetService&lt;T&gt;</c>).</summary>
    public static T GetOrDefault<T>(IServiceProvider services, T fallback) =>
        services.GetService(typeof(T)) is { } service ? (T)service : fallback;
}
