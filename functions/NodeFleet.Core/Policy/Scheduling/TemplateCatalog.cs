using NodeFleet.Core.Contracts;

namespace NodeFleet.Core.Policy.Scheduling;

/// <summary>A worker template in one zone (or in a zone not known): the node it would be, and its room once the DaemonSets that land on it took theirs.</summary>
internal sealed record TemplateSlot(int Template, string? Zone, Place Place, Resources Capacity);

/// <summary>
/// Every worker template in every zone it launches in, with the DaemonSets' share taken off each
/// (a DaemonSet lands where its pod's constraints pass: its CPU, memory and one pod slot). Built
/// once per decision: packing looks slots up by index.
/// </summary>
internal sealed class TemplateCatalog
{
    public TemplateCatalog(IReadOnlyList<WorkerTemplate> templates, IReadOnlyList<DaemonSetInfo> daemonSets)
    {
        ArgumentNullException.ThrowIfNull(templates);
        ArgumentNullException.ThrowIfNull(daemonSets);
        Templates = templates;
        var slots = new TemplateSlot[templates.Count][];
        var unknown = new TemplateSlot[templates.Count];
        var largest = new Resources[templates.Count];
        for (var t = 0; t < templates.Count; t++)
        {
            var template = templates[t];
            slots[t] = new TemplateSlot[template.Zones.Count];
            var smallest = template.Allocatable;
            var most = Resources.Zero;
            for (var z = 0; z < template.Zones.Count; z++)
            {
                var place = Place.New(template, template.Zones[z]);
                var capacity = CapacityAfter(template.Allocatable, daemonSets, place);
                slots[t][z] = new TemplateSlot(t, template.Zones[z], place, capacity);
                smallest = new Resources(
                    Math.Min(smallest.CpuMillis, capacity.CpuMillis),
                    Math.Min(smallest.MemoryBytes, capacity.MemoryBytes),
                    Math.Min(smallest.Pods, capacity.Pods));
                most = new Resources(
                    Math.Max(most.CpuMillis, capacity.CpuMillis),
                    Math.Max(most.MemoryBytes, capacity.MemoryBytes),
                    Math.Max(most.Pods, capacity.Pods));
            }

            largest[t] = most;

            // A node whose zone is not known has the least room any of its zones leaves.
            unknown[t] = new TemplateSlot(t, null, Place.New(template, null), smallest);
        }

        Slots = slots;
        UnknownZone = unknown;
        Largest = largest;
    }

    public IReadOnlyList<WorkerTemplate> Templates { get; }

    /// <summary>[template][index of the zone in the template's zones].</summary>
    public IReadOnlyList<IReadOnlyList<TemplateSlot>> Slots { get; }

    /// <summary>Per template: a node of it whose zone is not known (launching, its instance not listed yet; or new and not pinned).</summary>
    public IReadOnlyList<TemplateSlot> UnknownZone { get; }

    /// <summary>Per template: the most room any of its zones leaves, in each dimension (an upper bound for a node not pinned yet).</summary>
    public IReadOnlyList<Resources> Largest { get; }

    /// <summary>The slot of <paramref name="zone"/>, or null when the template does not launch there.</summary>
    public TemplateSlot? Slot(int template, string zone)
    {
        foreach (var slot in Slots[template])
        {
            if (slot.Zone == zone)
            {
                return slot;
            }
        }

        return null;
    }

    /// <summary>Allocatable less the DaemonSets that may land (an uncertain match counts: room is never overstated).</summary>
    private static Resources CapacityAfter(Resources allocatable, IReadOnlyList<DaemonSetInfo> daemonSets, Place place)
    {
        var capacity = allocatable;
        foreach (var daemonSet in daemonSets)
        {
            var unfit = Predicates.Check(daemonSet.Constraints, place);
            if (unfit is null || unfit.Value.Predicate == Predicate.UncertainLabel)
            {
                capacity -= new Resources(daemonSet.CpuMillis, daemonSet.MemoryBytes, 1);
            }
        }

        return capacity.AtLeastZero();
    }
}
