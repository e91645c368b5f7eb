import CShmBalance
import Glibc
import ShmBalance

// The one place where the core's errors become the C ABI's status codes (shmbalance.h's
// `shmbal_status` and `shmbal_refusal`). A new core error case maps here with one line.

extension shmbal_status {
    /// The status as the exported functions return it (a plain C int).
    @inline(__always) var code: Int32 { Int32(bitPattern: rawValue) }
}

extension shmbal_refusal {
    /// The header's refusal code for the core's: the same number (CodesTests checks every case).
    init(_ code: RefusalCode) { self.init(rawValue: UInt32(code.rawValue)) }

    var code: Int32 { Int32(bitPattern: rawValue) }
}

/// A failed C call: the status it returns and the message `shmbal_last_error` gives.
struct ABIFailure: Error {
    var status: shmbal_status
    var message: String
    /// Which rule refused, when `status` is `SHMBAL_REFUSED`.
    var refusal = SHMBAL_REFUSAL_NONE

    init(_ status: shmbal_status, _ message: String, refusal: shmbal_refusal = SHMBAL_REFUSAL_NONE) {
        self.status = status
        self.message = message
        self.refusal = refusal
    }

    init(_ error: BooksError) {
        switch error {
        case .refused(let r): self.init(SHMBAL_REFUSED, r.description, refusal: shmbal_refusal(r.code))
        case .badInput: self.init(SHMBAL_BAD_INPUT, error.description)
        case .segment(.badPath): self.init(SHMBAL_BAD_INPUT, error.description)
        case .segment: self.init(SHMBAL_SEGMENT, error.description)
        case .busy, .contended: self.init(SHMBAL_BUSY, error.description)
        case .corrupt: self.init(SHMBAL_CORRUPT, error.description)
        }
    }

    init(_ error: AmountError) { self.init(SHMBAL_BAD_INPUT, error.message) }
    init(_ error: NameError) { self.init(SHMBAL_BAD_INPUT, error.message) }

    static let closed = ABIFailure(SHMBAL_CLOSED, "the handle is closed (or was never opened)")

    static func null(_ what: StaticString) -> ABIFailure {
        ABIFailure(SHMBAL_BAD_INPUT, "\(what) is required (got NULL)")
    }
}

/// Runs the body of an exported function: SHMBAL_OK, or the failure's status with its message
/// kept for `shmbal_last_error`. Successful calls leave the thread's last error as it was, so the
/// hot path writes nothing but the operation itself.
@inline(__always)
func run(_ body: () throws(ABIFailure) -> Void) -> Int32 {
    do {
        try body()
        return SHMBAL_OK.code
    } catch {
        LastError.store(error)
        return error.status.code
    }
}

/// The status of a failed call, its message kept for `shmbal_last_error` (out of line: only the
/// error path pays for it).
@inline(never)
func failed(_ failure: ABIFailure) -> Int32 {
    LastError.store(failure)
    return failure.status.code
}

/// Calls the core, turning its typed error into an `ABIFailure`.
@inline(__always)
func core<T>(_ body: () throws(BooksError) -> T) throws(ABIFailure) -> T {
    do { return try body() } catch { throw ABIFailure(error) }
}

/// The last failure of each thread, in a per-thread buffer (POSIX thread-specific data, freed
/// when the thread exits), so `shmbal_last_error` is safe from any number of threads.
enum LastError {
    static let messageCapacity = 1024
    /// Buffer layout: status (Int32), refusal (Int32), message (NUL-terminated).
    static let messageOffset = 8

    static let key: pthread_key_t = {
        var key = pthread_key_t()
        let rc = pthread_key_create(&key) { free($0) }
        precondition(rc == 0, "shmbalance: pthread_key_create failed (errno \(rc))")
        return key
    }()

    static func store(_ failure: ABIFailure) {
        var buffer = pthread_getspecific(key)
        if buffer == nil {
            guard let fresh = malloc(messageOffset + messageCapacity) else { return }
            pthread_setspecific(key, fresh)
            buffer = fresh
        }
        guard let b = buffer else { return }
        b.storeBytes(of: failure.status.code, as: Int32.self)
        b.storeBytes(of: Int32(bitPattern: failure.refusal.rawValue), toByteOffset: 4, as: Int32.self)
        let text = b + messageOffset
        var message = failure.message
        message.withUTF8 { utf8 in
            // Cut at a character boundary so the stored text stays valid UTF-8.
            var n = min(utf8.count, messageCapacity - 1)
            while n > 0 && n < utf8.count && utf8[n] & 0xC0 == 0x80 { n -= 1 }
            if n > 0 { text.copyMemory(from: utf8.baseAddress!, byteCount: n) }
            text.storeBytes(of: 0, toByteOffset: n, as: UInt8.self)
        }
    }

    static var buffer: UnsafeMutableRawPointer? { pthread_getspecific(key) }
}

@_cdecl("shmbal_last_error")
public func cLastError() -> UnsafePointer<CChar> {
    if let b = LastError.buffer {
        return UnsafePointer((b + LastError.messageOffset).assumingMemoryBound(to: CChar.self))
    }
    return UnsafeRawPointer(StaticString("").utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("shmbal_last_error_code")
public func cLastErrorCode() -> Int32 {
    LastError.buffer?.load(as: Int32.self) ?? SHMBAL_OK.code
}

@_cdecl("shmbal_last_refusal")
public func cLastRefusal() -> Int32 {
    guard let b = LastError.buffer, b.load(as: Int32.self) == SHMBAL_REFUSED.code else { return SHMBAL_REFUSAL_NONE.code }
    return b.load(fromByteOffset: 4, as: Int32.self)
}

@_cdecl("shmbal_abi_version")
public func cABIVersion() -> Int32 { SHMBAL_ABI_VERSION }
