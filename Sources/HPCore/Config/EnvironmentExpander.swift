/// Expands `${VAR}` and `${VAR:-default}` in configuration values, as HPManager does.
///
/// An unset variable without a default expands to the empty string (shell semantics);
/// `$$` is not special. An unterminated `${` is an error.
public struct EnvironmentExpander: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String]) {
        self.environment = environment
    }

    public struct UnterminatedReference: Error {}

    public func expand(_ text: String) throws -> String {
        guard text.contains("${") else { return text }
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
