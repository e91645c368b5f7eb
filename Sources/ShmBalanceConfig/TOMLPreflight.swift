// A guard in front of TOMLKit's parser (toml++ 3). On some malformed input toml++ does not report
// an error: an internal assertion fails and the whole process aborts (SIGABRT; with NDEBUG it
// would be undefined behaviour instead). The config fuzzer (Tests/Fuzz) found two such places:
//   - a table header whose name starts with no key character: `[.a]`, `[#]`, "[`]", `[` alone;
//   - an array with a `}` where a value should be: `a = [}`, `a = [1,}`.
// The ShmBalance config (SPEC §5) uses neither arrays nor multi-line strings, so this lexer
// refuses both outright, checks every table header's first character, and only then hands the
// text to toml++. Comments and quoted strings are skipped, so a `[` inside them is fine.

extension ConfigFile {
    static func preflight(_ text: String, file: String) throws(ConfigError) {
        let s = Array(text.unicodeScalars)
        var line = 1
        func fail(_ message: String) -> ConfigError { ConfigError(file: file, line: line, key: nil, message: "TOML syntax: " + message) }
        func isBlank(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" }
        func startsKey(_ c: Unicode.Scalar) -> Bool {
            ("A"..."Z").contains(c) || ("a"..."z").contains(c) || ("0"..."9").contains(c) || c == "_" || c == "-" || c == "\"" || c == "'"
        }
        enum State { case normal, basic, literal, comment }
        var state = State.normal
        var atLineStart = true  // only blanks since the last newline
        // toml++ skips a UTF-8 byte order mark at the start.
        var i = s.first == "\u{FEFF}" ? 1 : 0
        while i < s.count {
            let c = s[i]
            if c == "\n" {
                line += 1
                atLineStart = true
                state = .normal  // a string or comment never spans lines here (toml++ reports unterminated strings)
                i += 1
                continue
            }
            switch state {
            case .comment:
                break
            case .basic:
                if c == "\\" { i += 1 } else if c == "\"" { state = .normal }
            case .literal:
                if c == "'" { state = .normal }
            case .normal:
                if isBlank(c) || c == "\r" { break }
                defer { atLineStart = false }
                switch c {
                case "#": state = .comment
                case "\"", "'":
                    if i + 2 < s.count && s[i + 1] == c && s[i + 2] == c { throw fail("multi-line strings are not part of a ShmBalance config") }
                    state = c == "\"" ? .basic : .literal
                case "[":
                    guard atLineStart else { throw fail("arrays ([…]) are not part of a ShmBalance config") }
                    var j = i + 1
                    if j < s.count && s[j] == "[" { j += 1 }
                    while j < s.count && isBlank(s[j]) { j += 1 }
                    guard j < s.count, s[j] != "\n", s[j] != "\r" else { throw fail("a table header needs a name (e.g. [KRAKEN.USDC])") }
                    if !startsKey(s[j]) && s[j] != "]" {
                        let shown = s[j].value < 0x20 || s[j].value == 0x7F ? "\\u{\(String(s[j].value, radix: 16))}" : String(s[j])
                        throw fail("a table name must start with a letter, a digit, _ or -, or be quoted (found '\(shown)')")
                    }
                    i = j - 1
                default:
                    break
                }
            }
            i += 1
        }
    }
}

extension String {
    /// The text with control characters written as escapes: TOMLKit's messages quote the
    /// offending character raw ("saw 't\n'"), and an error must stay on one line.
    var oneLine: String {
        var out = ""
        for u in unicodeScalars {
            switch u {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out += u.value < 0x20 || u.value == 0x7F ? "\\u{\(String(u.value, radix: 16))}" : String(u)
            }
        }
        return out
    }
}
