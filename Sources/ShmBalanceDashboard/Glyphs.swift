import Glibc

/// The characters that differ between a UTF-8 terminal and an ASCII-only one (SPEC §7:
/// ✓ ✗ become `OK` `BROKEN`, boxes become `+-|`).
public struct Glyphs: Equatable, Sendable {
    public var isUnicode: Bool
    public var topLeft: Character, topRight: Character, bottomLeft: Character, bottomRight: Character
    public var horizontal: Character, vertical: Character
    public var ok: String, broken: String
    public var marker: Character
    public var barFull: Character
    public var none: String
    public var notEqual: String
    public var dot: String
    public var times: String
    public var leftRight: String, upDown: String
    public var driftHeader: String

    public static let unicode = Glyphs(
        isUnicode: true, topLeft: "┌", topRight: "┐", bottomLeft: "└", bottomRight: "┘", horizontal: "─", vertical: "│",
        ok: "✓", broken: "✗", marker: "▶", barFull: "█", none: "—", notEqual: "≠", dot: "·", times: "×",
        leftRight: "←→", upDown: "↑↓", driftHeader: "EXCHANGE Δ")

    public static let ascii = Glyphs(
        isUnicode: false, topLeft: "+", topRight: "+", bottomLeft: "+", bottomRight: "+", horizontal: "-", vertical: "|",
        ok: "OK", broken: "BROKEN", marker: ">", barFull: "#", none: "-", notEqual: "!=", dot: "-", times: "x",
        leftRight: "<- ->", upDown: "Up/Dn", driftHeader: "EXCHANGE DIFF")

    /// `text` as this glyph set can show it: in ASCII, the few non-ASCII characters the core's
    /// messages use are spelled out, and anything else left becomes `?`, so no byte above 0x7F
    /// ever reaches an ASCII-only terminal.
    public func fold(_ text: String) -> String {
        guard !isUnicode else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for ch in text {
            if ch.isASCII { out.append(ch); continue }
            switch ch {
            case "…": out += "..."
            case "Δ": out += "d"
            case "—", "–", "─", "·": out += "-"
            case "≥": out += ">="
            case "≤": out += "<="
            case "≠": out += "!="
            case "×": out += "x"
            case "✓": out += "OK"
            case "✗": out += "BROKEN"
            case "←": out += "<-"
            case "→": out += "->"
            case "↑": out += "Up"
            case "↓": out += "Dn"
            case "µ": out += "u"
            default: out += "?"
            }
        }
        return out
    }

    /// UTF-8 glyphs when the locale's character set is UTF-8 (call after `setlocale(LC_ALL, "")`).
    public static func forCurrentLocale() -> Glyphs {
        guard let cs = nl_langinfo(nl_item(CODESET)) else { return .ascii }
        let name = String(cString: cs).uppercased()
        return name == "UTF-8" || name == "UTF8" ? .unicode : .ascii
    }
}
