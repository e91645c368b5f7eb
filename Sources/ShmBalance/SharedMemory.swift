import Atomics

// Accesses to the shared mapping. Every word a reader may load while a writer stores it goes
// through the relaxed 8-byte atomics below (a plain `mov` on x86_64): data-race-free in the
// language's memory model, and fine on a read-only mapping (16-byte atomics would need
// `cmpxchg16b`, which faults on PROT_READ memory) — with ONE exception, `SharedMemory.copySlots`,
// whose contract is written on it.

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

/// Bulk copies out of a latch's published copy.
public enum SharedMemory {
    /// Copies `count` 16-byte slots from `src` to `dst` with plain (non-atomic) 16-byte loads — the
    /// one racy access in the core, kept because it is what a C seqlock's memcpy does and measured
    /// as fast as that (`Benchmarks/run`, "read" rows: this copy against `copySlotsRelaxed`).
    ///
    /// Contract: only inside `Latch.read`'s body. A writer may be storing into these slots at the same
    /// time (a data race in the strict sense); the loads are still ordinary aligned loads of mapped
    /// memory, cannot fault or trap, and whatever they return is discarded unless the generation
    /// re-check after the acquire fence proves no store landed meanwhile. Nothing read here is used
    /// before that check. `readRelaxed` is the same read done with relaxed atomics.
    @inlinable @inline(__always)
    public static func copySlots(_ src: UnsafeRawPointer, _ dst: UnsafeMutableRawBufferPointer, _ count: Int) {
        var i = 0
        while i < count {
            dst.storeBytes(of: src.loadUnaligned(fromByteOffset: 16 &* i, as: SIMD2<UInt64>.self),
                           toByteOffset: 16 &* i, as: SIMD2<UInt64>.self)
            i &+= 1
        }
    }

    /// The same copy with relaxed 8-byte atomic loads: no data race at all.
    @inlinable @inline(__always)
    public static func copySlotsRelaxed(_ src: UnsafeRawPointer, _ dst: UnsafeMutableRawBufferPointer, _ count: Int) {
        let s = UnsafeMutableRawPointer(mutating: src)
        var i = 0
        while i < count {
            dst.storeBytes(of: s.loadRelaxed(16 &* i), toByteOffset: 16 &* i, as: UInt64.self)
            dst.storeBytes(of: s.loadRelaxed(16 &* i &+ 8), toByteOffset: 16 &* i &+ 8, as: UInt64.self)
            i &+= 1
        }
    }
}
