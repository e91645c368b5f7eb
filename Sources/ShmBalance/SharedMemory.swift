import Atomics

// Word-sized accesses to the shared mapping. Data that a reader may copy while a writer changes it
// is accessed only through these atomics (relaxed: a plain `mov` on x86_64), so the seqlock
// protocol is data-race-free in the language's memory model, and 8-byte loads work on a read-only
// mapping (16-byte atomics would need `cmpxchg16b`, which faults on PROT_READ memory).

extension UnsafeMutableRawPointer {
    @inlinable @inline(__always)
    func atomic64(_ offset: Int) -> UnsafeAtomic<UInt64> {
        UnsafeAtomic<UInt64>(at: (self + offset).assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
    }

    @inlinable @inline(__always)
    func loadRelaxed(_ offset: Int) -> UInt64 { atomic64(offset).load(ordering: .relaxed) }

    @inlinable @inline(__always)
    func storeRelaxed(_ value: UInt64, _ offset: Int) { atomic64(offset).store(value, ordering: .relaxed) }

    @inlinable @inline(__always)
    func loadAcquiring(_ offset: Int) -> UInt64 { atomic64(offset).load(ordering: .acquiring) }

    @inlinable @inline(__always)
    func storeReleasing(_ value: UInt64, _ offset: Int) { atomic64(offset).store(value, ordering: .releasing) }

    /// An Int128 as two relaxed 8-byte loads (low word first); consistent only inside a seqlock check.
    @inlinable @inline(__always)
    func loadAmount(_ offset: Int) -> Amount {
        let lo = loadRelaxed(offset)
        let hi = loadRelaxed(offset + 8)
        return Amount(raw: Int128(_low: lo, _high: Int64(bitPattern: hi)))
    }

    @inlinable @inline(__always)
    func storeAmount(_ value: Amount, _ offset: Int) {
        storeRelaxed(value.raw._low, offset)
        storeRelaxed(UInt64(bitPattern: value.raw._high), offset + 8)
    }

    @inlinable @inline(__always)
    func loadName(_ offset: Int) -> ShortName { ShortName(lo: loadRelaxed(offset), hi: loadRelaxed(offset + 8)) }

    @inlinable @inline(__always)
    func storeName(_ name: ShortName, _ offset: Int) {
        storeRelaxed(name.lo, offset)
        storeRelaxed(name.hi, offset + 8)
    }
}

extension Int128 {
    @inlinable @inline(__always)
    init(_low: UInt64, _high: Int64) { self = Int128(_high) << 64 | Int128(_low) }

    @inlinable @inline(__always)
    var _low: UInt64 { UInt64(truncatingIfNeeded: self) }

    @inlinable @inline(__always)
    var _high: Int64 { Int64(truncatingIfNeeded: self >> 64) }
}
