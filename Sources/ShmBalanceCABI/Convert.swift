import CShmBalance
import ShmBalance

// C values → core values and back. The per-call path (names and double amounts) allocates
// nothing; anything unusual goes to the core's own parsers, whose messages the caller gets.

/// A symbol (exchange, currency, data type) from a C string, packed without a heap allocation
/// when it is plainly valid; otherwise the core's `ShortName` decides and words the error.
@inline(__always)
func symbol(_ text: UnsafePointer<CChar>?, _ what: StaticString) throws(ABIFailure) -> ShortName {
    guard let text else { throw .null(what) }
    var lo: UInt64 = 0
    var hi: UInt64 = 0
    var i = 0
    while i < 16 {
        var c = UInt8(bitPattern: text[i])
        if c == 0 { break }
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"): c -= 32
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."): break
        default: return try coreSymbol(text)
        }
        if i < 8 { lo |= UInt64(c) << UInt64(8 * i) } else { hi |= UInt64(c) << UInt64(8 * (i - 8)) }
        i += 1
    }
    guard i > 0 && i <= ShortName.maxLength else { return try coreSymbol(text) }
    return ShortName(lo: lo, hi: hi)
}

/// The core's verdict on a name the fast path did not accept.
@inline(never)
func coreSymbol(_ text: UnsafePointer<CChar>) throws(ABIFailure) -> ShortName {
    do { return try ShortName(String(cString: text)) } catch { throw ABIFailure(error) }
}

@inline(__always)
func bookKey(_ exchange: UnsafePointer<CChar>?, _ currency: UnsafePointer<CChar>?) throws(ABIFailure) -> BookKey {
    BookKey(exchange: try symbol(exchange, "an exchange"), currency: try symbol(currency, "a currency"))
}

func quoteKey(_ exchange: UnsafePointer<CChar>?, _ dataType: UnsafePointer<CChar>?, _ currency: UnsafePointer<CChar>?) throws(ABIFailure) -> QuoteKey {
    QuoteKey(exchange: try symbol(exchange, "an exchange"), dataType: try symbol(dataType, "a data type"),
             currency: try symbol(currency, "a currency"))
}

func label(_ text: UnsafePointer<CChar>?) throws(ABIFailure) -> ShortName {
    guard let text else { throw .null("a slot name") }
    do { return try ShortName(String(cString: text), kind: .label) } catch { throw ABIFailure(error) }
}

/// A double as the exact amount its shortest decimal form names (the core's conversion).
///
/// A whole number below 2^53 (2000.0, the seed's amounts) is its own shortest decimal form, so
/// it is that many units exactly: `Amount(exactly:)` gives the same value (CABITests checks it),
/// and skipping it saves about a fifth of a call. Everything else goes to the core.
@inline(__always)
func amount(_ value: Double) throws(ABIFailure) -> Amount {
    if value.magnitude < 9_007_199_254_740_992 {
        let whole = Int64(value)  // truncates; in range, so it cannot trap
        if Double(whole) == value { return Amount(raw: Int128(whole) &* Amount.scale) }
    }
    do { return try Amount(exactly: value) } catch { throw ABIFailure(error) }
}

/// Decimal text, parsed exactly by the core.
func amount(_ text: UnsafePointer<CChar>?, _ what: StaticString = "an amount") throws(ABIFailure) -> Amount {
    guard let text else { throw .null(what) }
    do { return try Amount(parsing: String(cString: text)) } catch { throw ABIFailure(error) }
}

/// An exact amount from C: any storable value (within ±`Amount.limit`), as the core's parser would accept.
@inline(__always)
func amount(_ exact: shmbal_amount) throws(ABIFailure) -> Amount {
    let a = exact.amount
    guard a.isStorable else { throw notStorable(a) }
    return a
}

@inline(never)
func notStorable(_ a: Amount) -> ABIFailure {
    ABIFailure(SHMBAL_BAD_INPUT, "'\(a.exactText)' does not fit: an amount must be below 10^18 (1,000,000,000,000,000,000) whole units")
}

extension shmbal_amount {
    @inline(__always)
    init(_ a: Amount) {
        self.init(lo: UInt64(truncatingIfNeeded: a.raw), hi: Int64(truncatingIfNeeded: a.raw >> 64))
    }

    var amount: Amount { Amount(raw: Int128(hi) << 64 | Int128(lo)) }
}

/// Copies NUL-terminated text into a caller's buffer, or fails without writing past it.
func copyText(_ text: String, to buffer: UnsafeMutablePointer<CChar>?, capacity: Int) throws(ABIFailure) {
    guard let buffer else { throw .null("a buffer") }
    var t = text
    let fits = t.withUTF8 { utf8 -> Bool in
        guard utf8.count < capacity else { return false }
        UnsafeMutableRawPointer(buffer).copyMemory(from: utf8.baseAddress!, byteCount: utf8.count)
        buffer[utf8.count] = 0
        return true
    }
    guard fits else {
        if capacity > 0 { buffer[0] = 0 }
        throw ABIFailure(SHMBAL_BAD_INPUT, "the buffer of \(capacity) bytes is too small for \(t.utf8.count + 1) bytes")
    }
}

extension shmbal_record_state {
    /// Whether the core's `RecordState` (a frozen struct) has exactly this struct's layout, so the
    /// core can read straight into the caller's memory. Constant-folded; if the core's state ever
    /// changes shape, `read` takes the copying path instead and stays correct.
    @inline(__always)
    static var isCoreLayout: Bool {
        typealias S = RecordState
        return MemoryLayout<S>.size == MemoryLayout<shmbal_record_state>.size
            && MemoryLayout<S>.alignment == MemoryLayout<shmbal_record_state>.alignment
            && MemoryLayout<S>.offset(of: \S.strategyCount) == MemoryLayout<shmbal_record_state>.offset(of: \.strategy_count)
            && MemoryLayout<S>.offset(of: \S.lastIndex) == MemoryLayout<shmbal_record_state>.offset(of: \.last_index)
            && MemoryLayout<S>.offset(of: \S.epoch) == MemoryLayout<shmbal_record_state>.offset(of: \.epoch)
            && MemoryLayout<S>.offset(of: \S.opCount) == MemoryLayout<shmbal_record_state>.offset(of: \.op_count)
            && MemoryLayout<S>.offset(of: \S.lastChangeMicros) == MemoryLayout<shmbal_record_state>.offset(of: \.last_change_micros)
            && MemoryLayout<S>.offset(of: \S.lastChangePid) == MemoryLayout<shmbal_record_state>.offset(of: \.last_change_pid)
            && MemoryLayout<S>.offset(of: \S.fenced) == MemoryLayout<shmbal_record_state>.offset(of: \.fenced)
            && MemoryLayout<S>.offset(of: \S.creditLimit) == MemoryLayout<shmbal_record_state>.offset(of: \.credit_limit)
            && MemoryLayout<S>.offset(of: \S.slots) == MemoryLayout<shmbal_record_state>.offset(of: \.slots)
    }

    /// Fills `out` with a consistent copy of the record's state (the core's `RecordRef.read(into:)`).
    @inline(__always)
    static func read(_ ref: RecordRef, into out: UnsafeMutablePointer<shmbal_record_state>) throws(ABIFailure) {
        if isCoreLayout && Int(bitPattern: out) & (MemoryLayout<RecordState>.alignment - 1) == 0 {
            // The caller's struct is a RecordState: the core reads into it directly, and its
            // previous count tells the core which stale slots to clear.
            try out.withMemoryRebound(to: RecordState.self, capacity: 1) { (s) throws(ABIFailure) in
                try core { () throws(BooksError) in try ref.read(into: &s.pointee) }
            }
            out.pointee.reserved = (0, 0, 0)   // the core's padding after its Bool
        } else {
            try copying(ref, into: out)
        }
    }

    /// The same through a copy: for a misaligned struct, or a core whose state changed shape.
    @inline(never)
    static func copying(_ ref: RecordRef, into out: UnsafeMutablePointer<shmbal_record_state>) throws(ABIFailure) {
        var state = RecordState()
        try core { () throws(BooksError) in try ref.read(into: &state) }
        let count = state.strategyCount  // 2…64: `read` refuses anything else
        let raw = UnsafeMutableRawPointer(out)
        let previous = Int(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: MemoryLayout<shmbal_record_state>.offset(of: \.strategy_count)!, as: Int64.self))
        raw.storeBytes(of: Int64(count), toByteOffset: MemoryLayout<shmbal_record_state>.offset(of: \.strategy_count)!, as: Int64.self)
        raw.storeBytes(of: Int64(state.lastIndex), toByteOffset: MemoryLayout<shmbal_record_state>.offset(of: \.last_index)!, as: Int64.self)
        raw.storeBytes(of: state.epoch, toByteOffset: MemoryLayout<shmbal_record_state>.offset(of: \.epoch)!, as: UInt64.self)
        raw.storeBytes(of: state.opCount, toByteOffset: MemoryLayout<shmbal_record_state>.offset(of: \.op_count)!, as: UInt64.self)
        raw.storeBytes(of: state.lastChangeMicros, toByteOffset: MemoryLayout<shmbal_record_state>.offset(of: \.last_change_micros)!, as: Int64.self)
        raw.storeBytes(of: state.lastChangePid, toByteOffset: MemoryLayout<shmbal_record_state>.offset(of: \.last_change_pid)!, as: Int32.self)
        raw.storeBytes(of: UInt8(state.fenced ? 1 : 0), toByteOffset: MemoryLayout<shmbal_record_state>.offset(of: \.fenced)!, as: UInt8.self)
        for i in 0..<3 { raw.storeBytes(of: UInt8(0), toByteOffset: MemoryLayout<shmbal_record_state>.offset(of: \.reserved)! + i, as: UInt8.self) }
        raw.storeBytes(of: shmbal_amount(state.creditLimit), toByteOffset: MemoryLayout<shmbal_record_state>.offset(of: \.credit_limit)!, as: shmbal_amount.self)
        let slots = raw + MemoryLayout<shmbal_record_state>.offset(of: \.slots)!
        let stale = previous < 0 ? 0 : (previous > 64 ? 64 : previous)
        for i in 0..<max(count, stale) {
            slots.storeBytes(of: shmbal_amount(i < count ? state.slots[i] : .zero), toByteOffset: 16 * i, as: shmbal_amount.self)
        }
    }
}

/// Writes a name's 16 bytes (NUL-padded, so always terminated) at `p`.
func storeName(_ name: ShortName, _ p: UnsafeMutableRawPointer) {
    p.storeBytes(of: name.lo, as: UInt64.self)
    p.storeBytes(of: name.hi, toByteOffset: 8, as: UInt64.self)
}

extension shmbal_record_info {
    /// Fills a C record from one consistent copy.
    static func fill(_ out: UnsafeMutablePointer<shmbal_record_info>, _ r: BalanceRecord) {
        let base = UnsafeMutableRawPointer(out)
        func offset(_ path: PartialKeyPath<shmbal_record_info>) -> UnsafeMutableRawPointer {
            base + MemoryLayout<shmbal_record_info>.offset(of: path)!
        }
        storeName(r.key.exchange, offset(\.exchange))
        storeName(r.key.currency, offset(\.currency))
        let s = r.state
        out.pointee.strategy_count = Int32(truncatingIfNeeded: s.strategyCount)
        out.pointee.last_index = Int32(truncatingIfNeeded: s.lastIndex)
        out.pointee.epoch = s.epoch
        out.pointee.op_count = s.opCount
        out.pointee.last_change_micros = s.lastChangeMicros
        out.pointee.last_change_pid = s.lastChangePid
        out.pointee.identity_holds = s.identityHolds ? 1 : 0
        out.pointee.credit_limit = s.creditLimit.doubleValue
        out.pointee.headroom = s.headroom.doubleValue
        out.pointee.exact_credit_limit = shmbal_amount(s.creditLimit)
        out.pointee.exact_headroom = shmbal_amount(s.headroom)
        let doubles = offset(\.slots).assumingMemoryBound(to: Double.self)
        let exact = offset(\.exact_slots).assumingMemoryBound(to: shmbal_amount.self)
        let names = offset(\.names)
        let changed = offset(\.slot_changed_micros).assumingMemoryBound(to: Int64.self)
        for i in 0..<64 {
            let meaningful = i < s.strategyCount
            let value = meaningful ? s.slots[i] : .zero
            doubles[i] = value.doubleValue
            exact[i] = shmbal_amount(value)
            storeName(meaningful ? r.names[i] : .empty, names + 16 * i)
            changed[i] = meaningful ? r.slotChangedMicros[i] : 0
        }
    }
}

extension shmbal_reconcile_result {
    static func fill(_ out: UnsafeMutablePointer<shmbal_reconcile_result>, _ outcome: ReconcileOutcome) {
        let base = UnsafeMutableRawPointer(out)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<shmbal_reconcile_result>.size)
        let indices = (base + MemoryLayout<shmbal_reconcile_result>.offset(of: \.dropped_index)!).assumingMemoryBound(to: Int32.self)
        let amounts = (base + MemoryLayout<shmbal_reconcile_result>.offset(of: \.dropped_amount)!).assumingMemoryBound(to: shmbal_amount.self)
        switch outcome {
        case .inSync:
            out.pointee.kind = Int32(SHMBAL_RECONCILE_IN_SYNC.rawValue)
        case .repaired(let delta, let pool), .identityRepaired(let delta, let pool, _):
            out.pointee.kind = Int32(SHMBAL_RECONCILE_REPAIRED.rawValue)
            out.pointee.delta = shmbal_amount(delta)
            out.pointee.pool = shmbal_amount(pool)
        case .reset(let delta, let pool, let dropped):
            out.pointee.kind = Int32(SHMBAL_RECONCILE_RESET.rawValue)
            out.pointee.delta = shmbal_amount(delta)
            out.pointee.pool = shmbal_amount(pool)
            out.pointee.dropped_count = Int32(min(dropped.count, 62))
            for (n, d) in dropped.prefix(62).enumerated() {
                indices[n] = Int32(d.index)
                amounts[n] = shmbal_amount(d.amount)
            }
        case .created(let balance):
            out.pointee.kind = Int32(SHMBAL_RECONCILE_CREATED.rawValue)
            out.pointee.delta = shmbal_amount(balance)
        }
        let description = (base + MemoryLayout<shmbal_reconcile_result>.offset(of: \.description)!).assumingMemoryBound(to: CChar.self)
        var text = outcome.description
        text.withUTF8 { utf8 in
            var n = min(utf8.count, 255)
            while n > 0 && n < utf8.count && utf8[n] & 0xC0 == 0x80 { n -= 1 }
            if n > 0 { UnsafeMutableRawPointer(description).copyMemory(from: utf8.baseAddress!, byteCount: n) }
            description[n] = 0
        }
    }
}

/// A hold id (an order id) from C, checked by the core's rules (1–32 printable ASCII, no spaces).
func holdId(_ text: UnsafePointer<CChar>?) throws(ABIFailure) -> HoldId {
    guard let text else { throw .null("a hold id") }
    do { return try HoldId(String(cString: text)) } catch { throw ABIFailure(error) }
}

/// An operation id from C: NULL is none; anything else must be a valid id (same rules as a hold id).
@inline(__always)
func operationId(_ text: UnsafePointer<CChar>?) throws(ABIFailure) -> OperationId? {
    guard let text else { return nil }
    return try holdId(text)
}
