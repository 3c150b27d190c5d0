using System.Globalization;
using FieldError = NodeFleet.Testbed.KubeApiServer.FieldError;

namespace NodeFleet.Testbed;

/// <summary>
/// The API server's validation of the pod fields the testbed models (pkg/apis/core/validation), with
/// its field paths and words, so a manifest the API would refuse is refused here too (422).
/// </summary>
internal static class PodValidation
{
    private static readonly string[] Effects = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

    public static List<FieldError> Validate(PodSpec spec)
    {
        var errors = new List<FieldError>();
        if (spec.Containers.Count == 0)
        {
            errors.Add(FieldError.Required("spec.containers"));
        }

        Containers(errors, "spec.containers", spec.Containers, init: false);
        Containers(errors, "spec.initContainers", spec.InitContainers ?? [], init: true);
        if (spec.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution is { } required)
        {
            var path = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms";
            if (required.NodeSelectorTerms.Count == 0)
            {
                errors.Add(FieldError.Required(path, "must have at least one node selector term"));
            }

            for (var i = 0; i < required.NodeSelectorTerms.Count; i++)
            {
                var term = required.NodeSelectorTerms[i];
                Requirements(errors, $"{path}[{i}].matchExpressions", term.MatchExpressions ?? [], fields: false);
                Requirements(errors, $"{path}[{i}].matchFields", term.MatchFields ?? [], fields: true);
            }
        }

        AffinityTerms(errors, "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution", spec.Affinity?.PodAffinity?.RequiredDuringSchedulingIgnoredDuringExecution);
        AffinityTerms(errors, "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution", spec.Affinity?.PodAntiAffinity?.RequiredDuringSchedulingIgnoredDuringExecution);
        Tolerations(errors, spec.Tolerations ?? []);
        Spread(errors, spec.TopologySpreadConstraints ?? []);
        var volumes = spec.Volumes ?? [];
        for (var i = 0; i < volumes.Count; i++)
        {
            if (volumes[i].PersistentVolumeClaim is { ClaimName.Length: 0 })
            {
                errors.Add(FieldError.Required($"spec.volumes[{i}].persistentVolumeClaim.claimName"));
            }
        }

        return errors;
    }

    private static void Containers(List<FieldError> errors, string path, IReadOnlyList<ContainerSpec> containers, bool init)
    {
        for (var i = 0; i < containers.Count; i++)
        {
            var (container, at) = (containers[i], $"{path}[{i}]");
            if (string.IsNullOrEmpty(container.Name))
            {
                errors.Add(FieldError.Required($"{at}.name"));
            }

            if (string.IsNullOrEmpty(container.Image))
            {
                errors.Add(FieldError.Required($"{at}.image"));
            }

            if (container.RestartPolicy is { } policy && (!init || policy != "Always"))
            {
                errors.Add(init ? FieldError.NotSupported($"{at}.restartPolicy", policy, "Always") : FieldError.Forbidden($"{at}.restartPolicy", "may not be set for non-init containers"));
            }

            foreach (var (name, quantity) in container.Resources?.Requests ?? new Dictionary<string, Quantity>())
            {
                if (quantity.Value < 0)
                {
                    errors.Add(FieldError.Invalid($"{at}.resources.requests[{name}]", quantity.Text, "must be greater than or equal to 0"));
                }
            }

            var ports = container.Ports ?? [];
            for (var p = 0; p < ports.Count; p++)
            {
                if (ports[p].HostPort is { } hostPort and (< 0 or > 65535))
                {
                    errors.Add(FieldError.Invalid($"{at}.ports[{p}].hostPort", hostPort, "must be between 1 and 65535, inclusive"));
                }

                if (ports[p].Protocol is { } protocol && protocol is not ("TCP" or "UDP" or "SCTP"))
                {
                    errors.Add(FieldError.NotSupported($"{at}.ports[{p}].protocol", protocol, "SCTP", "TCP", "UDP"));
                }
            }
        }
    }

    private static void Requirements(List<FieldError> errors, string path, IReadOnlyList<NodeRequirementSpec> requirements, bool fields)
    {
        for (var i = 0; i < requirements.Count; i++)
        {
            var (requirement, at) = (requirements[i], $"{path}[{i}]");
            var values = requirement.Values ?? [];
            if (fields && requirement.Key != "metadata.name")
            {
                errors.Add(FieldError.Invalid($"{at}.key", requirement.Key, "not a valid field selector key"));
            }

            switch (requirement.Operator)
            {
                case "In" or "NotIn" when fields && values.Count != 1:
                    errors.Add(FieldError.Required($"{at}.values", "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
                    break;
                case "In" or "NotIn" when values.Count == 0:
                    errors.Add(FieldError.Required($"{at}.values", "must be specified when `operator` is 'In' or 'NotIn'"));
                    break;
                case "In" or "NotIn":
                    break;
                case "Exists" or "DoesNotExist" when !fields:
                    if (values.Count > 0)
                    {
                        errors.Add(FieldError.Forbidden($"{at}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
                    }

                    break;
                case "Gt" or "Lt" when !fields:
                    if (values.Count != 1)
                    {
                        errors.Add(FieldError.Required($"{at}.values", "must be specified single value when `operator` is 'Lt' or 'Gt'"));
                    }
                    else if (!long.TryParse(values[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
                    {
                        errors.Add(FieldError.Invalid($"{at}.values[0]", values[0], "must be an integer"));
                    }

                    break;
                default:
                    errors.Add(FieldError.Invalid($"{at}.operator", requirement.Operator, "not a valid selector operator"));
                    break;
            }
        }
    }

    private static void AffinityTerms(List<FieldError> errors, string path, IReadOnlyList<AffinityTermSpec>? terms)
    {
        for (var i = 0; i < (terms ?? []).Count; i++)
        {
            if (terms![i].TopologyKey.Length == 0)
            {
                errors.Add(FieldError.Required($"{path}[{i}].topologyKey", "can not be empty"));
            }
        }
    }

    private static void Tolerations(List<FieldError> errors, IReadOnlyList<TolerationSpec> tolerations)
    {
        for (var i = 0; i < tolerations.Count; i++)
        {
            var (toleration, at) = (tolerations[i], $"spec.tolerations[{i}]");
            var op = toleration.Operator ?? "";
            if (string.IsNullOrEmpty(toleration.Key) && op != "Exists")
            {
                errors.Add(FieldError.Invalid($"{at}.operator", op, "operator must be Exists when `key` is empty, which means \"match all values and all keys\""));
            }

            if (op == "Exists" && !string.IsNullOrEmpty(toleration.Value))
            {
                errors.Add(FieldError.Invalid($"{at}.operator", toleration.Value, "value must be empty when `operator` is 'Exists'"));
            }
            else if (op is not ("" or "Equal" or "Exists"))
            {
                errors.Add(FieldError.NotSupported($"{at}.operator", op, "Equal", "Exists"));
            }

            if (toleration.Effect is { Length: > 0 } effect && !Effects.Contains(effect))
            {
                errors.Add(FieldError.NotSupported($"{at}.effect", effect, Effects));
            }

            if (toleration.TolerationSeconds is not null && toleration.Effect != "NoExecute")
            {
                errors.Add(FieldError.Invalid($"{at}.effect", toleration.Effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
            }
        }
    }

    private static void Spread(List<FieldError> errors, IReadOnlyList<SpreadConstraintSpec> constraints)
    {
        for (var i = 0; i < constraints.Count; i++)
        {
            var (constraint, at) = (constraints[i], $"spec.topologySpreadConstraints[{i}]");
            if (constraint.MaxSkew <= 0)
            {
                errors.Add(FieldError.Invalid($"{at}.maxSkew", constraint.MaxSkew, "must be greater than zero"));
            }

            if (constraint.TopologyKey.Length == 0)
            {
                errors.Add(FieldError.Required($"{at}.topologyKey", "can not be empty"));
            }

            if (constraint.WhenUnsatisfiable is not ("DoNotSchedule" or "ScheduleAnyway"))
            {
                errors.Add(FieldError.NotSupported($"{at}.whenUnsatisfiable", constraint.WhenUnsatisfiable, "DoNotSchedule", "ScheduleAnyway"));
            }

            if (constraint.MinDomains is { } minDomains)
            {
                if (minDomains <= 0)
                {
                    errors.Add(FieldError.Invalid($"{at}.minDomains", minDomains, "must be greater than zero"));
                }
                else if (constraint.WhenUnsatisfiable != "DoNotSchedule")
                {
                    errors.Add(FieldError.Invalid($"{at}.minDomains", minDomains, "can only use minDomains if whenUnsatisfiable=DoNotSchedule"));
                }
            }

            foreach (var (field, policy) in new[] { ("nodeAffinityPolicy", constraint.NodeAffinityPolicy), ("nodeTaintsPolicy", constraint.NodeTaintsPolicy) })
            {
                if (policy is not (null or "Honor" or "Ignore"))
                {
                    errors.Add(FieldError.NotSupported($"{at}.{field}", policy, "Honor", "Ignore"));
                }
            }
        }
    }
}
