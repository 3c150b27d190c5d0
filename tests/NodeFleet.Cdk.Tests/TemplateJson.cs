using System.Text.Json;
using Amazon.CDK;
using Constructs;
using NodeFleet.Cdk;

namespace NodeFleet.Cdk.Tests;

/// <summary>Reading a synthesized template's JSON: logical ids, resources by type, string lists, identity-policy statements.</summary>
internal static class TemplateJson
{
    public static string Id(NodeFleetStack stack, IConstruct construct) => stack.GetLogicalId((CfnElement)construct.Node.DefaultChild!);

    public static IEnumerable<(string Id, JsonElement Properties)> Resources(JsonElement json, string type) =>
        json.GetProperty("Resources").EnumerateObject().Where(r => r.Value.GetProperty("Type").GetString() == type).Select(r => (r.Name, r.Value.GetProperty("Properties")));

    public static List<string> Strings(JsonElement value) =>
        value.ValueKind == JsonValueKind.Array ? value.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText()).ToList()
        : [value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText()];

    /// <summary>Every identity-policy statement in the template, with the roles it is attached to: policies, managed policies and roles' inline policies.</summary>
    public static IEnumerable<(string Owner, JsonElement Statement)> IdentityStatements(JsonElement json)
    {
        foreach (var type in new[] { "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy" })
        {
            foreach (var (id, properties) in Resources(json, type))
            {
                var owner = properties.TryGetProperty("Roles", out var roles) ? string.Join(",", roles.EnumerateArray().Select(r => r.GetProperty("Ref").GetString())) : id;
                foreach (var statement in properties.GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray())
                {
                    yield return (owner, statement);
                }
            }
        }

        foreach (var (id, properties) in Resources(json, "AWS::IAM::Role"))
        {
            if (properties.TryGetProperty("Policies", out var inline))
            {
                foreach (var statement in inline.EnumerateArray().SelectMany(p => p.GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray()))
                {
                    yield return (id, statement);
                }
            }
        }
    }
}
