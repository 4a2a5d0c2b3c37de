using System.Runtime.InteropServices;

namespace CtScan.Build.Tests;

/// <summary>
/// The load probe: the tests run this assembly as a child process (`dotnet CtScan.Build.Tests.dll load FILE`), because
/// a native library that loads badly or crashes would take the test host with it. Loads FILE and calls
/// THSTorch_get_num_threads (which asks libtorch), printing "threads=N"; exit 1 with the loader's message on failure.
/// </summary>
public static class Program
{
    public const string LoadVerb = "load";

    public static unsafe int Main(string[] args)
    {
        if (args.Length != 2 || args[0] != LoadVerb)
        {
            Console.Error.WriteLine($"usage: CtScan.Build.Tests {LoadVerb} LIBRARY");
            return 2;
        }
        IntPtr library;
        try
        {
            library = NativeLibrary.Load(args[1]);
        }
        catch (DllNotFoundException error)
        {
            Console.Error.WriteLine(error.Message);
            return 1;
        }
        var getNumThreads = (delegate* unmanaged<int>)NativeLibrary.GetExport(library, "THSTorch_get_num_threads");
        Console.WriteLine($"threads={getNumThreads()}");
        return 0;
    }
}
