using CtScan.Cli;

// `preprocess` and `info` run here; any other command line becomes the managed ctscan (execv: same pid, stdio, signals, exit code).
return await NativeLauncher.RunAsync(args);
