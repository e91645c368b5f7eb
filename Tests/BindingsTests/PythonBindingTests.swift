import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// The Python package (bindings/python) against the built libshmbalance.so, through pytest in a
/// child process: the seed's examples, bad input, the API and the hot calls, each once with the C
/// extension (shmbalance._speedups) and once through the ctypes fallback; and `pip install` of
/// the source tree. (The wheel, in a fresh venv with no Swift: InstallTests.)
final class PythonBindingTests: XCTestCase {
    func testSeedExamples() throws { try runPytest("test_seed_examples.py", .extension) }
    func testSeedExamplesThroughCtypes() throws { try runPytest("test_seed_examples.py", .ctypes) }

    func testBadInput() throws { try runPytest("test_bad_input.py", .extension) }
    func testBadInputThroughCtypes() throws { try runPytest("test_bad_input.py", .ctypes) }

    func testAPI() throws { try runPytest("test_api.py", .extension) }
    func testAPIThroughCtypes() throws { try runPytest("test_api.py", .ctypes) }

    func testHolds() throws { try runPytest("test_holds.py", .extension) }
    func testHoldsThroughCtypes() throws { try runPytest("test_holds.py", .ctypes) }

    func testHotCalls() throws { try runPytest("test_hot.py", .extension) }
    func testHotCallsThroughCtypes() throws { try runPytest("test_hot.py", .ctypes) }

    /// The fence (SPEC §10) as Python sees it, through both hot paths: `is_fenced` follows the bit
    /// that the core sets and lifts (the agent's call, made here in-process), allocate is refused
    /// while it is set and release is not, and a record that does not exist is refused.
    func testIsFencedFollowsTheFence() throws {
        let script = """
            from shmbalance import StrategyBalanceManager, RefusedError
            m = StrategyBalanceManager("KRAKEN", strategy_count=5)
            out = [str(m.is_fenced("USDC"))]
            try:
                m.allocate("USDC", 2, 1.0)
                out.append("allocated")
            except RefusedError as e:
                out.append(e.refusal)
            m.release("USDC", 3, 1.0)
            out.append("released")
            try:
                m.is_fenced("NOPE")
            except RefusedError as e:
                out.append(e.refusal)
            print(" ".join(out))
            """
        for path in [PythonHotPath.extension, .ctypes] {
            let dir = TempDirectory()
            let books = try Books.open(dir.segment, .readWriteCreating())
            let usdc = try BookKey("KRAKEN", "USDC")
            try books.reset(usdc, balance: Amount("100"), strategyCount: 5)
            try books.allocate(usdc, index: 3, Amount("10"))
            var env = try pythonEnvironment(path, in: dir)
            env["SHMBAL_SEGMENT"] = dir.segment
            for (fenced, expected) in [(true, "True fenced released no_record"), (false, "False allocated released no_record")] {
                try books.setFenced(usdc, fenced)
                let r = try runProgram(which("python3"), ["-c", script], env: env, in: dir)
                XCTAssertEqual(r.status, 0, "\(path): \(r.err)")
                XCTAssertEqual(r.out.trimmingCharacters(in: .whitespacesAndNewlines), expected, "\(path), fenced: \(fenced)")
            }
        }
    }

    /// Builds and installs the source tree with pip (pure Python; pip fetches setuptools).
    func testPipInstall() throws { try runPytest("test_install.py", seconds: 600) }
}
