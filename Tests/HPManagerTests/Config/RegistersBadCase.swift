/// One registers.yml that must be refused: the line of the offending key and a fragment of the reason.
struct RegistersBadCase: Sendable, CustomStringConvertible {
    var description: String
    var registers: String
    var line: Int
    var fragment: String
}
