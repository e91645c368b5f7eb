import CShmBalance
import ShmBalance

// The `_op` variants (SPEC §9): each mutating export again with a last argument `op_id` (NULL:
// none). The id is checked before anything else, then the same helper as the plain export runs
// with the core's `opId:` form, so a bad id changes nothing and no rule is written twice.

/// Parses the op id, then runs `body` with it; a bad id fails the call before any record is touched.
@inline(__always)
func withOpId(_ text: UnsafePointer<CChar>?, _ body: (OperationId?) -> Int32) -> Int32 {
    let id: OperationId?
    do throws(ABIFailure) { id = try operationId(text) } catch { return failed(error) }
    return body(id)
}

extension Books {
    /// allocate: the hot pair without an op id (the core's allocate with one is the general commit).
    func allocate(_ key: BookKey, index: Int, _ amount: Amount, once id: OperationId?) throws(BooksError) {
        if let id { try allocate(key, index: index, amount, opId: id) } else { try allocate(key, index: index, amount) }
    }

    func release(_ key: BookKey, index: Int, _ amount: Amount, once id: OperationId?) throws(BooksError) {
        if let id { try release(key, index: index, amount, opId: id) } else { try release(key, index: index, amount) }
    }

    /// Through a record handle: the core has op ids by key only, so with one the key is looked up again.
    func allocate(_ rec: RecordRef, index: Int, _ amount: Amount, once id: OperationId?) throws(BooksError) {
        if let id { try allocate(rec.key, index: index, amount, opId: id) } else { try allocate(rec, index: index, amount) }
    }

    func release(_ rec: RecordRef, index: Int, _ amount: Amount, once id: OperationId?) throws(BooksError) {
        if let id { try release(rec.key, index: index, amount, opId: id) } else { try release(rec, index: index, amount) }
    }
}

// MARK: - by key

@_cdecl("shmbal_reset_op")
public func cResetOp(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ balance: Double, _ count: Int32,
                     _ op: UnsafePointer<CChar>?) -> Int32 {
    withOpId(op) { id in reset(h, ex, cur, { () throws(ABIFailure) in try amount(balance) }, count, opId: id) }
}

@_cdecl("shmbal_reset_text_op")
public func cResetTextOp(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ balance: UnsafePointer<CChar>?, _ count: Int32,
                         _ op: UnsafePointer<CChar>?) -> Int32 {
    withOpId(op) { id in reset(h, ex, cur, { () throws(ABIFailure) in try amount(balance, "a balance") }, count, opId: id) }
}

@_cdecl("shmbal_set_op")
public func cSetOp(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ value: Double, _ index: Int32,
                   _ op: UnsafePointer<CChar>?) -> Int32 {
    withOpId(op) { id in
        slotChange(h, ex, cur, index, { () throws(ABIFailure) in try amount(value) }) { (b, k, a, i) throws(BooksError) in try b.set(k, a, index: i, opId: id) }
    }
}

@_cdecl("shmbal_set_text_op")
public func cSetTextOp(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ value: UnsafePointer<CChar>?, _ index: Int32,
                       _ op: UnsafePointer<CChar>?) -> Int32 {
    withOpId(op) { id in
        slotChange(h, ex, cur, index, { () throws(ABIFailure) in try amount(value) }) { (b, k, a, i) throws(BooksError) in try b.set(k, a, index: i, opId: id) }
    }
}

@_cdecl("shmbal_adjust_op")
public func cAdjustOp(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ delta: Double, _ index: Int32,
                      _ op: UnsafePointer<CChar>?) -> Int32 {
    withOpId(op) { id in
        slotChange(h, ex, cur, index, { () throws(ABIFailure) in try amount(delta) }) { (b, k, a, i) throws(BooksError) in try b.adjust(k, a, index: i, opId: id) }
    }
}

@_cdecl("shmbal_adjust_text_op")
public func cAdjustTextOp(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ delta: UnsafePointer<CChar>?, _ index: Int32,
                          _ op: UnsafePointer<CChar>?) -> Int32 {
    withOpId(op) { id in
        slotChange(h, ex, cur, index, { () throws(ABIFailure) in try amount(delta, "a delta") }) { (b, k, a, i) throws(BooksError) in try b.adjust(k, a, index: i, opId: id) }
    }
}

@_cdecl("shmbal_allocate_op")
public func cAllocateOp(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ index: Int32, _ value: Double,
                        _ op: UnsafePointer<CChar>?) -> Int32 {
    withOpId(op) { id in
        slotChange(h, ex, cur, index, { () throws(ABIFailure) in try amount(value) }) { (b, k, a, i) throws(BooksError) in try b.allocate(k, index: i, a, once: id) }
    }
}

@_cdecl("shmbal_allocate_text_op")
public func cAllocateTextOp(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ index: Int32, _ value: UnsafePointer<CChar>?,
                            _ op: UnsafePointer<CChar>?) -> Int32 {
    withOpId(op) { id in
        slotChange(h, ex, cur, index, { () throws(ABIFailure) in try amount(value) }) { (b, k, a, i) throws(BooksError) in try b.allocate(k, index: i, a, once: id) }
    }
}

@_cdecl("shmbal_release_op")
public func cReleaseOp(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ index: Int32, _ value: Double,
                       _ op: UnsafePointer<CChar>?) -> Int32 {
    withOpId(op) { id in
        slotChange(h, ex, cur, index, { () throws(ABIFailure) in try amount(value) }) { (b, k, a, i) throws(BooksError) in try b.release(k, index: i, a, once: id) }
    }
}

@_cdecl("shmbal_release_text_op")
public func cReleaseTextOp(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ index: Int32, _ value: UnsafePointer<CChar>?,
                           _ op: UnsafePointer<CChar>?) -> Int32 {
    withOpId(op) { id in
        slotChange(h, ex, cur, index, { () throws(ABIFailure) in try amount(value) }) { (b, k, a, i) throws(BooksError) in try b.release(k, index: i, a, once: id) }
    }
}

@_cdecl("shmbal_set_credit_limit_op")
public func cSetCreditLimitOp(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ credit: Double,
                              _ op: UnsafePointer<CChar>?) -> Int32 {
    withOpId(op) { id in
        slotChange(h, ex, cur, 0, { () throws(ABIFailure) in try amount(credit) }) { (b, k, a, _) throws(BooksError) in try b.setCreditLimit(k, a, opId: id) }
    }
}

@_cdecl("shmbal_set_credit_limit_text_op")
public func cSetCreditLimitTextOp(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ credit: UnsafePointer<CChar>?,
                                  _ op: UnsafePointer<CChar>?) -> Int32 {
    withOpId(op) { id in
        slotChange(h, ex, cur, 0, { () throws(ABIFailure) in try amount(credit, "a credit limit") }) { (b, k, a, _) throws(BooksError) in try b.setCreditLimit(k, a, opId: id) }
    }
}

@_cdecl("shmbal_set_strategy_count_op")
public func cSetStrategyCountOp(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ count: Int32,
                                _ op: UnsafePointer<CChar>?) -> Int32 {
    withOpId(op) { id in
        run { () throws(ABIFailure) in
            try handles.withBooks(h.id) { (b) throws(ABIFailure) in
                let key = try bookKey(ex, cur)
                try core { () throws(BooksError) in try b.setStrategyCount(key, Int(count), opId: id) }
            }
        }
    }
}

// MARK: - through a record handle

@inline(__always)
func recordMove(_ r: shmbal_record, _ op: UnsafePointer<CChar>?, _ value: () throws(ABIFailure) -> Amount,
                _ apply: (borrowing Books, RecordRef, Amount, OperationId?) throws(BooksError) -> Void) -> Int32 {
    withOpId(op) { id in
        run { () throws(ABIFailure) in
            let (i, ref) = try handles.record(r)
            let a = try value()
            try handles.calling(i) { (b) throws(BooksError) in try apply(b, ref, a, id) }
        }
    }
}

@_cdecl("shmbal_record_allocate_op")
public func cRecordAllocateOp(_ r: shmbal_record, _ index: Int32, _ value: Double, _ op: UnsafePointer<CChar>?) -> Int32 {
    recordMove(r, op, { () throws(ABIFailure) in try amount(value) }) { (b, ref, a, id) throws(BooksError) in try b.allocate(ref, index: Int(index), a, once: id) }
}

@_cdecl("shmbal_record_allocate_text_op")
public func cRecordAllocateTextOp(_ r: shmbal_record, _ index: Int32, _ value: UnsafePointer<CChar>?, _ op: UnsafePointer<CChar>?) -> Int32 {
    recordMove(r, op, { () throws(ABIFailure) in try amount(value) }) { (b, ref, a, id) throws(BooksError) in try b.allocate(ref, index: Int(index), a, once: id) }
}

@_cdecl("shmbal_record_allocate_exact_op")
public func cRecordAllocateExactOp(_ r: shmbal_record, _ index: Int32, _ value: shmbal_amount, _ op: UnsafePointer<CChar>?) -> Int32 {
    recordMove(r, op, { () throws(ABIFailure) in try amount(value) }) { (b, ref, a, id) throws(BooksError) in try b.allocate(ref, index: Int(index), a, once: id) }
}

@_cdecl("shmbal_record_release_op")
public func cRecordReleaseOp(_ r: shmbal_record, _ index: Int32, _ value: Double, _ op: UnsafePointer<CChar>?) -> Int32 {
    recordMove(r, op, { () throws(ABIFailure) in try amount(value) }) { (b, ref, a, id) throws(BooksError) in try b.release(ref, index: Int(index), a, once: id) }
}

@_cdecl("shmbal_record_release_text_op")
public func cRecordReleaseTextOp(_ r: shmbal_record, _ index: Int32, _ value: UnsafePointer<CChar>?, _ op: UnsafePointer<CChar>?) -> Int32 {
    recordMove(r, op, { () throws(ABIFailure) in try amount(value) }) { (b, ref, a, id) throws(BooksError) in try b.release(ref, index: Int(index), a, once: id) }
}

@_cdecl("shmbal_record_release_exact_op")
public func cRecordReleaseExactOp(_ r: shmbal_record, _ index: Int32, _ value: shmbal_amount, _ op: UnsafePointer<CChar>?) -> Int32 {
    recordMove(r, op, { () throws(ABIFailure) in try amount(value) }) { (b, ref, a, id) throws(BooksError) in try b.release(ref, index: Int(index), a, once: id) }
}
