import Glibc
import ShmBalanceTestSupport
import Synchronization

/// A TCP forwarder on 127.0.0.1 that the test can cut: the network between a host and the ledger.
/// Cut, it forwards nothing and answers nothing (connections stay open, as when a partition drops
/// packets; new ones are accepted and left hanging); healed, it drops the connections it froze
/// (they died in the partition) and forwards new ones again.
final class TCPProxy: @unchecked Sendable {
    let port: Int
    private let upstreamPort: Int
    private let listener: Int32
    private let state = Mutex<(cut: Bool, epoch: Int, fds: [Int32], stopped: Bool)>((false, 0, [], false))

    init(to upstreamPort: Int) throws {
        self.upstreamPort = upstreamPort
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = TCPProxy.loopback(0)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 64) == 0 else { throw PostgresUnavailable(message: "proxy: bind/listen failed, errno \(errno)") }
        var got = sockaddr_in(), len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &got) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        listener = fd
        port = Int(UInt16(bigEndian: got.sin_port))
        TCPProxy.detach { [self] in acceptLoop() }
    }

    static func loopback(_ port: Int) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = UInt16(port).bigEndian
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        return a
    }

    static func detach(_ body: @escaping @Sendable () -> Void) {
        final class Box: @unchecked Sendable { let f: @Sendable () -> Void; init(_ f: @escaping @Sendable () -> Void) { self.f = f } }
        var t = pthread_t()
        let raw = Unmanaged.passRetained(Box(body)).toOpaque()
        pthread_create(&t, nil, { p in Unmanaged<Box>.fromOpaque(p!).takeRetainedValue().f(); return nil }, raw)
        pthread_detach(t)
    }

    /// Stops forwarding, in both directions, on every connection; new ones hang.
    func cut() { state.withLock { $0.cut = true } }

    /// Forwards again: the frozen connections are closed (they died), new ones go through.
    func heal() {
        let old = state.withLock { s -> [Int32] in
            s.cut = false
            s.epoch += 1
            defer { s.fds = [] }
            return s.fds
        }
        for fd in old { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if state.withLock({ $0.stopped }) { return }
                continue
            }
            TCPProxy.detach { [self] in serve(client) }
        }
    }

    private func serve(_ client: Int32) {
        // Cut: accept, then answer nothing until healed (and then drop it).
        while state.withLock({ $0.cut }) { sleepMicroseconds(10_000) }
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = TCPProxy.loopback(upstreamPort)
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { close(client); close(upstream); return }
        let epoch = state.withLock { s -> Int in s.fds += [client, upstream]; return s.epoch }
        TCPProxy.detach { [self] in pump(client, upstream, epoch) }
        pump(upstream, client, epoch)
    }

    private func pump(_ from: Int32, _ to: Int32, _ epoch: Int) {
        var buf = [UInt8](repeating: 0, count: 16_384)
        while true {
            // Frozen while cut: nothing read, nothing written.
            while true {
                let (cut, e) = state.withLock { ($0.cut, $0.epoch) }
                if e != epoch { shutdown(from, Int32(SHUT_RDWR)); shutdown(to, Int32(SHUT_RDWR)); return }
                if !cut { break }
                sleepMicroseconds(10_000)
            }
            var p = pollfd(fd: from, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 20) >= 0 else { break }
            if p.revents == 0 { continue }
            if state.withLock({ $0.cut }) { continue }
            let n = read(from, &buf, buf.count)
            if n <= 0 { break }
            var off = 0
            while off < n {
                let w = buf.withUnsafeBytes { write(to, $0.baseAddress! + off, n - off) }
                if w <= 0 { break }
                off += w
            }
        }
        shutdown(to, Int32(SHUT_WR))
    }

    deinit {
        state.withLock { $0.stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        heal()
    }
}
