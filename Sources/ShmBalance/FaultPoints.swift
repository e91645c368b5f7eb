/// Places inside a commit where a test can pause the writer, so that a SIGKILL lands exactly
/// there (the crash and fault-injection tests). They exist only in debug builds: release builds
/// compile `faultPoint` to nothing.
public enum FaultPoint: UInt32, Sendable {
    /// The record's lock is held; nothing written yet.
    case lockedBeforeWrite = 1
    /// The unpublished copy is written; the generation store that publishes it has not happened.
    case writtenBeforePublish = 2
    /// Published; the activity entry and unlock have not happened.
    case publishedBeforeUnlock = 3
}

#if DEBUG
/// Called at every fault point when set (debug builds only). Set it once at start-up, before any
/// operation runs; it is not synchronised.
nonisolated(unsafe) public var faultPointHook: (@Sendable (FaultPoint) -> Void)?
#endif

@inlinable @inline(__always)
func faultPoint(_ point: FaultPoint) {
    #if DEBUG
    faultPointHook?(point)
    #endif
}
