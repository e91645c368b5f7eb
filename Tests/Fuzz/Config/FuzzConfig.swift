import ShmBalance
import ShmBalanceConfig

// libFuzzer target (c): the config reader (Sources/ShmBalanceConfig), on raw bytes (so bad UTF-8
// reaches it as it would from a file). Every input is either refused, with an error that keeps
// SPEC §4's promises, or accepted, and then everything accepted obeys SPEC §5's rules. A file
// without carriage returns must read the same once its line ends are CRLF: same records at the
// same lines, or the same refusal at the same line.

/// The outcome of reading and validating as `config check` does.
func check(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<ConfigFile, ConfigError> {
    Result { () throws(ConfigError) in
        let config = try ConfigFile.parse(bytes, file: "fuzz.toml")
        try config.validate()
        return config
    }
}

func assertKept(_ config: ConfigFile) {
    var seen = Set<BookKey>()
    precondition(config.records.count == config.places.count, "a record without a place")
    for r in config.records {
        precondition(seen.insert(r.key).inserted, "accepted \(r.key) twice")
        if let c = r.strategyCount { precondition((2...64).contains(c), "accepted strategies = \(c)") }
        if let credit = r.creditLimit { precondition(credit.raw >= 0 && credit.isStorable, "accepted credit \(credit)") }
        for i in r.names.keys { precondition((0..<(r.strategyCount ?? 8)).contains(i), "accepted a name for slot \(i)") }
    }
}

func assertWellFormed(_ error: ConfigError, lines: Int) {
    let d = error.description
    precondition(d.hasPrefix("fuzz.toml"), "error does not name the file: \(d)")
    precondition(d.hasSuffix("; nothing was applied"), "error does not end as promised: \(d)")
    precondition(!d.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }, "raw control character in: \(d.debugDescription)")
    precondition(d.utf8.count < 1_000, "error of \(d.utf8.count) bytes")
    if let line = error.line { precondition((1...lines).contains(line), "line \(line) in a file of \(lines) lines: \(d)") }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let lines = 1 + bytes.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    let lf = check(bytes)
    switch lf {
    case .success(let config): assertKept(config)
    case .failure(let error): assertWellFormed(error, lines: lines)
    }
    if !bytes.contains(0x0D) {
        let crlf = bytes.flatMap { $0 == 0x0A ? [0x0D, 0x0A] : [$0] }
        let again = crlf.withUnsafeBufferPointer(check)
        switch (lf, again) {
        case (.success(let a), .success(let b)):
            precondition(a == b, "CRLF changed what was read")
        case (.failure(let a), .failure(let b)):
            precondition(a == b, "CRLF changed the refusal: \(a) / \(b)")
        default:
            preconditionFailure("CRLF changed acceptance: \(lf) / \(again)")
        }
    }
    return 0
}
