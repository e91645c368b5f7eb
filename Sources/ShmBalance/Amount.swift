/// Exact money: a signed fixed-point number with 18 decimal places held in an `Int128`.
///
/// 18 decimals cover every currency's smallest unit (ETH's wei included) with no per-currency
/// setting. Every stored value stays within ±`limit` (just under 10^18 whole units), so the sum
/// of all 64 slots of a record can never overflow `Int128` (64 × 10^36 < 1.7 × 10^38): the
/// identity check is plain addition, and "does not fit" is one comparison.
@frozen
public struct Amount: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The value in units of 10^-18.
    public var raw: Int128

    public static let decimals = 18
    public static let scale: Int128 = 1_000_000_000_000_000_000
    /// The largest magnitude a stored amount may have: 10^36 − 1 raw units (10^18 − 10^-18 whole units).
    public static let limit: Int128 = 999_999_999_999_999_999_999_999_999_999_999_999
    @inlinable public static var zero: Amount { Amount(raw: 0) }

    @inlinable @inline(__always)
    public init(raw: Int128) { self.raw = raw }

    /// `whole` units exactly (e.g. `Amount(whole: 10_000)`); nil when it does not fit.
    @inlinable
    public init?(whole: Int64) {
        let (v, o) = Int128(whole).multipliedReportingOverflow(by: Amount.scale)
        guard !o, v >= -Amount.limit, v <= Amount.limit else { return nil }
        self.raw = v
    }

    /// Whether the value lies within ±`limit`, i.e. may be stored.
    @inlinable @inline(__always)
    public var isStorable: Bool { raw >= -Amount.limit && raw <= Amount.limit }

    @inlinable @inline(__always)
    public static func < (a: Amount, b: Amount) -> Bool { a.raw < b.raw }

    @inlinable @inline(__always)
    public static prefix func - (a: Amount) -> Amount { Amount(raw: 0 - a.raw) }

    /// `a + b`, or nil when the result is not storable.
    @inlinable @inline(__always)
    public func adding(_ other: Amount) -> Amount? {
        // Both operands are storable, so the Int128 sum cannot wrap; only the range is checked.
        let r = Amount(raw: raw &+ other.raw)
        return r.isStorable ? r : nil
    }

    /// `a - b`, or nil when the result is not storable.
    @inlinable @inline(__always)
    public func subtracting(_ other: Amount) -> Amount? {
        let r = Amount(raw: raw &- other.raw)
        return r.isStorable ? r : nil
    }

    /// Plain decimal with at least two decimals and no grouping: `10000.00`, `-0.1` → `-0.10`.
    public var description: String { formatted() }

    /// Decimal text: at least `minimumDecimals` places (more when the value has them), `,` between
    /// thousands when `grouping`, `.` as the point whatever the locale, ASCII `-` for negatives.
    public func formatted(minimumDecimals: Int = 2, grouping: Bool = false) -> String {
        let negative = raw < 0
        let magnitude = raw.magnitude
        let scale = UInt128(Amount.scale)
        var whole = magnitude / scale
        var frac = magnitude % scale

        var fracDigits = [UInt8](repeating: UInt8(ascii: "0"), count: Amount.decimals)
        for i in stride(from: Amount.decimals - 1, through: 0, by: -1) {
            fracDigits[i] = UInt8(ascii: "0") + UInt8(frac % 10)
            frac /= 10
        }
        var used = Amount.decimals
        while used > minimumDecimals && fracDigits[used - 1] == UInt8(ascii: "0") { used -= 1 }

        var wholeDigits: [UInt8] = []
        repeat {
            wholeDigits.append(UInt8(ascii: "0") + UInt8(whole % 10))
            whole /= 10
        } while whole > 0
        var out: [UInt8] = []
        out.reserveCapacity(wholeDigits.count * 4 / 3 + used + 3)
        if negative { out.append(UInt8(ascii: "-")) }
        for (i, d) in wholeDigits.enumerated().reversed() {
            out.append(d)
            if grouping && i > 0 && i % 3 == 0 { out.append(UInt8(ascii: ",")) }
        }
        if used > 0 {
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: fracDigits[0..<used])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The exact text with the fewest digits (`10000`, `0.1`, `-30`): for JSON, config files and round trips.
    public var exactText: String { formatted(minimumDecimals: 0) }
}

/// Why a piece of text or a Double is not an amount; `message` is meant for a person.
public struct AmountError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
