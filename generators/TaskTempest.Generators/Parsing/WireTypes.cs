using Microsoft.CodeAnalysis;

namespace TaskTempest.Generators.Parsing;

/// <summary>
/// Maps a parameter type to the code that reads it from and writes it to the wire format, using the
/// runtime's <c>TempestWire</c> helpers. Returns null for a type the wire format cannot carry.
/// </summary>
internal static class WireTypes
{
    private const string Wire = "global::TaskTempest.Wire.TempestWire";
    private const string Reader = "global::System.Text.Json.Utf8JsonReader";

    /// <summary>An expression reading one <paramref name="type"/> value from the reader variable <paramref name="reader"/>.</summary>
    public static string? Read(ITypeSymbol type, string reader, int depth = 0)
    {
        if (ScalarReadMethod(type) is { } method) return $"{Wire}.{method}(ref {reader})";
        if (type.TypeKind == TypeKind.Enum && type is INamedTypeSymbol { EnumUnderlyingType: { } underlying })
            return ScalarReadMethod(underlying) is { } m ? $"({Fq(type)}){Wire}.{m}(ref {reader})" : null;
        if (NullableOf(type) is { } inner)
            return ElementReader(inner, depth) is { } lambda ? $"{Wire}.ReadNullable(ref {reader}, {lambda})" : null;
        if (ArrayElement(type) is { } element)
            return ElementReader(element, depth) is { } lambda ? NotNullUnlessAnnotated(type, $"{Wire}.ReadArray(ref {reader}, {lambda})") : null;
        if (ListElement(type) is { } listElement)
            return ElementReader(listElement, depth) is { } lambda ? NotNullUnlessAnnotated(type, $"{Wire}.ReadList(ref {reader}, {lambda})") : null;
        return null;
    }

    private static string NotNullUnlessAnnotated(ITypeSymbol type, string read) =>
        type.NullableAnnotation == NullableAnnotation.Annotated ? read : $"{Wire}.NotNull({read})";

    /// <summary>A statement-expression writing <paramref name="value"/> of <paramref name="type"/> to <paramref name="writer"/>.</summary>
    public static string? Write(ITypeSymbol type, string writer, string value, int depth = 0)
    {
        if (ScalarReadMethod(type) is not null) return $"{Wire}.Write({writer}, {value})";
        if (type.TypeKind == TypeKind.Enum && type is INamedTypeSymbol { EnumUnderlyingType: { } underlying })
            return $"{Wire}.Write({writer}, ({Fq(underlying)}){value})";
        if (NullableOf(type) is { } inner)
            return ElementWriter(inner, depth) is { } lambda ? $"{Wire}.WriteNullable({writer}, {value}, {lambda})" : null;
        if (ArrayElement(type) is { } element)
            return ElementWriter(element, depth) is { } lambda ? $"{Wire}.WriteArray({writer}, {value}, {lambda})" : null;
        if (ListElement(type) is { } listElement)
            return ElementWriter(listElement, depth) is { } lambda ? $"{Wire}.WriteArray({writer}, {value}, {lambda})" : null;
        return null;
    }

    /// <summary>A static lambda reading one element, for arrays, lists, nullables and params.</summary>
    public static string? ElementReader(ITypeSymbol element, int depth)
    {
        string r = "r" + depth;
        return Read(element, r, depth + 1) is { } read ? $"static (ref {Reader} {r}) => {read}" : null;
    }

    /// <summary>A static lambda writing one element.</summary>
    public static string? ElementWriter(ITypeSymbol element, int depth)
    {
        string w = "w" + depth, v = "v" + depth;
        return Write(element, w, v, depth + 1) is { } write ? $"static ({w}, {v}) => {write}" : null;
    }

    public static ITypeSymbol? ArrayElement(ITypeSymbol type) =>
        type is IArrayTypeSymbol { Rank: 1 } array ? array.ElementType : null;

    private static ITypeSymbol? NullableOf(ITypeSymbol type) =>
        type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable ? nullable.TypeArguments[0] : null;

    private static ITypeSymbol? ListElement(ITypeSymbol type) =>
        type is INamedTypeSymbol { IsGenericType: true } named
        && named.OriginalDefinition.ToDisplayString() == "System.Collections.Generic.List<T>" ? named.TypeArguments[0] : null;

    private static string? ScalarReadMethod(ITypeSymbol type)
    {
        switch (type.SpecialType)
        {
            case SpecialType.System_Int32: return "ReadInt32";
            case SpecialType.System_Int64: return "ReadInt64";
            case SpecialType.System_Int16: return "ReadInt16";
            case SpecialType.System_SByte: return "ReadSByte";
            case SpecialType.System_Byte: return "ReadByte";
            case SpecialType.System_UInt32: return "ReadUInt32";
            case SpecialType.System_UInt64: return "ReadUInt64";
            case SpecialType.System_UInt16: return "ReadUInt16";
            case SpecialType.System_Single: return "ReadSingle";
            case SpecialType.System_Double: return "ReadDouble";
            case SpecialType.System_Decimal: return "ReadDecimal";
            case SpecialType.System_Boolean: return "ReadBoolean";
            case SpecialType.System_Char: return "ReadChar";
            case SpecialType.System_String:
                return type.NullableAnnotation == NullableAnnotation.Annotated ? "ReadString" : "ReadRequiredString";
            case SpecialType.System_DateTime: return "ReadDateTime";
        }
        return type.ToDisplayString() switch
        {
            "System.Guid" => "ReadGuid",
            "System.DateTimeOffset" => "ReadDateTimeOffset",
            "System.TimeSpan" => "ReadTimeSpan",
            _ => null,
        };
    }

    public static string Fq(ITypeSymbol type) => type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier));
}
