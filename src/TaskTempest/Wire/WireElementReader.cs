using System.Text.Json;

namespace TaskTempest.Wire;

/// <summary>Reads one element of a wire-format array (generated code passes one per element type).</summary>
public delegate T WireElementReader<T>(ref Utf8JsonReader reader);
