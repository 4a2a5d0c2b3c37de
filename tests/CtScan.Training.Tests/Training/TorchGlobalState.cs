namespace CtScan.Training.Tests.Training;

/// <summary>
/// Tests that train run alone: dropout draws from torch's process-wide default generator, so another test's forward
/// pass in train mode, running at the same time, would take numbers from it and change this run's masks.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchGlobalState
{
    public const string Name = "torch global generator";
}
