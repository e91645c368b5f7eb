/// A short ASCII name stored in 16 bytes, NUL-padded (so a C reader always finds a terminator):
/// exchanges, currencies, data types and slot names.
@frozen
public struct ShortName: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The 16 bytes as two little-endian words (compared and copied as words on the hot path).
    public var lo: UInt64
    public var hi: UInt64

    public static let maxLength = 15
    public static let empty = ShortName(lo: 0, hi: 0)

    @inlinable @inline(__always)
    public init(lo: UInt64, hi: UInt64) {
        self.lo = lo
        self.hi = hi
    }

    public enum Kind: Sendable {
        /// Exchanges, currencies, data types: letters, digits, `_ - .`; lower case is folded to upper.
        case symbol
        /// Slot names: any printable ASCII but spaces (`grid-bot`, `arb#2`), case kept; may be empty.
        case label

        var what: String { self == .symbol ? "name" : "slot name" }
    }

    /// Validates and packs `text`; the error says what is wrong with it.
    public init(_ text: some StringProtocol, kind: Kind = .symbol) throws(NameError) {
        var bytes = Array(text.utf8)
        if bytes.isEmpty && kind == .symbol { throw NameError("a \(kind.what) is required (got empty text)") }
        if bytes.count > ShortName.maxLength {
            throw NameError("\(kind.what) '\(text)' is too long: at most \(ShortName.maxLength) characters")
        }
        for (i, c) in bytes.enumerated() {
            switch kind {
            case .symbol:
                switch c {
                case UInt8(ascii: "a")...UInt8(ascii: "z"): bytes[i] = c - 32
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                     UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."): break
                default:
                    throw NameError("\(kind.what) '\(text)' has a character that is not allowed: use letters, digits, _ - .")
                }
            case .label:
                guard c > 0x20 && c < 0x7F else {
                    throw NameError("slot name '\(text)' has a character that is not allowed: use printable ASCII without spaces")
                }
            }
        }
        var lo: UInt64 = 0, hi: UInt64 = 0
        for (i, c) in bytes.enumerated() {
            if i < 8 { lo |= UInt64(c) << (8 * UInt64(i)) } else { hi |= UInt64(c) << (8 * UInt64(i - 8)) }
        }
        self.init(lo: lo, hi: hi)
    }

    public var isEmpty: Bool { lo == 0 && hi == 0 }

    public var description: String {
        var out: [UInt8] = []
        for i in 0..<16 {
            let word = i < 8 ? lo : hi
            let c = UInt8(truncatingIfNeeded: word >> (8 * UInt64(i % 8)))
            if c == 0 { break }
            out.append(c > 0x20 && c < 0x7F ? c : UInt8(ascii: "?"))
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func < (a: ShortName, b: ShortName) -> Bool { a.description < b.description }

}

/// A balance record's key: (exchange, currency).
@frozen
public struct BookKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var exchange: ShortName
    public var currency: ShortName

    @inlinable
    public init(exchange: ShortName, currency: ShortName) {
        self.exchange = exchange
        self.currency = currency
    }

    public init(_ exchange: some StringProtocol, _ currency: some StringProtocol) throws(NameError) {
        self.exchange = try ShortName(exchange)
        self.currency = try ShortName(currency)
    }

    public var description: String { "\(exchange) \(currency)" }

    public static func < (a: BookKey, b: BookKey) -> Bool {
        (a.exchange.description, a.currency.description) < (b.exchange.description, b.currency.description)
    }
}

/// Why a piece of text is not a name (an exchange, currency, data type or slot name); `message` is for a person.
public struct NameError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
