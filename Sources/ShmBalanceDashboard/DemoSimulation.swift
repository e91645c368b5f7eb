import Glibc
import ShmBalance
import Synchronization

/// Simulated strategies for `shmbal demo`, on a background thread of the demo's process, through
/// the same `Books` calls a strategy makes: allocations and releases, buys and sells that move
/// two totals, orders that hold part of a budget until they fill or are cancelled, now and then a
/// request the books refuse, and an exchange balance (BTC) that drifts away from the books until
/// someone reconciles.
public final class DemoSimulation: @unchecked Sendable {
    // @unchecked: `thread` is touched only by the owner's start()/stop(); the worker thread
    // reads only the immutable fields and the atomic flag.
    private let books: Books
    private let seed: UInt64
    private let stopping = Atomic<Bool>(false)
    private var thread: pthread_t?

    public init(books: Books, seed: UInt64) {
        self.books = books
        self.seed = seed
    }

    deinit { stop() }

    public func start() {
        guard thread == nil else { return }
        var t = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&t, nil, { raw in
            let sim = Unmanaged<DemoSimulation>.fromOpaque(raw!).takeRetainedValue()
            // Stop signals go to the dashboard's thread, which ends the loop and stops this one.
            var set = sigset_t()
            sigfillset(&set)
            pthread_sigmask(SIG_BLOCK, &set, nil)
            sim.run()
            return nil
        }, context)
        if rc == 0 { thread = t } else { Unmanaged<DemoSimulation>.fromOpaque(context).release() }
    }

    /// Stops the strategies and waits for their thread (at most one step, a few ms, after a pause).
    public func stop() {
        stopping.store(true, ordering: .relaxed)
        if let t = thread {
            pthread_join(t, nil)
            thread = nil
        }
    }

    private var isStopping: Bool { stopping.load(ordering: .relaxed) }

    /// Sleeps `ms` in short slices so that stop() is answered quickly.
    private func pause(ms: Int) {
        var left = ms
        while left > 0 && !isStopping {
            usleep(useconds_t(min(left, 50) * 1000))
            left -= 50
        }
    }

    private func run() {
        var rng = SplitMix64(seed: seed)
        let ex = DemoSegment.exchange
        let usdc = BookKey(exchange: ex, currency: try! ShortName("USDC"))
        let usd = BookKey(exchange: ex, currency: try! ShortName("USD"))
        let btc = BookKey(exchange: ex, currency: try! ShortName("BTC"))
        // What the exchange says each balance is; trades move it and the books alike, drift only it.
        var exchange: [BookKey: Amount] = [:]
        for k in [usdc, usd, btc] { exchange[k] = (try? books.balance(k)) ?? .zero }
        var step = 0
        while !isStopping {
            pause(ms: 250 + Int(rng.next() % 650))
            if isStopping { break }
            step += 1
            let roll = rng.next() % 100
            // Each call may be refused (the books' rules, or a person acting at the same time):
            // a refusal is part of the show and is logged in the activity ring by the core.
            switch roll {
            case 0..<26: allocate(usdc, &rng, wholeUnits: 100...1500)
            case 26..<48: release(usdc, &rng)
            case 48..<51: overreach(usdc, &rng)
            case 51..<58: placeOrder(usdc, step: step, &rng)
            case 58..<65: settleOrder(usdc, proceeds: usd, &exchange, &rng)
            case 65..<80: trade(usdc, usd, &exchange, &rng)
            case 80..<88: allocate(btc, &rng, wholeUnits: 0...0)
            case 88..<94: release(btc, &rng)
            default: drift(btc, &exchange, &rng)
            }
        }
    }

    private func allocate(_ key: BookKey, _ rng: inout SplitMix64, wholeUnits: ClosedRange<Int>) {
        guard let r = try? books.get(key), r.strategyCount > 2 else { return }
        let index = 2 + Int(rng.next() % UInt64(r.strategyCount - 2))
        // USDC in hundreds with cents; BTC in thousandths.
        let amount = wholeUnits.upperBound > 0
            ? Amount(raw: Int128(wholeUnits.lowerBound + Int(rng.next() % UInt64(wholeUnits.count))) * Amount.scale + Int128(rng.next() % 100) * Amount.scale / 100)
            : Amount(raw: Int128(1 + rng.next() % 120) * Amount.scale / 1000)
        // Strategies ask only for what they expect to get; the rare overreach is separate.
        guard amount <= r.headroom else { return release(key, &rng) }
        try? books.allocate(key, index: index, amount)
    }

    private func release(_ key: BookKey, _ rng: inout SplitMix64) {
        guard let r = try? books.get(key), r.strategyCount > 2 else { return }
        // What open orders keep cannot be released: a strategy gives back only from its free part.
        let free = (0..<r.strategyCount).map { $0 < r.free.count ? r.free[$0].raw : r.state.slots[$0].raw }
        let funded = (2..<r.strategyCount).filter { free[$0] > 0 }
        guard let index = funded.randomElement(using: &rng) else { return }
        let budget = free[index]
        // A part of the budget, in whole cents (or satoshis) so the numbers stay readable.
        let unit = key.currency.description == "BTC" ? Amount.scale / 100_000_000 : Amount.scale / 100
        let part = max(unit, (budget / unit * Int128(20 + rng.next() % 80) / 100) * unit)
        try? books.release(key, index: index, Amount(raw: min(part, budget)))
    }

    /// A strategy asking for more than the headroom: the books say no, and the ring records it.
    private func overreach(_ key: BookKey, _ rng: inout SplitMix64) {
        guard let r = try? books.get(key), r.strategyCount > 2 else { return }
        let index = 2 + Int(rng.next() % UInt64(r.strategyCount - 2))
        let extra = Amount(raw: Int128(500 + rng.next() % 2000) * Amount.scale)
        guard let ask = r.headroom.adding(extra), ask.raw > 0 else { return }
        try? books.allocate(key, index: index, ask)
    }

    /// A strategy places an order: a hold on part of its free budget, now and then with a ttl.
    private func placeOrder(_ key: BookKey, step: Int, _ rng: inout SplitMix64) {
        guard let r = try? books.get(key), r.strategyCount > 2, r.holdCounts.reduce(0, +) < 8 else { return }
        let index = 2 + Int(rng.next() % UInt64(r.strategyCount - 2))
        guard index < r.free.count, r.free[index].raw >= 10 * Amount.scale else { return }
        let units = r.free[index].raw / Amount.scale
        let amount = Amount(raw: max(1, units * Int128(10 + rng.next() % 50) / 100) * Amount.scale)
        let name = index < r.names.count && !r.names[index].isEmpty ? r.names[index].description : "s\(index)"
        guard let id = try? HoldId("\(name)-\(String(step, radix: 16))") else { return }
        try? books.hold(key, index: index, amount, id: id, ttlMicros: rng.next() % 4 == 0 ? 20_000_000 : nil)
    }

    /// An open order ends: mostly it fills (USDC spent, its proceeds received in USD at 1:1, both
    /// totals and the exchange's balances move), else it is cancelled (voided).
    private func settleOrder(_ key: BookKey, proceeds: BookKey, _ exchange: inout [BookKey: Amount], _ rng: inout SplitMix64) {
        guard let open = try? books.holds(key), let h = open.randomElement(using: &rng) else { return }
        guard rng.next() % 10 < 7 else {
            try? books.void(key, id: h.id)
            return
        }
        guard (try? books.fill(key, id: h.id, h.amount, final: true)) != nil else { return }
        var moved = [(key, Amount(raw: -h.amount.raw))]
        if (try? books.receive(proceeds, index: 2, h.amount)) != nil { moved.append((proceeds, h.amount)) }
        for (k, d) in moved {
            guard let v = exchange[k]?.adding(d) else { continue }
            exchange[k] = v
            writeQuote(k, v)
        }
    }

    /// A fill: buy or sell USDC for USD at 1:1, moving both totals (the pools absorb it).
    private func trade(_ a: BookKey, _ b: BookKey, _ exchange: inout [BookKey: Amount], _ rng: inout SplitMix64) {
        let size = Amount(raw: Int128(50 + rng.next() % 750) * Amount.scale)
        let usdTotal = (try? books.balance(b)) ?? .zero
        let buy = usdTotal.raw > size.raw * 2 && rng.next() % 2 == 0
        let delta = buy ? size : -size
        guard (try? books.adjust(a, delta)) != nil else { return }
        _ = try? books.adjust(b, -delta)
        for (k, d) in [(a, delta), (b, -delta)] {
            guard let v = exchange[k]?.adding(d) else { continue }
            exchange[k] = v
            writeQuote(k, v)
        }
    }

    /// The exchange's BTC balance moves without the books (a fee, an unbooked fill): a drift the
    /// operator sees in the EXCHANGE Δ column and repairs with `c`. Kept within ±0.05 BTC.
    private func drift(_ key: BookKey, _ exchange: inout [BookKey: Amount], _ rng: inout SplitMix64) {
        guard let books = try? books.balance(key), let current = exchange[key] else { return }
        let step = Amount(raw: Int128(1 + rng.next() % 9) * Amount.scale / 1000)
        let limit = Amount(raw: Amount.scale / 20)
        let up = rng.next() % 2 == 0
        var next = (up ? current.adding(step) : current.subtracting(step)) ?? current
        if let d = next.subtracting(books), d.raw.magnitude > limit.raw.magnitude { next = books }
        exchange[key] = next
        writeQuote(key, next)
    }

    private func writeQuote(_ key: BookKey, _ value: Amount) {
        let now = wallClockMicros()
        let q = QuoteKey(exchange: key.exchange, dataType: QuoteKey.balanceType, currency: key.currency)
        try? books.writeQuote(q, SingleQuote(timestamp: now, localTimestamp: now, mid: value.doubleValue))
    }
}

