import ArgumentParser
import ShmBalance

// `--op-id ID` (SPEC §9, "Operation ids"): a mutating command run again with the same id and the
// same arguments is not applied again; the core returns the first call's result. Ids, hold ids
// and ttls are checked in `prepare()`, like every other input: bad input never reaches a segment.

/// The `--op-id` option of every mutating command whose core call takes an `opId:`.
struct OperationIdOption: ParsableArguments {
    @Option(name: .customLong("op-id"),
            help: ArgumentHelp("Operation id (1–32 printable ASCII, no spaces): the same command again with it is applied once and prints the first result.",
                               valueName: "id"))
    var text: String?

    /// The id, checked; nil without `--op-id`.
    func checked() throws -> OperationId? {
        try text.map { try CLIError.holdId($0, flag: "--op-id") }
    }
}

extension CLIError {
    /// A hold id (`--id`) or an op id (`--op-id`): the core's rule (1–32 printable ASCII, no
    /// spaces), refused in its words, which echo the text terminal-safe.
    static func holdId(_ text: String, flag: String) throws -> HoldId {
        do {
            return try HoldId(text)
        } catch {
            // `OperationId` is `HoldId`, whose message speaks of hold ids: say which the flag takes.
            var why = error.description
            if flag == "--op-id", why.hasPrefix("a hold id ") { why = "an op id " + why.dropFirst("a hold id ".count) }
            throw CLIError(.badInput, "\(flag): \(why)")
        }
    }

    /// `--ttl SECONDS`: decimal seconds above 0, to the microsecond (the amount parser's rules:
    /// no exponents, no separators), in microseconds.
    static func ttlMicros(_ text: String) throws -> Int64 {
        let microsPerUnit = Amount.scale / 1_000_000
        let seconds = try CLIError.amount(text, option: "--ttl")
        guard seconds.raw > 0 else { throw CLIError(.badInput, "--ttl must be above 0 seconds (got \(TerminalText.safe(text)))") }
        guard seconds.raw % microsPerUnit == 0 else {
            throw CLIError(.badInput, "--ttl is in seconds to the microsecond, at most 6 decimals (got \(TerminalText.safe(text)))")
        }
        guard let micros = Int64(exactly: seconds.raw / microsPerUnit), micros < Int64.max / 2 else {
            throw CLIError(.badInput, "--ttl \(TerminalText.safe(text)) seconds is too long")
        }
        return micros
    }
}
