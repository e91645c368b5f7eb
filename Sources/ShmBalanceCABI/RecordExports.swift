import CShmBalance
import ShmBalance

// Record handles: the hot path. A strategy looks its record up once and then calls allocate /
// release with nothing but a table check, the double → Amount conversion and the core's op.

@_cdecl("shmbal_record_find")
public func cRecordFind(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<shmbal_record>?) -> Int32 {
    run { () throws(ABIFailure) in
        try handles.withBooks(h.id) { (b) throws(ABIFailure) in
            let key = try bookKey(ex, cur)
            guard let out else { throw .null("a place for the record handle") }
            let ref = try core { () throws(BooksError) in try b.existing(key, for: .get) }
            out.pointee = shmbal_record(books: h.id, slot: try handles.recordSlot(h.id, ref))
        }
    }
}

@_cdecl("shmbal_record_allocate")
public func cRecordAllocate(_ r: shmbal_record, _ index: Int32, _ value: Double) -> Int32 {
    run { () throws(ABIFailure) in
        let (i, ref) = try handles.record(r)
        let a = try amount(value)
        try handles.calling(i) { (b) throws(BooksError) in try b.allocate(ref, index: Int(index), a) }
    }
}

@_cdecl("shmbal_record_allocate_text")
public func cRecordAllocateText(_ r: shmbal_record, _ index: Int32, _ value: UnsafePointer<CChar>?) -> Int32 {
    run { () throws(ABIFailure) in
        let (i, ref) = try handles.record(r)
        let a = try amount(value)
        try handles.calling(i) { (b) throws(BooksError) in try b.allocate(ref, index: Int(index), a) }
    }
}

@_cdecl("shmbal_record_allocate_exact")
public func cRecordAllocateExact(_ r: shmbal_record, _ index: Int32, _ value: shmbal_amount) -> Int32 {
    run { () throws(ABIFailure) in
        let (i, ref) = try handles.record(r)
        let a = try amount(value)
        try handles.calling(i) { (b) throws(BooksError) in try b.allocate(ref, index: Int(index), a) }
    }
}

@_cdecl("shmbal_record_release")
public func cRecordRelease(_ r: shmbal_record, _ index: Int32, _ value: Double) -> Int32 {
    run { () throws(ABIFailure) in
        let (i, ref) = try handles.record(r)
        let a = try amount(value)
        try handles.calling(i) { (b) throws(BooksError) in try b.release(ref, index: Int(index), a) }
    }
}

@_cdecl("shmbal_record_release_text")
public func cRecordReleaseText(_ r: shmbal_record, _ index: Int32, _ value: UnsafePointer<CChar>?) -> Int32 {
    run { () throws(ABIFailure) in
        let (i, ref) = try handles.record(r)
        let a = try amount(value)
        try handles.calling(i) { (b) throws(BooksError) in try b.release(ref, index: Int(index), a) }
    }
}

@_cdecl("shmbal_record_release_exact")
public func cRecordReleaseExact(_ r: shmbal_record, _ index: Int32, _ value: shmbal_amount) -> Int32 {
    run { () throws(ABIFailure) in
        let (i, ref) = try handles.record(r)
        let a = try amount(value)
        try handles.calling(i) { (b) throws(BooksError) in try b.release(ref, index: Int(index), a) }
    }
}

// The two fast reads are written out without `run`'s closure: the optimizer then keeps the
// handle check and the core's seqlock read in one function (with the closure it did not).

@_cdecl("shmbal_record_balance")
public func cRecordBalance(_ r: shmbal_record, _ index: Int32, _ value: UnsafeMutablePointer<Double>?, _ exact: UnsafeMutablePointer<shmbal_amount>?) -> Int32 {
    let a: Amount
    do throws(ABIFailure) {
        let ref = try handles.record(r).ref
        do throws(BooksError) { a = try ref.readSlot(Int(index)) } catch { throw ABIFailure(error) }
    } catch {
        return failed(error)
    }
    if let exact { exact.pointee = shmbal_amount(a) }
    if let value { value.pointee = a.doubleValue }
    return SHMBAL_OK.code
}

@_cdecl("shmbal_record_read")
public func cRecordRead(_ r: shmbal_record, _ out: UnsafeMutablePointer<shmbal_record_state>?) -> Int32 {
    do throws(ABIFailure) {
        let ref = try handles.record(r).ref
        guard let out else { throw .null("a record state to fill") }
        try shmbal_record_state.read(ref, into: out)
    } catch {
        return failed(error)
    }
    return SHMBAL_OK.code
}

@_cdecl("shmbal_record_get")
public func cRecordGet(_ r: shmbal_record, _ out: UnsafeMutablePointer<shmbal_record_info>?) -> Int32 {
    run { () throws(ABIFailure) in
        let (i, ref) = try handles.record(r)
        guard let out else { throw .null("a record to fill") }
        shmbal_record_info.fill(out, try handles.calling(i) { (b) throws(BooksError) in try b.get(ref) })
    }
}
