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

    /// Builds and installs the source tree with pip (pure Python; pip fetches setuptools).
    func testPipInstall() throws { try runPytest("test_install.py", seconds: 600) }
}
