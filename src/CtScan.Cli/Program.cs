using CtScan.Cli;

return await CtScanCommand.Create().Parse(args).InvokeAsync();
