import CShmBalance
import ShmBalance

// Holds, fills, voids and receipts (SPEC §9) by key, and the two reads of what is held: the open
// holds (a caller's array; see the buffer rule in shmbalance.h) and the per-slot sums.

@_cdecl("shmbal_hold")
public func cHold(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ index: Int32, _ value: shmbal_amount,
                  _ id: UnsafePointer<CChar>?, _ ttlMicros: Int64) -> Int32 {
    run { () throws(ABIFailure) in
        try handles.withBooks(h.id) { (b) throws(ABIFailure) in
            let key = try bookKey(ex, cur)
            let a = try amount(value)
            let hold = try holdId(id)
            // 0 is "no ttl"; a negative one goes to the core, which refuses it as bad input.
            try core { () throws(BooksError) in try b.hold(key, index: Int(index), a, id: hold, ttlMicros: ttlMicros == 0 ? nil : ttlMicros) }
        }
    }
}

@_cdecl("shmbal_fill")
public func cFill(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ id: UnsafePointer<CChar>?,
                  _ value: shmbal_amount, _ fee: shmbal_amount, _ final: Int32, _ op: UnsafePointer<CChar>?,
                  _ out: UnsafeMutablePointer<shmbal_fill_result>?) -> Int32 {
    run { () throws(ABIFailure) in
        try handles.withBooks(h.id) { (b) throws(ABIFailure) in
            let key = try bookKey(ex, cur)
            let hold = try holdId(id)
            let opId = try operationId(op)
            let a = try amount(value)
            let f = try amount(fee)
            let outcome = try core { () throws(BooksError) in try b.fill(key, id: hold, a, fee: f, final: final != 0, opId: opId) }
            out?.pointee = shmbal_fill_result(from_hold: shmbal_amount(outcome.fromHold), from_free: shmbal_amount(outcome.fromFree),
                                              from_pool: shmbal_amount(outcome.fromPool), closed: outcome.closed ? 1 : 0, reserved: 0)
        }
    }
}

@_cdecl("shmbal_void")
public func cVoid(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ id: UnsafePointer<CChar>?,
                  _ op: UnsafePointer<CChar>?) -> Int32 {
    run { () throws(ABIFailure) in
        try handles.withBooks(h.id) { (b) throws(ABIFailure) in
            let key = try bookKey(ex, cur)
            let hold = try holdId(id)
            let opId = try operationId(op)
            try core { () throws(BooksError) in try b.void(key, id: hold, opId: opId) }
        }
    }
}

@_cdecl("shmbal_receive")
public func cReceive(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ index: Int32, _ value: shmbal_amount,
                     _ op: UnsafePointer<CChar>?) -> Int32 {
    run { () throws(ABIFailure) in
        try handles.withBooks(h.id) { (b) throws(ABIFailure) in
            let key = try bookKey(ex, cur)
            let opId = try operationId(op)
            let a = try amount(value)
            try core { () throws(BooksError) in try b.receive(key, index: Int(index), a, opId: opId) }
        }
    }
}

// MARK: - reads

@_cdecl("shmbal_holds")
public func cHolds(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ index: Int32,
                   _ out: UnsafeMutablePointer<shmbal_hold_info>?, _ capacity: Int, _ count: UnsafeMutablePointer<Int>?) -> Int32 {
    run { () throws(ABIFailure) in
        try handles.withBooks(h.id) { (b) throws(ABIFailure) in
            let key = try bookKey(ex, cur)
            guard let count else { throw .null("a place for the count") }
            if out == nil && capacity > 0 { throw .null("an array of holds (with a capacity above 0)") }
            let holds = try core { () throws(BooksError) in try b.holds(key, index: index < 0 ? nil : Int(index)) }
            count.pointee = holds.count
            guard holds.count <= capacity else {
                throw ABIFailure(SHMBAL_BUFFER_TOO_SMALL, "\(key): \(holds.count) open holds, the array holds \(capacity): need \(holds.count)")
            }
            for (n, hold) in holds.enumerated() { shmbal_hold_info.fill(out.unsafelyUnwrapped + n, hold) }
        }
    }
}

@_cdecl("shmbal_get_slot_holds")
public func cGetSlotHolds(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?,
                          _ out: UnsafeMutablePointer<shmbal_slot_holds>?) -> Int32 {
    run { () throws(ABIFailure) in
        try handles.withBooks(h.id) { (b) throws(ABIFailure) in
            let key = try bookKey(ex, cur)
            guard let out else { throw .null("a place for the slot holds") }
            shmbal_slot_holds.fill(out, try core { () throws(BooksError) in try b.get(key) })
        }
    }
}

extension shmbal_hold_info {
    static func fill(_ out: UnsafeMutablePointer<shmbal_hold_info>, _ hold: OpenHold) {
        let base = UnsafeMutableRawPointer(out)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<shmbal_hold_info>.size)
        var id = hold.id.description
        id.withUTF8 { utf8 in
            // ≤ 32 bytes by the core's rule; the field has room for 39 and the NUL.
            let n = min(utf8.count, 39)
            if n > 0 { base.copyMemory(from: utf8.baseAddress!, byteCount: n) }
        }
        out.pointee.index = Int32(truncatingIfNeeded: hold.index)
        out.pointee.expired = hold.expired ? 1 : 0
        out.pointee.amount = shmbal_amount(hold.amount)
        out.pointee.original = shmbal_amount(hold.original)
        out.pointee.created_micros = hold.createdMicros
        out.pointee.expires_micros = hold.expiresMicros ?? 0
    }
}

extension shmbal_slot_holds {
    /// From one consistent copy of the record (`Books.get` reads held and counts with the slots).
    static func fill(_ out: UnsafeMutablePointer<shmbal_slot_holds>, _ r: BalanceRecord) {
        let base = UnsafeMutableRawPointer(out)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<shmbal_slot_holds>.size)
        out.pointee.strategy_count = Int32(truncatingIfNeeded: r.strategyCount)
        out.pointee.op_id_window = Int32(truncatingIfNeeded: r.opIdWindow)
        out.pointee.op_ids_remembered = Int32(truncatingIfNeeded: r.opIdsRemembered)
        out.pointee.op_count = r.state.opCount
        func array<T>(_ path: PartialKeyPath<shmbal_slot_holds>, _ type: T.Type) -> UnsafeMutablePointer<T> {
            (base + MemoryLayout<shmbal_slot_holds>.offset(of: path)!).assumingMemoryBound(to: T.self)
        }
        let budget = array(\.budget, shmbal_amount.self)
        let held = array(\.held, shmbal_amount.self)
        let free = array(\.free, shmbal_amount.self)
        let counts = array(\.hold_count, Int32.self)
        let slots = r.slots
        for i in 0..<min(slots.count, 64) {
            let h = i < r.held.count ? r.held[i] : .zero
            budget[i] = shmbal_amount(slots[i])
            held[i] = shmbal_amount(h)
            free[i] = shmbal_amount(Amount(raw: slots[i].raw &- h.raw))
            counts[i] = i < r.holdCounts.count ? Int32(truncatingIfNeeded: r.holdCounts[i]) : 0
        }
    }
}
