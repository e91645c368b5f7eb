import Glibc
import ShmBalance
import ShmBalanceTestKit

// The fault-injection campaign: W writers, one reader, and this process as the killer. It
// SIGKILLs writers at random moments and, in debug builds, parked exactly at a fault point inside
// a commit; after each death it reads the dead writer's log, decides its in-flight operation from
// the books, checks that the books hold exactly what every acknowledged operation says, measures
// how long the dead writer's lock kept others waiting, and starts the writer again.

struct CampaignCounts {
    var kills = 0
    var killsParked = [0, 0, 0, 0]      // by fault point 1…3 (index 0 unused)
    var killsRandom = 0
    var killsRandomInCommit = 0          // random kills that found the writer past a fault point
    var parkTimeouts = 0
    var probes = 0
    var probeMaxNs: Int64 = 0
    var probeTotalNs: Int64 = 0
    var violations: [String] = []
    /// Kills of the side writer parked at a point, by the kind of value it was publishing.
    var sideParked: [PublishedValue: Int] = [:]
    var sideRandom = 0
}

func runCampaign(_ a: Args) -> Never {
    let long = a.has("long")
    let writers = a.int("writers", 4), recordCount = a.int("records", 3)
    let killTarget = a.int("kills", long ? 20_000 : 1_000)
    let maxSeconds = a.int("max-seconds", long ? 3_600 : 240)
    var targetedPercent = a.int("targeted-percent", 60)
    let seed = UInt64(a.int("seed", Int(truncatingIfNeeded: monotonicNs() & 0x7fff_ffff)))
    let pausePermille = a.int("pause-permille", 125)
    guard (1...Plan.maxWriters).contains(writers), (1...16).contains(recordCount) else { fail("--writers 1…4, --records 1…16") }
    let sidePercent = a.int("side-percent", 25)
    #if !DEBUG
    printOut("note: release build: no fault points, so every kill lands at a random moment")
    targetedPercent = 0
    #endif
    var rng = SplitMix64(seed: seed)

    // A private folder unless --dir names one; the end of the run removes what it put there
    // (the process ends with exit(), so no deinit would).
    let scratch = a.values["dir"] == nil ? TempDir("campaign") : nil
    scratch?.keep = true
    let dir = a.string("dir", scratch?.path ?? "")
    let segmentPath = dir + "/segment", statusPath = dir + "/status"
    let status = StatusPage.create(statusPath)
    let books: Books
    do {
        books = try Books.open(segmentPath, .readWriteCreating(geometry: .defaults, mode: 0o600))
        for r in 0..<recordCount {
            let key = Plan.key(r)
            try books.reset(key, balance: Plan.initialTotal, strategyCount: 2 + writers)
            try books.setCreditLimit(key, Plan.credit)
            for i in 2..<(2 + writers) { try books.setName(key, index: i, try ShortName(Plan.name(i), kind: .label)) }
        }
        // The side writer's values: a names record and the first config-applied records.
        try books.reset(Side.namesKey, balance: .zero, strategyCount: 8)
        _ = try books.applyConfiguration(Side.config(0, count: Side.firstConfigs), defaultExchange: Side.defaults[0])
    } catch { fail("setting up \(segmentPath): \(error)") }
    // The books a side writer's restore puts into a scratch segment, again and again.
    let scratchPath = dir + "/scratch", templatePath = dir + "/template", snapshotPath = dir + "/template.snap"
    do {
        let t = try Books.open(templatePath, .readWriteCreating(geometry: Geometry(recordCapacity: 8, quoteCapacity: 8, ringCapacity: 16), mode: 0o600))
        for (i, c) in ["USDC", "USD", "BTC"].enumerated() {
            try t.reset(try BookKey("TEMPLATE", c), balance: Amount(whole: Int64(1000 * (i + 1)))!, strategyCount: 4)
            try t.allocate(try BookKey("TEMPLATE", c), index: 2, Amount(whole: 10)!)
            try t.writeQuote(try QuoteKey("TEMPLATE", "BALANCE", c), SingleQuote(timestamp: Int64(i + 1), localTimestamp: 9, mid: Double(i)))
        }
        _ = try t.applyConfiguration([], defaultExchange: try ShortName("TEMPLATE"))
        try SnapshotFile.save(t, to: snapshotPath)
    } catch { fail("making the restore template: \(error)") }
    unlink(templatePath)
    var baseOps: [UInt64] = []
    var epoch: UInt64 = 0
    for r in 0..<recordCount {
        let s = try! books.get(Plan.key(r)).state
        baseOps.append(s.opCount)
        epoch = s.epoch
    }

    let exe = selfExecutablePath
    let parent = String(getpid())
    let ledgers = (0..<writers).map { WriterLedger(id: $0, path: dir + "/writer\($0).log", records: recordCount) }
    func spawnWriter(_ w: Int) -> pid_t {
        status.writer(w, .phase).store(0, ordering: .relaxed)
        status.writer(w, .arm).store(0, ordering: .releasing)
        return spawnRole(exe, ["writer", "--id", String(w), "--writers", String(writers), "--records", String(recordCount),
                                "--segment", segmentPath, "--status", statusPath, "--log", ledgers[w].path, "--parent", parent,
                                "--seed", String(Int(truncatingIfNeeded: rng.next() >> 1)), "--pause-permille", String(pausePermille)])
    }
    let reader = spawnRole(exe, ["reader", "--writers", String(writers), "--records", String(recordCount),
                                  "--segment", segmentPath, "--status", statusPath, "--parent", parent, "--epoch", String(epoch)])
    var pids = (0..<writers).map { spawnWriter($0) }
    let sideId = writers  // its status slot
    let sideLedger = SideLedger(path: dir + "/side.log")
    func spawnSide() -> pid_t {
        status.writer(sideId, .phase).store(0, ordering: .relaxed)
        status.writer(sideId, .arm).store(0, ordering: .releasing)
        return spawnRole(exe, ["side", "--id", String(sideId), "--segment", segmentPath, "--status", statusPath,
                               "--log", sideLedger.path, "--parent", parent, "--scratch", scratchPath, "--snapshot", snapshotPath,
                               "--start-seq", String(sideLedger.lastSeq), "--seed", String(Int(truncatingIfNeeded: rng.next() >> 1)),
                               "--pause-permille", String(pausePermille)])
    }
    var sidePid = spawnSide()
    let sideKinds: [PublishedValue] = [.quote, .newQuotes, .recordState, .newRecords, .defaultExchange]
    printOut("campaign: \(writers) writers, \(recordCount) records, 1 reader; target \(killTarget) kills within \(maxSeconds) s; seed \(seed); \(targetedPercent)% of kills parked at a fault point; dir \(dir)")

    var c = CampaignCounts()
    let start = monotonicNs()
    let deadline = start + Int64(maxSeconds) * 1_000_000_000
    var lastReport = start
    while c.kills < killTarget && monotonicNs() < deadline && c.violations.count < 50 {
        // A writer or the reader that ended by itself has crashed: that is a finding.
        for w in 0..<writers {
            if let end = reapProcess(pids[w], blocking: false) {
                c.violations.append("writer \(w) (pid \(pids[w])) ended by itself: \(end)")
                c.violations += ledgers[w].consume()
                ledgers[w].dropPartialLine()
                if let v = ledgers[w].resolveInFlight(books, writers: writers) { c.violations.append(v) }
                pids[w] = spawnWriter(w)
            }
        }
        if let end = reapProcess(reader, blocking: false) { fail("the reader ended by itself: \(end)") }
        if let end = reapProcess(sidePid, blocking: false) {
            c.violations.append("the side writer (pid \(sidePid)) ended by itself: \(end)")
            c.violations += sideLedger.consume()
            c.violations += sideLedger.resolveInFlight(books, scratch: scratchPath, snapshot: snapshotPath)
            sidePid = spawnSide()
        }

        // Now and then the side writer, parked inside one of its kinds of publish or at random.
        if Int.random(in: 0..<100, using: &rng) < sidePercent {
            var parkedKind: PublishedValue?
            if Int.random(in: 0..<100, using: &rng) < targetedPercent {
                let kind = sideKinds[Int.random(in: 0..<sideKinds.count, using: &rng)]
                let point = FaultPoint(FaultPoint.Stage(rawValue: UInt8.random(in: 1...3, using: &rng))!, kind)
                status.writer(sideId, .arm).store(UInt64(point.rawValue), ordering: .releasing)
                let parkDeadline = monotonicNs() + 3_000_000_000
                while monotonicNs() < parkDeadline {
                    if status.writer(sideId, .phase).load(ordering: .acquiring) == StatusPage.parkedFlag | UInt64(point.rawValue) { parkedKind = kind; break }
                    usleep(50)
                }
                if parkedKind == nil {
                    status.writer(sideId, .arm).store(0, ordering: .releasing)
                    c.parkTimeouts += 1
                }
            } else {
                usleep(UInt32.random(in: 0...3_000, using: &rng))
            }
            kill(sidePid, SIGKILL)
            let end = reapProcess(sidePid, blocking: true)
            if let code = end?.exitCode { c.violations.append("the side writer exited (\(code)) instead of being killed") }
            c.kills += 1
            if let k = parkedKind { c.sideParked[k, default: 0] += 1 } else { c.sideRandom += 1 }
            c.violations += sideLedger.consume()
            c.violations += sideLedger.resolveInFlight(books, scratch: scratchPath, snapshot: snapshotPath)
            c.violations += sideLedger.verify(books)
            c.violations += Side.check(books)
            sidePid = spawnSide()
            continue
        }

        let k = killOneWriter(pids, status, targetedPercent: targetedPercent, rng: &rng)
        let w = k.writer, parkedAt = k.parkedAt
        if k.parkTimedOut { c.parkTimeouts += 1 }
        if let code = k.exitCode { c.violations.append("writer \(w) exited (\(code)) instead of being killed") }
        c.kills += 1
        let record = Int(status.writer(w, .record).load(ordering: .acquiring))
        if parkedAt > 0 {
            c.killsParked[parkedAt] += 1
            // The dead writer held `record`'s lock: how long until another process gets it?
            let t0 = monotonicNs()
            do { try books.setName(Plan.key(record), index: 1, try ShortName("pool", kind: .label)) } catch {
                c.violations.append("taking the lock a dead writer left on \(Plan.key(record)) failed: \(error)")
            }
            let dt = monotonicNs() - t0
            c.probes += 1
            c.probeTotalNs += dt
            c.probeMaxNs = max(c.probeMaxNs, dt)
        } else {
            c.killsRandom += 1
            let phase = status.writer(w, .phase).load(ordering: .acquiring)
            if phase != 0 { c.killsRandomInCommit += 1 }
        }
        c.violations += ledgers[w].consume()
        ledgers[w].dropPartialLine()
        if let v = ledgers[w].resolveInFlight(books, writers: writers) { c.violations.append(v) }
        c.violations += ledgers[w].verify(books, writers: writers)
        pids[w] = spawnWriter(w)
        if monotonicNs() - lastReport > 10_000_000_000 {
            lastReport = monotonicNs()
            printOut("  … \(c.kills) kills, \(status.global(StatusPage.Field.snapshots).load(ordering: .relaxed)) snapshots, \((lastReport - start) / 1_000_000_000) s")
        }
    }

    // Stop everyone, then check the final books against every log.
    status.global(StatusPage.Field.stop).store(1, ordering: .releasing)
    let stopDeadline = monotonicNs() + 20_000_000_000
    for (who, pid) in pids.enumerated().map({ ("writer \($0.offset)", $0.element) }) + [("reader", reader), ("side writer", sidePid)] {
        var end = reapProcess(pid, blocking: false)
        while end == nil && monotonicNs() < stopDeadline {
            usleep(1_000)
            end = reapProcess(pid, blocking: false)
        }
        if end == nil {
            kill(pid, SIGKILL)
            _ = reapProcess(pid, blocking: true)
            c.violations.append("\(who) did not stop within 20 s of being asked")
        } else if let end, end != .exited(0) {
            c.violations.append("\(who) ended with \(end) when asked to stop")
        }
    }
    let elapsed = Double(monotonicNs() - start) / 1e9
    for l in ledgers {
        c.violations += l.consume()
        if let p = l.pending { c.violations.append("writer \(l.id) stopped with op \(p.seq) unacknowledged") }
        c.violations += l.verify(books, writers: writers)
    }
    c.violations += sideLedger.consume()
    if let p = sideLedger.pending { c.violations.append("the side writer stopped with op \(p.seq) unacknowledged") }
    c.violations += sideLedger.verify(books)
    c.violations += Side.check(books)
    for r in 0..<recordCount {
        let key = Plan.key(r)
        guard let rec = try? books.get(key) else { c.violations.append("\(key): cannot read the final record"); continue }
        let s = rec.state
        let expectedOps = baseOps[r] + UInt64(ledgers.reduce(0) { $0 + $1.applied[r] })
        if s.opCount != expectedOps { c.violations.append("\(key): op count \(s.opCount), the logs account for \(expectedOps): an operation was lost or applied twice") }
        if !s.identityHolds { c.violations.append("\(key): final identity broken by \(s.identityDifference)") }
        let digits = ledgers.map { $0.digit[r] }
        var total = Plan.initialTotal.raw
        for (w, d) in digits.enumerated() { total += Int128(d) * Plan.unit(w) }
        if s.total.raw != total { c.violations.append("\(key): final total \(s.total), the logs say \(Amount(raw: total))") }
        if s.epoch != epoch || s.strategyCount != 2 + writers { c.violations.append("\(key): epoch or count changed") }
    }

    let ops = ledgers.reduce(0) { $0 + $1.intents }
    let applied = ledgers.reduce(0) { $0 + $1.applied.reduce(0, +) }
    let refused = ledgers.reduce(0) { $0 + $1.refused }
    let inFlightApplied = ledgers.reduce(0) { $0 + $1.inFlightApplied }
    let inFlightNot = ledgers.reduce(0) { $0 + $1.inFlightNotApplied }
    let writerViolations = (0...writers).reduce(0) { $0 + Int(status.writer($1, .violations).load(ordering: .relaxed)) }
    let readerViolations = Int(status.global(StatusPage.Field.readerViolations).load(ordering: .relaxed))
    let snapshots = status.global(StatusPage.Field.snapshots).load(ordering: .relaxed)
    let maxOpMs = Double((0..<writers).map { status.writer($0, .maxOpNs).load(ordering: .relaxed) }.max() ?? 0) / 1e6
    let maxReadUs = Double(status.global(StatusPage.Field.readerMaxReadNs).load(ordering: .relaxed)) / 1e3
    let violations = c.violations.count + writerViolations + readerViolations
    for v in c.violations.prefix(30) { printErr("VIOLATION: \(v)") }
    let parked = c.killsParked[1] + c.killsParked[2] + c.killsParked[3]
    let sideParked = c.sideParked.values.reduce(0, +)
    let sideChecks = status.global(StatusPage.Field.sideChecks).load(ordering: .relaxed)
    let byKind = sideKinds.map { "\($0) \(c.sideParked[$0] ?? 0)" }.joined(separator: ", ")
    let cutOff = [SideOp.quote, .newQuote, .name, .config, .restore].map { op -> String in
        let x = sideLedger.cutOff[op] ?? (0, 0)
        return "\(op.rawValue) \(x.applied)/\(x.not)"
    }.joined(separator: ", ")
    func ms(_ ns: Int64) -> String { fixed(Double(ns) / 1e6, 2) }
    printOut("""
        campaign results (\(fixed(elapsed, 1)) s, seed \(seed)):
          ops            \(ops) attempted by \(writers) writers on \(recordCount) records: \(applied) applied, \(refused) refused by the rules
          kills          \(c.kills) SIGKILLs: \(parked) parked inside a commit (locked-before-write \(c.killsParked[1]), written-before-publish \(c.killsParked[2]), published-before-unlock \(c.killsParked[3])), \(c.killsRandom) at random moments (\(c.killsRandomInCommit) of them inside a commit); \(c.parkTimeouts) park timeouts
          in flight      \(inFlightApplied + inFlightNot) operations cut off by a kill: \(inFlightApplied) found applied, \(inFlightNot) found not applied, 0 half-applied
          snapshots      \(snapshots) copies checked exactly by the reader (max copy time \(fixed(maxReadUs, 1)) µs)
          lock waits     max \(ms(c.probeMaxNs)) ms, mean \(ms(c.probes > 0 ? c.probeTotalNs / Int64(c.probes) : 0)) ms to take a lock a dead writer held (\(c.probes) probes); max operation \(fixed(maxOpMs, 2)) ms
          side writes    \(sideLedger.acked) acknowledged (quotes, names, config applies, restores); \(sideParked + c.sideRandom) kills of the side writer: \(sideParked) parked (\(byKind)), \(c.sideRandom) at random moments
          side cut off   by operation, applied/not: \(cutOff); \(sideLedger.restoreReruns) restores finished by running them again; \(sideChecks) rounds of side values checked whole by the reader
          violations     \(violations) (books vs logs and op counts: \(c.violations.count), writers: \(writerViolations), reader: \(readerViolations))
        CAMPAIGN ops=\(ops) applied=\(applied) refused=\(refused) kills=\(c.kills) parked=\(parked) sideParked=\(sideParked) sideAcked=\(sideLedger.acked) sideChecks=\(sideChecks) snapshots=\(snapshots) maxDeadLockWaitMs=\(ms(c.probeMaxNs)) violations=\(violations)
        """)
    if !a.has("keep") {
        for l in ledgers { unlink(l.path) }
        for p in [sideLedger.path, scratchPath, snapshotPath] { unlink(p) }
        // Temporary files of creates and restores a kill cut off (.scratch.new.*, .scratch.restore.*).
        if let d = opendir(dir) {
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name.hasPrefix(".scratch.") { unlink(dir + "/" + name) }
            }
            closedir(d)
        }
        unlink(segmentPath)
        unlink(statusPath)
        rmdir(dir)
    }
    if violations > 0 {
        printOut("RESULT: FAILED (\(violations) violations)")
        exit(1)
    }
    if c.kills < killTarget {
        printOut("RESULT: FAILED (only \(c.kills) of \(killTarget) kills within \(maxSeconds) s)")
        exit(1)
    }
    printOut("RESULT: ok")
    exit(0)
}

func fixed(_ x: Double, _ places: Int) -> String {
    var p = 1.0
    for _ in 0..<places { p *= 10 }
    let v = (x * p).rounded() / p
    let s = String(v)
    guard let dot = s.firstIndex(of: ".") else { return s + "." + String(repeating: "0", count: places) }
    let frac = s[s.index(after: dot)...]
    return frac.count >= places ? String(s[..<s.index(dot, offsetBy: places + 1)]) : s + String(repeating: "0", count: places - frac.count)
}
