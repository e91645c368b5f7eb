// Amount → Double, correctly rounded, for the APIs that hand out floats (the seed's
// `get_balance`, the C ABI's doubles). Adding a rounded whole part and a rounded fraction can be
// one unit in the last place off (1.295110504991 came back as 1.2951105049909999), so a float
// that went in through `init(exactly:)` would not always come back unchanged. This one does.

extension Amount {
    /// 10^k as exact Doubles (exact up to 10^22).
    @usableFromInline static let exactPowersOfTen: [Double] = (0...18).map { k in
        var p = 1.0
        for _ in 0..<k { p *= 10 }
        return p
    }

    /// The Double nearest to the exact value (ties to even), so `Amount(exactly: x).doubleValue == x`.
    /// For the float-returning APIs only; never used for arithmetic.
    public var doubleValue: Double {
        let magnitude = raw.magnitude
        let (whole, fraction) = magnitude.quotientAndRemainder(dividingBy: UInt128(Amount.scale))
        // value = n / 10^d with n = whole · 10^d + the fraction's significant digits. When n < 2^53
        // both n and 10^d are exact Doubles and one division rounds correctly.
        var digits = UInt64(fraction)
        var d = 0
        if digits != 0 {
            d = Amount.decimals
            while digits % 10 == 0 {
                digits /= 10
                d -= 1
            }
        }
        if whole < (1 << 53) {
            let (scaled, o1) = UInt64(whole).multipliedReportingOverflow(by: UInt64(Amount.exactPowersOfTen[d]))
            let (n, o2) = scaled.addingReportingOverflow(digits)
            if !o1 && !o2 && n < (1 << 53) {
                let v = Double(n) / Amount.exactPowersOfTen[d]
                return raw < 0 ? -v : v
            }
        }
        // More than 15–16 significant digits: the standard library's correctly rounded parse.
        return Double(exactText)!  // digits, an optional sign and point: always parses
    }
}
