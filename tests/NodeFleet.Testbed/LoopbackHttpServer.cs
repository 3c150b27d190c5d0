using System.Net;
using System.Text;

namespace NodeFleet.Testbed;

/// <summary>
/// An HTTP server on a free loopback port that hands each request, one at a time, to a handler.
/// A request whose handling fails is answered 502 and the server goes on: one broken exchange
/// (a client that hung up, a bad upstream answer) must not silence it for the rest of a run.
/// </summary>
public sealed class LoopbackHttpServer : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly Func<HttpListenerContext, Task> handle;
    private readonly Task loop;

    public LoopbackHttpServer(Func<HttpListenerContext, Task> handle)
    {
        this.handle = handle;
        Url = new Uri($"http://127.0.0.1:{Loopback.FreePort()}/");
        listener.Prefixes.Add(Url.ToString());
        listener.Start();
        loop = Task.Run(ServeAsync);
    }

    public Uri Url { get; }

    private async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            try
            {
                await handle(context);
            }
            catch (Exception e)
            {
                try
                {
                    context.Response.StatusCode = 502;
                    await context.Response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes($"<html>{e.GetType().Name}</html>"));
                    context.Response.Close();
                }
                catch (Exception inner) when (inner is HttpListenerException or IOException or InvalidOperationException or ObjectDisposedException)
                {
                }
            }
        }
    }

    public void Dispose()
    {
        listener.Stop();
        listener.Close();
        loop.Wait(TimeSpan.FromSeconds(5));
    }
}
