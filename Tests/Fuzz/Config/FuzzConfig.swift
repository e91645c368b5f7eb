import ShmBalance
import ShmBalanceConfig

// libFuzzer target (c): the TOML config. Every input is parsed; it is either refused with an
// error naming the file, or accepted, and then everything accepted obeys SPEC §5's rules.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let config = try ConfigFile.parse(text, file: "fuzz.toml")
        for r in config.records {
            if let c = r.strategyCount { precondition((2...64).contains(c), "accepted strategies = \(c)") }
            if let credit = r.creditLimit { precondition(credit.raw >= 0 && credit.isStorable, "accepted credit \(credit)") }
            for i in r.names.keys { precondition((0..<(r.strategyCount ?? 64)).contains(i), "accepted a name for slot \(i)") }
        }
    } catch {
        precondition(error.description.hasPrefix("fuzz.toml"), "error does not name the file: \(error)")
        precondition(!error.description.contains("\n"), "error is not one line: \(error)")
    }
    return 0
}
