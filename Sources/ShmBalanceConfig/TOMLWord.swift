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

    /// `w`: the word's bytes (A-Z a-z 0-9 _ - + . : only, at most TOMLLimits.wordBytes).
    static func classify(_ w: UnsafeBufferPointer<UInt8>) -> Outcome {
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        let text = String(decoding: w, as: UTF8.self)
        // The common case first, in one loop: [+-]? digits (. digits)?, no leading zero.
        let signed = w[0] == 0x2B || w[0] == 0x2D  // + -
        var k = signed ? 1 : 0
        let wholeStart = k
        while k < w.count && isDigit(w[k]) { k += 1 }
        let wholeDigits = k - wholeStart
        var fractionDigits = -1
        if k < w.count && w[k] == 0x2E {  // .
            k += 1
            let start = k
            while k < w.count && isDigit(w[k]) { k += 1 }
            fractionDigits = k - start
        }
        if k == w.count && wholeDigits > 0 && fractionDigits != 0 && !(wholeDigits > 1 && w[wholeStart] == 0x30) {
            return .value(fractionDigits < 0 ? .integer(text) : .decimal(text))
        }
        return refusal(text)
    }

    /// Everything but a plain integer or decimal: a value, or why not.
    private static func refusal(_ word: String) -> Outcome {
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
        let whole = body.prefix { $0 != UInt8(ascii: ".") }
        if whole.count > 1 && whole.first == UInt8(ascii: "0") && whole.allSatisfy(isDigit) {
            return .refused("\(shown): leading zeros are not allowed in a TOML number")
        }
        return .refused("\(shown) is not a number: write digits, a sign only in front, and at most one point with digits on both sides (5000.0)")
    }
}
