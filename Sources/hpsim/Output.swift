import Foundation

/// Line-oriented, unbuffered standard output (the control protocol's replies).
enum Output {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}

/// Moves a non-Sendable value to the thread that will own it from now on.
///
/// `@unchecked Sendable`: the sender never touches `value` after handing it over.
struct OwnershipTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
