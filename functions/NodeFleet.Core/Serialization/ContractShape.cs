using System.Collections;
using System.Text.Json.Serialization.Metadata;

namespace NodeFleet.Core.Serialization;

/// <summary>
/// What the serializer lets through and the code cannot take: a <c>null</c> element of a collection
/// (nullable annotations do not reach collection elements, and no contract has a nullable one), a
/// null dictionary value, a non-nullable reference member left null (absent and not required), and
/// an enum given as a number no member has (the string enum converter also reads integers).
/// Walks a parsed contract by its source-generated metadata, no reflection, and names every such
/// place by its JSON path.
/// </summary>
public static class ContractShape
{
    /// <summary>Deeper than any contract: a payload nested further is refused rather than walked.</summary>
    private const int MaxDepth = 64;

    /// <summary>The most places an error names; the rest are counted (an error's cause must stay short).</summary>
    public const int MaxListed = 10;

    /// <returns>One problem per place, <c>$.snapshot.nodes[0]: null ...</c>, at most <see cref="MaxListed"/> and a count; empty when the shape holds.</returns>
    public static IReadOnlyList<string> Problems<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        var problems = new List<string>();
        Walk(value, typeInfo, "$", problems, 0);
        return problems.Count <= MaxListed ? problems : [.. problems.Take(MaxListed), $"and {problems.Count - MaxListed} more"];
    }

    private static void Walk(object? value, JsonTypeInfo info, string path, List<string> problems, int depth)
    {
        if (value is null)
        {
            return;
        }

        if (depth > MaxDepth)
        {
            problems.Add($"{path}: nested deeper than {MaxDepth} levels");
            return;
        }

        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object:
                foreach (var property in info.Properties)
                {
                    if (property.Get is null)
                    {
                        continue;
                    }

                    var at = $"{path}.{property.Name}";
                    object? member;
                    try
                    {
                        member = property.Get(value);
                    }
                    catch (Exception e) when (e is ArgumentException or InvalidOperationException or NullReferenceException)
                    {
                        // A computed member (a route, a total) of an object already found wrong: that problem is the cause.
                        if (problems.Count == 0)
                        {
                            problems.Add($"{at}: cannot be derived ({e.Message})");
                        }

                        continue;
                    }

                    if (member is null)
                    {
                        if (!property.IsGetNullable && !property.PropertyType.IsValueType)
                        {
                            problems.Add($"{at}: required, but absent or null");
                        }
                    }
                    else if (Undefined(member, property.PropertyType) is { } enumType)
                    {
                        problems.Add($"{at}: {member} is not a value of {enumType.Name}");
                    }
                    else
                    {
                        Walk(member, info.Options.GetTypeInfo(property.PropertyType), at, problems, depth + 1);
                    }
                }

                break;
            case JsonTypeInfoKind.Enumerable when info.ElementType is { } elementType:
                var index = 0;
                foreach (var element in (IEnumerable)value)
                {
                    Element(element, elementType, info, $"{path}[{index++}]", problems, depth);
                }

                break;
            case JsonTypeInfoKind.Dictionary when info.ElementType is { } valueType && value is IDictionary dictionary:
                foreach (DictionaryEntry entry in dictionary)
                {
                    Element(entry.Value, valueType, info, $"{path}.{entry.Key}", problems, depth);
                }

                break;
        }
    }

    private static void Element(object? element, Type elementType, JsonTypeInfo collection, string at, List<string> problems, int depth)
    {
        if (element is null)
        {
            if (Nullable.GetUnderlyingType(elementType) is null)
            {
                problems.Add($"{at}: null (expected {Describe(elementType)})");
            }

            return;
        }

        if (Undefined(element, elementType) is { } enumType)
        {
            problems.Add($"{at}: {element} is not a value of {enumType.Name}");
            return;
        }

        Walk(element, collection.Options.GetTypeInfo(elementType), at, problems, depth + 1);
    }

    /// <summary>The enum type when <paramref name="value"/> is an enum value none of its members has; else null.</summary>
    private static Type? Undefined(object value, Type declared) =>
        (Nullable.GetUnderlyingType(declared) ?? declared) is { IsEnum: true } type && !type.IsDefined(typeof(FlagsAttribute), false) && !Enum.IsDefined(type, value)
            ? type
            : null;

    private static string Describe(Type type) =>
        type == typeof(string) ? "a string" : type.IsEnum ? "a string" : type.IsValueType ? "a value" : "an object";
}
