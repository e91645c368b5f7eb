// Text and Double → Amount, exactly or not at all (SPEC §2): never through Double for text,
// never rounded, never wrapped.

extension Amount {
    /// Parses decimal text: an optional sign, ASCII digits, an optional point and digits
    /// (`-1000`, `0.1`, `10000.00`). Exponents, separators, extra decimals and values that do
    /// not fit are refused with a message.
    public init(parsing text: some StringProtocol) throws(AmountError) {
        self = try Amount.parseDecimal(Array(text.utf8), allowExponent: false, shown: String(text))
    }

    /// Converts a Double through its shortest decimal form, so `0.1` means exactly 0.1.
    /// NaN, ±infinity, more than 18 decimals and values that do not fit are refused.
    public init(exactly value: Double) throws(AmountError) {
        guard value.isFinite else {
            throw AmountError(value.isNaN ? "NaN is not an amount" : "\(value) is not an amount: it is infinite")
        }
        if let fast = Amount.shortestDecimalFast(value) {
            self = fast
            return
        }
        // Rare path (|value| ≥ 2^53 or more than 17 significant decimals): the standard library's
        // shortest round-trip text, parsed exactly.
        self = try Amount.parseDecimal(Array(value.description.utf8), allowExponent: true, shown: value.description)
    }

    /// The smallest k ≤ 18 such that n / 10^k (n an integer below 2^53) converts back to `value`:
    /// that decimal is `value`'s shortest form. Both n and 10^k are exact Doubles, so the
    /// division is one correctly rounded decimal → Double conversion.
    @usableFromInline
    static func shortestDecimalFast(_ value: Double) -> Amount? {
        if value == 0 { return .zero }
        var p = 1.0
        var scale: Int64 = 1_000_000_000_000_000_000  // 10^(18 − k): raw units per unit of n
        var k = 0
        while k <= 18 {
            let m = value * p
            guard m.magnitude < 9_007_199_254_740_992 else { return nil }
            let n = m.rounded()
            if n / p == value {
                // One multiplication (not 18 − k checked ones: this is on the C ABI's and Python's
                // per-call path): |n| < 2^53 and scale ≤ 10^18 < 2^60, so it cannot overflow Int128.
                let a = Amount(raw: Int128(Int64(n)) &* Int128(scale))
                return a.isStorable ? a : nil
            }
            p *= 10
            scale /= 10
            k += 1
        }
        return nil
    }

    static func parseDecimal(_ bytes: [UInt8], allowExponent: Bool, shown: String) throws(AmountError) -> Amount {
        func fail(_ why: String) -> AmountError { AmountError("'\(shown)' is not an amount: \(why)") }
        if bytes.isEmpty { throw AmountError("an amount is required (got empty text)") }
        var i = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
            negative = bytes[0] == UInt8(ascii: "-")
            i = 1
        }
        var digits: [UInt8] = []  // all significant digits, integer part then fraction
        var fractionDigits = 0
        var seenPoint = false
        var exponent = 0
        var sawDigit = false
        while i < bytes.count {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                sawDigit = true
                if !(digits.isEmpty && c == UInt8(ascii: "0")) || seenPoint { digits.append(c - 48) }
                if seenPoint { fractionDigits += 1 }
            case UInt8(ascii: "."):
                if seenPoint { throw fail("more than one decimal point") }
                seenPoint = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                guard allowExponent else {
                    throw fail("exponents are not accepted; write all the digits (e.g. 100000)")
                }
                guard sawDigit, let e = Int(String(decoding: bytes[(i + 1)...], as: UTF8.self)), e.magnitude < 1000 else {
                    throw fail("bad exponent")
                }
                exponent = e
                i = bytes.count
                continue
            case UInt8(ascii: ","), UInt8(ascii: "_"), UInt8(ascii: " "), UInt8(ascii: "'"):
                throw fail("separators are not accepted; write plain digits (e.g. 10000.00)")
            default:
                let lowered = shown.lowercased()
                if lowered.contains("nan") { throw AmountError("'\(shown)' is not a number") }
                if lowered.contains("inf") { throw AmountError("'\(shown)' is not an amount: it is infinite") }
                // The whole character, not its first byte (`é` is two bytes of UTF-8).
                let character = String(decoding: bytes[i...], as: UTF8.self).first.map(String.init) ?? "?"
                throw fail("unexpected character '\(character)'; use digits, an optional sign and one point")
            }
            i += 1
        }
        guard sawDigit else { throw fail("no digits") }
        // Trailing zeros after the point carry no value ("10000.000" is fine).
        var scaleDigits = fractionDigits - exponent
        while scaleDigits > Amount.decimals, digits.last == 0 {
            digits.removeLast()
            scaleDigits -= 1
        }
        if scaleDigits > Amount.decimals {
            throw AmountError("'\(shown)' has more than \(Amount.decimals) decimal places; amounts are stored to \(Amount.decimals) and never rounded")
        }
        let tooBig = AmountError("'\(shown)' does not fit: an amount must be below 10^18 (1,000,000,000,000,000,000) whole units")
        var raw: Int128 = 0
        for d in digits {
            raw = raw * 10 + Int128(d)
            if raw > Amount.limit { throw tooBig }
        }
        for _ in scaleDigits..<Amount.decimals {
            raw *= 10
            if raw > Amount.limit { throw tooBig }
        }
        return Amount(raw: negative ? -raw : raw)
    }
}
