import Glibc
import ShmBalance
import ShmBalanceTestKit

// The holds campaign: W holds writers (HoldsWriter.swift), one holds reader, and this process as
// the killer. Writers are SIGKILLed at random moments and parked at the record-state fault points
// inside their commits (hold, fill, void, receive and allocate/release with an op id all publish
// the record's state). After each death: the dead writer's log is read, its in-flight operation
// decided from the books (exactly before or exactly after it), its slot of every record compared
// with its log, and the writer started again with `--retry`: it repeats that operation with the
// same op id and logs the answer. At the end every operation is acknowledged, and the books must
// be the fold of the acknowledged effects: per slot budget, held and open holds, the shared total
// and pool, and the op count (one per applied operation: applied twice or lost shows).
//
//   shmbal-campaign holds [--kills N] [--max-seconds S] [--writers W] [--records K] [--seed X] [--long] [--keep]
//   --sabotage-retry: the self-test: writers retry under a new op id (a hold under a new id too), so
//   a call applied before the kill is applied twice; the campaign must fail.

func runHoldsCampaign(_ a: Args) -> Never {
    let long = a.has("long")
    let writers = a.int("writers", 3), recordCount = a.int("records", 2)
    let killTarget = a.int("kills", long ? 5_000 : 300)
    let maxSeconds = a.int("max-seconds", long ? 1_800 : 120)
    var targetedPercent = a.int("targeted-percent", 60)
    let seed = UInt64(a.int("seed", Int(truncatingIfNeeded: monotonicNs() & 0x7fff_ffff)))
    let pausePermille = a.int("pause-permille", 125)
    guard (1...Plan.maxWriters).contains(writers), (1...8).contains(recordCount) else { fail("--writers 1…4, --records 1…8") }
    #if !DEBUG
    printOut("note: release build: no fault points, so every kill lands at a random moment")
    targetedPercent = 0
    #endif
    var rng = SplitMix64(seed: seed)
    let scratch = a.values["dir"] == nil ? TempDir("holds-campaign") : nil
    scratch?.keep = true
    let dir = a.string("dir", scratch?.path ?? "")
    let segmentPath = dir + "/segment", statusPath = dir + "/status"
    let status = StatusPage.create(statusPath)
    let books: Books
    // The default op-id window: a retry comes after the writer's restart, while the others go on.
    let geometry = Geometry(recordCapacity: 8, quoteCapacity: 8, ringCapacity: 256, holdCapacity: 64, opIdWindow: Geometry.defaultOpIdWindow)
    do {
        books = try Books.open(segmentPath, .readWriteCreating(geometry: geometry, mode: 0o600))
        for r in 0..<recordCount {
            let key = Plan.key(r)
            try books.reset(key, balance: Plan.initialTotal, strategyCount: 2 + writers)
            try books.setCreditLimit(key, Plan.credit)
            for i in 2..<(2 + writers) { try books.setName(key, index: i, try ShortName(Plan.name(i), kind: .label)) }
        }
    } catch { fail("setting up \(segmentPath): \(error)") }
    var base: [(ops: UInt64, total: Int128, pool: Int128)] = []
    for r in 0..<recordCount {
        let s = try! books.get(Plan.key(r)).state
        base.append((s.opCount, s.total.raw, s.pool.raw))
    }
    let exe = selfExecutablePath
    let parent = String(getpid())
    let ledgers = (0..<writers).map { w in
        HoldsLedger(id: w, path: dir + "/hwriter\(w).log", records: recordCount, start: [SlotBook](repeating: SlotBook(), count: recordCount))
    }
    func spawnWriter(_ w: Int) -> pid_t {
        status.writer(w, .phase).store(0, ordering: .relaxed)
        status.writer(w, .arm).store(0, ordering: .releasing)
        var args = ["hwriter", "--id", String(w), "--records", String(recordCount), "--segment", segmentPath, "--status", statusPath,
                    "--log", ledgers[w].path, "--parent", parent, "--start-seq", String(ledgers[w].nextSeq),
                    "--seed", String(Int(truncatingIfNeeded: rng.next() >> 1)), "--pause-permille", String(pausePermille)]
        if let retry = ledgers[w].retryArgument { args += ["--retry", retry] + (a.has("sabotage-retry") ? ["--sabotage-retry"] : []) }
        return spawnRole(exe, args)
    }
    let reader = spawnRole(exe, ["hreader", "--writers", String(writers), "--records", String(recordCount),
                                  "--segment", segmentPath, "--status", statusPath, "--parent", parent])
    var pids = (0..<writers).map { spawnWriter($0) }
    printOut("holds campaign: \(writers) writers, \(recordCount) records, 1 reader; target \(killTarget) kills within \(maxSeconds) s; seed \(seed); \(targetedPercent)% of kills parked at a fault point; dir \(dir)")

    var violations: [String] = []
    var kills = 0, parked = [0, 0, 0, 0], random = 0, randomInCommit = 0, parkTimeouts = 0
    let start = monotonicNs()
    let deadline = start + Int64(maxSeconds) * 1_000_000_000
    var lastReport = start
    func afterDeath(_ w: Int) {
        violations += ledgers[w].consume()
        ledgers[w].dropPartialLine()
        if let v = ledgers[w].decideAtKill(books) { violations.append(v) }
        violations += ledgers[w].verify(books)
        pids[w] = spawnWriter(w)
    }
    while kills < killTarget && monotonicNs() < deadline && violations.count < 50 {
        for w in 0..<writers {
            if let end = reapProcess(pids[w], blocking: false) {
                violations.append("holds writer \(w) (pid \(pids[w])) ended by itself: \(end)")
                afterDeath(w)
            }
        }
        if let end = reapProcess(reader, blocking: false) { fail("the holds reader ended by itself: \(end)") }
        let k = killOneWriter(pids, status, targetedPercent: targetedPercent, rng: &rng)
        let w = k.writer, parkedAt = k.parkedAt
        if k.parkTimedOut { parkTimeouts += 1 }
        if let code = k.exitCode { violations.append("holds writer \(w) exited (\(code)) instead of being killed") }
        kills += 1
        if parkedAt > 0 {
            parked[parkedAt] += 1
        } else {
            random += 1
            if status.writer(w, .phase).load(ordering: .acquiring) != 0 { randomInCommit += 1 }
        }
        afterDeath(w)
        if monotonicNs() - lastReport > 10_000_000_000 {
            lastReport = monotonicNs()
            printOut("  … \(kills) kills, \(status.global(StatusPage.Field.snapshots).load(ordering: .relaxed)) copies, \((lastReport - start) / 1_000_000_000) s")
        }
    }

    // Stop everyone (a writer just started retries its operation first), then check the final books.
    status.global(StatusPage.Field.stop).store(1, ordering: .releasing)
    let stopDeadline = monotonicNs() + 20_000_000_000
    for (who, pid) in pids.enumerated().map({ ("holds writer \($0.offset)", $0.element) }) + [("holds reader", reader)] {
        var end = reapProcess(pid, blocking: false)
        while end == nil && monotonicNs() < stopDeadline {
            usleep(1_000)
            end = reapProcess(pid, blocking: false)
        }
        if end == nil {
            kill(pid, SIGKILL)
            _ = reapProcess(pid, blocking: true)
            violations.append("\(who) did not stop within 20 s of being asked")
        } else if let end, end != .exited(0) {
            violations.append("\(who) ended with \(end) when asked to stop")
        }
    }
    let elapsed = Double(monotonicNs() - start) / 1e9
    for l in ledgers {
        violations += l.consume()
        // Every operation decided: none left in flight (a killed one was retried and answered).
        if let p = l.pending { violations.append("holds writer \(l.id) stopped with op \(p.seq) unanswered") }
        violations += l.verify(books)
    }
    for r in 0..<recordCount {
        let key = Plan.key(r)
        guard let rec = try? books.get(key) else { violations.append("\(key): cannot read the final record"); continue }
        let s = rec.state
        let appliedHere = ledgers.reduce(0) { $0 + $1.applied[r] }
        if s.opCount != base[r].ops + UInt64(appliedHere) {
            violations.append("\(key): op count \(s.opCount), the logs account for \(base[r].ops + UInt64(appliedHere)): an operation was lost or applied twice")
        }
        let total = base[r].total + ledgers.reduce(Int128(0)) { $0 + $1.totalDelta[r] }
        let pool = base[r].pool + ledgers.reduce(Int128(0)) { $0 + $1.poolDelta[r] }
        if s.total.raw != total { violations.append("\(key): final total \(s.total), the logs' applied effects say \(Amount(raw: total))") }
        if s.pool.raw != pool { violations.append("\(key): final pool \(s.pool), the logs' applied effects say \(Amount(raw: pool))") }
        if !s.identityHolds { violations.append("\(key): final identity broken by \(s.identityDifference)") }
        let held = rec.held.reduce(Int128(0)) { $0 + $1.raw }
        let expectedHeld = ledgers.reduce(Int128(0)) { $0 + $1.books[r].held }
        if held != expectedHeld { violations.append("\(key): Σ held \(Amount(raw: held)), the logs say \(Amount(raw: expectedHeld))") }
        if let listed = try? books.holds(key) {
            let open = ledgers.reduce(0) { $0 + $1.books[r].open.count }
            if listed.count != open { violations.append("\(key): \(listed.count) open holds listed, the logs say \(open)") }
        }
    }

    let ops = ledgers.reduce(0) { $0 + $1.intents }
    let applied = ledgers.reduce(0) { $0 + $1.acked }
    let refused = ledgers.reduce(0) { $0 + $1.refused }
    let retries = ledgers.reduce(0) { $0 + $1.retries }
    let decided = ledgers.reduce(0) { $0 + $1.decided }
    let cutOff = ledgers.reduce(0) { $0 + $1.cutOff }
    let cutApplied = ledgers.reduce(0) { $0 + $1.cutApplied }, cutNot = ledgers.reduce(0) { $0 + $1.cutNotApplied }
    let replayed = ledgers.reduce(0) { $0 + $1.retryReplayed }, retryApplied = ledgers.reduce(0) { $0 + $1.retryApplied }
    let retryRefused = ledgers.reduce(0) { $0 + $1.retryRefused }
    let fromFree = ledgers.reduce(0) { $0 + $1.overrunsFromFree }, fromPool = ledgers.reduce(0) { $0 + $1.overrunsFromPool }
    func kind(_ k: HoldKind) -> Int { ledgers.reduce(0) { $0 + ($1.byKind[k] ?? 0) } }
    let writerViolations = (0..<writers).reduce(0) { $0 + Int(status.writer($1, .violations).load(ordering: .relaxed)) }
    let replays = (0..<writers).reduce(0) { $0 + Int(status.writer($1, .replays).load(ordering: .relaxed)) }
    let reuses = (0..<writers).reduce(0) { $0 + Int(status.writer($1, .reuses).load(ordering: .relaxed)) }
    let readerViolations = Int(status.global(StatusPage.Field.readerViolations).load(ordering: .relaxed))
    let copies = status.global(StatusPage.Field.snapshots).load(ordering: .relaxed)
    let listings = status.global(HoldsStatus.listings).load(ordering: .relaxed)
    let maxOpMs = Double((0..<writers).map { status.writer($0, .maxOpNs).load(ordering: .relaxed) }.max() ?? 0) / 1e6
    let total = violations.count + writerViolations + readerViolations
    for v in violations.prefix(30) { printErr("VIOLATION: \(v)") }
    let parkedAll = parked[1] + parked[2] + parked[3]
    printOut("""
        holds campaign results (\(fixed(elapsed, 1)) s, seed \(seed)):
          ops            \(ops) attempted by \(writers) writers on \(recordCount) records, every one with an op id: \(applied) applied (holds \(kind(.hold)), fills \(kind(.fill)) partial + \(kind(.fillFinal)) final, voids \(kind(.void)), receives \(kind(.receive)), allocates \(kind(.allocate)), releases \(kind(.release))), \(refused) refused by the rules; fills overrunning into free \(fromFree), into the pool \(fromPool)
          kills          \(kills) SIGKILLs: \(parkedAll) parked inside a commit (locked-before-write \(parked[1]), written-before-publish \(parked[2]), published-before-unlock \(parked[3])), \(random) at random moments (\(randomInCommit) of them inside a commit); \(parkTimeouts) park timeouts
          in flight      \(cutOff) operations cut off by a kill, \(retries) retries with the same op id (a retry can be killed too); decided exactly once: \(decided) (\(cutApplied) found applied at the kill and replayed by the retry (\(replayed)), \(cutNot) not applied: \(retryApplied) applied by the retry, \(retryRefused) refused), 0 half-applied, \(cutOff - decided) undecided
          op ids again   \(replays) acknowledged calls sent again with their op id (each answered as the first time, nothing applied), \(reuses) op ids sent with other arguments (refused opIdReused)
          reader         \(copies) copies checked (identity, 0 ≤ held ≤ budget), \(listings) listings checked against their copy's held sums and counts
          violations     \(total) (books vs logs, op counts, retries: \(violations.count), writers: \(writerViolations), reader: \(readerViolations)); max operation \(fixed(maxOpMs, 2)) ms
        HOLDS ops=\(ops) applied=\(applied) refused=\(refused) kills=\(kills) parked=\(parkedAll) cut=\(cutOff) retries=\(retries) replayed=\(replayed) retryApplied=\(retryApplied) decided=\(decided) copies=\(copies) listings=\(listings) fills=\(kind(.fill) + kind(.fillFinal)) holds=\(kind(.hold)) voids=\(kind(.void)) receives=\(kind(.receive)) overruns=\(fromFree + fromPool) resent=\(replays) reused=\(reuses) violations=\(total)
        """)
    if !a.has("keep") {
        for l in ledgers { unlink(l.path) }
        unlink(segmentPath)
        unlink(statusPath)
        rmdir(dir)
    }
    if total > 0 {
        printOut("RESULT: FAILED (\(total) violations)")
        exit(1)
    }
    if kills < killTarget {
        printOut("RESULT: FAILED (only \(kills) of \(killTarget) kills within \(maxSeconds) s)")
        exit(1)
    }
    printOut("RESULT: ok")
    exit(0)
}
