/// Expands `${VAR}` and `${VAR:-default}` in configuration values, as HPManager does.
///
/// An unset variable without a default expands to the empty string (shell semantics);
/// `$$` is not special. An unterminated `${` is an error.
///
/// Only configuration files are expanded. Text that arrives over the control socket or HTTP uses
/// `verbatim`: a client must never be able to read the daemon's environment (`--name '${INFLUXDB_TOKEN}'`).
public struct EnvironmentExpander: Sendable {
    public var environment: [String: String]
    /// False for input from clients: every value is taken literally, `${…}` included.
    public let expands: Bool

    public init(environment: [String: String]) {
        self.environment = environment
        expands = true
    }

    private init(verbatim: Void) {
        environment = [:]
        expands = false
    }

    /// An expander that leaves every value as written (for client input: socket, HTTP, stored runtime devices).
    public static let verbatim = EnvironmentExpander(verbatim: ())

    public struct UnterminatedReference: Error {}

    public func expand(_ text: String) throws -> String {
        guard expands, text.contains("${") else { return text }
        var output = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            output += rest[rest.startIndex..<start.lowerBound]
            let afterOpen = rest[start.upperBound...]
            guard let close = afterOpen.firstIndex(of: "}") else { throw UnterminatedReference() }
            let body = afterOpen[afterOpen.startIndex..<close]
            if let sep = body.range(of: ":-") {
                let name = String(body[body.startIndex..<sep.lowerBound])
                let fallback = String(body[sep.upperBound...])
                if let value = environment[name], !value.isEmpty {
                    output += value
                } else {
                    output += fallback
                }
            } else {
                output += environment[String(body)] ?? ""
            }
            rest = afterOpen[afterOpen.index(after: close)...]
        }
        output += rest
        return output
    }
}
