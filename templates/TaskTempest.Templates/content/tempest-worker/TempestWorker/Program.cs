using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TaskTempest.Hosting;
using TempestWorker;

// A worker service: the host runs the engine on its built-in memory queue until SIGINT or SIGTERM (Ctrl+C), then the
// engine stops dequeuing and lets running tasks finish within the host's shutdown timeout. The engine's lines go to
// the host's logging (the console here); task constructors get the host's services, a scope per job.
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddTempest<WorkerTempest>(); // options => options.Queue = ... for a durable queue
using var host = builder.Build();

host.Services.GetRequiredService<WorkerTempest>().SubmitGreet("world"); // the engine is injectable: submit from anywhere
await host.RunAsync();
