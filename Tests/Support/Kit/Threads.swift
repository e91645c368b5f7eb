import Glibc
import Synchronization

// Real threads for race tests: all of them running at once (a dispatch queue would run only as
// many as there are cores, and a pool's threads may never overlap), started together.

/// Runs `body(0)` … `body(count - 1)` each on its own new thread, and returns when all have ended.
public func runThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    final class Job: @unchecked Sendable {
        let body: @Sendable (Int) -> Void
        let index: Int
        init(_ body: @escaping @Sendable (Int) -> Void, _ index: Int) {
            self.body = body
            self.index = index
        }
    }
    var threads: [pthread_t] = []
    for i in 0..<count {
        var thread = pthread_t()
        let job = Unmanaged.passRetained(Job(body, i)).toOpaque()
        let rc = pthread_create(&thread, nil, { raw in
            let job = Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue()
            job.body(job.index)
            return nil
        }, job)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        threads.append(thread)
    }
    for t in threads { pthread_join(t, nil) }
}

/// A starting line for `parties` threads: `wait()` returns in each once all have arrived, so a
/// race starts with every party at the same instruction rather than staggered by thread start-up.
/// Bounded: after `timeoutSeconds` a waiter goes on anyway (the test then simply races less).
public final class StartLine: Sendable {
    private let parties: Int
    private let arrived = Atomic<Int>(0)
    private let timeoutSeconds: Double

    public init(_ parties: Int, timeoutSeconds: Double = 30) {
        self.parties = parties
        self.timeoutSeconds = timeoutSeconds
    }

    public func wait() {
        arrived.add(1, ordering: .acquiringAndReleasing)
        let deadline = Deadline(seconds: timeoutSeconds)
        var spins = 0
        while arrived.load(ordering: .acquiring) < parties && !deadline.hasPassed {
            spins += 1
            if spins & 63 == 0 { sched_yield() }
        }
    }
}

/// A flag that one thread raises and others watch (e.g. "the readers are done: writers stop").
public final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    public init() {}
    public func raise() { value.store(true, ordering: .releasing) }
    public func lower() { value.store(false, ordering: .releasing) }
    public var isRaised: Bool { value.load(ordering: .acquiring) }
}

/// A counter threads add to.
public final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    public init() {}
    @discardableResult public func add(_ n: Int = 1) -> Int { value.add(n, ordering: .acquiringAndReleasing).newValue }
    public var count: Int { value.load(ordering: .acquiring) }
}

/// Lines threads report (findings, failures), kept in order of arrival; at most `limit` kept,
/// every one counted.
public final class Findings: Sendable {
    private let state = Mutex<(lines: [String], count: Int)>(([], 0))
    private let limit: Int

    public init(limit: Int = 20) { self.limit = limit }

    public func add(_ line: String) {
        state.withLock {
            $0.count += 1
            if $0.lines.count < limit { $0.lines.append(line) }
        }
    }

    public var count: Int { state.withLock { $0.count } }
    public var lines: [String] { state.withLock { $0.lines } }
}


/// What a read race found.
public struct RaceResult: Sendable {
    /// What the readers read that they must never read (each with its reader and read number).
    public var illegal: Findings
    /// Errors thrown by writers or readers, and a reader process that did not finish.
    public var failures: Findings
    /// Writes done while the readers read.
    public var writes: Int
}

/// Readers against writers, for a read path's "never torn" promise: `writers` threads each call
/// their `makeWriter(w)` closure over and over, against `readers` threads that each call their
/// `makeReader(r)` closure `reads` times (it returns what is wrong with what it read, or nil), and
/// against `process` (a reader in another process, if any). All threads start together; the
/// writers stop once every reader (the process too) is done. The work is the readers' fixed count.
///
/// What tears a copy is a reader and a writer on two cores touching the same cache line at once
/// (measured: freezing readers at random instructions adds nothing), so the readers should spend
/// their time reading, each check a few comparisons.
public func raceReaders(writers: Int, readers: Int, reads: Int, process: ChildProcess? = nil,
                        makeWriter: @escaping @Sendable (Int) -> () throws -> Void,
                        makeReader: @escaping @Sendable (Int) -> (Int) throws -> String?) -> RaceResult {
    let illegal = Findings(), failures = Findings()
    let stop = Flag(), readersDone = Counter(), writes = Counter()
    let start = StartLine(writers + readers)
    // Readers start once every writer is under way (a few writes each): a reader with little to
    // read can otherwise finish its reads before a slow writer's first write (seen under TSan:
    // 2 writes in all), and the race would not have been run.
    let warmedUp = Counter()
    runThreads(writers + readers + 1) { t in
        if t < writers {
            let write = makeWriter(t)
            start.wait()
            var n = 0
            while !stop.isRaised && n < 100_000_000 {
                do { try write() } catch {
                    failures.add("writer \(t) write \(n): \(error)")
                    warmedUp.add(writers)  // let the readers go: the failure is reported
                    break
                }
                n += 1
                if n == 16 { warmedUp.add() }
            }
            writes.add(n)
        } else if t < writers + readers {
            let read = makeReader(t - writers)
            start.wait()
            while warmedUp.count < writers && !stop.isRaised { sched_yield() }
            defer { readersDone.add() }
            for n in 0..<reads {
                do {
                    if let bad = try read(n) { illegal.add("reader \(t - writers) read \(n): \(bad)") }
                } catch {
                    failures.add("reader \(t - writers) read \(n): \(error)")
                    return
                }
            }
        } else {
            // The stopper: once the reader threads and the reader process are done.
            while readersDone.count < readers { sleepMicroseconds(500) }
            if let process, process.wait(timeout: 300) == nil { failures.add("the reader process did not finish within 300 s") }
            stop.raise()
        }
    }
    return RaceResult(illegal: illegal, failures: failures, writes: writes.count)
}
