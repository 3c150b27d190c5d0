namespace NodeFleet.Core.Ports;

/// <summary>Secrets read by name at run time (SSM Parameter Store SecureStrings in production), so none sits in configuration.</summary>
public interface ISecureParameters
{
    /// <summary>The decrypted value of the parameter <paramref name="name"/>; a parameter that does not exist is a named error.</summary>
    Task<string> GetAsync(string name, CancellationToken cancellationToken);
}
