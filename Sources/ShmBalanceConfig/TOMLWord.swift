// An unquoted TOML value, read whole (TOMLReader stops it at a blank, `,`, `}`, `#` or the line's
// end), then told apart here. A number stays the text that was written: the schema hands it to
// `Amount(parsing:)` (exact decimal, SPEC §2) or reads a count from it, so nothing is ever
// rounded through a Double. What TOML allows but an exact config must not (exponents, hex,
// separators) is refused by name, so the person knows what to write instead.

enum TOMLWord {
    enum Outcome {
        case value(TOMLDocument.Value)
        case refused(String)
    }

    static func classify(_ word: String) -> Outcome {
        switch word {
        case "true": return .value(.bool(true))
        case "false": return .value(.bool(false))
        case "inf", "+inf", "-inf", "nan", "+nan", "-nan": return .value(.special(word))
        default: break
        }
        let shown = "'\(SafeText.excerpt(word))'"
        let bytes = Array(word.utf8)
        let isDigit = { (c: UInt8) in c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
        if bytes.contains(UInt8(ascii: ":"))
            || (bytes.count >= 5 && bytes[0..<4].allSatisfy(isDigit) && bytes[4] == UInt8(ascii: "-")) {
            return .refused("\(shown): dates and times are not part of a ShmBalance config")
        }
        var body = bytes[...]
        if let s = body.first, s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { body = body.dropFirst() }
        if body.count >= 2 && body.first == UInt8(ascii: "0") {
            switch body[body.startIndex + 1] {
            case UInt8(ascii: "x"): return .refused("\(shown): hexadecimal numbers are not accepted; write decimal digits")
            case UInt8(ascii: "o"): return .refused("\(shown): octal numbers are not accepted; write decimal digits")
            case UInt8(ascii: "b"): return .refused("\(shown): binary numbers are not accepted; write decimal digits")
            default: break
            }
        }
        let numeric = !body.isEmpty && (isDigit(body.first!) || body.first == UInt8(ascii: "."))
            && body.allSatisfy { isDigit($0) || "._eE+-".utf8.contains($0) }
        guard numeric else {
            return .refused("\(shown) is not a value: write quoted text (\"…\"), a number, true or false")
        }
        if body.contains(UInt8(ascii: "_")) {
            return .refused("\(shown): digit separators are not accepted; write plain digits (5000, not 5_000)")
        }
        if body.contains(UInt8(ascii: "e")) || body.contains(UInt8(ascii: "E")) {
            return .refused("\(shown): exponents are not accepted, an amount is read exactly as written; write all the digits (1000, not 1e3)")
        }
        let point = body.firstIndex(of: UInt8(ascii: "."))
        let whole = body[..<(point ?? body.endIndex)]
        let fraction = point.map { body[body.index(after: $0)...] }
        guard !whole.isEmpty, fraction.map({ !$0.isEmpty }) ?? true,
              whole.allSatisfy(isDigit), fraction?.allSatisfy(isDigit) ?? true else {
            return .refused("\(shown) is not a number: write digits, a sign only in front, and at most one point with digits on both sides (5000.0)")
        }
        if whole.count > 1 && whole.first == UInt8(ascii: "0") {
            return .refused("\(shown): leading zeros are not allowed in a TOML number")
        }
        return .value(point == nil ? .integer(word) : .decimal(word))
    }
}
