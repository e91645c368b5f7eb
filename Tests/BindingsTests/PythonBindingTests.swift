import ShmBalanceTestSupport
import XCTest

/// The Python package (bindings/python) against the built libshmbalance.so, through pytest in a
/// child process: the seed's examples, bad input, the API, and `pip install`.
final class PythonBindingTests: XCTestCase {
    func testSeedExamples() throws { try runPytest("test_seed_examples.py") }

    func testBadInput() throws { try runPytest("test_bad_input.py") }

    func testAPI() throws { try runPytest("test_api.py") }

    /// Builds and installs the package with pip (a pure-Python wheel; pip fetches setuptools).
    func testPipInstall() throws { try runPytest("test_install.py", seconds: 600) }
}
