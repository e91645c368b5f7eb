import CShmBalance
import ShmBalance

// Exact amounts for C callers: the core's conversions, nothing re-implemented.

@_cdecl("shmbal_amount_from_double")
public func cAmountFromDouble(_ value: Double, _ out: UnsafeMutablePointer<shmbal_amount>?) -> Int32 {
    run { () throws(ABIFailure) in
        guard let out else { throw .null("a place for the amount") }
        out.pointee = shmbal_amount(try amount(value))
    }
}

@_cdecl("shmbal_amount_parse")
public func cAmountParse(_ text: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<shmbal_amount>?) -> Int32 {
    run { () throws(ABIFailure) in
        guard let out else { throw .null("a place for the amount") }
        out.pointee = shmbal_amount(try amount(text))
    }
}

@_cdecl("shmbal_amount_format")
public func cAmountFormat(_ a: shmbal_amount, _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int) -> Int32 {
    run { () throws(ABIFailure) in try copyText(a.amount.exactText, to: buffer, capacity: capacity) }
}

@_cdecl("shmbal_amount_to_double")
public func cAmountToDouble(_ a: shmbal_amount) -> Double { a.amount.doubleValue }
