import ShmBalance

// libFuzzer target (b): decimal amounts. Every input either parses to an amount whose exact text
// parses back to the same amount, or is refused with a message; nothing crashes or traps.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAmount(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let a = try Amount(parsing: text)
        guard a.isStorable else { fatalError("parsed an amount that cannot be stored: \(text)") }
        let back = try Amount(parsing: a.exactText)
        guard back == a else { fatalError("round trip changed \(text) → \(a.exactText) → \(back)") }
        _ = a.formatted(minimumDecimals: 2, grouping: true)
        _ = a.doubleValue
    } catch {
        guard !error.message.isEmpty else { fatalError("a refusal without a message for \(text)") }
    }
    // The same bytes as a Double's bits: through its shortest decimal form, or refused.
    if size >= 8 {
        var bits: UInt64 = 0
        for i in 0..<8 { bits |= UInt64(data[i]) << (8 * UInt64(i)) }
        let d = Double(bitPattern: bits)
        if let a = try? Amount(exactly: d) {
            guard a.isStorable else { fatalError("Amount(exactly: \(d)) is not storable") }
        } else if d.isFinite && d.magnitude < 1e17 && d.magnitude > 1e-6 && String(d).count < 20 {
            fatalError("a finite, short Double was refused: \(d)")
        }
    }
    return 0
}
