import CShmBalance
import ShmBalance

// shmbal_open / shmbal_close and the operations of SPEC §3 by key: each checks its handle,
// converts its arguments and makes exactly one call into the core.

@_cdecl("shmbal_open")
public func cOpen(_ path: UnsafePointer<CChar>?, _ mode: Int32, _ out: UnsafeMutablePointer<shmbal_books>?) -> Int32 {
    run { () throws(ABIFailure) in
        guard let out else { throw .null("a place for the handle") }
        let access: Segment.AccessMode
        switch shmbal_open_mode(rawValue: UInt32(bitPattern: mode)) {
        case SHMBAL_OPEN_CREATE: access = .readWriteCreating()
        case SHMBAL_OPEN_READ_WRITE: access = .readWrite
        case SHMBAL_OPEN_READ_ONLY: access = .readOnly
        default: throw ABIFailure(SHMBAL_BAD_INPUT, "open mode \(mode) is not one of SHMBAL_OPEN_CREATE (0), _READ_WRITE (1), _READ_ONLY (2)")
        }
        let books = try core { () throws(BooksError) in try Books.open(path.map { String(cString: $0) }, access) }
        out.pointee = shmbal_books(id: try handles.open(books))
    }
}

@_cdecl("shmbal_close")
public func cClose(_ books: shmbal_books) -> Int32 {
    run { () throws(ABIFailure) in try handles.close(books.id) }
}

@_cdecl("shmbal_segment_path")
public func cSegmentPath(_ books: shmbal_books, _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int) -> Int32 {
    run { () throws(ABIFailure) in try handles.withBooks(books.id) { (b) throws(ABIFailure) in try copyText(b.segment.path, to: buffer, capacity: capacity) } }
}

// MARK: - reset, set, adjust

func reset(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ balance: () throws(ABIFailure) -> Amount, _ count: Int32,
           opId: OperationId? = nil) -> Int32 {
    run { () throws(ABIFailure) in
        try handles.withBooks(h.id) { (b) throws(ABIFailure) in
            let key = try bookKey(ex, cur)
            let a = try balance()
            try core { () throws(BooksError) in try b.reset(key, balance: a, strategyCount: count == 0 ? nil : Int(count), opId: opId) }
        }
    }
}

@_cdecl("shmbal_reset")
public func cReset(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ balance: Double, _ count: Int32) -> Int32 {
    reset(h, ex, cur, { () throws(ABIFailure) in try amount(balance) }, count)
}

@_cdecl("shmbal_reset_text")
public func cResetText(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ balance: UnsafePointer<CChar>?, _ count: Int32) -> Int32 {
    reset(h, ex, cur, { () throws(ABIFailure) in try amount(balance, "a balance") }, count)
}

/// `set` and `adjust` share their shape: (key, amount, index).
@inline(__always)
func slotChange(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ index: Int32,
                _ value: () throws(ABIFailure) -> Amount, _ apply: (Books, BookKey, Amount, Int) throws(BooksError) -> Void) -> Int32 {
    run { () throws(ABIFailure) in
        try handles.withBooks(h.id) { (b) throws(ABIFailure) in
            let key = try bookKey(ex, cur)
            let a = try value()
            try core { () throws(BooksError) in try apply(b, key, a, Int(index)) }
        }
    }
}

@_cdecl("shmbal_set")
public func cSet(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ value: Double, _ index: Int32) -> Int32 {
    slotChange(h, ex, cur, index, { () throws(ABIFailure) in try amount(value) }) { (b, k, a, i) throws(BooksError) in try b.set(k, a, index: i) }
}

@_cdecl("shmbal_set_text")
public func cSetText(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ value: UnsafePointer<CChar>?, _ index: Int32) -> Int32 {
    slotChange(h, ex, cur, index, { () throws(ABIFailure) in try amount(value) }) { (b, k, a, i) throws(BooksError) in try b.set(k, a, index: i) }
}

@_cdecl("shmbal_adjust")
public func cAdjust(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ delta: Double, _ index: Int32) -> Int32 {
    slotChange(h, ex, cur, index, { () throws(ABIFailure) in try amount(delta) }) { (b, k, a, i) throws(BooksError) in try b.adjust(k, a, index: i) }
}

@_cdecl("shmbal_adjust_text")
public func cAdjustText(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ delta: UnsafePointer<CChar>?, _ index: Int32) -> Int32 {
    slotChange(h, ex, cur, index, { () throws(ABIFailure) in try amount(delta, "a delta") }) { (b, k, a, i) throws(BooksError) in try b.adjust(k, a, index: i) }
}

// MARK: - allocate, release

@_cdecl("shmbal_allocate")
public func cAllocate(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ index: Int32, _ value: Double) -> Int32 {
    slotChange(h, ex, cur, index, { () throws(ABIFailure) in try amount(value) }) { (b, k, a, i) throws(BooksError) in try b.allocate(k, index: i, a) }
}

@_cdecl("shmbal_allocate_text")
public func cAllocateText(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ index: Int32, _ value: UnsafePointer<CChar>?) -> Int32 {
    slotChange(h, ex, cur, index, { () throws(ABIFailure) in try amount(value) }) { (b, k, a, i) throws(BooksError) in try b.allocate(k, index: i, a) }
}

@_cdecl("shmbal_release")
public func cRelease(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ index: Int32, _ value: Double) -> Int32 {
    slotChange(h, ex, cur, index, { () throws(ABIFailure) in try amount(value) }) { (b, k, a, i) throws(BooksError) in try b.release(k, index: i, a) }
}

@_cdecl("shmbal_release_text")
public func cReleaseText(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ index: Int32, _ value: UnsafePointer<CChar>?) -> Int32 {
    slotChange(h, ex, cur, index, { () throws(ABIFailure) in try amount(value) }) { (b, k, a, i) throws(BooksError) in try b.release(k, index: i, a) }
}

// MARK: - reads

@_cdecl("shmbal_get")
public func cGet(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<shmbal_record_info>?) -> Int32 {
    run { () throws(ABIFailure) in
        try handles.withBooks(h.id) { (b) throws(ABIFailure) in
            let key = try bookKey(ex, cur)
            guard let out else { throw .null("a record to fill") }
            shmbal_record_info.fill(out, try core { () throws(BooksError) in try b.get(key) })
        }
    }
}

@_cdecl("shmbal_balance")
public func cBalance(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ index: Int32,
                     _ value: UnsafeMutablePointer<Double>?, _ exact: UnsafeMutablePointer<shmbal_amount>?) -> Int32 {
    run { () throws(ABIFailure) in
        try handles.withBooks(h.id) { (b) throws(ABIFailure) in
            let key = try bookKey(ex, cur)
            let a = try core { () throws(BooksError) in try b.balance(key, index: Int(index)) }
            value?.pointee = a.doubleValue
            exact?.pointee = shmbal_amount(a)
        }
    }
}

@_cdecl("shmbal_balance_text")
public func cBalanceText(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ index: Int32,
                         _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int) -> Int32 {
    run { () throws(ABIFailure) in
        try handles.withBooks(h.id) { (b) throws(ABIFailure) in
            let key = try bookKey(ex, cur)
            let a = try core { () throws(BooksError) in try b.balance(key, index: Int(index)) }
            try copyText(a.exactText, to: buffer, capacity: capacity)
        }
    }
}

// MARK: - reconcile and metadata

func reconcile(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ balance: () throws(ABIFailure) -> Amount,
               _ out: UnsafeMutablePointer<shmbal_reconcile_result>?) -> Int32 {
    run { () throws(ABIFailure) in
        try handles.withBooks(h.id) { (b) throws(ABIFailure) in
            let key = try bookKey(ex, cur)
            let a = try balance()
            let outcome = try core { () throws(BooksError) in try b.reconcile(key, exchangeBalance: a) }
            if let out { shmbal_reconcile_result.fill(out, outcome) }
        }
    }
}

@_cdecl("shmbal_reconcile")
public func cReconcile(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ balance: Double,
                       _ out: UnsafeMutablePointer<shmbal_reconcile_result>?) -> Int32 {
    reconcile(h, ex, cur, { () throws(ABIFailure) in try amount(balance) }, out)
}

@_cdecl("shmbal_reconcile_text")
public func cReconcileText(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ balance: UnsafePointer<CChar>?,
                           _ out: UnsafeMutablePointer<shmbal_reconcile_result>?) -> Int32 {
    reconcile(h, ex, cur, { () throws(ABIFailure) in try amount(balance, "an exchange balance") }, out)
}

@_cdecl("shmbal_set_credit_limit")
public func cSetCreditLimit(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ credit: Double) -> Int32 {
    slotChange(h, ex, cur, 0, { () throws(ABIFailure) in try amount(credit) }) { (b, k, a, _) throws(BooksError) in try b.setCreditLimit(k, a) }
}

@_cdecl("shmbal_set_credit_limit_text")
public func cSetCreditLimitText(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ credit: UnsafePointer<CChar>?) -> Int32 {
    slotChange(h, ex, cur, 0, { () throws(ABIFailure) in try amount(credit, "a credit limit") }) { (b, k, a, _) throws(BooksError) in try b.setCreditLimit(k, a) }
}

@_cdecl("shmbal_set_strategy_count")
public func cSetStrategyCount(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ count: Int32) -> Int32 {
    run { () throws(ABIFailure) in
        try handles.withBooks(h.id) { (b) throws(ABIFailure) in
            let key = try bookKey(ex, cur)
            try core { () throws(BooksError) in try b.setStrategyCount(key, Int(count)) }
        }
    }
}

@_cdecl("shmbal_set_name")
public func cSetName(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ index: Int32, _ name: UnsafePointer<CChar>?) -> Int32 {
    run { () throws(ABIFailure) in
        try handles.withBooks(h.id) { (b) throws(ABIFailure) in
            let key = try bookKey(ex, cur)
            let n = try label(name)
            try core { () throws(BooksError) in try b.setName(key, index: Int(index), n) }
        }
    }
}
