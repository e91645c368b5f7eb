/// Places inside every publish where a test can pause the writer, so that a SIGKILL lands exactly
/// there (the crash tests and the fault-injection campaign). They exist only in debug builds:
/// release builds compile `faultPoint` to nothing.
///
/// A point is a stage of the latch protocol (`Latch.publish`, `AppendTable.append`) and the kind of
/// value being published. `rawValue` is `kind << 4 | stage`, so the three record points keep the
/// values 1, 2, 3 they always had.
@frozen
public struct FaultPoint: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32

    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

    @inlinable
    public init(_ stage: Stage, _ kind: PublishedValue) { rawValue = UInt32(kind.rawValue) << 4 | UInt32(stage.rawValue) }

    public enum Stage: UInt8, Sendable, CaseIterable {
        /// The writer's lock is held; nothing written yet.
        case lockedBeforeWrite = 1
        /// The unpublished copy (or entry) is written; the release store that publishes it has not happened.
        case writtenBeforePublish = 2
        /// Published; the activity entry and the unlock have not happened.
        case publishedBeforeUnlock = 3
    }

    @inlinable public var stage: Stage? { Stage(rawValue: UInt8(truncatingIfNeeded: rawValue & 0xF)) }
    @inlinable public var kind: PublishedValue? { PublishedValue(rawValue: UInt8(truncatingIfNeeded: rawValue >> 4)) }

    /// The record state's points, as before kinds existed.
    public static let lockedBeforeWrite = FaultPoint(.lockedBeforeWrite, .recordState)
    public static let writtenBeforePublish = FaultPoint(.writtenBeforePublish, .recordState)
    public static let publishedBeforeUnlock = FaultPoint(.publishedBeforeUnlock, .recordState)

    public var description: String { "\(kind.map { "\($0)" } ?? "?") \(stage.map { "\($0)" } ?? "?")" }
}

/// Every kind of value other processes read, each published by `Latch` or `AppendTable`.
public enum PublishedValue: UInt8, Sendable, CaseIterable {
    /// A record's state: money, counters and slot names (two copies, `Record.generation`).
    case recordState = 0
    // 1 was the names' own latch in layout version 1; since version 2 names are part of the state.
    /// A quote's value (two copies, `Quote.generation`).
    case quote = 2
    /// The default exchange (two copies, `Header.defaultExchangeGeneration`).
    case defaultExchange = 3
    /// New records appended to the record table (`Header.recordCount`).
    case newRecords = 4
    /// New entries appended to the quote table (`Header.quoteCount`).
    case newQuotes = 5
}

#if DEBUG
/// Called at every fault point when set (debug builds only). Set it once at start-up, before any
/// operation runs; it is not synchronised.
nonisolated(unsafe) public var faultPointHook: (@Sendable (FaultPoint) -> Void)?
#endif

@inlinable @inline(__always)
func faultPoint(_ stage: FaultPoint.Stage, _ kind: PublishedValue) {
    #if DEBUG
    faultPointHook?(FaultPoint(stage, kind))
    #endif
}
