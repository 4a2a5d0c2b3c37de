using System.CommandLine;

namespace CtScan.Cli.Commands;

/// <summary>An option taking three extents W H D (e.g. <c>--shape 512 512 64</c>), read as a <see cref="VolumeShape"/>.</summary>
internal sealed class ShapeOption
{
    private readonly VolumeShape _default;

    public ShapeOption(string name, string description, VolumeShape defaultShape)
    {
        _default = defaultShape;
        Option = new Option<int[]>(name)
        {
            Description = $"{description} (W H D; default {defaultShape.Width} {defaultShape.Height} {defaultShape.Depth})",
            Arity = new ArgumentArity(3, 3),
            AllowMultipleArgumentsPerToken = true,
        };
    }

    public Option<int[]> Option { get; }

    public VolumeShape GetValue(ParseResult parse) =>
        parse.GetValue(Option) is { Length: 3 } s ? new VolumeShape(s[0], s[1], s[2]).Validated(Option.Name) : _default;
}
