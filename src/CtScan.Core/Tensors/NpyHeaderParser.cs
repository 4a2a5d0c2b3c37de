using System.Globalization;

namespace CtScan.Tensors;

/// <summary>
/// Parses the Python-literal dictionary of a .npy header (<c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), }</c>):
/// string, bool and int-tuple values only, which is all numpy writes for a plain dtype.
/// </summary>
internal ref struct NpyHeaderParser
{
    public readonly record struct Dictionary(string Descr, bool FortranOrder, long[] Shape);

    private readonly string _text;
    private int _pos;

    private NpyHeaderParser(string text)
    {
        _text = text;
        _pos = 0;
    }

    public static Dictionary Parse(string text)
    {
        var parser = new NpyHeaderParser(text);
        return parser.ParseDictionary();
    }

    private Dictionary ParseDictionary()
    {
        string? descr = null;
        bool? fortranOrder = null;
        long[]? shape = null;
        Expect('{');
        while (true)
        {
            SkipSpaces();
            if (TryConsume('}')) break;
            string key = ParseString();
            Expect(':');
            switch (key)
            {
                case "descr": descr = ParseString(); break;
                case "fortran_order": fortranOrder = ParseBool(); break;
                case "shape": shape = ParseIntTuple(); break;
                default: throw Fail($"unexpected key '{key}'; expected 'descr', 'fortran_order' and 'shape'");
            }
            SkipSpaces();
            if (TryConsume('}')) break;
            Expect(',');
        }
        SkipSpaces();
        if (_pos != _text.Length)
            throw Fail("unexpected text after the dictionary");
        if (descr is null || fortranOrder is null || shape is null)
            throw Fail("the dictionary must have 'descr', 'fortran_order' and 'shape'");
        return new Dictionary(descr, fortranOrder.Value, shape);
    }

    private string ParseString()
    {
        SkipSpaces();
        char quote = Peek();
        if (quote is not ('\'' or '"'))
            throw Fail("expected a quoted string");
        _pos++;
        int end = _text.IndexOf(quote, _pos);
        if (end < 0) throw Fail("unterminated string");
        string value = _text[_pos..end];
        _pos = end + 1;
        return value;
    }

    private bool ParseBool()
    {
        SkipSpaces();
        if (TryConsumeWord("True")) return true;
        if (TryConsumeWord("False")) return false;
        throw Fail("expected True or False");
    }

    private long[] ParseIntTuple()
    {
        Expect('(');
        var values = new List<long>(4);
        while (true)
        {
            SkipSpaces();
            if (TryConsume(')')) break;
            int start = _pos;
            while (_pos < _text.Length && (char.IsAsciiDigit(_text[_pos]) || _text[_pos] == '-')) _pos++;
            // Python 2 era numpy wrote longs as 128L.
            string digits = _text[start.._pos];
            if (_pos < _text.Length && _text[_pos] == 'L') _pos++;
            if (!long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
                throw Fail($"shape entry '{digits}' is not an integer");
            values.Add(value);
            SkipSpaces();
            if (TryConsume(')')) break;
            Expect(',');
        }
        return [.. values];
    }

    private void SkipSpaces()
    {
        while (_pos < _text.Length && _text[_pos] is ' ' or '\n' or '\t' or '\r') _pos++;
    }

    private readonly char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private bool TryConsume(char c)
    {
        if (Peek() != c) return false;
        _pos++;
        return true;
    }

    private bool TryConsumeWord(string word)
    {
        if (string.CompareOrdinal(_text, _pos, word, 0, word.Length) != 0) return false;
        _pos += word.Length;
        return true;
    }

    private void Expect(char c)
    {
        SkipSpaces();
        if (!TryConsume(c)) throw Fail($"expected '{c}'");
    }

    private readonly NpyFormatException Fail(string problem) =>
        new($".npy header is not a valid dictionary ({problem} at character {_pos}): {_text.TrimEnd()}");
}
