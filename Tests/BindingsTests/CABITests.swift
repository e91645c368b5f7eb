import CShmBalance
import XCTest

final class CABITests: XCTestCase {
    func testVersion() {
        XCTAssertEqual(shmbal_abi_version(), SHMBAL_ABI_VERSION)
    }
}
