import ShmBalance

// Every amount here is stored as `Wide` (two 8-byte words) and read as `Amount`: these values
// are returned from async functions, and an `Int128` crossing an async call is what Swift 6.3.1
// miscompiles at -Onone (see `Wide`).

/// One (exchange, currency) of the ledger, as one transaction read it.
public struct LedgerAccount: Sendable, Equatable {
    public var key: BookKey
    var wideTotal, widePool, wideCredit: Wide
    public var epoch: Int64
    public var leases: [LedgerLease]

    public init(key: BookKey, total: Amount, pool: Amount, credit: Amount, epoch: Int64, leases: [LedgerLease]) {
        self.key = key
        wideTotal = total.wide
        widePool = pool.wide
        wideCredit = credit.wide
        self.epoch = epoch
        self.leases = leases
    }

    public var total: Amount { wideTotal.amount }
    public var pool: Amount { widePool.amount }
    public var credit: Amount { wideCredit.amount }
    public var leased: Amount { Amount(raw: leases.reduce(0) { $0 + $1.amount.raw }) }
    /// total − (pool + Σ leases): zero whenever the database's identity trigger let a commit through.
    public var identityDifference: Amount { Amount(raw: total.raw - pool.raw - leased.raw) }
    public var identityHolds: Bool { identityDifference.raw == 0 }
    /// What the ledger may still lease out: pool + credit.
    public var headroom: Amount { Amount(raw: pool.raw + credit.raw) }
}

/// One host's lease of one currency.
public struct LedgerLease: Sendable, Equatable {
    public var host: String
    var wideAmount: Wide
    /// +1 each time the ledger takes the lease back (a central reset, an eviction).
    public var generation: Int64
    /// The generation the host's books were last wiped for: below `generation`, the host must
    /// wipe its local record before it trades on the lease again.
    public var hostGeneration: Int64
    public var evicted: Bool
    var wideRecall: Wide
    /// Milliseconds since the agent last renewed (the server's clock).
    public var ageMs: Int64
    public var ttlMs: Int64
    /// What the agent last said it was: connected, fenced, stopped.
    public var agentState: String

    public init(host: String, amount: Amount, generation: Int64, hostGeneration: Int64, evicted: Bool, recall: Amount,
                ageMs: Int64, ttlMs: Int64, agentState: String) {
        self.host = host
        wideAmount = amount.wide
        self.generation = generation
        self.hostGeneration = hostGeneration
        self.evicted = evicted
        wideRecall = recall.wide
        self.ageMs = ageMs
        self.ttlMs = ttlMs
        self.agentState = agentState
    }

    public var amount: Amount {
        get { wideAmount.amount }
        set { wideAmount = newValue.wide }
    }
    /// Asked back by a central reconcile; the agent returns what its free pool has of it.
    public var recall: Amount { wideRecall.amount }
    /// Not renewed within its time-to-live: the host is cut off (or its agent is down).
    public var expired: Bool { ageMs > ttlMs }
}

/// A transfer an agent started and has not finished (it finishes it after a crash).
public struct LedgerTransfer: Sendable, Equatable {
    public enum Kind: String, Sendable { case grant, `return` }
    public var seq: Int64
    public var kind: Kind
    var wideAmount: Wide
    public var generation: Int64
    /// The local record's op-id sequence before the local step: its op id is remembered while the
    /// sequence stays below this + the op-id window.
    public var localOpSeq: Int64

    public init(seq: Int64, kind: Kind, amount: Amount, generation: Int64, localOpSeq: Int64) {
        self.seq = seq
        self.kind = kind
        wideAmount = amount.wide
        self.generation = generation
        self.localOpSeq = localOpSeq
    }

    public var amount: Amount { wideAmount.amount }
}
