using BenchmarkDotNet.Running;

// usage: dotnet run -c Release --project benchmarks/TaskTempest.Benchmarks -- --filter '*' [--job short]
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
