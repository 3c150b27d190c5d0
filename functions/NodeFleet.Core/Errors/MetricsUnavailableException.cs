namespace NodeFleet.Core.Errors;

/// <summary>
/// Prometheus could not be reached, answered with an error, or lacks a series the snapshot
/// needs. Raised instead of ever reporting zeros; the workflow notifies and does not scale.
/// </summary>
public sealed class MetricsUnavailableException(string message, Exception? innerException = null) : Exception(message, innerException);
