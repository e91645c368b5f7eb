import ShmBalance

/// An amount as two 8-byte words: the form every amount takes where it crosses an async
/// boundary in this target — an async function's parameter or result, a value captured by a
/// closure that an async function runs. Swift 6.3.1 on x86_64 miscompiles an `Int128` (and a
/// struct holding one, as `Amount` does) in those places: a later resumption of the task jumps
/// through a null pointer (seen with -Onone and with -O; swiftlang/swift#91204 is an aarch64
/// sibling). Locals of one async function are unaffected, so each converts at its edges
/// (`wide`, `amount`). What reads the books and decides stays synchronous (`Agent.nextMove`).
@frozen
public struct Wide: Sendable, Equatable {
    public var lo: UInt64
    public var hi: Int64

    @inlinable public init(_ a: Amount) {
        lo = UInt64(truncatingIfNeeded: a.raw)
        hi = Int64(truncatingIfNeeded: a.raw >> 64)
    }

    @inlinable public var amount: Amount { Amount(raw: Int128(hi) << 64 | Int128(lo)) }
}

extension Amount {
    /// This amount as an async function's argument (`Wide`).
    @inlinable public var wide: Wide { Wide(self) }
}
