import ShmBalance

// Text from a config file goes into error messages that land on a terminal (SPEC §4: show
// control characters and escape sequences escaped, never raw), and bytes from the file are
// checked to be UTF-8 before any of them becomes a String.

extension String {
    /// The text as the terminal may see it: the project's one sanitiser (`TerminalText.safe`:
    /// every control character, escape sequence and character that is not one column wide shown
    /// escaped; a message stays one line). With `quote`, `"` and `\` are escaped first, for text
    /// shown inside TOML quotes.
    func escapedForTerminal(quote: Bool = false) -> String {
        guard quote else { return TerminalText.safe(self) }
        var out = ""
        out.reserveCapacity(utf8.count)
        for c in unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: out.unicodeScalars.append(c)
            }
        }
        return TerminalText.safe(out)
    }
}

enum SafeText {
    /// `\u001B`, TOML's own spelling (what a person would write in the file to mean it).
    static func escape(_ v: UInt32) -> String {
        let hex = String(v, radix: 16, uppercase: true)
        return v <= 0xFFFF ? "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            : "\\U" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// `U+001B`, for naming a character in prose.
    static func codePoint(_ v: UInt32) -> String {
        let hex = String(v, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// At most `limit` characters of `text`, escaped, with `…` when cut.
    static func excerpt(_ text: String, limit: Int = 40) -> String {
        let cut = text.count > limit ? String(text.prefix(limit)) + "…" : text
        return cut.escapedForTerminal()
    }

    /// The length of the well-formed UTF-8 sequence starting at `b[i]` (RFC 3629: no overlong
    /// forms, no surrogates, nothing above U+10FFFF), or nil.
    static func utf8Length(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> Int? {
        let c = b[i]
        if c < 0x80 { return 1 }
        let n = b.count
        func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool { i + k < n && (lo...hi).contains(b[i + k]) }
        switch c {
        case 0xC2...0xDF: return cont(1) ? 2 : nil
        case 0xE0: return cont(1, 0xA0) && cont(2) ? 3 : nil
        case 0xE1...0xEC, 0xEE, 0xEF: return cont(1) && cont(2) ? 3 : nil
        case 0xED: return cont(1, 0x80, 0x9F) && cont(2) ? 3 : nil
        case 0xF0: return cont(1, 0x90) && cont(2) && cont(3) ? 4 : nil
        case 0xF1...0xF3: return cont(1) && cont(2) && cont(3) ? 4 : nil
        case 0xF4: return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : nil
        default: return nil
        }
    }

    /// The scalar of a sequence `utf8Length` accepted.
    static func scalar(_ b: UnsafeBufferPointer<UInt8>, at i: Int, length: Int) -> UInt32 {
        var v = UInt32(length == 1 ? b[i] : b[i] & (0xFF >> (length + 1)))
        for k in 1..<max(length, 1) { v = v << 6 | UInt32(b[i + k] & 0x3F) }
        return v
    }
}
