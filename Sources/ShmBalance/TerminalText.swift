// Text from outside the program made safe to show on a terminal (SPEC §4, "Text from the segment
// is untrusted"): a segment path, an argument, a name or message read back from the segment. The
// CLI's stdout and stderr, `top --once` and the live dashboard all pass what they show through
// `TerminalText.safe`, so no control character or escape sequence reaches a terminal and every
// character drawn takes exactly one column (a frame's boxes stay intact).

/// Turns untrusted text into terminal-safe text.
public enum TerminalText {
    /// `text` with every scalar a terminal would act on, or would draw at a width other than one
    /// column, written out as an escape:
    /// - `\n`, `\r`, `\t` for those three, `\x1b` style (two hex digits) for the other C0 controls
    ///   and DEL;
    /// - `\u{85}` style for C1 controls and every other non-ASCII scalar that is not a plain
    ///   one-column character (combining marks, format and bidi controls, separators, private
    ///   use, unassigned, wide CJK and emoji, scripts outside the short list below).
    ///
    /// A backslash stays as it is: the escapes are for a person to read, not an encoding to
    /// reverse, and JSON text (all printable ASCII) passes through unchanged.
    public static func safe(_ text: some StringProtocol) -> String {
        // The common case (printable ASCII) costs one scan and no copy.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return String(text) }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            if isShownAsIs(scalar) {
                out.unicodeScalars.append(scalar)
            } else {
                out += escape(scalar)
            }
        }
        return out
    }

    /// Whether `c` can be drawn as itself in one terminal cell: a single scalar that `safe` keeps.
    public static func isShownAsIs(_ c: Character) -> Bool {
        // Most cells are printable ASCII ("\r\n", one Character, has the ASCII value of \n).
        if let a = c.asciiValue { return a >= 0x20 && a < 0x7F }
        let scalars = c.unicodeScalars
        guard let first = scalars.first, scalars.index(after: scalars.startIndex) == scalars.endIndex else { return false }
        return isShownAsIs(first)
    }

    /// Whether `scalar` is shown as itself: printable ASCII, or a non-ASCII character from a short
    /// list of blocks known to take one column everywhere (Latin, Greek, Cyrillic, punctuation,
    /// currency and letter-like symbols, arrows, mathematical operators, box drawing, blocks,
    /// shapes, dingbats), less the combining, format and emoji-presentation ones among them.
    ///
    /// The list is short on purpose: it has what the core's messages and the dashboard draw
    /// (`…`, `Δ`, `≠`, `✓`, `✗`, `─`, `█`, `▶`, `·`, `←`), and accented Latin in a path. Anything else
    /// is escaped, which is always safe; drawing a two-column or zero-column character is not.
    public static func isShownAsIs(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v >= 0x20 && v < 0x7F { return true }
        // What every frame draws (box drawing, block elements): all assigned, none emoji.
        if v >= 0x2500 && v <= 0x259F { return true }
        guard v >= 0xA0, oneColumnBlocks.contains(where: { $0.contains(v) }) else { return false }
        let p = scalar.properties
        switch p.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned,
             .nonspacingMark, .spacingMark, .enclosingMark, .lineSeparator, .paragraphSeparator:
            return false
        default:
            return !p.isEmojiPresentation
        }
    }

    /// The blocks `isShownAsIs` draws from (right-to-left scripts, CJK and the emoji blocks are
    /// deliberately absent: a terminal may reorder them or give them two columns).
    static let oneColumnBlocks: [ClosedRange<UInt32>] = [
        0x00A0...0x02FF,  // Latin-1 Supplement, Latin Extended-A and -B, IPA, spacing modifiers
        0x0370...0x052F,  // Greek and Coptic, Cyrillic, Cyrillic Supplement
        0x1E00...0x1FFF,  // Latin Extended Additional, Greek Extended
        0x2010...0x2027,  // dashes, quotation marks, bullets, the ellipsis (not U+2028… separators, bidi controls)
        0x2030...0x205E,  // per mille, primes, other punctuation (not U+2060… invisible operators)
        0x2070...0x209F,  // superscripts and subscripts
        0x20A0...0x20C0,  // currency symbols
        0x2100...0x218F,  // letter-like symbols, number forms
        0x2190...0x22FF,  // arrows, mathematical operators
        0x2500...0x27BF,  // box drawing, block elements, geometric shapes, miscellaneous symbols, dingbats
        0x27C0...0x27FF,  // miscellaneous mathematical symbols, supplemental arrows
        0x2900...0x2BFF,  // supplemental arrows, mathematical symbols, miscellaneous symbols and arrows
    ]

    /// The escape for one scalar that is not shown as itself.
    static func escape(_ scalar: Unicode.Scalar) -> String {
        switch scalar.value {
        case 0x0A: return "\\n"
        case 0x0D: return "\\r"
        case 0x09: return "\\t"
        case 0x00..<0x20, 0x7F:
            let hex = String(scalar.value, radix: 16)
            return "\\x" + (hex.count < 2 ? "0" : "") + hex
        default:
            return "\\u{" + String(scalar.value, radix: 16) + "}"
        }
    }
}
